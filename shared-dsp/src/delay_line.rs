//! A circular delay line with a fractional read (third-order Lagrange interpolation),
//! the building block of the stereo delay and the reverb's pre-delay and FDN lines.
//!
//! Lagrange interpolation: T. I. Laakso, V. Välimäki, M. Karjalainen and U. K. Laine,
//! "Splitting the unit delay", IEEE Signal Processing Magazine, 1996. Reading between
//! the two middle points of four, its magnitude response never exceeds 1, so a
//! feedback loop through it cannot gain energy from the interpolation.

/// A power-of-two ring buffer holding at least `max_delay_samples` of history.
#[derive(Debug, Clone)]
pub struct DelayLine {
    buffer: Vec<f32>,
    mask: usize,
    /// Index of the newest sample.
    newest: usize,
    max_delay: f32,
}

impl DelayLine {
    /// Allocates for delays up to `max_delay_samples` (plus the interpolator's reach).
    pub fn new(max_delay_samples: usize) -> Self {
        let size = (max_delay_samples + 4).next_power_of_two();
        Self {
            buffer: vec![0.0; size],
            mask: size - 1,
            newest: 0,
            max_delay: max_delay_samples.max(1) as f32,
        }
    }

    /// The longest delay [`Self::read`] honours, in samples.
    pub fn max_delay(&self) -> f32 {
        self.max_delay
    }

    /// Clears the history.
    pub fn reset(&mut self) {
        self.buffer.iter_mut().for_each(|s| *s = 0.0);
        self.newest = 0;
    }

    /// The sample at `index` masked into the buffer. The mask is taken from the
    /// buffer's own (power-of-two) length, so the compiler sees the index is in
    /// bounds and emits no check.
    #[inline(always)]
    fn at(&self, index: usize) -> f32 {
        let mask = self.buffer.len().wrapping_sub(1);
        self.buffer.get(index & mask).copied().unwrap_or(0.0)
    }

    /// Writes the next sample.
    #[inline(always)]
    pub fn push(&mut self, sample: f32) {
        self.newest = (self.newest + 1) & self.mask;
        let mask = self.buffer.len().wrapping_sub(1);
        if let Some(slot) = self.buffer.get_mut(self.newest & mask) {
            *slot = sample;
        }
    }

    /// The sample written `delay` pushes ago (0 = the newest).
    #[inline(always)]
    pub fn read_integer(&self, delay: usize) -> f32 {
        self.at(self.newest.wrapping_sub(delay))
    }

    /// The signal `delay_samples` ago, interpolated (third-order Lagrange). The delay is
    /// clamped to `[1, max_delay]`: the interpolator needs one newer sample.
    #[inline(always)]
    pub fn read(&self, delay_samples: f32) -> f32 {
        let d = delay_samples.clamp(1.0, self.max_delay);
        // d ≤ max_delay < 2^24: exact and cheaper through i32 than straight to usize.
        let whole = d as i32 as usize;
        let f = d - whole as f32;
        let base = self.newest.wrapping_sub(whole);
        let pm1 = self.at(base.wrapping_add(1));
        let p0 = self.at(base);
        let p1 = self.at(base.wrapping_sub(1));
        let p2 = self.at(base.wrapping_sub(2));
        let fm1 = f - 1.0;
        let fm2 = f - 2.0;
        let fp1 = f + 1.0;
        let c_m1 = -f * fm1 * fm2 * (1.0 / 6.0);
        let c_0 = fp1 * fm1 * fm2 * 0.5;
        let c_1 = -fp1 * f * fm2 * 0.5;
        let c_2 = fp1 * f * fm1 * (1.0 / 6.0);
        c_m1 * pm1 + c_0 * p0 + c_1 * p1 + c_2 * p2
    }

    /// The longest run [`Self::read_block`] can fill for `delay_samples`: every sample
    /// it reads must already be in the line (at least 1).
    #[inline(always)]
    pub fn block_limit(&self, delay_samples: f32) -> usize {
        let d = delay_samples.clamp(1.0, self.max_delay);
        d as i32 as usize
    }

