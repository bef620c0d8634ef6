//! True-peak measurement (ITU-R BS.1770-4 Annex 2): the signal is oversampled so that the
//! effective rate is high enough to see the peaks between samples, and the largest absolute
//! value of the oversampled signal is the true peak.
//!
//! [`TruePeakInterpolator`] is the oversampler of one channel. It is a polyphase FIR,
//! designed here as a Kaiser-windowed sinc with [`TAPS_PER_PHASE`] = 48 taps per phase
//! (Annex 2's example filter has 12 per phase, 48 in total). Its cut-off is exactly
//! half the input rate, which makes it an L-th-band filter: one phase is a pure delay
//! (the input samples themselves), and only the `L − 1` others are computed.
//!
//! Design (Kaiser, β = [`KAISER_BETA`], prototype length `48·L − 1`): at 4× every
//! interpolated value is within ±0.0032 dB (relative error 3.7e-4) of the ideal
//! band-limited signal for every frequency up to 0.45 × the input rate (19.8 kHz at
//! 44.1 kHz, 21.6 kHz at 48 kHz), and images from 0.55 × the input rate upwards are
//! attenuated by at least 74 dB; at 2× the figures are ±0.0052 dB and 70 dB (tests
//! `phase_accuracy_in_passband` and `image_rejection`). A sine switched on abruptly is
//! not band-limited: its reconstruction rings, and the true peak of its first cycles
//! reads up to about 0.1 dB above its amplitude, as a DAC's output would.
//! The latency is `48/2 − 1 = 23` input samples at 2×, 4× and 8× (0 at 1×). The 8× factor
//! is not a BS.1770 one: the mastering limiter's detector uses it (same taps per phase,
//! same passband accuracy as 4×).
//!
//! The FIR runs in `f32` on a contiguous history (the last 47 inputs followed by the new
//! ones), in folded form: the phases come in mirror pairs, so two phases cost 48
//! products instead of 96 (see `FoldedTaps`). The folded sums are rounded differently
//! from the direct form: the envelope agrees with the direct FIR to about 1e-6
//! relative (test `folded_envelope_matches_the_direct_fir`). Up to 32 consecutive
//! outputs of every phase per pass, with AVX2 when the CPU has it (detected once in
//! `new`) and portable code otherwise. Both kernels do the same operations in the same
//! order (separate multiplies and adds: a fused multiply-add would round differently),
//! so the envelope is the same bits on every x86-64 CPU (test
//! `wide_and_portable_kernels_agree_bit_for_bit`). The meter and the mastering limiter's
//! detector both run this one implementation.

use crate::db::MINUS_INFINITY_DB;

/// Taps of each polyphase branch.
pub const TAPS_PER_PHASE: usize = 48;
/// Kaiser window β of the prototype (chosen for the smallest passband error at 4×).
pub const KAISER_BETA: f64 = 7.5;
/// Inputs handled per pass over the history buffer.
const CHUNK: usize = 512;
/// History kept in front of each chunk.
const HISTORY: usize = TAPS_PER_PHASE - 1;
/// The delay (in input samples) of the phase that passes the input through.
const DELAY: usize = TAPS_PER_PHASE / 2 - 1;

/// The oversampling factor at `sample_rate`, after BS.1770-4 Annex 2 (an effective rate
/// of about 192 kHz): 4× below 88.2 kHz, 2× below 176.4 kHz, none from 176.4 kHz on.
/// Without oversampling the samples are read as they are: a tone at f is sampled every
/// `360°·f/fs`, so it can read up to `1 − cos(180°·f/fs)` low (−0.14 dB for 10 kHz at
/// 176.4 kHz, −0.56 dB for 20 kHz). Below 44.1 kHz the effective rate is under 176 kHz.
pub fn oversampling_factor_for(sample_rate: f64) -> usize {
    if sample_rate < 88_200.0 {
        4
    } else if sample_rate < 176_400.0 {
        2
    } else {
        1
    }
}

