//! Run-time CPU feature detection for the processors that have a wider build.
//!
//! The crate is compiled for the baseline x86-64 (SSE2) so the plugins load on any
//! 64-bit PC; hot loops that profit from 256-bit registers have a second build behind
//! `#[target_feature(enable = "avx2,fma")]`, chosen here.
//!
//! One feature level and two forms of the same rule: [`wide_build!`] compiles a
//! method's portable body a second time with the wide features (the compiler widens
//! what it can); [`run_widest`] does the same for a kernel written against the
//! four-lane [`Quad`], which is one AVX register in the wide build and two SSE2
//! registers in the portable one. Either way, one source, compiled twice.
//!
//! # Reproducibility: the same bits on every x86-64 CPU
//!
//! An offline render (`oxide master`, `oxide album`) must give the same bytes on every
//! x86-64 machine, with or without AVX2. So a wide build may only change *how many*
//! values one instruction handles, never *what* is computed:
//!
//! - the same IEEE operations on each value, in the same order, as the portable loop;
//! - no fused multiply-add (`f32::mul_add`, `_mm256_fmadd_ps`): it rounds once where
//!   `a·b + c` rounds twice, so its results differ in the last bit, and through
//!   recursive filters and limiter gains those differences reach the output samples.
//!   Write `acc + c·x` as a multiply then an add (the compiler never fuses them by
//!   itself: Rust does not allow floating-point contraction);
//! - no reassociation: a sum split over lanes is split the same way in the portable
//!   build (its loops are written in the lanes' order, e.g. the true-peak kernels);
//! - no approximate instructions (`rcp`, `rsqrt`) whose results depend on the CPU.
//!
//! Each wide build has a test that runs it and the portable build on the same long
//! signal and asserts identical output (`wide_builds_match_the_portable_builds_bit_for_bit`
//! here, `wide_and_portable_builds_agree_bit_for_bit` in the oversampler,
//! `wide_and_portable_kernels_agree_bit_for_bit` in the true-peak meter, and the
//! limiter detector's `block_size_and_build_do_not_change_the_envelope`).
//! Other architectures (aarch64) run the portable build only; their results follow the
//! same IEEE operations, but the standard library's transcendental functions (`sin`,
//! `exp`, `ln`, …, used when coefficients are designed) come from the platform's libm
//! and may differ in the last bit between operating systems and architectures.

use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(target_arch = "x86_64")]
use crate::filter::simd::F64x4;
use crate::filter::simd::{F64x2x2, Quad};

/// Whether the wide builds may run at all (see [`set_wide_builds`]).
static WIDE_BUILDS: AtomicBool = AtomicBool::new(true);

/// Allows (`true`, the default) or forbids the wide builds for the whole process, from
/// the next processor made or block run on. The output is the same bits either way
/// (the rule above); this exists so that tests can run whole chains both ways and
/// compare them, and so that a render can be checked on a machine with AVX2 as if it
/// had none.
pub fn set_wide_builds(enabled: bool) {
    WIDE_BUILDS.store(enabled, Ordering::Relaxed);
}

/// Whether this CPU has AVX2 (Intel Haswell, AMD Zen and later) and the wide builds
/// are allowed ([`set_wide_builds`]).
#[inline]
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        WIDE_BUILDS.load(Ordering::Relaxed) && std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether this CPU has AVX2 and FMA (the two come together on every such CPU) and the
/// wide builds are allowed ([`set_wide_builds`]).
#[inline]
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        has_avx2() && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Proof that this CPU runs the wide build (AVX2 and FMA): a value exists only where
/// [`Wide::detect`] found them. Code that holds one may use the wide instructions, so
/// the types that need them (the AVX [`crate::filter::simd::Quad`]) take it to be made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wide(());

impl Wide {
    /// `Some` on a CPU with AVX2 and FMA (the standard library caches the answer).
    #[inline]
    pub(crate) fn detect() -> Option<Self> {
        has_avx2_fma().then_some(Self(()))
    }
}

