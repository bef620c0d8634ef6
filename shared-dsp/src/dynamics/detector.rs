//! Level detection: the instantaneous level a gain computer looks at.
//!
//! Detectors output a **power** (a squared amplitude), calibrated so that a steady sine
//! reads the same in both modes (AES17 convention: a full-scale sine is 0 dBFS):
//!
//! - [`DetectorMode::Peak`]: `x²`, the instantaneous peak. A sine's peak sample gives
//!   its peak level; ballistics after the gain computer turn this into a peak envelope
//!   (Giannoulis et al., JAES 2012, level detection).
//! - [`DetectorMode::Rms`]: `2·mean(x²)` over a sliding rectangular window (a true
//!   windowed mean square, not a one-pole), so a steady sine reads its peak level with
//!   no ripple when the window holds a whole number of half periods, and very little
//!   otherwise.
//!
//! Working with powers lets a stereo link take the maximum of the channels before one
//! logarithm, and lets the chain compare against a threshold without any logarithm.

/// How the level is detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetectorMode {
    /// Instantaneous peak (squared sample).
    #[default]
    Peak,
    /// Windowed RMS, sine-calibrated (`2·mean square`).
    Rms,
}

/// A sliding-window mean square: the mean of the last `window` squared samples.
///
/// The squares are kept as fixed-point integers (units of 2⁻⁴⁰, about −120 dBFS in
/// amplitude) and the running sum is an exact integer sum: adding the newest square and
/// subtracting the oldest never accumulates rounding, so there is nothing to recompute and
/// the result is the same for any block split. Squares are clamped to
/// [`RMS_MAX_POWER`] (+30 dBFS), far above full scale, so the sum of a window of up to
/// 2¹³ samples fits in an `i64` (signed: its conversion to float is one instruction).
#[derive(Debug, Clone)]
pub struct RmsDetector {
    squares: Vec<i64>,
    window: usize,
    position: usize,
    sum: i64,
    /// `1 / (window · 2⁴⁰)`: sum to mean square.
    scale: f64,
    sample_rate: f32,
}

/// The largest square the RMS detector accumulates: 2¹⁰ = +30.1 dB (power).
pub const RMS_MAX_POWER: f32 = 1024.0;

/// Fixed-point units per unit of power: 2⁴⁰.
const RMS_ONE: f32 = 1_099_511_627_776.0;

/// The longest window, in samples, whose sum is guaranteed to fit: 2¹³ (with squares up
/// to 2⁵⁰ units).
pub const RMS_MAX_WINDOW_SAMPLES: usize = 8192;

impl RmsDetector {
    /// A detector for windows up to `max_window_ms` at `sample_rate` (and at most
    /// [`RMS_MAX_WINDOW_SAMPLES`]), set to that window.
    pub fn new(sample_rate: f32, max_window_ms: f32) -> Self {
        let capacity = Self::samples_for(max_window_ms, sample_rate);
        let mut d = Self {
            squares: vec![0; capacity],
            window: capacity,
            position: 0,
            sum: 0,
            scale: 0.0,
            sample_rate,
        };
        d.set_window_ms(max_window_ms);
        d
    }

    fn samples_for(window_ms: f32, sample_rate: f32) -> usize {
        let samples = (window_ms.max(0.0) * 1e-3 * sample_rate.max(1.0)).round();
        if samples.is_finite() {
            (samples as usize).clamp(1, RMS_MAX_WINDOW_SAMPLES)
        } else {
            1
        }
    }

    /// Sets the window length (clamped to the capacity given to `new`) and clears the
    /// window.
    pub fn set_window_ms(&mut self, window_ms: f32) {
        self.window = Self::samples_for(window_ms, self.sample_rate).min(self.squares.len());
        self.scale = 1.0 / (self.window as f64 * RMS_ONE as f64);
        self.reset();
    }

    /// The window length in samples.
    pub fn window_samples(&self) -> usize {
        self.window
    }

    /// Clears the window (silence).
    pub fn reset(&mut self) {
        self.squares.iter_mut().for_each(|s| *s = 0);
        self.position = 0;
        self.sum = 0;
    }