/// Modified Bessel function of the first kind, order 0 (power series; converges fast for
/// the β used here).
pub(crate) fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..64 {
        term *= (half / k as f64) * (half / k as f64);
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// The windowed-sinc prototype for factor `l`, length `TAPS_PER_PHASE · l` (the last tap
/// is zero so that the length divides into phases), centred on tap `c = 24·l − 1`.
fn prototype(l: usize) -> Vec<f64> {
    prototype_with_beta(l, KAISER_BETA)
}

fn prototype_with_beta(l: usize, beta: f64) -> Vec<f64> {
    let len = TAPS_PER_PHASE * l;
    let centre = (len - 2) / 2;
    let half_width = centre as f64;
    let i0_beta = bessel_i0(beta);
    (0..len)
        .map(|k| {
            if k > 2 * centre {
                return 0.0;
            }
            let m = k as f64 - centre as f64;
            let r = m / half_width;
            let window = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0_beta;
            let x = std::f64::consts::PI * m / l as f64;
            let sinc = if m == 0.0 { 1.0 } else { x.sin() / x };
            window * sinc
        })
        .collect()
}

/// Polyphase oversampler of one channel that reports, for every input sample, the largest
/// absolute value among the `L` output samples it produces (the true-peak envelope).
///
/// Output `n` covers the interval between inputs `n − 24` and `n − 23`: the values at
/// `n − 23.75`, `n − 23.5`, `n − 23.25` (4×) and the input `n − 23` itself. The
/// mastering limiter uses [`TruePeakInterpolator::process_envelope`] as its detector and
/// delays its audio by [`TruePeakInterpolator::latency`].
#[derive(Debug, Clone)]
pub struct TruePeakInterpolator {
    factor: usize,
    /// `(factor − 1) × TAPS_PER_PHASE` taps: phase `p`'s tap `j` is prototype tap `j·L + p`.
    coefficients: Box<[f32]>,
    /// The same phases folded (what the kernels evaluate).
    folded: FoldedTaps,
    /// `HISTORY` older inputs followed by up to `CHUNK` new ones.
    history: Box<[f32]>,
    /// New inputs in `history` after the first `HISTORY`.
    filled: usize,
    /// Run the AVX2 kernel (the CPU has AVX2 and FMA; see [`crate::cpu`]).
    wide: bool,
}

impl TruePeakInterpolator {
    /// An interpolator with the factor [`oversampling_factor_for`] `sample_rate`.
    pub fn new(sample_rate: f64) -> Self {
        Self::with_factor(oversampling_factor_for(sample_rate))
    }

    /// An interpolator with an explicit factor: 1, 2, 4 or 8 (other values are rounded up
    /// to the next of these, at most 8). 8× is not a BS.1770 factor; the mastering
    /// limiter uses it to see peaks between the 4× points (see
    /// [`crate::mastering::limiter`]).
    pub fn with_factor(factor: usize) -> Self {
        let factor = match factor {
            0 | 1 => 1,
            2 => 2,
            3 | 4 => 4,
            _ => 8,
        };
        let proto = prototype(factor);
        let mut coefficients = vec![0.0f32; (factor - 1) * TAPS_PER_PHASE];
        for p in 0..factor - 1 {
            // Normalise each phase to unity DC gain, so a constant reads exactly.
            let dc: f64 = (0..TAPS_PER_PHASE).map(|j| proto[j * factor + p]).sum();
            for j in 0..TAPS_PER_PHASE {
                coefficients[p * TAPS_PER_PHASE + j] = (proto[j * factor + p] / dc) as f32;
            }
        }
        Self {
            factor,
            folded: FoldedTaps::new(factor, &coefficients),
            coefficients: coefficients.into_boxed_slice(),
            history: vec![0.0; HISTORY + CHUNK].into_boxed_slice(),
            filled: 0,
            wide: crate::cpu::has_avx2_fma(),
        }
    }

    /// The oversampling factor `L`.
    pub fn factor(&self) -> usize {
        self.factor
    }

    /// Delay of the envelope behind the input, in input samples (23, or 0 at 1×).
    pub fn latency(&self) -> usize {
        if self.factor == 1 {
            0
        } else {
            DELAY
        }
    }

    /// The FIR taps of computed phase `p` (`0 ≤ p < L − 1`), oldest-input-last order.
    pub fn phase_taps(&self, p: usize) -> &[f32] {
        let start = (p * TAPS_PER_PHASE).min(self.coefficients.len());
        let end = (start + TAPS_PER_PHASE).min(self.coefficients.len());
        &self.coefficients[start..end]
    }

    /// Clears the history.
    pub fn reset(&mut self) {
        self.history.fill(0.0);
        self.filled = 0;
    }

    /// For every sample of `input`, writes the largest absolute value of the `L`
    /// oversampled outputs it produces into `envelope` (see the type's docs for the
    /// timing). Processes `min(input.len(), envelope.len())` samples. Non-finite inputs
    /// are measured as zero.
    pub fn process_envelope(&mut self, input: &[f32], envelope: &mut [f32]) {
        let len = input.len().min(envelope.len());
        self.run::<true>(&input[..len], envelope);
    }

    /// The largest envelope value over `input` (the true peak of the block as an
    /// amplitude), without storing the envelope.
    pub fn process_max(&mut self, input: &[f32]) -> f32 {
        self.run::<false>(input, &mut [])
    }

    /// One input sample in, its envelope value out.
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        let mut out = [0.0f32];
        self.process_envelope(&[x], &mut out);
        out[0]
    }

    /// Feeds `input` through the history in chunks; with `STORE`, `envelope` (as long as
    /// `input`) receives the envelope. Returns the envelope's maximum.
    fn run<const STORE: bool>(&mut self, input: &[f32], envelope: &mut [f32]) -> f32 {
        if self.factor == 1 {
            // No interpolation: the envelope is |x|, nothing to keep in history.
            if STORE {
                for (o, &x) in envelope.iter_mut().zip(input) {
                    *o = sanitized_abs(x);
                }
            }
            return max_abs(input);
        }
        let mut peak = 0.0f32;
        let mut done = 0;
        while done < input.len() {
            if self.filled == CHUNK {
                self.history.copy_within(CHUNK..CHUNK + HISTORY, 0);
                self.filled = 0;
            }
            let n = (input.len() - done).min(CHUNK - self.filled);
            let first = HISTORY + self.filled;
            for (h, &x) in self.history[first..first + n]
                .iter_mut()
                .zip(&input[done..done + n])
            {
                *h = if x.abs() <= f32::MAX { x } else { 0.0 };
            }
            let out: &mut [f32] = if STORE {
                &mut envelope[done..done + n]
            } else {
                &mut []
            };
            // <mirror pairs, groups of 8 outputs per vector pass>
            let block_peak = match self.factor {
                2 => self.dispatch::<0, 4, STORE>(first, n, out),
                // 6 accumulators: with 3 groups (9) one of them is kept in memory, and
                // the store-to-load forward on its chain costs more than the third group.
                4 => self.dispatch::<1, 2, STORE>(first, n, out),
                // 8× (the mastering limiter's detector): 7 accumulators, one group.
                _ => self.dispatch::<3, 1, STORE>(first, n, out),
            };
            peak = if block_peak > peak { block_peak } else { peak };
            self.filled += n;
            done += n;
        }
        peak
    }

    #[inline]
    fn dispatch<const PAIRS: usize, const G: usize, const STORE: bool>(
        &self,
        first: usize,
        count: usize,
        out: &mut [f32],
    ) -> f32 {
        let hist = &self.history[..first + count];
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: `wide` is true only when the CPU reported AVX2 and FMA
            // (`crate::cpu::has_avx2_fma`); the kernel checks its slice invariants itself.
            return unsafe { avx::envelope::<PAIRS, G, STORE>(&self.folded, hist, first, out) };
        }
        envelope_portable::<PAIRS, STORE>(&self.folded, hist, first, count, out)
    }
}