/// A kernel written once against [`Quad`], for [`run_widest`] to compile twice.
pub(crate) trait QuadKernel {
    /// What the kernel returns.
    type Output;
    /// The kernel on lanes `Q`; `isa` is what it takes to make a `Q`. Implementations
    /// are `#[inline(always)]`, so that the whole body is compiled into each build.
    fn run<Q: Quad>(self, isa: Q::Isa) -> Self::Output;
}

/// Runs `kernel` on the AVX [`Quad`] in the wide build (AVX2 + FMA enabled) on CPUs
/// that have it, else on the portable [`F64x2x2`]. Both give the same bits (no FMA in
/// a kernel; tests compare them). `allow_wide: false` forces the portable build (for
/// those tests); `true` still asks the CPU.
#[inline]
pub(crate) fn run_widest<K: QuadKernel>(kernel: K, allow_wide: bool) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if let Some(wide) = Wide::detect().filter(|_| allow_wide) {
        // SAFETY: `wide` proves that the CPU has AVX2 and FMA.
        return unsafe { run_wide(kernel, wide) };
    }
    let _ = allow_wide;
    kernel.run::<F64x2x2>(())
}

/// The wide build of [`run_widest`].
///
/// # Safety
/// The CPU must support AVX2 and FMA (which `wide` proves; the attribute makes the
/// call itself unsafe).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_wide<K: QuadKernel>(kernel: K, wide: Wide) -> K::Output {
    kernel.run::<F64x4>(wide)
}

/// Defines a `&mut self` method that runs a second, AVX2 + FMA build of an
/// `#[inline(always)]` method on CPUs that have them, and the portable build elsewhere.
///
/// ```text
/// wide_build! {
///     pub fn process(&mut self, channels: &mut [&mut [f32]]) => process_avx2, process_portable
/// }
/// ```
/// defines `process` and the `unsafe` `process_avx2` (the feature-enabled copy); the
/// portable body `process_portable` must be `#[inline(always)]` so that it, and every
/// `#[inline(always)]` function it calls, is compiled into both. The arithmetic is the
/// same in both builds: the compiler never fuses a multiply and an add by itself, and
/// no body may call `mul_add` (see the module's reproducibility rule).
macro_rules! wide_build {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident(&mut self $(, $arg:ident: $ty:ty)* $(,)?) $(-> $ret:ty)?
        => $wide:ident, $portable:ident
    ) => {
        $(#[$meta])*
        $vis fn $name(&mut self $(, $arg: $ty)*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if $crate::cpu::Wide::detect().is_some() {
                // SAFETY: the CPU has AVX2 and FMA.
                return unsafe { self.$wide($($arg),*) };
            }
            self.$portable($($arg),*)
        }

        /// The AVX2 + FMA build of the method above.
        ///
        /// # Safety
        /// The CPU must support AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $wide(&mut self $(, $arg: $ty)*) $(-> $ret)? {
            self.$portable($($arg),*)
        }
    };
}
pub(crate) use wide_build;

#[cfg(test)]
mod tests {
    use crate::delay::{DelaySettings, StereoDelay};
    use crate::dynamics::{Compressor, CompressorSettings, Gate, GateSettings};
    use crate::oversample::OversampleFactor;
    use crate::reverb::{Reverb, ReverbSettings};
    use crate::rng::Pcg32;
    use crate::saturation::{SaturationKind, SaturationSettings, Saturator};
    use crate::stereo::{PanSettings, PanWidth};

