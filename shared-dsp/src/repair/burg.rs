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
//! [`Burg::fit`] computes these sums the fast way (K. Vos, 2013; see there).
//! With several segments (the good samples on either side of a damaged span) the sums
//! run over every segment and no error term ever straddles a gap, as in Godsill &
//! Rayner, "Digital Audio Restoration" (1998), §5.2.

use std::ops::Range;

/// The largest AR order [`Burg::fit`] takes: that of a repair's interpolation at high
/// rates (see `interpolation_order` in the parent module).
pub const MAX_ORDER: usize = 1024;

/// The largest order [`ar_order`] gives, for detection.
pub const MAX_DETECTION_ORDER: usize = 32;

/// The AR order for detection at a sample rate: 24 at 44.1 kHz (Godsill & Rayner use
/// 20–40 for click removal at 44.1 kHz), scaled with the rate so the model spans the
/// same ~0.5 ms, between 8 and [`MAX_DETECTION_ORDER`].
pub fn ar_order(sample_rate: f64) -> usize {
    ((24.0 * sample_rate / 44_100.0).round() as usize).clamp(8, MAX_DETECTION_ORDER)
}

/// Burg's method with its work buffers, allocated once.
///
/// This is the fast formulation of K. Vos, "A Fast Implementation of Burg's Method"
/// (2013): the sums over the forward and backward errors of each stage are written in
/// terms of the autocorrelation of the input and the first and last `p` samples of each
/// segment, so a fit costs one autocorrelation (`N·p` multiply-adds) plus `O(p²)` per
/// segment, instead of updating `2N` error samples at every stage. The reflection
/// coefficients are the same as the textbook recursion's, up to rounding.
#[derive(Debug, Clone)]
pub struct Burg {
    /// Autocorrelation lags 1..=p minus what the stages have peeled off the front
    /// (`first`) and the back (`last`) of every segment.
    first: Vec<f64>,
    last: Vec<f64>,
    /// `C·a` and `C·flip(a)` (Vos's CAf and CAb), lags 0..=p+1.
    ca_forward: Vec<f64>,
    ca_backward: Vec<f64>,
    /// The segments kept (longer than the order).
    segments: Vec<Range<usize>>,
    /// The first `p + 1` samples of each kept segment, reversed, so the stages' sums
    /// over a segment's head run forwards through memory (and vectorise).
    heads: Vec<f64>,
    /// `a[1..=n]` reversed, for the stage's sums that pair lags with coefficients in
    /// opposite order.
    reversed: Vec<f64>,
}

impl Burg {
    /// Work buffers for up to `max_segments` segments and orders up to `max_order`
    /// (more, up to [`MAX_ORDER`], reallocate).
    pub fn new(max_segments: usize, max_order: usize) -> Self {
        let order = max_order.min(MAX_ORDER);
        Self {
            first: vec![0.0; MAX_ORDER + 1],
            last: vec![0.0; MAX_ORDER + 1],
            ca_forward: vec![0.0; MAX_ORDER + 2],
            ca_backward: vec![0.0; MAX_ORDER + 2],
            segments: Vec::with_capacity(max_segments),
            heads: Vec::with_capacity(max_segments * (order + 1)),
            reversed: Vec::with_capacity(order),
        }
    }

