//! Panning with a selectable pan law, balance for stereo sources, and mid/side width.
//!
//! Pan position `p ∈ [−1, 1]`, `t = (p + 1)/2`, `θ = t·π/2`. Gains (left, right):
//!
//! | law        | left                   | centre      |
//! |------------|------------------------|-------------|
//! | 0 dB       | `min(1, 2(1 − t))`     | 0 dB        |
//! | −3 dB      | `cos θ` (constant power) | −3.01 dB  |
//! | −4.5 dB    | `√(cos θ · (1 − t))`   | −4.52 dB    |
//! | −6 dB      | `1 − t` (constant gain) | −6.02 dB   |
//!
//! and the right gain is the mirror image. A mono source (the two channels carry the
//! same signal, or one channel is given) is panned with the law. A stereo source is
//! balanced: each side's gain is the law's gain divided by its centre gain, capped at 1,
//! so the centre leaves both channels untouched and turning towards one side fades the
//! other out along the law's curve.
//!
//! Width (stereo sources only) scales the side signal: `M = (L + R)/2`,
//! `S = (L − R)/2 · w`, `L' = M + S`, `R' = M − S`, with `w` from 0 (mono) to 2 (200 %).
//! At exactly 100 % and centre the input passes bit for bit.
//!
//! The left and right gains and the width are smoothed linearly (20 ms), which also
//! makes a change of law glide instead of jumping.

use crate::sanitize::{finite_sample, setting_or};
use crate::smoother::{Smoother, SmoothingStyle};

/// The level of a centred mono source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PanLaw {
    /// 0 dB at centre (the far side fades linearly, the near side stays at unity).
    ZeroDb,
    /// −3 dB at centre: constant power (sin/cos).
    #[default]
    Minus3Db,
    /// −4.5 dB at centre: the geometric mean of the −3 and −6 dB laws.
    Minus4_5Db,
    /// −6 dB at centre: constant amplitude (linear).
    Minus6Db,
}

impl PanLaw {
    /// Every law, in order of centre attenuation.
    pub const ALL: [PanLaw; 4] = [
        Self::ZeroDb,
        Self::Minus3Db,
        Self::Minus4_5Db,
        Self::Minus6Db,
    ];

    /// Left and right gains for a mono source at `pan` (−1 left … 1 right).
    pub fn gains(self, pan: f32) -> (f32, f32) {
        let pan = setting_or(pan, -1.0, 1.0, 0.0);
        let t = 0.5 * (pan as f64 + 1.0);
        let theta = t * std::f64::consts::FRAC_PI_2;
        let (left, right) = match self {
            Self::ZeroDb => ((2.0 * (1.0 - t)).min(1.0), (2.0 * t).min(1.0)),
            Self::Minus3Db => (theta.cos(), theta.sin()),
            Self::Minus4_5Db => ((theta.cos() * (1.0 - t)).sqrt(), (theta.sin() * t).sqrt()),
            Self::Minus6Db => (1.0 - t, t),
        };
        // cos(π/2) is 6e-17, not 0: hard-panned means silent.
        let clean = |g: f64| if g < 1e-9 { 0.0 } else { g as f32 };
        (clean(left), clean(right))
    }

    /// Left and right gains for balancing a stereo source at `pan`: the law normalised
    /// to unity at centre, capped at 1.
    pub fn balance_gains(self, pan: f32) -> (f32, f32) {
        let (left, right) = self.gains(pan);
        let (centre, _) = self.gains(0.0);
        ((left / centre).min(1.0), (right / centre).min(1.0))
    }
}

/// Whether the two channels are one source or a stereo pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PanSource {
    /// One signal (on one channel, or duplicated on two): panned with the law.
    Mono,
    /// A stereo pair: width, then balance.
    #[default]
    Stereo,
}

/// Settings for [`PanWidth`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanSettings {
    /// Position, −1 (left) … 1 (right).
    pub pan: f32,
    /// Pan law.
    pub law: PanLaw,
    /// Stereo width, 0 (mono) – 2 (200 %); 1 leaves the image unchanged.
    pub width: f32,
    /// Mono or stereo source.
    pub source: PanSource,
}

