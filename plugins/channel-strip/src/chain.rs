//! The channel strip's processing chain in plain Rust: built from `shared-dsp` types and
//! driven by a plain [`Settings`] struct. The plugin, the `oxide` command and the tests
//! all run exactly this code.
//!
//! Signal order (filled in module by module): input trim and polarity → … → output fader,
//! with the host bypass cross-fading around all of it.

use shared_dsp::block::for_each_chunk;
use shared_dsp::denormal::FlushDenormals;
use shared_dsp::filter::eq::{ChannelEq, EqSettings};
use shared_dsp::gain::{BypassFade, Gain, GAIN_RAMP_MS};
use shared_dsp::sanitize::replace_non_finite;
use shared_dsp::smoother::{Smoother, SmoothingStyle};

/// The channel counts the chain supports (mono and stereo).
pub const MAX_CHANNELS: usize = 2;

/// Every setting of the strip, in plain units. The plugin maps host parameters to this.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Input trim, dB.
    pub in_gain_db: f32,
    /// Invert the polarity of the left (or mono) channel.
    pub phase_l: bool,
    /// Invert the polarity of the right channel.
    pub phase_r: bool,
    /// Output fader, dB; at or below [`shared_dsp::db::MINUS_INFINITY_DB`] it is silence.
    pub out_gain_db: f32,
    /// Host bypass: the output cross-fades to the input.
    pub bypass: bool,
    /// High-pass, low-pass and the six EQ bands.
    pub eq: EqSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            in_gain_db: 0.0,
            phase_l: false,
            phase_r: false,
            out_gain_db: 0.0,
            bypass: false,
            eq: EqSettings::default(),
        }
    }
}

impl Settings {
    /// Only the high- and low-pass of the tone section (they run before the gate).
    fn pass_filters(&self) -> EqSettings {
        EqSettings {
            eq_on: false,
            ..self.eq
        }
    }

    /// Only the six bands of the tone section.
    fn bands(&self) -> EqSettings {
        let mut bands = self.eq;
        bands.hpf.on = false;
        bands.lpf.on = false;
        bands
    }
}

/// The running chain: owns every processor's state, allocated for the worst case.
pub struct Chain {
    max_block: usize,
    in_gain: Gain,
    polarity: [Smoother; MAX_CHANNELS],
    pass_filters: ChannelEq,
    eq: ChannelEq,
    out_gain: Gain,
    bypass: BypassFade,
}

fn polarity_sign(inverted: bool) -> f32 {
    if inverted {
        -1.0
    } else {
        1.0
    }
}

impl Chain {
    /// Allocates a chain for `sample_rate` and host blocks of up to `max_block` frames
    /// (longer blocks are processed in pieces), resting at `settings`.
    pub fn new(sample_rate: f32, max_block: usize, settings: &Settings) -> Self {
        let max_block = max_block.clamp(1, 8192);
        let polarity = |inverted| {
            Smoother::new(
                SmoothingStyle::Linear,
                GAIN_RAMP_MS,
                sample_rate,
                polarity_sign(inverted),
            )
        };
        let tone = |settings: &EqSettings| {
            let mut eq = ChannelEq::new(sample_rate, MAX_CHANNELS);
            eq.set_settings_immediately(settings);
            eq
        };
        Self {
            max_block,
            in_gain: Gain::new(sample_rate, settings.in_gain_db),
            polarity: [polarity(settings.phase_l), polarity(settings.phase_r)],
            pass_filters: tone(&settings.pass_filters()),
            eq: tone(&settings.bands()),
            out_gain: Gain::new(sample_rate, settings.out_gain_db),
            bypass: BypassFade::new(sample_rate, MAX_CHANNELS, max_block, settings.bypass),
        }
    }

    /// Clears all signal state and jumps every smoothed value to `settings`.
    pub fn reset(&mut self, settings: &Settings) {
        self.in_gain.reset_to_db(settings.in_gain_db);
        self.polarity[0].reset_to(polarity_sign(settings.phase_l));
        self.polarity[1].reset_to(polarity_sign(settings.phase_r));
        self.pass_filters.reset();
        self.pass_filters
            .set_settings_immediately(&settings.pass_filters());
        self.eq.reset();
        self.eq.set_settings_immediately(&settings.bands());
        self.out_gain.reset_to_db(settings.out_gain_db);
        self.bypass.reset_to(settings.bypass);
    }

    /// The delay the chain adds, in samples.
    pub fn latency_samples(&self) -> u32 {
        0
    }

    /// How long the output goes on after the input stops, in samples.
    pub fn tail_samples(&self) -> u32 {
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
        self.polarity[0].set_target(polarity_sign(settings.phase_l));
        self.polarity[1].set_target(polarity_sign(settings.phase_r));
        self.out_gain.set_gain_db(settings.out_gain_db);
        self.bypass.set_bypassed(settings.bypass);

        let pass_filters = settings.pass_filters();
        let bands = settings.bands();
        let max_block = self.max_block;
        for_each_chunk(channels, max_block, |chunk| {
            self.process_chunk(chunk, &pass_filters, &bands)
        });
    }

