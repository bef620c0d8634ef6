//! Autoregressive (AR) modelling: Burg's method over one or several good segments, and
//! the prediction-error (residual) filter.
//!
//! The model is `x[n] = −Σ_{i=1}^{p} a[i]·x[n−i] + e[n]` with `a[0] = 1`, so the
//! forward prediction error is `e[n] = Σ_{i=0}^{p} a[i]·x[n−i]`. Burg's method (J. P.
//! Burg, 1975; S. M. Kay, "Modern Spectral Estimation", 1988, §7.4) chooses each
//! reflection coefficient to minimise the sum of the forward and backward error powers,
//!
//! ```text
//! k_m = −2 Σ f_{m−1}[n]·b_{m−1}[n−1] / Σ (f_{m−1}[n]² + b_{m−1}[n−1]²),
//! f_m[n] = f_{m−1}[n] + k_m·b_{m−1}[n−1],   b_m[n] = b_{m−1}[n−1] + k_m·f_{m−1}[n],
//! ```
//!
//! which keeps every `|k_m| ≤ 1` (a stable, minimum-phase model) even on short blocks.
//! With several segments (the good samples on either side of a damaged span) the sums
//! run over every segment and no error term ever straddles a gap, as in Godsill &
//! Rayner, "Digital Audio Restoration" (1998), §5.2.

use std::ops::Range;

/// The largest AR order: twice [`ar_order`]'s largest, for repairs.
pub const MAX_ORDER: usize = 128;

/// The AR order for a sample rate: 32 at 44.1/48 kHz (Godsill & Rayner use 20–40 for
/// click removal at 44.1 kHz), scaled with the rate so the model spans the same ~0.7 ms,
/// between 8 and 64.
pub fn ar_order(sample_rate: f64) -> usize {
    ((32.0 * sample_rate / 44_100.0).round() as usize).clamp(8, MAX_ORDER / 2)
}

/// Burg's method with its work buffers, allocated once for the longest input.
#[derive(Debug, Clone)]
pub struct Burg {
    /// Forward errors `F[i] = f_{m−1}[i+m]` of every segment, back to back.
    forward: Vec<f64>,
    /// Backward errors `B[i] = b_{m−1}[i+m−1]`, laid out as `forward`.
    backward: Vec<f64>,
    /// (offset into the buffers, length at the current stage) per segment.
    segments: Vec<(usize, usize)>,
    /// The previous stage's coefficients during the Levinson update.
    previous: Vec<f64>,
}

impl Burg {
    /// Work buffers for up to `max_samples` samples in up to `max_segments` segments.
    pub fn new(max_samples: usize, max_segments: usize) -> Self {
        Self {
            forward: Vec::with_capacity(max_samples),
            backward: Vec::with_capacity(max_samples),
            segments: Vec::with_capacity(max_segments),
            previous: vec![0.0; MAX_ORDER + 1],
        }
    }