/// |x|, or 0 for a non-finite sample.
#[inline(always)]
fn sanitized_abs(x: f32) -> f32 {
    let a = x.abs();
    if a <= f32::MAX {
        a
    } else {
        0.0
    }
}

/// The largest |x| of finite samples, in eight independent lanes so that it vectorises
/// (a single running `max` is a serial dependency chain).
pub(crate) fn max_abs(input: &[f32]) -> f32 {
    if cfg!(debug_assertions) {
        // Unoptimised builds: one plain loop is several times faster there (the maximum
        // is exact, so both forms return the same value).
        let mut peak = 0.0f32;
        for &x in input {
            let a = sanitized_abs(x);
            if a > peak {
                peak = a;
            }
        }
        return peak;
    }
    max_abs_lanes(input)
}

/// The optimised form of [`max_abs`].
fn max_abs_lanes(input: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = input.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (m, &x) in lanes.iter_mut().zip(chunk) {
            let a = sanitized_abs(x);
            *m = if a > *m { a } else { *m };
        }
    }
    let mut peak = lanes.iter().fold(0.0f32, |m, &v| if v > m { v } else { m });
    for &x in tail {
        let a = sanitized_abs(x);
        peak = if a > peak { a } else { peak };
    }
    peak
}

/// Half the taps of a phase: the folded length.
const HALF: usize = TAPS_PER_PHASE / 2;
/// Most mirror pairs of phases (8×: phases 0…6 → pairs (0,6), (1,5), (2,4), self 3).
const MAX_PAIRS: usize = 3;

/// The computed phases in folded form (see the module notes): the prototype is a
/// symmetric windowed sinc, so phase `q = L − 2 − p` is phase `p` reversed,
/// `h_q[j] = h_p[47 − j]`, and phase `(L − 2)/2` is its own mirror (test
/// `phases_mirror_exactly`). With `s_j = x[n−j] + x[n−47+j]` and
/// `d_j = x[n−j] − x[n−47+j]` (`j < 24`), shared by all phases, and
/// `a = (h_p[j] + h_p[47−j])/2`, `b = (h_p[j] − h_p[47−j])/2`:
///
/// ```text
/// y_p = Σ a·s_j + Σ b·d_j        y_q = Σ a·s_j − Σ b·d_j        (24 + 24 products for two phases)
/// ```
///
/// instead of 48 products per phase (the folded form of a linear-phase FIR, e.g. Lyons,
/// "Understanding Digital Signal Processing", 3rd ed., §13.7, applied across mirrored
/// polyphase branches).
#[derive(Debug, Clone)]
struct FoldedTaps {
    /// `a` coefficients of the pairs, `[pair][j]`.
    sym: [[f32; HALF]; MAX_PAIRS],
    /// `b` coefficients of the pairs, `[pair][j]`.
    anti: [[f32; HALF]; MAX_PAIRS],
    /// `a` coefficients of the self-mirrored phase (its `b` is exactly 0).
    centre: [f32; HALF],
}

impl FoldedTaps {
    /// The folded form of `coefficients` (`factor − 1` phases of 48 taps).
    fn new(factor: usize, coefficients: &[f32]) -> Self {
        let mut taps = Self {
            sym: [[0.0; HALF]; MAX_PAIRS],
            anti: [[0.0; HALF]; MAX_PAIRS],
            centre: [0.0; HALF],
        };
        if factor < 2 {
            return taps;
        }
        let phase = |p: usize| &coefficients[p * TAPS_PER_PHASE..(p + 1) * TAPS_PER_PHASE];
        for p in 0..(factor - 2) / 2 {
            let h = phase(p);
            for j in 0..HALF {
                let (u, v) = (h[j] as f64, h[TAPS_PER_PHASE - 1 - j] as f64);
                taps.sym[p][j] = (0.5 * (u + v)) as f32;
                taps.anti[p][j] = (0.5 * (u - v)) as f32;
            }
        }
        let h = phase((factor - 2) / 2);
        for j in 0..HALF {
            taps.centre[j] = (0.5 * (h[j] as f64 + h[TAPS_PER_PHASE - 1 - j] as f64)) as f32;
        }
        taps
    }
}