impl Default for PanSettings {
    fn default() -> Self {
        Self {
            pan: 0.0,
            law: PanLaw::Minus3Db,
            width: 1.0,
            source: PanSource::Stereo,
        }
    }
}

/// Gain and width smoothing.
const RAMP_MS: f32 = 20.0;

/// Pan/balance and mid/side width.
#[derive(Debug, Clone)]
pub struct PanWidth {
    settings: PanSettings,
    fresh: bool,
    left: Smoother,
    right: Smoother,
    width: Smoother,
}

impl PanWidth {
    /// A panner at `sample_rate` (for the smoothing times).
    pub fn new(sample_rate: f32) -> Self {
        let mut panner = Self {
            settings: PanSettings::default(),
            fresh: true,
            left: Smoother::new(SmoothingStyle::Linear, RAMP_MS, sample_rate, 1.0),
            right: Smoother::new(SmoothingStyle::Linear, RAMP_MS, sample_rate, 1.0),
            width: Smoother::new(SmoothingStyle::Linear, RAMP_MS, sample_rate, 1.0),
        };
        panner.set_settings(&PanSettings::default());
        panner.fresh = true;
        panner
    }

    /// Applies settings; the first call after `new`/`reset` jumps without ramps.
    pub fn set_settings(&mut self, settings: &PanSettings) {
        if !self.fresh && *settings == self.settings {
            return;
        }
        let (left, right) = match settings.source {
            PanSource::Mono => settings.law.gains(settings.pan),
            PanSource::Stereo => settings.law.balance_gains(settings.pan),
        };
        let width = setting_or(settings.width, 0.0, 2.0, 1.0);
        for (smoother, value) in [
            (&mut self.left, left),
            (&mut self.right, right),
            (&mut self.width, width),
        ] {
            if self.fresh {
                smoother.reset_to(value);
            } else {
                smoother.set_target(value);
            }
        }
        self.fresh = false;
        self.settings = *settings;
    }

    /// No signal state; the next `set_settings` jumps.
    pub fn reset(&mut self) {
        let settings = self.settings;
        self.fresh = true;
        self.set_settings(&settings);
    }

    /// Pans a mono input into a left and a right output (mono source, whatever the
    /// settings say). All three slices have the same length.
    pub fn process_mono(&mut self, input: &[f32], left: &mut [f32], right: &mut [f32]) {
        for ((x, l), r) in input.iter().zip(left.iter_mut()).zip(right.iter_mut()) {
            let x = finite_sample(*x);
            *l = x * self.left.next();
            *r = x * self.right.next();
            self.width.next();
        }
    }

    crate::cpu::wide_build! {
        /// Processes a stereo pair in place (a single channel is left as it is: there is
        /// nothing to pan it to — use [`Self::process_mono`]).
        pub fn process(
            &mut self,
            channels: &mut [&mut [f32]],
        ) => process_avx2, process_portable
    }