    /// Fits an AR model of `order` (at most [`MAX_ORDER`]) to the samples of `x` in
    /// `segments`, writing `a[0..=order]` (with `a[0] = 1`) into `coeffs`. Segments no
    /// longer than the order carry no full error term and are skipped. Returns the
    /// final forward-and-backward error power per term (0 when there was nothing to
    /// fit, and then `coeffs` is `[1, 0, 0, …]`).
    ///
    /// Allocates nothing while the inputs fit the sizes given to [`Burg::new`].
    pub fn fit(
        &mut self,
        x: &[f64],
        segments: impl IntoIterator<Item = Range<usize>>,
        order: usize,
        coeffs: &mut [f64],
    ) -> f64 {
        let order = order.min(MAX_ORDER).min(coeffs.len().saturating_sub(1));
        coeffs.iter_mut().for_each(|c| *c = 0.0);
        coeffs[0] = 1.0;
        self.forward.clear();
        self.backward.clear();
        self.segments.clear();
        for range in segments {
            let range = range.start.min(x.len())..range.end.min(x.len());
            if range.len() <= order {
                continue;
            }
            let seg = &x[range];
            // Stage 1 inputs: F[i] = x[i+1], B[i] = x[i].
            self.segments.push((self.forward.len(), seg.len() - 1));
            self.forward.extend_from_slice(&seg[1..]);
            self.backward.extend_from_slice(&seg[..seg.len() - 1]);
        }
        let mut power = 0.0;
        for m in 1..=order {
            let (mut num, mut den) = (0.0f64, 0.0f64);
            for &(offset, len) in &self.segments {
                let (n, d) = cross_and_energy(
                    &self.forward[offset..offset + len],
                    &self.backward[offset..offset + len],
                );
                num += n;
                den += d;
            }
            if den <= f64::MIN_POSITIVE {
                break; // silence: the remaining coefficients stay 0
            }
            let k = -2.0 * num / den;
            power = den * (1.0 - k * k);
            // Levinson update of the direct-form coefficients.
            self.previous[..m].copy_from_slice(&coeffs[..m]);
            for i in 1..m {
                coeffs[i] = self.previous[i] + k * self.previous[m - i];
            }
            coeffs[m] = k;
            // Next stage's errors, one shorter: F'[i] = F[i+1] + k·B[i+1],
            // B'[i] = B[i] + k·F[i].
            for seg in &mut self.segments {
                let (offset, len) = *seg;
                if len == 0 {
                    continue;
                }
                let f = &mut self.forward[offset..offset + len];
                let b = &mut self.backward[offset..offset + len];
                for i in 0..len - 1 {
                    b[i] += k * f[i];
                    f[i] = f[i + 1] + k * b[i + 1];
                }
                seg.1 = len - 1;
            }
        }
        let terms: usize = self.segments.iter().map(|s| 2 * s.1).sum();
        if terms == 0 {
            0.0
        } else {
            power / terms as f64
        }
    }
}

/// `(Σ f·b, Σ f² + b²)`, with four partial sums so the loop pipelines.
#[inline]
fn cross_and_energy(f: &[f64], b: &[f64]) -> (f64, f64) {
    let mut num = [0.0f64; 4];
    let mut den = [0.0f64; 4];
    let chunks = f.len() / 4;
    for c in 0..chunks {
        for l in 0..4 {
            let (fv, bv) = (f[4 * c + l], b[4 * c + l]);
            num[l] += fv * bv;
            den[l] += fv * fv + bv * bv;
        }
    }
    for i in 4 * chunks..f.len() {
        num[0] += f[i] * b[i];
        den[0] += f[i] * f[i] + b[i] * b[i];
    }
    (
        (num[0] + num[1]) + (num[2] + num[3]),
        (den[0] + den[1]) + (den[2] + den[3]),
    )
}

/// The forward prediction error `e[n] = Σ_{i=0}^{p} a[i]·x[n−i]` at `n` (needs
/// `n ≥ p`).
#[inline]
pub fn forward_error(x: &[f64], n: usize, coeffs: &[f64]) -> f64 {
    let p = coeffs.len() - 1;
    let window = &x[n - p..=n];
    let mut acc = [0.0f64; 4];
    for (i, &a) in coeffs.iter().enumerate() {
        acc[i & 3] += a * window[p - i];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// The backward prediction error `b[n] = Σ_{i=0}^{p} a[i]·x[n+i]` at `n` (needs
/// `n + p < x.len()`): the same model run backwards in time, which Burg's fit makes
/// equally valid.
#[inline]
pub fn backward_error(x: &[f64], n: usize, coeffs: &[f64]) -> f64 {
    let window = &x[n..n + coeffs.len()];
    let mut acc = [0.0f64; 4];
    for (i, (&a, &v)) in coeffs.iter().zip(window).enumerate() {
        acc[i & 3] += a * v;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}
