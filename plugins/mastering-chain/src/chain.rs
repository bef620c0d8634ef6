//! The mastering chain's processing in plain Rust: built from `shared-dsp` types and
//! driven by a plain [`Settings`] struct. The plugin, the `oxide` command and the tests
//! all run exactly this code.
//!
//! Signal order (filled in module by module): input gain → … → output gain, with the
//! host bypass cross-fading around all of it.

use shared_dsp::block::for_each_chunk;
use shared_dsp::denormal::FlushDenormals;
use shared_dsp::gain::{BypassFade, Gain};
use shared_dsp::sanitize::replace_non_finite;

/// The channel counts the chain supports (mono and stereo).
pub const MAX_CHANNELS: usize = 2;

/// Every setting of the mastering chain, in plain units.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Settings {
    /// Gain into the chain, dB.
    pub in_gain_db: f32,
    /// Gain after the chain, dB (never above 0 dB, so it cannot push the output past the
    /// limiter's ceiling).
    pub out_gain_db: f32,
    /// Host bypass: the output cross-fades to the input.
    pub bypass: bool,
}

/// The running chain: owns every processor's state, allocated for the worst case.
pub struct Chain {
    max_block: usize,
    in_gain: Gain,
    out_gain: Gain,
    bypass: BypassFade,
}

impl Chain {
    /// Allocates a chain for `sample_rate` and host blocks of up to `max_block` frames
    /// (longer blocks are processed in pieces), resting at `settings`.
    pub fn new(sample_rate: f32, max_block: usize, settings: &Settings) -> Self {
        let max_block = max_block.clamp(1, 8192);
        Self {
            max_block,
            in_gain: Gain::new(sample_rate, settings.in_gain_db),
            out_gain: Gain::new(sample_rate, settings.out_gain_db),
            bypass: BypassFade::new(sample_rate, MAX_CHANNELS, max_block, settings.bypass),
        }
    }

    /// Clears all signal state and jumps every smoothed value to `settings`.
    pub fn reset(&mut self, settings: &Settings) {
        self.in_gain.reset_to_db(settings.in_gain_db);
        self.out_gain.reset_to_db(settings.out_gain_db);
        self.bypass.reset_to(settings.bypass);
    }

    /// The delay the chain adds, in samples.
    pub fn latency_samples(&self) -> u32 {
        0
    }

    /// Processes one block in place: one channel (mono) or two (stereo), equal lengths.
    /// Never allocates, locks or panics; non-finite input samples become silence.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &Settings) {
        let _flush = FlushDenormals::new();
        let channels = match channels.len() {
            0 => return,
            n if n > MAX_CHANNELS => &mut channels[..MAX_CHANNELS],
            _ => channels,
        };
        self.in_gain.set_gain_db(settings.in_gain_db);
        self.out_gain.set_gain_db(settings.out_gain_db);
        self.bypass.set_bypassed(settings.bypass);

        let max_block = self.max_block;
        for_each_chunk(channels, max_block, |chunk| {
            for channel in chunk.iter_mut() {
                replace_non_finite(channel);
            }
            self.bypass.capture_dry(chunk);
            self.in_gain.process(chunk);
            self.out_gain.process(chunk);
            self.bypass.apply(chunk);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_dsp::db::db_to_gain;

    #[test]
    fn gains_add_in_db_and_bypass_returns_the_input() {
        let settings = Settings {
            in_gain_db: 6.0,
            out_gain_db: -12.0,
            bypass: false,
        };
        let mut chain = Chain::new(96_000.0, 256, &settings);
        let input: Vec<f32> = (0..2000).map(|i| (i as f32 * 0.01).sin()).collect();
        let mut block = input.clone();
        chain.process(&mut [&mut block], &settings);
        for (out, inp) in block.iter().zip(&input) {
            // Two f32 multiplies: 1e-6 relative.
            assert!((out - inp * db_to_gain(-6.0)).abs() <= 1e-6);
        }
        let bypassed = Settings {
            bypass: true,
            ..settings
        };
        let mut block = input.clone();
        chain.process(&mut [&mut block], &bypassed);
        // The 10 ms fade at 96 kHz is 960 samples; after it the output is the input.
        assert_eq!(&block[960..], &input[960..]);
    }

    #[test]
    fn hostile_input_stays_finite() {
        let settings = Settings::default();
        let mut chain = Chain::new(384_000.0, 1, &settings);
        let mut left = vec![f32::NAN; 3];
        let mut right = vec![f32::NEG_INFINITY; 3];
        chain.process(&mut [&mut left, &mut right], &settings);
        assert!(left.iter().chain(&right).all(|s| *s == 0.0));
    }
}