/// One envelope value at history index `i` (newest input), scalar, in the vector lanes'
/// order of operations (`acc + c·x`, unfused, as both kernels), so block and per-sample
/// runs agree bit for bit.
#[inline(always)]
fn scalar_output<const PAIRS: usize>(f: &FoldedTaps, hist: &[f32], i: usize) -> f32 {
    let mac = |c: f32, x: f32, acc: f32| acc + c * x;
    let mut a = [0.0f32; MAX_PAIRS];
    let mut b = [0.0f32; MAX_PAIRS];
    let mut c = 0.0f32;
    for j in 0..HALF {
        let xa = hist[i - j];
        let xb = hist[i - (TAPS_PER_PHASE - 1) + j];
        let s = xa + xb;
        let d = xa - xb;
        for k in 0..PAIRS {
            a[k] = mac(f.sym[k][j], s, a[k]);
            b[k] = mac(f.anti[k][j], d, b[k]);
        }
        c = mac(f.centre[j], s, c);
    }
    let mut m = hist[i - DELAY].abs().max(c.abs());
    for k in 0..PAIRS {
        m = m.max((a[k] + b[k]).abs()).max((a[k] - b[k]).abs());
    }
    m
}

/// Portable kernel: 8 outputs per pass in plain arrays (the compiler vectorises them),
/// for newest inputs `hist[first..]`. With `STORE`, `out[..count]` receives the
/// envelope. Returns the envelope's maximum.
fn envelope_portable<const PAIRS: usize, const STORE: bool>(
    f: &FoldedTaps,
    hist: &[f32],
    first: usize,
    count: usize,
    out: &mut [f32],
) -> f32 {
    const LANES: usize = 8;
    let mut peaks = [0.0f32; LANES];
    let mut t = 0;
    while t + LANES <= count {
        let i = first + t;
        let mut a = [[0.0f32; LANES]; MAX_PAIRS];
        let mut b = [[0.0f32; LANES]; MAX_PAIRS];
        let mut c = [0.0f32; LANES];
        for j in 0..HALF {
            let xa = &hist[i - j..i - j + LANES];
            let xb = &hist[i + j - (TAPS_PER_PHASE - 1)..i + j - (TAPS_PER_PHASE - 1) + LANES];
            let mut s = [0.0f32; LANES];
            let mut d = [0.0f32; LANES];
            for l in 0..LANES {
                s[l] = xa[l] + xb[l];
                d[l] = xa[l] - xb[l];
            }
            for k in 0..PAIRS {
                let (cs, ca) = (f.sym[k][j], f.anti[k][j]);
                for l in 0..LANES {
                    a[k][l] += cs * s[l];
                    b[k][l] += ca * d[l];
                }
            }
            let cc = f.centre[j];
            for l in 0..LANES {
                c[l] += cc * s[l];
            }
        }
        for l in 0..LANES {
            let mut m = hist[i + l - DELAY].abs().max(c[l].abs());
            for k in 0..PAIRS {
                m = m
                    .max((a[k][l] + b[k][l]).abs())
                    .max((a[k][l] - b[k][l]).abs());
            }
            if STORE {
                out[t + l] = m;
            }
            peaks[l] = if m > peaks[l] { m } else { peaks[l] };
        }
        t += LANES;
    }
    let mut peak = peaks.iter().fold(0.0f32, |m, &v| if v > m { v } else { m });
    for k in t..count {
        let m = scalar_output::<PAIRS>(f, hist, first + k);
        if let (true, Some(o)) = (STORE, out.get_mut(k)) {
            *o = m;
        }
        peak = if m > peak { m } else { peak };
    }
    peak
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use super::{scalar_output, FoldedTaps, DELAY, HALF, MAX_PAIRS, TAPS_PER_PHASE};
    use std::arch::x86_64::*;

    const LANES: usize = 8;

    /// `G`·8 consecutive envelope values for newest inputs `hist[i .. i + G·8]` into
    /// `out[t ..]` (with `STORE`) and the running maximum `peaks`. `G·(2·PAIRS + 1)`
    /// independent accumulators hide the add latency (2 groups of 3 at 4×, one of 7 at
    /// 8×, 4 of one at 2×, within the 16 registers).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; `i ≥ 47`, `i + G·8 ≤ hist.len()`, and with
    /// `STORE`, `t + G·8 ≤ out.len()`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn pass<const PAIRS: usize, const G: usize, const STORE: bool>(
        f: &FoldedTaps,
        hist: &[f32],
        i: usize,
        out: &mut [f32],
        t: usize,
        peaks: &mut __m256,
    ) {
        let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        // SAFETY: reads hist[i − 47 .. i + G·8], writes out[t .. t + G·8]: in bounds by
        // the caller's contract; PAIRS ≤ MAX_PAIRS and j < HALF index the tables.
        unsafe {
            let base = hist.as_ptr().add(i);
            let oldest = base.sub(TAPS_PER_PHASE - 1);
            let mut a = [[_mm256_setzero_ps(); MAX_PAIRS]; G];
            let mut b = [[_mm256_setzero_ps(); MAX_PAIRS]; G];
            let mut c = [_mm256_setzero_ps(); G];
            for j in 0..HALF {
                for g in 0..G {
                    let xa = _mm256_loadu_ps(base.add(g * LANES).sub(j));
                    let xb = _mm256_loadu_ps(oldest.add(g * LANES + j));
                    let s = _mm256_add_ps(xa, xb);
                    let d = _mm256_sub_ps(xa, xb);
                    for k in 0..PAIRS {
                        let cs = _mm256_set1_ps(*f.sym.get_unchecked(k).get_unchecked(j));
                        let ca = _mm256_set1_ps(*f.anti.get_unchecked(k).get_unchecked(j));
                        // acc + c·x, unfused, as the portable kernel.
                        a[g][k] = _mm256_add_ps(a[g][k], _mm256_mul_ps(cs, s));
                        b[g][k] = _mm256_add_ps(b[g][k], _mm256_mul_ps(ca, d));
                    }
                    let cc = _mm256_set1_ps(*f.centre.get_unchecked(j));
                    c[g] = _mm256_add_ps(c[g], _mm256_mul_ps(cc, s));
                }
            }
            for g in 0..G {
                let mut m = _mm256_max_ps(
                    _mm256_and_ps(_mm256_loadu_ps(base.add(g * LANES).sub(DELAY)), abs_mask),
                    _mm256_and_ps(c[g], abs_mask),
                );
                for k in 0..PAIRS {
                    let plus = _mm256_and_ps(_mm256_add_ps(a[g][k], b[g][k]), abs_mask);
                    let minus = _mm256_and_ps(_mm256_sub_ps(a[g][k], b[g][k]), abs_mask);
                    m = _mm256_max_ps(_mm256_max_ps(m, plus), minus);
                }
                if STORE {
                    _mm256_storeu_ps(out.as_mut_ptr().add(t + g * LANES), m);
                }
                *peaks = _mm256_max_ps(*peaks, m);
            }
        }
    }

    /// The envelope of newest inputs `hist[first..]` (into `out` with `STORE`, which is
    /// then as long); returns its maximum. The scalar formula for the tail.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn envelope<const PAIRS: usize, const G: usize, const STORE: bool>(
        f: &FoldedTaps,
        hist: &[f32],
        first: usize,
        out: &mut [f32],
    ) -> f32 {
        // Every read below is at an index in [first + t − (TAPS − 1), hist.len()), so these
        // conditions keep all pointer arithmetic inside `hist` and `out`.
        let count = hist.len().saturating_sub(first);
        let valid = first >= TAPS_PER_PHASE - 1
            && first <= hist.len()
            && (!STORE || out.len() >= count)
            && PAIRS <= MAX_PAIRS;
        if !valid {
            // Unreachable from `run`, which sizes all of them; never read out of bounds.
            debug_assert!(valid, "true-peak kernel called with inconsistent buffers");
            return 0.0;
        }
        let mut peaks = _mm256_setzero_ps();
        let mut t = 0;
        while t + G * LANES <= count {
            // SAFETY: the pass reads [first + t − 47, first + t + G·8) ⊂ [0, hist.len())
            // and writes out[t .. t + G·8] ⊂ out (checks above and the loop condition).
            unsafe { pass::<PAIRS, G, STORE>(f, hist, first + t, out, t, &mut peaks) };
            t += G * LANES;
        }
        // Then 8 at a time (scalar, the 24-deep add chains cost more than a vector pass).
        while t + LANES <= count {
            // SAFETY: as above with G = 1.
            unsafe { pass::<PAIRS, 1, STORE>(f, hist, first + t, out, t, &mut peaks) };
            t += LANES;
        }
        let mut lanes = [0.0f32; LANES];
        // SAFETY: `lanes` holds exactly 8 floats.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), peaks) };
        let mut peak = lanes.iter().fold(0.0f32, |m, &v| if v > m { v } else { m });
        for k in t..count {
            let m = scalar_output::<PAIRS>(f, hist, first + k);
            if let (true, Some(o)) = (STORE, out.get_mut(k)) {
                *o = m;
            }
            peak = if m > peak { m } else { peak };
        }
        peak
    }
}

