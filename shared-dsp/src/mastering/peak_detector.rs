//! The limiter's true-peak envelope: the loudness module's [`TruePeakInterpolator`]
//! (same taps, same timing) computed with half the multiplications.
//!
//! The interpolator's prototype is a symmetric windowed sinc, so its computed phases
//! come in mirror pairs: phase `q = L − 2 − p` is phase `p` reversed,
//! `h_q[j] = h_p[47 − j]`, and for even `L` phase `(L − 2)/2` (the half-sample one) is
//! its own mirror (test: `phases_mirror_exactly`). With `s_j = x[n−j] + x[n−47+j]` and
//! `d_j = x[n−j] − x[n−47+j]` (`j < 24`), shared by all phases, and
//! `a = (h_p[j] + h_p[47−j])/2`, `b = (h_p[j] − h_p[47−j])/2`:
//!
//! ```text
//! y_p = Σ a·s_j + Σ b·d_j        y_q = Σ a·s_j − Σ b·d_j        (24 + 24 products for two phases)
//! ```
//!
//! instead of 48 products per phase (the folded form of a linear-phase FIR, e.g. Lyons,
//! "Understanding Digital Signal Processing", 3rd ed., §13.7, applied across mirrored
//! polyphase branches). The sums are rounded differently from the direct form: the
//! envelope agrees with [`TruePeakInterpolator::process_envelope`] to about 1e-6
//! relative (test), far inside the limiter's [`super::limiter::SAFETY_MARGIN_DB`].
//! Outputs do not depend on the block size (the scalar tail repeats the lanes'
//! operations in the same order; test).

use crate::loudness::TruePeakInterpolator;

/// Taps of each polyphase branch (the interpolator's).
const TAPS: usize = crate::loudness::true_peak::TAPS_PER_PHASE;
/// Half of them: the folded length.
const HALF: usize = TAPS / 2;
/// History kept in front of each chunk.
const HISTORY: usize = TAPS - 1;
/// Inputs handled per pass over the history buffer.
const CHUNK: usize = 512;
/// The delay (in input samples) of the phase that passes the input through.
const DELAY: usize = HALF - 1;
/// Most mirror pairs (8×: phases 0…6 → pairs (0,6), (1,5), (2,4), self 3).
const MAX_PAIRS: usize = 3;

/// One channel's true-peak envelope (see the module notes).
#[derive(Debug, Clone)]
pub(crate) struct FoldedPeakEnvelope {
    factor: usize,
    /// `a` coefficients of the pairs, `[pair][j]`.
    sym: [[f32; HALF]; MAX_PAIRS],
    /// `b` coefficients of the pairs, `[pair][j]`.
    anti: [[f32; HALF]; MAX_PAIRS],
    /// `a` coefficients of the self-mirrored phase (its `b` is exactly 0).
    centre: [f32; HALF],
    /// `HISTORY` older inputs followed by up to `CHUNK` new ones.
    history: Box<[f32]>,
    filled: usize,
    use_fma: bool,
}

impl FoldedPeakEnvelope {
    /// The envelope of [`TruePeakInterpolator::with_factor`]`(factor)`.
    pub(crate) fn with_factor(factor: usize) -> Self {
        let reference = TruePeakInterpolator::with_factor(factor);
        let factor = reference.factor();
        let mut sym = [[0.0; HALF]; MAX_PAIRS];
        let mut anti = [[0.0; HALF]; MAX_PAIRS];
        let mut centre = [0.0; HALF];
        if factor > 1 {
            for p in 0..(factor - 2) / 2 {
                let h = reference.phase_taps(p);
                for j in 0..HALF {
                    let (u, v) = (h[j] as f64, h[TAPS - 1 - j] as f64);
                    sym[p][j] = (0.5 * (u + v)) as f32;
                    anti[p][j] = (0.5 * (u - v)) as f32;
                }
            }
            let h = reference.phase_taps((factor - 2) / 2);
            for j in 0..HALF {
                centre[j] = (0.5 * (h[j] as f64 + h[TAPS - 1 - j] as f64)) as f32;
            }
        }
        Self {
            factor,
            sym,
            anti,
            centre,
            history: vec![0.0; HISTORY + CHUNK].into_boxed_slice(),
            filled: 0,
            use_fma: detect_fma(),
        }
    }