    /// `out[k]` = what [`Self::read`]`(delay_samples)` returns after `k` more pushes,
    /// bit for bit (same weights, same order), for `out.len()` up to
    /// [`Self::block_limit`] (longer runs are cut there). Runs that do not wrap around
    /// the buffer are read as one contiguous slice.
    #[inline(always)]
    pub fn read_block(&self, delay_samples: f32, out: &mut [f32]) {
        let d = delay_samples.clamp(1.0, self.max_delay);
        let whole = d as i32 as usize;
        let n = out.len().min(whole);
        let out = &mut out[..n];
        let f = d - whole as f32;
        let fm1 = f - 1.0;
        let fm2 = f - 2.0;
        let fp1 = f + 1.0;
        let c_m1 = -f * fm1 * fm2 * (1.0 / 6.0);
        let c_0 = fp1 * fm1 * fm2 * 0.5;
        let c_1 = -fp1 * f * fm2 * 0.5;
        let c_2 = fp1 * f * fm1 * (1.0 / 6.0);
        let mask = self.buffer.len().wrapping_sub(1);
        // Oldest sample read for out[0] (p2 of the first frame).
        let start = self.newest.wrapping_sub(whole).wrapping_sub(2) & mask;
        match self.buffer.get(start..start + n + 3) {
            Some(run) => {
                for (y, w) in out.iter_mut().zip(run.windows(4)) {
                    *y = c_m1 * w[3] + c_0 * w[2] + c_1 * w[1] + c_2 * w[0];
                }
            }
            None => {
                for (k, y) in out.iter_mut().enumerate() {
                    let base = self.newest.wrapping_add(k).wrapping_sub(whole);
                    let pm1 = self.at(base.wrapping_add(1));
                    let p0 = self.at(base);
                    let p1 = self.at(base.wrapping_sub(1));
                    let p2 = self.at(base.wrapping_sub(2));
                    *y = c_m1 * pm1 + c_0 * p0 + c_1 * p1 + c_2 * p2;
                }
            }
        }
    }

    /// Pushes `samples` in order (the same as [`Self::push`] for each).
    #[inline(always)]
    pub fn push_block(&mut self, samples: &[f32]) {
        let mask = self.buffer.len().wrapping_sub(1);
        let start = self.newest.wrapping_add(1) & mask;
        match self.buffer.get_mut(start..start + samples.len()) {
            Some(run) => run.copy_from_slice(samples),
            None => {
                for (k, &sample) in samples.iter().enumerate() {
                    if let Some(slot) = self.buffer.get_mut(start.wrapping_add(k) & mask) {
                        *slot = sample;
                    }
                }
            }
        }
        self.newest = self.newest.wrapping_add(samples.len()) & self.mask;
    }

    /// Pushes `input` and writes to `output` what [`Self::read_integer`]`(delay)` would
    /// return after each push (the same samples, bit for bit), block-wise: the first
    /// `delay` outputs come from the history (before this block's pushes, output `k`
    /// is `delay − 1 − k` samples back), the rest are the input moved by `delay`.
    /// `delay` must be below the allocation (as for per-sample reads); the shorter of
    /// the two slices sets the length.
    #[inline]
    pub fn delay_block(&mut self, input: &[f32], output: &mut [f32], delay: usize) {
        let n = input.len().min(output.len());
        let head = delay.min(n);
        for (k, y) in output[..head].iter_mut().enumerate() {
            *y = self.read_integer(delay - 1 - k);
        }
        output[head..n].copy_from_slice(&input[..n - head]);
        self.push_block(&input[..n]);
    }

    /// False if a non-finite value is stored (the owner then resets).
    pub fn is_finite(&self) -> bool {
        self.buffer.iter().all(|v| v.is_finite())
    }
}

/// A whole-sample delay per channel: the dry path a chain mixes with its delayed wet
/// path (host bypass, matched bypass) must be delayed by the chain's latency.
#[derive(Debug, Clone)]
pub struct LatencyDelay {
    lines: Vec<DelayLine>,
    max_delay: usize,
}

impl LatencyDelay {
    /// Allocates `channels` lines for delays up to `max_delay` samples.
    pub fn new(channels: usize, max_delay: usize) -> Self {
        Self {
            lines: vec![DelayLine::new(max_delay); channels.max(1)],
            max_delay,
        }
    }

    /// Clears the history.
    pub fn reset(&mut self) {
        self.lines.iter_mut().for_each(DelayLine::reset);
    }

