//! Smoothed gain and the bypass cross-fade, the two pieces every chain starts with.

use crate::db::db_to_gain;
use crate::smoother::{Smoother, SmoothingStyle};

/// The ramp for gain changes. 20 ms moves a fader without zipper noise yet follows
/// automation closely (a 1 kHz tone sees no audible steps; faster moves are smeared over
/// less than a 16th note at 180 BPM).
pub const GAIN_RAMP_MS: f32 = 20.0;

/// The bypass cross-fade time: short enough to feel instant, long enough not to click.
pub const BYPASS_FADE_MS: f32 = 10.0;

/// A gain in dB, smoothed in the amplitude domain (so it can reach −∞ and still ramp),
/// applied to all channels alike.
#[derive(Debug, Clone)]
pub struct Gain {
    gain: Smoother,
}

impl Gain {
    /// A gain resting at `gain_db`.
    pub fn new(sample_rate: f32, gain_db: f32) -> Self {
        Self {
            gain: Smoother::new(
                SmoothingStyle::Linear,
                GAIN_RAMP_MS,
                sample_rate,
                db_to_gain(gain_db),
            ),
        }
    }

    /// Changes the sample rate, keeping the current gain.
    pub fn set_sample_rate(&mut self, sample_rate: f32) {
        self.gain.set_sample_rate(sample_rate);
    }

    /// Sets the gain to ramp to.
    #[inline]
    pub fn set_gain_db(&mut self, gain_db: f32) {
        self.gain.set_target(db_to_gain(gain_db));
    }

    /// Jumps to `gain_db` with no ramp.
    pub fn reset_to_db(&mut self, gain_db: f32) {
        self.gain.reset_to(db_to_gain(gain_db));
    }

    /// The amplitude gain for the next frame (for chains that fuse gain into a loop).
    // Not `Iterator::next`: a smoother never ends, and `next` reads naturally here.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> f32 {
        self.gain.next()
    }

    /// True while the gain is ramping.
    #[inline]
    pub fn is_smoothing(&self) -> bool {
        self.gain.is_smoothing()
    }

    /// Applies the gain to every channel of a block; all channels have the same length.
    #[inline]
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let frames = channels.first().map_or(0, |c| c.len());
        if !self.gain.is_smoothing() {
            let g = self.gain.current();
            if g != 1.0 {
                for channel in channels.iter_mut() {
                    channel.iter_mut().for_each(|s| *s *= g);
                }
            }
            return;
        }
        for frame in 0..frames {
            let g = self.gain.next();
            for channel in channels.iter_mut() {
                channel[frame] *= g;
            }
        }
    }
}

/// A host bypass that cross-fades between the processed signal and the input instead of
/// switching (which clicks). Linear, equal-gain: dry and processed are correlated, so the
/// sum has no dip.
///
/// Use: `capture_dry` with the input, process the block, then `apply` to the output.
#[derive(Debug, Clone)]
pub struct BypassFade {
    /// 0 = processed, 1 = bypassed.
    amount: Smoother,
    dry: Vec<Vec<f32>>,
}

impl BypassFade {
    /// Allocates the dry copy for `max_channels` × `max_block` samples; fades over
    /// [`BYPASS_FADE_MS`].
    pub fn new(sample_rate: f32, max_channels: usize, max_block: usize, bypassed: bool) -> Self {
        Self::with_fade_ms(
            sample_rate,
            max_channels,
            max_block,
            bypassed,
            BYPASS_FADE_MS,
        )
    }

    /// As [`Self::new`], fading over `fade_ms` (a module's on/off switch, for example).
    pub fn with_fade_ms(
        sample_rate: f32,
        max_channels: usize,
        max_block: usize,
        bypassed: bool,
        fade_ms: f32,
    ) -> Self {
        Self {
            amount: Smoother::new(
                SmoothingStyle::Linear,
                fade_ms,
                sample_rate,
                if bypassed { 1.0 } else { 0.0 },
            ),
            dry: vec![vec![0.0; max_block]; max_channels],
        }
    }

    /// The largest block `capture_dry` accepts.
    pub fn max_block(&self) -> usize {
        self.dry.first().map_or(0, |d| d.len())
    }

    /// Sets the state to fade to.
    #[inline]
    pub fn set_bypassed(&mut self, bypassed: bool) {
        self.amount.set_target(if bypassed { 1.0 } else { 0.0 });
    }

    /// Jumps to a state with no fade.
    pub fn reset_to(&mut self, bypassed: bool) {
        self.amount.reset_to(if bypassed { 1.0 } else { 0.0 });
    }

    /// True when the output is the input and no fade is running.
    #[inline]
    pub fn is_fully_bypassed(&self) -> bool {
        !self.amount.is_smoothing() && self.amount.current() == 1.0
    }