    #[inline(always)]
    pub(crate) fn process_portable(&mut self, channels: &mut [&mut [f32]]) {
        let [left, right, ..] = channels else {
            return;
        };
        let frames = left.len().min(right.len());
        let mono = self.settings.source == PanSource::Mono;
        let steady =
            !self.left.is_smoothing() && !self.right.is_smoothing() && !self.width.is_smoothing();
        if steady && !mono {
            let (gl, gr, w) = (
                self.left.current(),
                self.right.current(),
                self.width.current(),
            );
            if w != 1.0 {
                for (l, r) in left[..frames].iter_mut().zip(right[..frames].iter_mut()) {
                    let mid = 0.5 * (*l + *r);
                    let side = 0.5 * (*l - *r) * w;
                    *l = mid + side;
                    *r = mid - side;
                }
            }
            if gl != 1.0 {
                left[..frames].iter_mut().for_each(|s| *s *= gl);
            }
            if gr != 1.0 {
                right[..frames].iter_mut().for_each(|s| *s *= gr);
            }
            return;
        }
        for i in 0..frames {
            let (gl, gr, w) = (self.left.next(), self.right.next(), self.width.next());
            let (l, r) = (left[i], right[i]);
            if mono {
                let m = 0.5 * (l + r);
                left[i] = m * gl;
                right[i] = m * gr;
            } else {
                let mid = 0.5 * (l + r);
                let side = 0.5 * (l - r) * w;
                left[i] = (mid + side) * gl;
                right[i] = (mid - side) * gr;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms_db(x: &[f32]) -> f64 {
        let power = x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64;
        10.0 * power.log10()
    }

    fn sine(frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|n| (2.0 * std::f64::consts::PI * 997.0 * n as f64 / 48_000.0).sin() as f32)
            .collect()
    }

    #[test]
    fn measured_mono_gains_match_each_law() {
        // Expected gains written out independently of the implementation: the centre
        // values from the law names and the textbook formulas at ±0.5.
        let input = sine(4800);
        let reference = rms_db(&input);
        let c = |x: f64| x.cos();
        let s = |x: f64| x.sin();
        let q = std::f64::consts::FRAC_PI_8; // θ at pan −0.5 is π/8
                                             // (law, [(pan, left gain, right gain); 3])
        type Points = [(f32, f64, f64); 3];
        let expected: [(PanLaw, Points); 4] = [
            (
                PanLaw::ZeroDb,
                [(0.0, 1.0, 1.0), (-0.5, 1.0, 0.5), (0.5, 0.5, 1.0)],
            ),
            (
                PanLaw::Minus3Db,
                [
                    (0.0, 0.5f64.sqrt(), 0.5f64.sqrt()),
                    (-0.5, c(q), s(q)),
                    (0.5, s(q), c(q)),
                ],
            ),
            (
                PanLaw::Minus4_5Db,
                [
                    (
                        0.0,
                        (0.5f64.sqrt() * 0.5).sqrt(),
                        (0.5f64.sqrt() * 0.5).sqrt(),
                    ),
                    (-0.5, (c(q) * 0.75).sqrt(), (s(q) * 0.25).sqrt()),
                    (0.5, (s(q) * 0.25).sqrt(), (c(q) * 0.75).sqrt()),
                ],
            ),
            (
                PanLaw::Minus6Db,
                [(0.0, 0.5, 0.5), (-0.5, 0.75, 0.25), (0.5, 0.25, 0.75)],
            ),
        ];
        for (law, points) in expected {
            for (pan, gl, gr) in points {
                let mut panner = PanWidth::new(48_000.0);
                panner.set_settings(&PanSettings {
                    pan,
                    law,
                    width: 1.0,
                    source: PanSource::Mono,
                });
                let mut left = vec![0.0; input.len()];
                let mut right = vec![0.0; input.len()];
                panner.process_mono(&input, &mut left, &mut right);
                for (measured, want) in [
                    (rms_db(&left) - reference, gl),
                    (rms_db(&right) - reference, gr),
                ] {
                    let want_db = 20.0 * want.log10();
                    // The tolerance: 0.05 dB.
                    assert!(
                        (measured - want_db).abs() < 0.05,
                        "{law:?} {pan}: {measured} vs {want_db}"
                    );
                }
            }
            // Centre values named by the law (±0.05 dB; −3 is −3.01, −4.5 is −4.52).
            let (centre, _) = law.gains(0.0);
            let named = match law {
                PanLaw::ZeroDb => 0.0,
                PanLaw::Minus3Db => -3.0,
                PanLaw::Minus4_5Db => -4.5,
                PanLaw::Minus6Db => -6.0,
            };
            assert!(
                (20.0 * (centre as f64).log10() - named).abs() < 0.05,
                "{law:?}"
            );
            // Hard left is silent on the right.
            assert_eq!(law.gains(-1.0).1, 0.0);
            assert_eq!(law.gains(1.0).0, 0.0);
        }
    }

    #[test]
    fn stereo_balance_is_unity_at_centre_and_fades_the_far_side() {
        for law in PanLaw::ALL {
            assert_eq!(law.balance_gains(0.0), (1.0, 1.0));
            let (l, r) = law.balance_gains(0.5);
            assert!(r == 1.0 && l < 1.0 && l > 0.0, "{law:?}");
            assert_eq!(law.balance_gains(1.0).0, 0.0);
        }
        // Measured: −3 dB law at pan +0.5 balances the left by cos(3π/8)/cos(π/4).
        let input = sine(4800);
        let mut left = input.clone();
        let mut right = input.clone();
        let mut panner = PanWidth::new(48_000.0);
        panner.set_settings(&PanSettings {
            pan: 0.5,
            ..PanSettings::default()
        });
        panner.process(&mut [&mut left, &mut right]);
        let want = 20.0 * ((3.0 * std::f64::consts::FRAC_PI_8).cos() / 0.5f64.sqrt()).log10();
        assert!((rms_db(&left) - rms_db(&input) - want).abs() < 0.05);
        assert_eq!(right, input);
    }

    #[test]
    fn width_zero_is_mono_and_full_width_is_untouched() {
        let left_in = sine(1000);
        let right_in: Vec<f32> = left_in
            .iter()
            .enumerate()
            .map(|(i, v)| v * 0.3 + (i as f32 * 0.01).cos() * 0.2)
            .collect();
        let mut panner = PanWidth::new(48_000.0);
        panner.set_settings(&PanSettings::default());
        let (mut l, mut r) = (left_in.clone(), right_in.clone());
        panner.process(&mut [&mut l, &mut r]);
        assert_eq!(
            (&l, &r),
            (&left_in, &right_in),
            "100 % and centre: bit for bit"
        );
        let mut panner = PanWidth::new(48_000.0);
        panner.set_settings(&PanSettings {
            width: 0.0,
            ..PanSettings::default()
        });
        let (mut l, mut r) = (left_in.clone(), right_in.clone());
        panner.process(&mut [&mut l, &mut r]);
        assert_eq!(l, r, "0 %: identical channels");
        // 200 %: the side doubles, the mid stays.
        let mut panner = PanWidth::new(48_000.0);
        panner.set_settings(&PanSettings {
            width: 2.0,
            ..PanSettings::default()
        });
        let (mut l, mut r) = (left_in.clone(), right_in.clone());
        panner.process(&mut [&mut l, &mut r]);
        for i in 0..1000 {
            let (m, s) = (
                0.5 * (left_in[i] + right_in[i]),
                0.5 * (left_in[i] - right_in[i]),
            );
            // f32 rounding of three operations.
            assert!(
                (0.5 * (l[i] + r[i]) - m).abs() < 1e-6
                    && (0.5 * (l[i] - r[i]) - 2.0 * s).abs() < 1e-6
            );
        }
    }

    #[test]
    fn pan_moves_glide_and_blocks_do_not_matter() {
        let input = sine(4000);
        let run = |chunk: usize| {
            let mut panner = PanWidth::new(48_000.0);
            panner.set_settings(&PanSettings::default());
            let (mut l, mut r) = (input.clone(), input.clone());
            let mut start = 0;
            for (i, (lc, rc)) in l.chunks_mut(chunk).zip(r.chunks_mut(chunk)).enumerate() {
                // Settings change at the same frames whatever the chunking.
                let _ = i;
                let pan = if start >= 2000 { -1.0 } else { 0.7 };
                let law = if start >= 1000 {
                    PanLaw::Minus6Db
                } else {
                    PanLaw::ZeroDb
                };
                panner.set_settings(&PanSettings {
                    pan,
                    law,
                    width: 1.5,
                    source: PanSource::Stereo,
                });
                panner.process(&mut [lc, rc]);
                start += lc.len();
            }
            (l, r)
        };
        let a = run(500);
        assert!(
            a == run(100) && a == run(250),
            "identical output for chunks that divide the change points"
        );
        // A full-scale pan change ramps over 20 ms: no sample-to-sample gain jump above
        // 1/960 of the change, so the output step stays below the sine's own slope
        // (0.13) plus that.
        let steepest =
            a.0.windows(2)
                .chain(a.1.windows(2))
                .map(|w| (w[1] - w[0]).abs())
                .fold(0.0, f32::max);
        assert!(steepest < 0.2, "{steepest}");
    }
}