    /// Runs `wide` (the dispatching `process`) and `portable` on two copies of one
    /// processor over the same stereo signal, with a settings change half-way so that
    /// the ramping paths run too, and returns both outputs.
    fn both<P: Clone>(
        processor: P,
        mut wide: impl FnMut(&mut P, &mut [&mut [f32]], bool),
        mut portable: impl FnMut(&mut P, &mut [&mut [f32]], bool),
    ) -> (Vec<f32>, Vec<f32>) {
        let mut rng = Pcg32::new(7, 1);
        let signal: Vec<f32> = (0..2 * 4800).map(|_| 0.8 * rng.next_bipolar()).collect();
        let mut run = |p: &mut P, wide_build: bool| {
            let (mut left, mut right) = (signal[..4800].to_vec(), signal[4800..].to_vec());
            for (k, (l, r)) in left.chunks_mut(480).zip(right.chunks_mut(480)).enumerate() {
                let changed = k >= 5;
                if wide_build {
                    wide(p, &mut [l, r], changed);
                } else {
                    portable(p, &mut [l, r], changed);
                }
            }
            left.extend(right);
            left
        };
        let (mut a, mut b) = (processor.clone(), processor);
        (run(&mut a, true), run(&mut b, false))
    }

    /// [`both`] for a processor whose settings are set apart from `process`.
    macro_rules! settled {
        ($processor:expr, $settings:ident) => {
            both(
                $processor,
                |p, c, s| {
                    p.set_settings(&$settings(s));
                    p.process(c)
                },
                |p, c, s| {
                    p.set_settings(&$settings(s));
                    p.process_portable(c)
                },
            )
        };
    }

    /// [`both`] for a dynamics processor (settings and no sidechain with the block).
    macro_rules! keyed {
        ($processor:expr, $settings:ident) => {
            both(
                $processor,
                |p, c, s| p.process(c, None, &$settings(s)),
                |p, c, s| p.process_portable(c, None, &$settings(s)),
            )
        };
    }

    /// The AVX2 + FMA builds of [`super::wide_build`] compute exactly what the portable
    /// ones do (the compiler only widens the vectors, it never fuses): bit for bit, on
    /// any CPU (without AVX2 both calls take the portable path).
    #[test]
    fn wide_builds_match_the_portable_builds_bit_for_bit() {
        let fs = 48_000.0;
        let reverb = |changed: bool| ReverbSettings {
            decay_s: if changed { 0.8 } else { 2.5 },
            mix: 0.4,
            ..ReverbSettings::default()
        };
        let (a, b) = settled!(Reverb::new(fs), reverb);
        assert_eq!(a, b, "reverb");

        let delay = |changed: bool| DelaySettings {
            time_ms: if changed { 180.0 } else { 240.0 },
            feedback: 0.7,
            ping_pong: true,
            mix: 0.4,
            ..DelaySettings::default()
        };
        let (a, b) = settled!(StereoDelay::new(fs, 2000.0), delay);
        assert_eq!(a, b, "delay");

        let saturation = |changed: bool| SaturationSettings {
            on: true,
            drive_db: if changed { 18.0 } else { 6.0 },
            kind: if changed {
                SaturationKind::Tube
            } else {
                SaturationKind::Tape
            },
            mix: 0.8,
        };
        let (a, b) = settled!(Saturator::new(fs, OversampleFactor::X4), saturation);
        // (Both builds run the oversampler's own run-time choice of filters.)
        assert_eq!(a, b, "saturation");

        let compressor = |changed: bool| CompressorSettings {
            threshold_db: if changed { -30.0 } else { -12.0 },
            ratio: 4.0,
            ..CompressorSettings::default()
        };
        let (a, b) = keyed!(Compressor::new(fs, 2), compressor);
        assert_eq!(a, b, "compressor");

        let gate = |changed: bool| GateSettings {
            threshold_db: if changed { -6.0 } else { -20.0 },
            ..GateSettings::default()
        };
        let (a, b) = keyed!(Gate::new(fs, 2), gate);
        assert_eq!(a, b, "gate");

        let pan = |changed: bool| PanSettings {
            pan: if changed { -0.6 } else { 0.3 },
            width: 1.5,
            ..PanSettings::default()
        };
        let (a, b) = settled!(PanWidth::new(fs), pan);
        assert_eq!(a, b, "pan and width");
    }
}