/// True peak and sample peak of several channels since the last reset (BS.1770-4
/// Annex 2), each channel through its own [`TruePeakInterpolator`].
#[derive(Debug, Clone)]
pub struct TruePeakDetector {
    interpolators: Box<[TruePeakInterpolator]>,
    true_peaks: Box<[f32]>,
    sample_peaks: Box<[f32]>,
}

impl TruePeakDetector {
    /// A detector for `channels` channels at `sample_rate` Hz (oversampling factor from
    /// [`oversampling_factor_for`]).
    pub fn new(sample_rate: f64, channels: usize) -> Self {
        Self::with_factor(oversampling_factor_for(sample_rate), channels)
    }

    /// A detector with an explicit oversampling factor (1, 2 or 4).
    pub fn with_factor(factor: usize, channels: usize) -> Self {
        let channels = channels.max(1);
        Self {
            interpolators: vec![TruePeakInterpolator::with_factor(factor); channels]
                .into_boxed_slice(),
            true_peaks: vec![0.0; channels].into_boxed_slice(),
            sample_peaks: vec![0.0; channels].into_boxed_slice(),
        }
    }

    /// Channels measured.
    pub fn channels(&self) -> usize {
        self.true_peaks.len()
    }

    /// The oversampling factor.
    pub fn factor(&self) -> usize {
        self.interpolators[0].factor()
    }

    /// Delay of the true-peak reading behind the input, in samples.
    pub fn latency(&self) -> usize {
        self.interpolators[0].latency()
    }

    /// Clears peaks and history.
    pub fn reset(&mut self) {
        for i in self.interpolators.iter_mut() {
            i.reset();
        }
        self.true_peaks.fill(0.0);
        self.sample_peaks.fill(0.0);
    }

