//! Dynamics: gain computer, level detectors, ballistics, and the channel strip's
//! compressor and gate/expander built from them.
//!
//! The pieces are small public types so the mastering chain's multiband compressor and
//! limiter reuse them:
//!
//! - [`GainComputer`]: the static curve (hard/soft knee, compression or expansion),
//!   Giannoulis, Massberg and Reiss, JAES 2012.
//! - [`LevelDetector`], [`RmsDetector`]: peak or windowed-RMS detection as a power.
//! - [`Ballistics`], [`AutoReleaseBallistics`]: attack/release in the dB domain. **Every
//!   attack and release time in this module is a 10 %–90 % time** (see
//!   [`ballistics`]).
//! - [`fast_math`]: the logarithm and exponential used once per frame.
//! - [`KeyFilter`]: the smoothed sidechain high-/low-pass (from [`crate::filter`]).
//! - [`Compressor`] / [`CompressorSettings`] and [`Gate`] / [`GateSettings`]: the two
//!   processors, no latency. Both take their key through one front end (`front_end`:
//!   input sanitising, internal or external key, key filters, loudest channel, link).

pub mod ballistics;
pub mod compressor;
pub mod detector;
pub mod fast_math;
mod front_end;
pub mod gain_computer;
pub mod gate;
pub mod sidechain;

pub use ballistics::{AutoReleaseBallistics, Ballistics};
pub use compressor::{auto_makeup_db, Compressor, CompressorSettings};
pub use detector::{DetectorMode, LevelDetector, RmsDetector};
pub use gain_computer::{CurveKind, GainComputer};
pub use gate::{Gate, GateSettings};
pub use sidechain::{KeyFilter, KeyFilterKind};

/// Frames the gate and compressor process per inner pass (their scratch buffers are
/// this long, so any block size works without allocation).
pub const PASS_FRAMES: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::program;

    #[test]
    fn any_sample_rate_block_size_and_channel_layout_is_safe() {
        // The life-cycle contract: no panic for block sizes 1..8192 at 22.05–384 kHz, with
        // more channels than prepared, unequal lengths, or a short or empty sidechain;
        // output stays finite. (Not a DSP claim, so only finiteness is asserted.)
        let signal = program(8192, 17);
        for &fs in &[22_050.0f32, 44_100.0, 192_000.0, 384_000.0] {
            let mut comp = Compressor::new(fs, 2);
            let mut gate = Gate::new(fs, 2);
            let cs = CompressorSettings {
                detector: DetectorMode::Rms,
                sidechain_hpf_hz: Some(500.0),
                external_sidechain: true,
                link: 0.5,
                ..Default::default()
            };
            let gs = GateSettings {
                key_hpf_hz: Some(20_000.0),
                key_lpf_hz: Some(20_000.0),
                external_sidechain: true,
                ..Default::default()
            };
            for &len in &[1usize, 2, 63, 64, 65, 511, 4096, 8192] {
                let mut a = signal[..len].to_vec();
                let mut b = signal[..len].to_vec();
                let mut c = signal[..len].to_vec();
                let short = &signal[..len / 2];
                let sidechains: [Option<&[&[f32]]>; 3] = [None, Some(&[]), Some(&[short])];
                for sc in sidechains {
                    comp.process(&mut [&mut a, &mut b, &mut c], sc, &cs);
                    gate.process(&mut [&mut a, &mut b[..len / 2]], sc, &gs);
                    comp.process(&mut [&mut a[..len / 3]], Some(&[&signal[..len]]), &cs);
                }
                assert!(
                    a.iter().chain(&b).chain(&c).all(|x| x.is_finite()),
                    "{fs} Hz, {len}"
                );
            }
            assert!(comp.gain_reduction_db().is_finite() && gate.gain_reduction_db().is_finite());
        }
    }
}