    /// Pushes one sample and returns the mean square of the window. `x` must be finite.
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        // `as i64` saturates and maps NaN to 0, so this never misbehaves.
        let square = ((x * x).min(RMS_MAX_POWER) * RMS_ONE) as i64;
        let window = &mut self.squares[..self.window];
        // `position < window.len()` always holds; `get_mut` keeps this panic-free.
        if let Some(slot) = window.get_mut(self.position) {
            self.sum = self.sum - *slot + square;
            *slot = square;
        }
        self.position += 1;
        if self.position >= window.len() {
            self.position = 0;
        }
        (self.sum as f64 * self.scale) as f32
    }

    /// Replaces each sample of `block` by `scale` × the mean square after pushing it
    /// (the same values as calling [`RmsDetector::tick`] per sample).
    #[inline]
    pub fn process_in_place(&mut self, block: &mut [f32], scale: f32) {
        // The same arithmetic as `tick`, with the running state in locals so it stays in
        // registers for the whole block.
        let window = &mut self.squares[..self.window];
        let (mut position, mut sum) = (self.position, self.sum);
        for x in block.iter_mut() {
            let square = ((*x * *x).min(RMS_MAX_POWER) * RMS_ONE) as i64;
            if let Some(slot) = window.get_mut(position) {
                sum = sum - *slot + square;
                *slot = square;
            }
            position += 1;
            if position >= window.len() {
                position = 0;
            }
            *x = scale * (sum as f64 * self.scale) as f32;
        }
        self.position = position;
        self.sum = sum;
    }
}

/// A per-channel level detector in either mode; outputs the sine-calibrated power
/// (see the module notes).
#[derive(Debug, Clone)]
pub struct LevelDetector {
    mode: DetectorMode,
    rms: RmsDetector,
}

impl LevelDetector {
    /// A detector at `sample_rate` whose RMS window is `rms_window_ms`.
    pub fn new(sample_rate: f32, rms_window_ms: f32, mode: DetectorMode) -> Self {
        Self {
            mode,
            rms: RmsDetector::new(sample_rate, rms_window_ms),
        }
    }

    /// The current mode.
    pub fn mode(&self) -> DetectorMode {
        self.mode
    }

    /// Switches mode. Switching to RMS starts from an empty window; the ballistics that
    /// follow keep the gain continuous, so this does not click.
    pub fn set_mode(&mut self, mode: DetectorMode) {
        if mode != self.mode {
            self.mode = mode;
            self.rms.reset();
        }
    }

    /// Clears the RMS window.
    pub fn reset(&mut self) {
        self.rms.reset();
    }

    /// One sample in, its detected power out.
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        match self.mode {
            DetectorMode::Peak => x * x,
            DetectorMode::Rms => 2.0 * self.rms.tick(x),
        }
    }

    /// Replaces every sample of `block` by its detected power.
    #[inline]
    pub fn process_in_place(&mut self, block: &mut [f32]) {
        match self.mode {
            DetectorMode::Peak => block.iter_mut().for_each(|x| *x *= *x),
            DetectorMode::Rms => self.rms.process_in_place(block, 2.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_of_a_sine_reads_its_peak_level() {
        // 1 kHz at 48 kHz, 10 ms window = exactly 10 periods: no ripple.
        let mut d = LevelDetector::new(48_000.0, 10.0, DetectorMode::Rms);
        let amplitude = 0.25f32;
        let mut last = 0.0;
        for n in 0..4800 {
            let x = amplitude * (std::f32::consts::TAU * n as f32 / 48.0).sin();
            last = d.tick(x);
            if n >= 480 {
                // 1e-5 relative: f32 sine values and the f64 window sum.
                assert!(
                    (last / (amplitude * amplitude) - 1.0).abs() < 1e-5,
                    "{n}: {last}"
                );
            }
        }
        assert!(last > 0.0);
    }

    #[test]
    fn rms_window_is_a_boxcar() {
        let mut d = RmsDetector::new(1000.0, 10.0);
        assert_eq!(d.window_samples(), 10);
        let out: Vec<f32> = (0..25)
            .map(|n| d.tick(if n < 5 { 1.0 } else { 0.0 }))
            .collect();
        assert!((out[4] - 0.5).abs() < 1e-7, "5 of 10 ones");
        assert!((out[9] - 0.5).abs() < 1e-7);
        assert_eq!(out[14], 0.0, "the ones have left the window");
        d.set_window_ms(1000.0);
        assert_eq!(d.window_samples(), 10, "clamped to the capacity");
    }

    #[test]
    fn block_and_per_sample_rms_agree_exactly() {
        let signal = crate::test_util::program(3000, 4);
        let mut a = RmsDetector::new(48_000.0, 7.0);
        let mut b = a.clone();
        let per_sample: Vec<f32> = signal.iter().map(|&x| 2.0 * a.tick(x)).collect();
        let mut block = signal.clone();
        for chunk in block.chunks_mut(100) {
            b.process_in_place(chunk, 2.0);
        }
        assert_eq!(per_sample, block);
    }

    #[test]
    fn peak_is_the_square() {
        let mut d = LevelDetector::new(48_000.0, 10.0, DetectorMode::Peak);
        let mut block = [0.5f32, -2.0, 0.0];
        d.process_in_place(&mut block);
        assert_eq!(block, [0.25, 4.0, 0.0]);
    }
}