    /// Measures a block: one slice per channel (extra slices are ignored; the common
    /// length of the slices is used). Never allocates.
    pub fn process(&mut self, channels: &[&[f32]]) {
        let count = channels.len().min(self.true_peaks.len());
        let frames = channels[..count].iter().map(|c| c.len()).min().unwrap_or(0);
        for (c, input) in channels[..count].iter().enumerate() {
            let input = &input[..frames];
            let sample_peak = max_abs(input);
            let true_peak = self.interpolators[c].process_max(input);
            self.sample_peaks[c] = self.sample_peaks[c].max(sample_peak);
            // The true peak includes the samples themselves, also the last `latency()`
            // ones that the interpolator has not reached yet: true peak ≥ sample peak.
            self.true_peaks[c] = self.true_peaks[c].max(true_peak).max(sample_peak);
        }
    }

    /// Total element capacity of the buffers (for the meter's memory test).
    #[cfg(test)]
    pub(crate) fn storage_capacity(&self) -> usize {
        self.interpolators
            .iter()
            .map(|i| i.history.len() + i.coefficients.len())
            .sum::<usize>()
            + self.true_peaks.len()
            + self.sample_peaks.len()
    }

    /// The largest true peak of all channels as an amplitude.
    pub fn true_peak_gain(&self) -> f32 {
        self.true_peaks.iter().fold(0.0, |m, &v| m.max(v))
    }

    /// The largest sample peak of all channels as an amplitude.
    pub fn sample_peak_gain(&self) -> f32 {
        self.sample_peaks.iter().fold(0.0, |m, &v| m.max(v))
    }

    /// The largest true peak in dBTP, floored at −200 (silence).
    pub fn true_peak_dbtp(&self) -> f64 {
        amplitude_to_db(self.true_peak_gain())
    }

    /// The largest sample peak in dBFS, floored at −200 (silence).
    pub fn sample_peak_dbfs(&self) -> f64 {
        amplitude_to_db(self.sample_peak_gain())
    }

    /// True peak of channel `channel` in dBTP (floor if out of range).
    pub fn channel_true_peak_dbtp(&self, channel: usize) -> f64 {
        amplitude_to_db(self.true_peaks.get(channel).copied().unwrap_or(0.0))
    }

    /// Sample peak of channel `channel` in dBFS (floor if out of range).
    pub fn channel_sample_peak_dbfs(&self, channel: usize) -> f64 {
        amplitude_to_db(self.sample_peaks.get(channel).copied().unwrap_or(0.0))
    }
}

