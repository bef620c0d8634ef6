//! Least-squares AR interpolation of missing samples (Janssen, Veldhuis & Vries, "Adaptive
//! interpolation of discrete-time signals that can be modeled as autoregressive
//! processes", IEEE Trans. ASSP 34(2), 1986; Godsill & Rayner, "Digital Audio
//! Restoration", 1998, §5.2.2).
//!
//! With the AR coefficients `a` (`a[0] = 1`, order `p`) the excitation of the block is
//! `e = A·x`, `A` the Toeplitz matrix whose row `n` holds `a` reversed under
//! `x[n−p..=n]`. Splitting the samples into unknown ones `x_u` and known ones `x_k`,
//! `e = A_u·x_u + A_k·x_k`, and the interpolant minimises the excitation energy `eᵀe`:
//!
//! ```text
//! x_u = −(A_uᵀ A_u)⁻¹ · A_uᵀ A_k x_k                     (G&R eq. 5.15)
//! ```
//!
//! `(A_uᵀ A_u)_{ij} = Σ_n a[n−t_i]·a[n−t_j]`, which away from the block's edges is the
//! autocorrelation of the coefficients `R_a(|t_i − t_j|)`: a symmetric positive-definite
//! matrix, Toeplitz for a contiguous gap, zero beyond a distance `p`, so its Cholesky
//! factor is banded (`O(L·p²)` for `L` unknowns). `A_k x_k` is the residual of the block
//! with the unknowns set to zero.
//!
//! For declipping, each unknown may carry a floor: the restored sample must lie at
//! least as far from zero as the clipped one, with the same sign. The constraint is
//! met with an active-set iteration: solve, fix every sample that fell short at its
//! floor (it becomes known), and solve again for the rest, until none falls short.

use super::burg::{dot, forward_errors};

/// The least-squares AR interpolator with its work buffers (allocated in [`new`] for a
/// worst case, so solving allocates nothing while it fits).
///
/// [`new`]: Interpolator::new
#[derive(Debug, Clone)]
pub struct Interpolator {
    /// Positions of the unknown samples still being solved for.
    unknown: Vec<usize>,
    /// Lower-triangular band of the Cholesky factor, `min(p, L − 1) + 1` entries per
    /// row.
    band: Vec<f64>,
    /// Right-hand side, then the solution.
    rhs: Vec<f64>,
    /// Residual of the block with the unknowns at zero.
    residual: Vec<f64>,
    /// Autocorrelation of the coefficients, `R_a(0..=p)`.
    autocorr: Vec<f64>,
    /// `1 / L[i][i]`, so the factorisation's inner step multiplies instead of
    /// dividing.
    inv_diagonal: Vec<f64>,
}

impl Interpolator {
    /// Work buffers for blocks of up to `max_len` samples with up to `max_unknown`
    /// unknowns, models of order up to `max_order`, and `max_band` entries of the
    /// Cholesky factor's band ([`band_len`] of the largest system solved).
    pub fn new(max_len: usize, max_unknown: usize, max_order: usize, max_band: usize) -> Self {
        Self {
            unknown: Vec::with_capacity(max_unknown),
            band: Vec::with_capacity(max_band),
            rhs: Vec::with_capacity(max_unknown),
            residual: Vec::with_capacity(max_len + max_order),
            autocorr: Vec::with_capacity(max_order + 1),
            inv_diagonal: Vec::with_capacity(max_unknown),
        }
    }

    /// Replaces the samples of `x` where `unknown` is true by their least-squares AR
    /// interpolant. Known samples are never written. Returns false if the system is
    /// singular (a degenerate model); the unknowns of `x` are then meaningless.
    pub fn interpolate(&mut self, x: &mut [f64], unknown: &[bool], coeffs: &[f64]) -> bool {
        self.unknown.clear();
        self.unknown.extend((0..x.len()).filter(|&i| unknown[i]));
        self.solve(x, coeffs)
    }

    /// As [`interpolate`](Self::interpolate), with every unknown sample `i` constrained
    /// to `x[i]·sign(floor[i]) ≥ |floor[i]|` (at least as far out as its floor, on the
    /// floor's side of zero). Samples that the free solution leaves short of their floor
    /// are set to it and the rest solved again. Returns false if a solve failed (the
    /// unknowns then hold their floors or the last solution).
    pub fn interpolate_beyond(
        &mut self,
        x: &mut [f64],
        unknown: &[bool],
        floor: &[f64],
        coeffs: &[f64],
    ) -> bool {
        self.unknown.clear();
        self.unknown.extend((0..x.len()).filter(|&i| unknown[i]));
        for &t in &self.unknown {
            x[t] = floor[t];
        }
        // Each round fixes at least one sample, so at most `L` rounds.
        while !self.unknown.is_empty() {
            if !self.solve(x, coeffs) {
                return false;
            }
            let before = self.unknown.len();
            self.unknown.retain(|&t| {
                let short = x[t] * floor[t].signum() < floor[t].abs();
                if short {
                    x[t] = floor[t];
                }
                !short
            });
            if self.unknown.len() == before {
                break;
            }
        }
        true
    }