    fn process_chunk(
        &mut self,
        channels: &mut [&mut [f32]],
        pass_filters: &EqSettings,
        bands: &EqSettings,
    ) {
        for channel in channels.iter_mut() {
            replace_non_finite(channel);
        }
        self.bypass.capture_dry(channels);

        self.in_gain.process(channels);
        for (channel, polarity) in channels.iter_mut().zip(self.polarity.iter_mut()) {
            if polarity.is_smoothing() {
                channel.iter_mut().for_each(|s| *s *= polarity.next());
            } else if polarity.current() != 1.0 {
                let sign = polarity.current();
                channel.iter_mut().for_each(|s| *s *= sign);
            }
        }
        self.pass_filters.process(channels, pass_filters);
        self.eq.process(channels, bands);
        self.out_gain.process(channels);

        self.bypass.apply(channels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_dsp::db::{db_to_gain, gain_to_db};

    fn sine(frames: usize, freq_hz: f32, sample_rate: f32) -> Vec<f32> {
        (0..frames)
            .map(|i| 0.5 * (std::f32::consts::TAU * freq_hz * i as f32 / sample_rate).sin())
            .collect()
    }

    fn run(settings: &Settings, input: &[f32], block: usize) -> (Vec<f32>, Vec<f32>) {
        let mut chain = Chain::new(48_000.0, 512, settings);
        let mut left = input.to_vec();
        let mut right = input.to_vec();
        for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
            chain.process(&mut [l, r], settings);
        }
        (left, right)
    }

    #[test]
    fn default_settings_are_transparent() {
        let input = sine(4800, 997.0, 48_000.0);
        let (left, right) = run(&Settings::default(), &input, 256);
        assert_eq!(left, input);
        assert_eq!(right, input);
    }

    #[test]
    fn output_gain_lowers_the_level_by_its_setting() {
        let settings = Settings {
            out_gain_db: -6.0,
            ..Settings::default()
        };
        let input = sine(4800, 997.0, 48_000.0);
        let (left, _) = run(&settings, &input, 512);
        let ratio = left[100] / input[100];
        // 1e-4 dB: an f32 gain computed through exp() is good to a few ulps.
        assert!((gain_to_db(ratio) + 6.0).abs() < 1e-4);
    }

    #[test]
    fn polarity_inverts_one_channel() {
        let settings = Settings {
            phase_r: true,
            in_gain_db: 6.0,
            ..Settings::default()
        };
        let input = sine(512, 440.0, 48_000.0);
        let (left, right) = run(&settings, &input, 64);
        for i in 0..512 {
            assert!((left[i] - input[i] * db_to_gain(6.0)).abs() < 1e-6);
            assert_eq!(right[i], -left[i]);
        }
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        let input = sine(20_000, 1234.0, 48_000.0);
        let mut settings = Settings::default();
        let mut chain_a = Chain::new(48_000.0, 512, &settings);
        let mut chain_b = Chain::new(48_000.0, 512, &settings);
        let (mut a, mut b) = (input.clone(), input.clone());
        // Change settings half way through, on a frame both block sizes share.
        for (i, chunk) in a.chunks_mut(1000).enumerate() {
            if i == 10 {
                settings.out_gain_db = -20.0;
                settings.phase_l = true;
            }
            chain_a.process(&mut [chunk], &settings);
        }
        settings = Settings::default();
        let mut position = 0;
        for chunk in b.chunks_mut(8) {
            if position == 10_000 {
                settings.out_gain_db = -20.0;
                settings.phase_l = true;
            }
            position += chunk.len();
            chain_b.process(&mut [chunk], &settings);
        }
        assert_eq!(a, b);
    }

    #[test]
    fn bypass_cross_fades_to_the_exact_input() {
        let input = sine(4800, 997.0, 48_000.0);
        let processed = Settings {
            out_gain_db: -12.0,
            ..Settings::default()
        };
        let bypassed = Settings {
            bypass: true,
            ..processed
        };
        let mut chain = Chain::new(48_000.0, 512, &processed);
        let mut block = input.clone();
        chain.process(&mut [&mut block], &bypassed);
        // 10 ms at 48 kHz: 480 samples of fade, no jump bigger than the sine's own slope
        // plus the fade's step.
        assert_eq!(&block[480..], &input[480..]);
        let max_jump = block
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        let sine_slope = 0.5 * std::f32::consts::TAU * 997.0 / 48_000.0;
        let fade_step = 0.5 * (1.0 - db_to_gain(-12.0)) / 480.0;
        // 1 % margin for f32 rounding of the slope estimate.
        assert!(max_jump <= (sine_slope + fade_step) * 1.01, "{max_jump}");
    }

    #[test]
    fn hostile_input_stays_finite() {
        let settings = Settings {
            in_gain_db: 24.0,
            out_gain_db: 12.0,
            ..Settings::default()
        };
        let mut chain = Chain::new(44_100.0, 64, &settings);
        let mut block = vec![f32::NAN, f32::INFINITY, -f32::INFINITY, 1e-40, 1.0, -1.0];
        chain.process(&mut [&mut block], &settings);
        assert!(block.iter().all(|s| s.is_finite()));
        let mut clean = vec![0.25f32; 128];
        chain.process(&mut [&mut clean], &settings);
        assert!(clean
            .iter()
            .all(|s| (s - 0.25 * db_to_gain(36.0)).abs() < 1e-3));
    }

    #[test]
    fn oversized_blocks_and_silence_are_safe() {
        let settings = Settings::default();
        let mut chain = Chain::new(22_050.0, 16, &settings);
        let mut block = vec![0.0f32; 10_000];
        chain.process(&mut [&mut block], &settings);
        assert!(block.iter().all(|&s| s == 0.0));
        chain.process(&mut [], &settings);
    }
}