fn amplitude_to_db(gain: f32) -> f64 {
    crate::db::gain_to_db_f64(gain as f64).max(MINUS_INFINITY_DB as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Complex response of a tap set at normalised frequency `f` (cycles per input sample).
    fn response(taps: &[f32], f: f64) -> (f64, f64) {
        taps.iter()
            .enumerate()
            .fold((0.0, 0.0), |(re, im), (j, &c)| {
                let w = 2.0 * PI * f * j as f64;
                (re + c as f64 * w.cos(), im - c as f64 * w.sin())
            })
    }

    #[test]
    fn phase_accuracy_in_passband() {
        // Each phase p must be a fractional delay of DELAY + 1 − (p + 1)/L input samples.
        // The error |H_p(f) − e^{−j2πf·d}| bounds the error of every interpolated value
        // of a sine at f relative to its amplitude. The bounds are the figures the module
        // docs state: 3.7e-4 (±0.0032 dB) at 4×, 6e-4 (±0.0052 dB) at 2× (the design gives
        // 3.64e-4 and 5.88e-4; β = 7.5 minimises the 4× error, a smaller β widens the
        // transition into the passband, a larger one raises the ripple). The 8× factor
        // (the limiter's detector) has the same per-phase length and meets the 4× bound.
        for factor in [2usize, 4, 8] {
            let interp = TruePeakInterpolator::with_factor(factor);
            for p in 0..factor - 1 {
                let delay = (DELAY + 1) as f64 - (p + 1) as f64 / factor as f64;
                let taps = interp.phase_taps(p);
                let mut worst = 0.0f64;
                for k in 0..=450 {
                    let f = k as f64 * 0.001;
                    let (re, im) = response(taps, f);
                    let (ire, iim) = ((2.0 * PI * f * delay).cos(), -(2.0 * PI * f * delay).sin());
                    worst = worst.max(((re - ire).powi(2) + (im - iim).powi(2)).sqrt());
                }
                let bound = if factor == 2 { 6e-4 } else { 3.7e-4 };
                assert!(worst < bound, "factor {factor} phase {p}: error {worst}");
            }
        }
    }

    #[test]
    fn image_rejection() {
        // The prototype (all phases together, at the output rate) must attenuate images
        // from 0.55 × the input rate upwards by 74 dB at 4× and 70 dB at 2× (the module
        // docs' figures; the design gives 74.1 and 70.3 dB).
        for factor in [2usize, 4] {
            let proto = prototype(factor);
            let dc: f64 = proto.iter().sum();
            let mut worst = f64::NEG_INFINITY;
            for k in 0..=2000 {
                let f_in = 0.55 + (factor as f64 / 2.0 - 0.55) * k as f64 / 2000.0;
                let f = f_in / factor as f64;
                let (re, im) = proto
                    .iter()
                    .enumerate()
                    .fold((0.0, 0.0), |(re, im), (j, c)| {
                        let w = 2.0 * PI * f * j as f64;
                        (re + c * w.cos(), im - c * w.sin())
                    });
                worst = worst.max(20.0 * ((re * re + im * im).sqrt() / dc).log10());
            }
            let bound = if factor == 4 { -74.0 } else { -70.0 };
            assert!(worst < bound, "factor {factor}: images at {worst} dB");
        }
    }

    #[test]
    fn latency_is_the_position_of_an_impulse_peak() {
        for factor in [2usize, 4, 8] {
            let mut interp = TruePeakInterpolator::with_factor(factor);
            let mut input = vec![0.0f32; 100];
            input[10] = 1.0;
            let mut env = vec![0.0f32; 100];
            interp.process_envelope(&input, &mut env);
            let peak = env
                .iter()
                .enumerate()
                .fold((0, 0.0f32), |b, (i, &v)| if v > b.1 { (i, v) } else { b })
                .0;
            assert_eq!(peak, 10 + interp.latency(), "factor {factor}");
            // Exactly 1: the delay phase passes the sample through.
            assert_eq!(env[10 + interp.latency()], 1.0);
        }
        assert_eq!(TruePeakInterpolator::with_factor(1).latency(), 0);
    }

    #[test]
    fn block_and_per_sample_agree_bit_for_bit() {
        // Vector lanes and the scalar tail use the same operations in the same order.
        let input: Vec<f32> = (0..3000).map(|i| ((i as f32) * 0.61).sin() * 0.8).collect();
        let mut whole = TruePeakInterpolator::with_factor(4);
        let mut env_whole = vec![0.0f32; input.len()];
        whole.process_envelope(&input, &mut env_whole);
        let mut pieces = TruePeakInterpolator::with_factor(4);
        let mut env_pieces = Vec::new();
        let mut pos = 0;
        for size in [1usize, 7, 33, 64, 513, 1000].iter().cycle() {
            if pos >= input.len() {
                break;
            }
            let end = (pos + size).min(input.len());
            let mut out = vec![0.0f32; end - pos];
            pieces.process_envelope(&input[pos..end], &mut out);
            env_pieces.extend_from_slice(&out);
            pos = end;
        }
        assert_eq!(env_whole, env_pieces);
        // `process_max` (no envelope stored) is the envelope's maximum, at every factor.
        for factor in [1usize, 2, 4, 8] {
            let mut a = TruePeakInterpolator::with_factor(factor);
            let mut b = TruePeakInterpolator::with_factor(factor);
            let mut env = vec![0.0f32; input.len()];
            a.process_envelope(&input, &mut env);
            let peak = b
                .process_max(&input[..1234])
                .max(b.process_max(&input[1234..]));
            assert_eq!(
                peak,
                env.iter().fold(0.0f32, |m, &v| m.max(v)),
                "factor {factor}"
            );
        }
        let mut ticker = TruePeakInterpolator::with_factor(4);
        let ticked: Vec<f32> = input[..200].iter().map(|&x| ticker.tick(x)).collect();
        assert_eq!(&env_whole[..200], &ticked[..]);
    }

    #[test]
    fn lane_maximum_equals_plain_maximum() {
        // The optimised reduction (used in release builds) against the plain loop, with
        // non-finite samples and a tail that is not a multiple of 8.
        let mut x: Vec<f32> = (0..1003)
            .map(|i| ((i as f32) * 0.77).sin() * (i as f32 / 1003.0))
            .collect();
        x[5] = f32::NAN;
        x[600] = f32::INFINITY;
        x[1001] = -1.5;
        assert_eq!(max_abs_lanes(&x), 1.5);
        for len in [0usize, 7, 8, 999] {
            let plain = x[..len]
                .iter()
                .fold(0.0f32, |m, &v| m.max(sanitized_abs(v)));
            assert_eq!(max_abs_lanes(&x[..len]), plain, "length {len}");
        }
    }

    #[test]
    fn portable_kernel_matches_scalar_reference() {
        // The portable kernel (used without AVX2/FMA) against the scalar formula: same
        // order, unfused, so bit-identical.
        for (factor, pairs) in [(2usize, 0usize), (4, 1), (8, 3)] {
            let interp = TruePeakInterpolator::with_factor(factor);
            let hist: Vec<f32> = (0..HISTORY + 100)
                .map(|i| ((i as f32) * 0.3).cos())
                .collect();
            let mut out = vec![0.0f32; 100];
            let f = &interp.folded;
            let peak = match pairs {
                0 => envelope_portable::<0, true>(f, &hist, HISTORY, 100, &mut out),
                1 => envelope_portable::<1, true>(f, &hist, HISTORY, 100, &mut out),
                _ => envelope_portable::<3, true>(f, &hist, HISTORY, 100, &mut out),
            };
            assert_eq!(peak, out.iter().fold(0.0f32, |m, &v| m.max(v)));
            for (k, &o) in out.iter().enumerate() {
                let i = HISTORY + k;
                let m = match pairs {
                    0 => scalar_output::<0>(f, &hist, i),
                    1 => scalar_output::<1>(f, &hist, i),
                    _ => scalar_output::<3>(f, &hist, i),
                };
                assert_eq!(o, m, "{factor}× output {k}");
            }
        }
    }

    #[test]
    fn wide_and_portable_kernels_agree_bit_for_bit() {
        // A render must be the same bytes on every x86-64 CPU: the AVX2 kernel and the
        // portable one (forced with `wide = false`) give identical envelopes, at every
        // factor, on a long programme (4 s at 48 kHz of a chirp over noise, in blocks
        // that leave scalar tails). Without AVX2 both take the portable path.
        let mut rng = crate::rng::Pcg32::new(5, 9);
        let input: Vec<f32> = (0..192_000)
            .map(|n| {
                let t = n as f32 / 48_000.0;
                (std::f32::consts::TAU * (50.0 + 3000.0 * t) * t).sin() + rng.next_bipolar()
            })
            .collect();
        for factor in [2usize, 4, 8] {
            let run = |wide: bool| {
                let mut interp = TruePeakInterpolator::with_factor(factor);
                interp.wide = wide && interp.wide;
                let mut env = vec![0.0f32; input.len()];
                for (i, o) in input.chunks(1000).zip(env.chunks_mut(1000)) {
                    interp.process_envelope(i, o);
                }
                env
            };
            assert!(run(true) == run(false), "{factor}×");
        }
        let mut wide = TruePeakDetector::new(48_000.0, 2);
        let mut portable = wide.clone();
        for i in portable.interpolators.iter_mut() {
            i.wide = false;
        }
        for d in [&mut wide, &mut portable] {
            d.process(&[&input, &input[1..]]);
        }
        assert_eq!(wide.true_peaks, portable.true_peaks);
    }

    #[test]
    fn phases_mirror_exactly() {
        for factor in [2, 4, 8] {
            let r = TruePeakInterpolator::with_factor(factor);
            for p in 0..factor - 1 {
                let (h, g) = (r.phase_taps(p), r.phase_taps(factor - 2 - p));
                for j in 0..TAPS_PER_PHASE {
                    // The folding is only exact if the mirror is (bit for bit).
                    assert_eq!(
                        h[j],
                        g[TAPS_PER_PHASE - 1 - j],
                        "{factor}× phase {p} tap {j}"
                    );
                }
            }
        }
    }

    #[test]
    fn folded_envelope_matches_the_direct_fir() {
        // The direct form, in f64, as the reference: every phase's 48 taps on the
        // history, the largest absolute value with the pass-through sample.
        let mut state = 5u64;
        let x: Vec<f32> = (0..3000)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                2.0 * (((state >> 40) as f32 / (1u64 << 23) as f32) - 1.0)
            })
            .collect();
        for factor in [1, 2, 4, 8] {
            let mut interp = TruePeakInterpolator::with_factor(factor);
            let mut got = vec![0.0; x.len()];
            interp.process_envelope(&x, &mut got);
            let at = |n: isize| if n < 0 { 0.0 } else { x[n as usize] as f64 };
            for n in 0..x.len() {
                let want = if factor == 1 {
                    x[n].abs() as f64
                } else {
                    let mut m = at(n as isize - DELAY as isize).abs();
                    for p in 0..factor - 1 {
                        let taps = interp.phase_taps(p);
                        let y: f64 = (0..TAPS_PER_PHASE)
                            .map(|j| taps[j] as f64 * at(n as isize - j as isize))
                            .sum();
                        m = m.max(y.abs());
                    }
                    m
                };
                // Same taps, folded sums in f32: 48 products of a signal peaking at 2
                // round to ~1e-6 of the result (2e-6 leaves room).
                let g = got[n] as f64;
                assert!(
                    (want - g).abs() <= 2e-6 * want.max(1.0),
                    "{factor}× at {n}: {want} {g}"
                );
            }
        }
    }

    #[test]
    fn block_size_does_not_change_the_8x_envelope() {
        let x: Vec<f32> = (0..2000).map(|i| ((i as f32) * 1.37).sin() * 1.5).collect();
        let run = |block: usize| {
            let mut f = TruePeakInterpolator::with_factor(8);
            let mut out = vec![0.0; x.len()];
            for (i, o) in x.chunks(block).zip(out.chunks_mut(block)) {
                f.process_envelope(i, o);
            }
            out
        };
        // Bit-identical: the scalar tail repeats the lanes' operations in their order.
        let whole = run(4096);
        assert_eq!(whole, run(1));
        assert_eq!(whole, run(77));
    }

    #[test]
    fn detector_reads_intersample_peak_and_recovers_from_non_finite() {
        // fs/4 sine of amplitude 1 at 45°: samples at ±0.707, true peak 1.0 (0 dBTP).
        // Faded in over 10 ms so that the onset does not ring (see the module docs).
        let input: Vec<f32> = (0..4800)
            .map(|n| {
                let fade = (n as f64 / 480.0).min(1.0);
                (fade * (PI / 2.0 * n as f64 + PI / 4.0).sin()) as f32
            })
            .collect();
        let mut det = TruePeakDetector::new(48_000.0, 1);
        det.process(&[&input]);
        // Tolerance 0.01 dB: the filter's passband error is 0.0032 dB, plus f32 rounding.
        assert!(
            det.true_peak_dbtp().abs() < 0.01,
            "{}",
            det.true_peak_dbtp()
        );
        assert!((det.sample_peak_dbfs() + 3.0103).abs() < 1e-3);
        let mut bad = vec![0.1f32; 64];
        bad[3] = f32::NAN;
        bad[9] = f32::INFINITY;
        det.reset();
        det.process(&[&bad]);
        assert!(det.true_peak_gain().is_finite() && det.sample_peak_gain().is_finite());
        assert!(det.true_peak_gain() < 0.2);
    }
}