    /// Writes `input` and puts each sample `delay` samples old into `output` (channel by
    /// channel, as many frames as both hold). `delay` is held to the allocated maximum;
    /// channels beyond those allocated are left alone.
    pub fn process(&mut self, input: &[&mut [f32]], output: &mut [&mut [f32]], delay: usize) {
        let delay = delay.min(self.max_delay);
        for ((line, x), y) in self.lines.iter_mut().zip(input).zip(output.iter_mut()) {
            line.delay_block(x, y, delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_delays_are_exact_and_fractions_interpolate_cubics_exactly() {
        let mut line = DelayLine::new(100);
        // A cubic in time is reproduced exactly by third-order Lagrange interpolation.
        let cubic = |t: f32| 0.001 * t * t * t - 0.02 * t * t + 0.3 * t - 1.0;
        for n in 0..50 {
            line.push(cubic(n as f32));
        }
        assert_eq!(line.read(7.0), cubic(42.0));
        assert_eq!(line.read_integer(7), cubic(42.0));
        for d in [1.25f32, 3.5, 10.9, 20.01] {
            let expected = cubic(49.0 - d);
            // f32 rounding of values up to ~60 over four products: 1e-4 absolute.
            assert!((line.read(d) - expected).abs() < 1e-4, "{d}");
        }
    }

    #[test]
    fn block_reads_and_pushes_match_single_ones() {
        // Bit for bit, including runs that wrap around the (32-sample) buffer.
        let mut single = DelayLine::new(20);
        let mut block = single.clone();
        let mut n = 0;
        for chunk in [3usize, 7, 1, 9, 12, 5, 8, 9, 2, 11] {
            for d in [3.0f32, 4.37, 9.99, 12.5] {
                let mut got = vec![0.0; chunk];
                block.read_block(d, &mut got);
                let limit = block.block_limit(d).min(chunk);
                let mut probe = single.clone();
                for (k, g) in got.iter().enumerate().take(limit) {
                    assert_eq!(probe.read(d).to_bits(), g.to_bits(), "{d} {k}");
                    probe.push(0.0);
                }
            }
            let samples: Vec<f32> = (0..chunk).map(|i| ((n + i) as f32 * 0.37).sin()).collect();
            n += chunk;
            for &x in &samples {
                single.push(x);
            }
            block.push_block(&samples);
            assert_eq!(single.buffer, block.buffer);
            assert_eq!(single.newest, block.newest);
        }
    }

    #[test]
    fn interpolation_never_amplifies() {
        // The worst case is Nyquist (alternating ±1) at half-sample fractions.
        let mut line = DelayLine::new(16);
        for n in 0..16 {
            line.push(if n % 2 == 0 { 1.0 } else { -1.0 });
        }
        for k in 0..=100 {
            let d = 2.0 + k as f32 / 100.0;
            assert!(line.read(d).abs() <= 1.0 + 1e-6, "{d}");
        }
    }

    #[test]
    fn latency_delay_blocks_match_single_samples() {
        // Bit for bit against push-then-read per sample, for every delay up to the
        // allocation (8: a 16-sample ring) and blocks shorter than the delay, equal to
        // it, and longer than the ring.
        let input: Vec<f32> = (0..200).map(|i| (i as f32 * 0.61).sin()).collect();
        for delay in 0..=8 {
            let mut reference = DelayLine::new(8);
            let expected: Vec<f32> = input
                .iter()
                .map(|&x| {
                    reference.push(x);
                    reference.read_integer(delay)
                })
                .collect();
            let mut block = LatencyDelay::new(1, 8);
            let mut got = vec![0.0f32; input.len()];
            let mut start = 0;
            for len in [1usize, 3, 8, 40, 2, 9, 17, 120].into_iter().cycle() {
                if start == input.len() {
                    break;
                }
                let end = (start + len).min(input.len());
                let mut x = input[start..end].to_vec();
                block.process(&[&mut x], &mut [&mut got[start..end]], delay);
                start = end;
            }
            assert_eq!(got, expected, "delay {delay}");
        }
    }

    #[test]
    fn latency_delay_delays_each_channel_by_whole_samples_across_blocks() {
        let mut delay = LatencyDelay::new(2, 8);
        let input: Vec<f32> = (1..=20).map(|i| i as f32).collect();
        let mut out_l = [0.0f32; 20];
        let mut out_r = [0.0f32; 20];
        // Split at an odd place: the history carries across calls.
        for (start, end) in [(0, 7), (7, 20)] {
            let mut l = input[start..end].to_vec();
            let mut r: Vec<f32> = l.iter().map(|x| -x).collect();
            let (a, b) = (&mut out_l[start..end], &mut out_r[start..end]);
            delay.process(&[&mut l, &mut r], &mut [a, b], 3);
        }
        assert_eq!(&out_l[..3], &[0.0; 3]);
        assert_eq!(&out_l[3..], &input[..17]);
        assert!(out_r[3..].iter().zip(&input[..17]).all(|(r, x)| *r == -x));
        // A delay beyond the allocation is held to it; zero is the input itself.
        let mut long = LatencyDelay::new(1, 4);
        let mut x = input.clone();
        let mut y = vec![0.0f32; 20];
        long.process(&[&mut x], &mut [&mut y], 100);
        assert_eq!(&y[4..], &input[..16]);
        let mut zero = LatencyDelay::new(1, 4);
        zero.process(&[&mut x], &mut [&mut y], 0);
        assert_eq!(y, input);
    }
}