    /// The oversampling factor.
    pub(crate) fn factor(&self) -> usize {
        self.factor
    }

    /// Delay of the envelope behind the input (the interpolator's: 23, or 0 at 1×).
    pub(crate) fn latency(&self) -> usize {
        if self.factor == 1 {
            0
        } else {
            DELAY
        }
    }

    /// Clears the history.
    pub(crate) fn reset(&mut self) {
        self.history.fill(0.0);
        self.filled = 0;
    }

    /// As [`TruePeakInterpolator::process_envelope`].
    pub(crate) fn process_envelope(&mut self, input: &[f32], envelope: &mut [f32]) {
        let len = input.len().min(envelope.len());
        let mut done = 0;
        while done < len {
            if self.filled == CHUNK {
                self.history.copy_within(CHUNK..CHUNK + HISTORY, 0);
                self.filled = 0;
            }
            let n = (len - done).min(CHUNK - self.filled);
            let first = HISTORY + self.filled;
            for (h, &x) in self.history[first..first + n]
                .iter_mut()
                .zip(&input[done..done + n])
            {
                *h = if x.abs() <= f32::MAX { x } else { 0.0 };
            }
            let out = &mut envelope[done..done + n];
            let hist = &self.history[..first + n];
            match self.factor {
                1 => {
                    for (o, &x) in out.iter_mut().zip(&hist[first..]) {
                        *o = x.abs();
                    }
                }
                2 => self.dispatch::<0>(hist, first, out),
                4 => self.dispatch::<1>(hist, first, out),
                _ => self.dispatch::<3>(hist, first, out),
            }
            self.filled += n;
            done += n;
        }
    }

    #[inline]
    fn dispatch<const PAIRS: usize>(&self, hist: &[f32], first: usize, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if self.use_fma {
            // SAFETY: `use_fma` is true only when the CPU reported AVX2 and FMA.
            unsafe { avx::envelope::<PAIRS>(self, hist, first, out) };
            return;
        }
        portable::<PAIRS>(self, hist, first, out);
    }
}