    /// True when the output is the processed signal and no fade is running.
    #[inline]
    pub fn is_fully_processed(&self) -> bool {
        !self.amount.is_smoothing() && self.amount.current() == 0.0
    }

    /// Keeps a copy of the input when the fade needs it. Blocks longer than
    /// [`Self::max_block`] or with more channels than allocated are a caller bug
    /// (checked in debug builds); the excess is ignored.
    #[inline]
    pub fn capture_dry(&mut self, channels: &[&mut [f32]]) {
        if self.is_fully_processed() {
            return;
        }
        debug_assert!(channels.len() <= self.dry.len());
        for (dry, channel) in self.dry.iter_mut().zip(channels.iter()) {
            debug_assert!(channel.len() <= dry.len());
            let n = channel.len().min(dry.len());
            dry[..n].copy_from_slice(&channel[..n]);
        }
    }

    /// Mixes the captured input back into the processed block.
    #[inline]
    pub fn apply(&mut self, channels: &mut [&mut [f32]]) {
        if self.is_fully_processed() {
            return;
        }
        if self.is_fully_bypassed() {
            for (dry, channel) in self.dry.iter().zip(channels.iter_mut()) {
                let n = channel.len().min(dry.len());
                channel[..n].copy_from_slice(&dry[..n]);
            }
            return;
        }
        let frames = channels
            .first()
            .map_or(0, |c| c.len())
            .min(self.max_block());
        for frame in 0..frames {
            let amount = self.amount.next();
            for (dry, channel) in self.dry.iter().zip(channels.iter_mut()) {
                // This form is exact at both ends: amount 1 gives the dry sample itself.
                channel[frame] = dry[frame] * amount + channel[frame] * (1.0 - amount);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::gain_to_db;

    fn sine(frames: usize) -> Vec<f32> {
        (0..frames).map(|i| (i as f32 * 0.05).sin() * 0.5).collect()
    }

    #[test]
    fn settled_gain_is_exact() {
        let mut gain = Gain::new(48_000.0, -6.0);
        let input = sine(256);
        let mut left = input.clone();
        let mut right = input.clone();
        gain.process(&mut [&mut left, &mut right]);
        for (out, inp) in left.iter().zip(&input) {
            // 1e-6 relative: one f32 multiply.
            assert!((out - inp * db_to_gain(-6.0)).abs() <= 1e-6 * inp.abs());
        }
        assert_eq!(left, right);
    }

    #[test]
    fn gain_change_ramps_without_a_step() {
        let mut gain = Gain::new(48_000.0, 0.0);
        gain.set_gain_db(-24.0);
        let mut ones = vec![1.0f32; 2048];
        gain.process(&mut [&mut ones]);
        // A 20 ms linear ramp over 960 samples moves at most 1/960 of the change per sample.
        let biggest_step = ones
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        assert!(biggest_step <= (1.0 - db_to_gain(-24.0)) / 959.0);
        assert!((gain_to_db(ones[2047]) + 24.0).abs() < 1e-4);
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        let input = sine(1000);
        let mut whole = input.clone();
        let mut gain = Gain::new(44_100.0, 3.0);
        gain.set_gain_db(-12.0);
        gain.process(&mut [&mut whole]);

        let mut pieces = input.clone();
        let mut gain = Gain::new(44_100.0, 3.0);
        gain.set_gain_db(-12.0);
        for chunk in pieces.chunks_mut(7) {
            gain.process(&mut [chunk]);
        }
        assert_eq!(whole, pieces);
    }

    #[test]
    fn bypass_fades_and_lands_on_the_input() {
        let input = sine(2048);
        let mut fade = BypassFade::new(48_000.0, 1, 2048, false);
        fade.set_bypassed(true);
        let mut block = input.clone();
        fade.capture_dry(&[&mut block]);
        block.iter_mut().for_each(|s| *s = 0.0); // "processing" mutes
        fade.apply(&mut [&mut block]);
        // 10 ms at 48 kHz = 480 samples of fade, then exactly the input.
        assert_eq!(&block[480..], &input[480..]);
        assert!(block[0].abs() <= input[0].abs());
        assert!(block[100].abs() < input[100].abs(), "still fading");
        assert!(fade.is_fully_bypassed());
    }

    #[test]
    fn processed_is_untouched_when_not_bypassed() {
        let mut fade = BypassFade::new(48_000.0, 2, 64, false);
        let mut left = sine(64);
        let expected = left.clone();
        fade.capture_dry(&[&mut left]);
        fade.apply(&mut [&mut left]);
        assert_eq!(left, expected);
    }
}
