//! Parameter smoothing: a value that ramps to its target over a fixed time instead of
//! jumping, so automation and knob moves do not click ("zipper noise").
//!
//! The ramp advances one step per sample frame whatever the block size, so a chain fed
//! in blocks of 1, 64 or 4096 samples produces the same output.

/// How the value travels from where it is to its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmoothingStyle {
    /// Equal steps: for gains as amplitude ratios and mix amounts.
    Linear,
    /// Equal ratios (linear in log space): for frequencies, so a sweep moves at the same
    /// rate per octave. Falls back to [`SmoothingStyle::Linear`] when the start or the
    /// target is not strictly positive.
    Logarithmic,
}

/// A value that ramps to its target in `ramp_ms`, reaching it exactly.
#[derive(Debug, Clone)]
pub struct Smoother {
    style: SmoothingStyle,
    ramp_ms: f32,
    ramp_samples: u32,
    current: f32,
    target: f32,
    /// Added (linear) or multiplied (logarithmic) once per sample while ramping.
    step: f32,
    steps_left: u32,
    multiplicative: bool,
}

impl Smoother {
    /// A smoother resting at `value`, ramping over `ramp_ms` at `sample_rate`.
    pub fn new(style: SmoothingStyle, ramp_ms: f32, sample_rate: f32, value: f32) -> Self {
        let mut smoother = Self {
            style,
            ramp_ms,
            ramp_samples: 0,
            current: value,
            target: value,
            step: 0.0,
            steps_left: 0,
            multiplicative: false,
        };
        smoother.set_sample_rate(sample_rate);
        smoother
    }

    /// Changes the sample rate; a ramp in progress finishes at once.
    pub fn set_sample_rate(&mut self, sample_rate: f32) {
        let samples = (self.ramp_ms.max(0.0) * 1e-3 * sample_rate.max(1.0)).round();
        self.ramp_samples = samples.clamp(1.0, u32::MAX as f32) as u32;
        self.reset_to(self.target);
    }

    /// Jumps to `value` with no ramp (after a reset, or when the host loads state).
    pub fn reset_to(&mut self, value: f32) {
        self.current = value;
        self.target = value;
        self.steps_left = 0;
    }

    /// Starts a ramp from the current value to `target`. Calling it again with the same
    /// target does nothing, so a chain may call it once per block unconditionally.
    #[inline]
    pub fn set_target(&mut self, target: f32) {
        if target == self.target {
            return;
        }
        self.target = target;
        if self.current == target {
            self.steps_left = 0;
            return;
        }
        let n = self.ramp_samples as f32;
        self.multiplicative =
            self.style == SmoothingStyle::Logarithmic && self.current > 0.0 && target > 0.0;
        self.step = if self.multiplicative {
            ((target / self.current).ln() / n).exp()
        } else {
            (target - self.current) / n
        };
        self.steps_left = self.ramp_samples;
    }

    /// The value for the next sample frame.
    #[inline]
    pub fn next(&mut self) -> f32 {
        if self.steps_left == 0 {
            return self.current;
        }
        self.steps_left -= 1;
        self.current = if self.steps_left == 0 {
            self.target
        } else if self.multiplicative {
            self.current * self.step
        } else {
            self.current + self.step
        };
        self.current
    }

    /// Advances `frames` sample frames at once and returns the value reached.
    #[inline]
    pub fn skip(&mut self, frames: usize) -> f32 {
        if self.steps_left == 0 || frames == 0 {
            return self.current;
        }
        if frames as u64 >= self.steps_left as u64 {
            self.steps_left = 0;
            self.current = self.target;
        } else {
            for _ in 0..frames {
                self.next();
            }
        }
        self.current
    }

    /// True while a ramp is in progress.
    #[inline]
    pub fn is_smoothing(&self) -> bool {
        self.steps_left > 0
    }

    /// The value of the last sample frame.
    #[inline]
    pub fn current(&self) -> f32 {
        self.current
    }

    /// The value the ramp is heading for.
    #[inline]
    pub fn target(&self) -> f32 {
        self.target
    }

    /// The ramp length in samples.
    pub fn ramp_samples(&self) -> u32 {
        self.ramp_samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ramp_takes_the_stated_time_and_lands_exactly() {
        // 10 ms at 48 kHz is 480 samples.
        let mut s = Smoother::new(SmoothingStyle::Linear, 10.0, 48_000.0, 0.0);
        assert_eq!(s.ramp_samples(), 480);
        s.set_target(1.0);
        let values: Vec<f32> = (0..480).map(|_| s.next()).collect();
        assert!(values.windows(2).all(|w| w[1] > w[0]), "monotonic");
        assert!((values[239] - 0.5).abs() < 1e-4, "half way at half time");
        assert_eq!(values[479], 1.0, "exactly on target at the end");
        assert!(!s.is_smoothing());
        assert_eq!(s.next(), 1.0);
    }

    #[test]
    fn logarithmic_ramp_moves_equal_ratios() {
        let mut s = Smoother::new(SmoothingStyle::Logarithmic, 1.0, 48_000.0, 100.0);
        s.set_target(10_000.0);
        let values: Vec<f32> = (0..48).map(|_| s.next()).collect();
        // Half way in time is half way in octaves: the geometric mean, 1 kHz.
        // Tolerance 0.1 %: 24 multiplications of an f32 ratio accumulate a few ulps each.
        assert!((values[23] / 1000.0 - 1.0).abs() < 1e-3, "{}", values[23]);
        assert_eq!(values[47], 10_000.0);
    }

    #[test]
    fn logarithmic_falls_back_to_linear_through_zero() {
        let mut s = Smoother::new(SmoothingStyle::Logarithmic, 1.0, 1000.0, 0.0);
        s.set_target(1.0);
        assert!(s.next().is_finite());
        assert_eq!(s.skip(10), 1.0);
    }

    #[test]
    fn same_target_does_not_restart_the_ramp() {
        let mut s = Smoother::new(SmoothingStyle::Linear, 10.0, 1000.0, 0.0);
        s.set_target(1.0);
        for _ in 0..5 {
            s.next();
        }
        let mid = s.current();
        s.set_target(1.0);
        assert_eq!(s.next(), mid + 0.1, "the ramp keeps its pace");
    }

    #[test]
    fn skip_equals_stepping() {
        let mut a = Smoother::new(SmoothingStyle::Linear, 5.0, 44_100.0, -1.0);
        let mut b = a.clone();
        a.set_target(3.0);
        b.set_target(3.0);
        for _ in 0..100 {
            a.next();
        }
        assert_eq!(b.skip(100), a.current());
        assert_eq!(b.skip(10_000), 3.0);
    }

    #[test]
    fn reset_jumps_without_a_ramp() {
        let mut s = Smoother::new(SmoothingStyle::Linear, 50.0, 48_000.0, 0.0);
        s.set_target(1.0);
        s.next();
        s.reset_to(0.25);
        assert!(!s.is_smoothing());
        assert_eq!(s.next(), 0.25);
        assert_eq!(s.target(), 0.25);
    }

    #[test]
    fn odd_sample_rates_and_zero_ramp_are_safe() {
        let mut s = Smoother::new(SmoothingStyle::Linear, 0.0, 0.0, 0.0);
        s.set_target(1.0);
        assert_eq!(s.next(), 1.0, "a zero-length ramp is one sample");
        let mut s = Smoother::new(SmoothingStyle::Linear, 20.0, 384_000.0, 0.0);
        assert_eq!(s.ramp_samples(), 7680);
        s.set_target(1.0);
        assert_eq!(s.skip(7680), 1.0);
    }
}