fn detect_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One output at history index `i`, scalar, in the lanes' order of operations
/// (`fused`: `mul_add` as the FMA lanes, else `a·b + c`).
#[inline(always)]
fn scalar_output<const PAIRS: usize>(
    f: &FoldedPeakEnvelope,
    hist: &[f32],
    i: usize,
    fused: bool,
) -> f32 {
    let mac = |c: f32, x: f32, acc: f32| {
        if fused {
            c.mul_add(x, acc)
        } else {
            acc + c * x
        }
    };
    let mut a = [0.0f32; MAX_PAIRS];
    let mut b = [0.0f32; MAX_PAIRS];
    let mut c = 0.0f32;
    for j in 0..HALF {
        let xa = hist[i - j];
        let xb = hist[i - (TAPS - 1) + j];
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

/// Portable kernel: 8 outputs per pass in plain arrays (the compiler vectorises them).
fn portable<const PAIRS: usize>(
    f: &FoldedPeakEnvelope,
    hist: &[f32],
    first: usize,
    out: &mut [f32],
) {
    const LANES: usize = 8;
    let count = out.len();
    let mut t = 0;
    while t + LANES <= count {
        let i = first + t;
        let mut a = [[0.0f32; LANES]; MAX_PAIRS];
        let mut b = [[0.0f32; LANES]; MAX_PAIRS];
        let mut c = [0.0f32; LANES];
        for j in 0..HALF {
            let xa = &hist[i - j..i - j + LANES];
            let xb = &hist[i + j - (TAPS - 1)..i + j - (TAPS - 1) + LANES];
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
            out[t + l] = m;
        }
        t += LANES;
    }
    for (k, o) in out.iter_mut().enumerate().skip(t) {
        *o = scalar_output::<PAIRS>(f, hist, first + k, false);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use super::{scalar_output, FoldedPeakEnvelope, DELAY, HALF, MAX_PAIRS, TAPS};
    use std::arch::x86_64::*;

    const LANES: usize = 8;

    /// AVX2/FMA kernel: 8 consecutive outputs per pass (`2·PAIRS + 1` independent
    /// accumulators), scalar FMA for the tail.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn envelope<const PAIRS: usize>(
        f: &FoldedPeakEnvelope,
        hist: &[f32],
        first: usize,
        out: &mut [f32],
    ) {
        let count = out.len();
        // Reads below are at indices in [first + t − (TAPS − 1), first + t + 7] with
        // t + 8 ≤ count, so these keep all pointer arithmetic inside `hist`.
        assert!(first >= TAPS - 1 && first + count <= hist.len());
        assert!(PAIRS <= MAX_PAIRS);
        let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let mut t = 0;
        while t + LANES <= count {
            // SAFETY: see the asserts above.
            unsafe {
                let base = hist.as_ptr().add(first + t);
                let oldest = base.sub(TAPS - 1);
                let mut a = [_mm256_setzero_ps(); MAX_PAIRS];
                let mut b = [_mm256_setzero_ps(); MAX_PAIRS];
                let mut c = _mm256_setzero_ps();
                for j in 0..HALF {
                    let xa = _mm256_loadu_ps(base.sub(j));
                    let xb = _mm256_loadu_ps(oldest.add(j));
                    let s = _mm256_add_ps(xa, xb);
                    let d = _mm256_sub_ps(xa, xb);
                    for k in 0..PAIRS {
                        let cs = _mm256_set1_ps(*f.sym.get_unchecked(k).get_unchecked(j));
                        let ca = _mm256_set1_ps(*f.anti.get_unchecked(k).get_unchecked(j));
                        a[k] = _mm256_fmadd_ps(cs, s, a[k]);
                        b[k] = _mm256_fmadd_ps(ca, d, b[k]);
                    }
                    let cc = _mm256_set1_ps(*f.centre.get_unchecked(j));
                    c = _mm256_fmadd_ps(cc, s, c);
                }
                let mut m = _mm256_max_ps(
                    _mm256_and_ps(_mm256_loadu_ps(base.sub(DELAY)), abs_mask),
                    _mm256_and_ps(c, abs_mask),
                );
                for k in 0..PAIRS {
                    let plus = _mm256_and_ps(_mm256_add_ps(a[k], b[k]), abs_mask);
                    let minus = _mm256_and_ps(_mm256_sub_ps(a[k], b[k]), abs_mask);
                    m = _mm256_max_ps(_mm256_max_ps(m, plus), minus);
                }
                _mm256_storeu_ps(out.as_mut_ptr().add(t), m);
            }
            t += LANES;
        }
        for (k, o) in out.iter_mut().enumerate().skip(t) {
            *o = scalar_output::<PAIRS>(f, hist, first + k, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mastering::test_signals::noise;

    #[test]
    fn phases_mirror_exactly() {
        for factor in [2, 4, 8] {
            let r = TruePeakInterpolator::with_factor(factor);
            for p in 0..factor - 1 {
                let (h, g) = (r.phase_taps(p), r.phase_taps(factor - 2 - p));
                for j in 0..TAPS {
                    // The folding is only exact if the mirror is (bit for bit).
                    assert_eq!(h[j], g[TAPS - 1 - j], "{factor}× phase {p} tap {j}");
                }
            }
        }
    }

    #[test]
    fn envelope_matches_the_interpolator() {
        for factor in [1, 2, 4, 8] {
            let x = noise(3000, 2.0, 5);
            let mut reference = TruePeakInterpolator::with_factor(factor);
            let mut folded = FoldedPeakEnvelope::with_factor(factor);
            assert_eq!(folded.factor(), reference.factor());
            assert_eq!(folded.latency(), reference.latency());
            let mut want = vec![0.0; x.len()];
            let mut got = vec![0.0; x.len()];
            reference.process_envelope(&x, &mut want);
            folded.process_envelope(&x, &mut got);
            for (n, (&w, &g)) in want.iter().zip(&got).enumerate() {
                // Same taps, different rounding order: 48 f32 products of a signal
                // peaking at 2 round to ~1e-6 of the result (2e-6 leaves room).
                assert!(
                    (w - g).abs() <= 2e-6 * w.max(1.0),
                    "{factor}× at {n}: {w} {g}"
                );
            }
        }
    }

    #[test]
    fn block_size_does_not_change_the_envelope() {
        let x = noise(2000, 1.5, 6);
        let run = |block: usize| {
            let mut f = FoldedPeakEnvelope::with_factor(8);
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
}