    /// Fits an AR model of `order` (at most [`MAX_ORDER`]) to the samples of `x` in
    /// `segments`, writing `a[0..=order]` (with `a[0] = 1`) into `coeffs`. Segments no
    /// longer than the order carry no full error term and are skipped; with nothing to
    /// fit (or silence) the remaining coefficients are 0.
    ///
    /// Allocates nothing while the segments and the order fit those given to
    /// [`Burg::new`].
    // The loops index several arrays at mirrored offsets (`k`, `n − k − 1`), as in
    // Vos's equations; iterator zips of reversed sub-slices would hide that.
    #[allow(clippy::needless_range_loop)]
    pub fn fit(
        &mut self,
        x: &[f64],
        segments: impl IntoIterator<Item = Range<usize>>,
        order: usize,
        coeffs: &mut [f64],
    ) {
        let p = order.min(MAX_ORDER).min(coeffs.len().saturating_sub(1));
        coeffs.iter_mut().for_each(|c| *c = 0.0);
        coeffs[0] = 1.0;
        self.segments.clear();
        self.segments.extend(
            segments
                .into_iter()
                .map(|r| r.start.min(x.len())..r.end.min(x.len()))
                .filter(|r| r.len() > p),
        );
        if self.segments.is_empty() || p == 0 {
            return;
        }
        // Autocorrelation over the segments, lags 0..=p.
        let mut c0 = 0.0;
        self.first[..p].iter_mut().for_each(|v| *v = 0.0);
        for seg in &self.segments {
            let y = &x[seg.clone()];
            c0 += dot(y, y);
            for lag in 1..=p {
                self.first[lag - 1] += dot(&y[..y.len() - lag], &y[lag..]);
            }
        }
        self.last[..p].copy_from_slice(&self.first[..p]);
        self.ca_forward[..p + 2].iter_mut().for_each(|v| *v = 0.0);
        self.ca_backward[..p + 2].iter_mut().for_each(|v| *v = 0.0);
        self.ca_forward[0] = c0;
        self.ca_backward[0] = c0;
        self.heads.clear();
        for seg in &self.segments {
            self.heads.extend(x[seg.start..=seg.start + p].iter().rev());
        }
        // `af[k]` is `a[k + 1]`.
        let af = &mut coeffs[1..];
        for n in 0..p {
            // Peel sample n off the front and back of each segment, and correct C·a.
            // With `r` the segment's head reversed (`r[j] = y[p − j]`), the front's
            // `y[n − 1 − k]` for k = 0..n is `r[p − n + 1 + k]`.
            for (seg, r) in self.segments.iter().zip(self.heads.chunks_exact(p + 1)) {
                let y = &x[seg.clone()];
                let end = y.len();
                let (front, back) = (y[n], y[end - n - 1]);
                let head = &r[p - n + 1..];
                let tail = &y[end - n..];
                axpy(-front, head, &mut self.first[..n]);
                axpy(-back, tail, &mut self.last[..n]);
                let err_f = front + dot(head, &af[..n]);
                let err_b = back + dot(tail, &af[..n]);
                axpy(-err_f, &r[p - n..], &mut self.ca_forward[..=n]);
                axpy(-err_b, &y[end - n - 1..], &mut self.ca_backward[..=n]);
            }
            self.reversed.clear();
            self.reversed.extend(af[..n].iter().rev());
            let rev = &self.reversed[..n];
            self.ca_forward[n + 1] = self.first[n] + dot(&self.last[..n], rev);
            self.ca_backward[n + 1] = self.last[n] + dot(&self.first[..n], rev);
            // Numerator and the forward and backward error energies of stage n+1.
            let num = self.ca_backward[n + 1] + dot(&self.ca_backward[1..=n], rev);
            let energy_b = self.ca_backward[0] + dot(&self.ca_backward[1..=n], &af[..n]);
            let energy_f = self.ca_forward[0] + dot(&self.ca_forward[1..=n], &af[..n]);
            let den = energy_f + energy_b;
            if den <= f64::MIN_POSITIVE * 1e10 || !den.is_finite() {
                break; // silence or exhausted: the higher coefficients stay 0
            }
            // |k| ≤ 1 holds exactly; rounding may overshoot, which would make the
            // model unstable.
            let rc = (-2.0 * num / den).clamp(-0.999_999, 0.999_999);
            for k in 0..n.div_ceil(2) {
                let (lo, hi) = (af[k], af[n - k - 1]);
                af[k] = lo + rc * hi;
                af[n - k - 1] = hi + rc * lo;
            }
            af[n] = rc;
            for k in 0..=n + 1 {
                let (f, b) = (self.ca_forward[k], self.ca_backward[n + 1 - k]);
                self.ca_forward[k] = f + rc * b;
                self.ca_backward[n + 1 - k] = b + rc * f;
            }
        }
    }
}

/// `Σ a·b`, with eight partial sums so the loop vectorises and the additions'
/// latency overlaps.
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 8;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; LANES];
    let mut chunks_a = a.chunks_exact(LANES);
    let mut chunks_b = b.chunks_exact(LANES);
    for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
        for l in 0..LANES {
            acc[l] += ca[l] * cb[l];
        }
    }
    for (x, y) in chunks_a.remainder().iter().zip(chunks_b.remainder()) {
        acc[0] += x * y;
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

/// `y += a·x` over the shorter of the two.
#[inline]
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (v, &u) in y.iter_mut().zip(x) {
        *v += a * u;
    }
}

/// The forward prediction errors `e[n] = Σ_{i=0}^{p} a[i]·x[n−i]` for `n` in `range`
/// (needs `range.start ≥ p`) into `out` (as long as the range), computed tap by tap so
/// the inner loop runs over contiguous samples and vectorises.
pub fn forward_errors(x: &[f64], range: Range<usize>, coeffs: &[f64], out: &mut [f64]) {
    let len = range.len();
    let out = &mut out[..len];
    out.iter_mut().for_each(|e| *e = 0.0);
    // Four taps per pass over `out`, so each output is loaded and stored once per four
    // multiply-adds.
    let mut taps = coeffs.chunks_exact(4);
    let mut k = 0;
    for quad in &mut taps {
        let x0 = &x[range.start - k..range.end - k];
        let x1 = &x[range.start - k - 1..range.end - k - 1];
        let x2 = &x[range.start - k - 2..range.end - k - 2];
        let x3 = &x[range.start - k - 3..range.end - k - 3];
        for n in 0..len {
            out[n] += (quad[0] * x0[n] + quad[1] * x1[n]) + (quad[2] * x2[n] + quad[3] * x3[n]);
        }
        k += 4;
    }
    for &a in taps.remainder() {
        let input = &x[range.start - k..range.end - k];
        for (e, &v) in out.iter_mut().zip(input) {
            *e += a * v;
        }
        k += 1;
    }
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