    /// Solves for `self.unknown` (sorted positions) given every other sample of `x`.
    fn solve(&mut self, x: &mut [f64], coeffs: &[f64]) -> bool {
        let count = self.unknown.len();
        if count == 0 {
            return true;
        }
        let p = coeffs.len() - 1;
        let len = x.len();
        let width = band_width(count, p);
        self.autocorr.clear();
        self.autocorr
            .extend((0..=p).map(|d| dot(&coeffs[..=p - d], &coeffs[d..])));
        // A_k x_k: the residual with the unknowns at zero, on the rows that touch an
        // unknown (rows need their whole stencil inside the block: n ≥ p).
        for &t in &self.unknown {
            x[t] = 0.0;
        }
        let row_lo = self.unknown[0].max(p);
        let row_hi = (self.unknown[count - 1] + p).min(len - 1);
        self.residual.clear();
        if row_lo <= row_hi {
            self.residual.resize(row_hi + 1 - row_lo, 0.0);
            forward_errors(x, row_lo..row_hi + 1, coeffs, &mut self.residual);
        }
        // rhs_i = −Σ_k a[k]·e0[t_i + k] over the valid rows.
        self.rhs.clear();
        for &t in &self.unknown {
            // Taps k with row t + k in row_lo..=row_hi.
            let (k_lo, k_hi) = (row_lo.saturating_sub(t), p.min(row_hi.saturating_sub(t)));
            let acc = if k_lo <= k_hi && row_lo <= row_hi {
                let rows = t + k_lo - row_lo..=t + k_hi - row_lo;
                dot(&coeffs[k_lo..=k_hi], &self.residual[rows])
            } else {
                0.0
            };
            self.rhs.push(-acc);
        }
        // Banded Cholesky of A_uᵀA_u. A column that lost rows at the block's edge gets
        // a tiny ridge (1e-12 of the full diagonal) so it stays invertible; interior
        // columns get none, since a tonal model makes the matrix ill-conditioned and
        // any ridge would bias the solution towards zero.
        self.band.clear();
        self.inv_diagonal.clear();
        self.band.resize(band_len(count, p), 0.0);
        let ridge = 1e-12 * self.autocorr[0];
        let interior = |t: usize| t >= p && t + p < len;
        for i in 0..count {
            let ti = self.unknown[i];
            for j in i.saturating_sub(p)..=i {
                let tj = self.unknown[j];
                let d = ti - tj;
                let mut m = if d > p {
                    0.0
                } else if interior(ti) && interior(tj) {
                    self.autocorr[d]
                } else {
                    // Rows n with both stencils inside: ti ≤ n ≤ tj + p, p ≤ n < len.
                    let rows = ti.max(p)..(tj + p + 1).min(len);
                    rows.map(|n| coeffs[n - ti] * coeffs[n - tj]).sum()
                };
                if i == j && !interior(ti) {
                    m += ridge;
                }
                // m −= Σ_k L[i][k]·L[j][k] over the columns k both rows reach, stored
                // at offsets i − k and j − k: both run backwards as k runs forwards.
                let k_lo = i.saturating_sub(p);
                if k_lo < j {
                    let row_i = &self.band[i * width + (i - j + 1)..=i * width + (i - k_lo)];
                    let row_j = &self.band[j * width + 1..=j * width + (j - k_lo)];
                    m -= dot(row_i, row_j);
                }
                if i == j {
                    if m <= 0.0 || !m.is_finite() {
                        return false;
                    }
                    self.band[i * width] = m.sqrt();
                    self.inv_diagonal.push(1.0 / self.band[i * width]);
                } else {
                    self.band[i * width + (i - j)] = m * self.inv_diagonal[j];
                }
            }
        }
        // L y = rhs, then Lᵀ x = y.
        for i in 0..count {
            let mut s = self.rhs[i];
            for k in i.saturating_sub(p)..i {
                s -= self.band[i * width + (i - k)] * self.rhs[k];
            }
            self.rhs[i] = s * self.inv_diagonal[i];
        }
        for i in (0..count).rev() {
            let mut s = self.rhs[i];
            for k in i + 1..(i + width).min(count) {
                s -= self.band[k * width + (k - i)] * self.rhs[k];
            }
            self.rhs[i] = s * self.inv_diagonal[i];
        }
        for (&t, &v) in self.unknown.iter().zip(&self.rhs) {
            x[t] = v;
        }
        true
    }
}

/// Entries per row of the band of the Cholesky factor for `unknowns` unknowns at order
/// `order`: a row reaches back `order` unknowns at most, and never further than the
/// first.
fn band_width(unknowns: usize, order: usize) -> usize {
    order.min(unknowns.saturating_sub(1)) + 1
}

/// Entries of the band of the Cholesky factor for `unknowns` unknowns at order
/// `order` (what [`Interpolator::new`]'s `max_band` must cover).
pub fn band_len(unknowns: usize, order: usize) -> usize {
    unknowns * band_width(unknowns, order)
}
