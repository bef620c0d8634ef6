//! Fourth-order EQ bands: a matched biquad plus, where it needs one, a correction
//! section, so bells and shelves follow their analog prototypes up to 20 kHz even at
//! 44.1 kHz.
//!
//! # Why a second section
//!
//! A single matched biquad ([`BiquadCoeffs::bell`] and the shelves) has one pole pair
//! and a magnitude whose slope is zero at Nyquist. A wide bell (Q 0.5–1) still rises or
//! falls at 20 kHz, and a resonant shelf (Q 4–8) centred at 3–16 kHz has its second
//! resonance near or past Nyquist: there the single section misses the analog curve by
//! up to 1.2 dB (bells) and 3 dB (shelves) at 44.1 kHz (table in [`super::coeffs`]).
//!
//! [`BandCoeffs`] keeps that biquad as its `main` section and adds a `correction`
//! biquad fitted to what is left, the residual `R(ω) = |H_analog(ω)|² / |H_main(ω)|²`.
//! The fit works on squared magnitudes, where a biquad is a ratio of two quadratics in
//! `p = sin²(ω/2)` (the variable of Vicanek 2016, eq. 8–10):
//!
//! ```text
//! |C(e^jω)|² = (n0 + n1·p + n2·p²) / (1 + d1·p + d2·p²)
//! ```
//!
//! Requiring `N(p) ≈ R·D(p)` on a grid of frequencies is linear in the five unknowns
//! (Levy's linearised least squares, "Complex-curve fitting", IRE Trans. Automatic
//! Control, 1959). Re-weighting each equation by `1/(R·D_previous)` turns the residual
//! into the relative error of the magnitude, i.e. the dB error to first order
//! (Sanathanan & Koerner, "Transfer function synthesis as a ratio of two complex
//! polynomials", IEEE TAC, 1963); three such passes converge for these smooth
//! residuals. Each pass is a 5×5 symmetric system, solved by Gaussian elimination: a
//! fixed amount of arithmetic (about 2 µs per band), no iteration to convergence, no
//! allocation. When both quadratics are positive on `0 ≤ p ≤ 1` the minimum-phase
//! numerator and the (stable) denominator follow from Vicanek's closed-form spectral
//! factorisation ([`numerator_from_squared`]), so the band stays minimum phase: zero
//! latency, and a cut is exactly the inverse of the boost.
//!
//! # The band edge
//!
//! At 44.1 kHz, 20 kHz is 0.907 of Nyquist, and any digital section's magnitude has
//! zero slope at Nyquist. The fit therefore follows the analog curve up to
//! `min(20 kHz, 0.95·Nyquist)` and, on a few lightly weighted points above that,
//! continues the residual flat to Nyquist. The correction can so bend steeply between
//! 20 kHz and Nyquist (where the issue asks nothing) and still level off at Nyquist, as
//! a digital filter must; the flat continuation also keeps the fitted quadratics
//! positive up to `p = 1`.
//!
//! # When it is used
//!
//! Only when the main section misses the analog curve by more than
//! [`CORRECTION_THRESHOLD_DB`] on the check grid, and only when the fitted section is
//! valid (positive quadratics, stable, finite) and actually lowers the largest error;
//! otherwise `correction` is the identity and costs nothing in the EQ's static path.
//! Low bands at 44.1/48 kHz and nearly everything at 96 kHz need none.
//!
//! # Accuracy
//!
//! Largest error against the analog prototype over 20 Hz – 20 kHz (200 log-spaced
//! points), grid: centre 20 Hz – 16 kHz, Q 0.5 – 8, gain ±1 – ±18 dB (the tests):
//!
//! | rate     | bell ≤ 2 kHz | bell 3–16 kHz | shelves ≤ 2 kHz | shelves 3–16 kHz |
//! |----------|--------------|---------------|-----------------|------------------|
//! | 44.1 kHz | 0.050 dB     | 0.21 dB       | 0.048 dB        | 0.37 dB          |
//! | 48 kHz   | 0.049 dB     | 0.07 dB       | 0.050 dB        | 0.42 dB          |
//! | 96 kHz   | 0.013 dB     | 0.04 dB       | 0.003 dB        | 0.05 dB          |
//!
//! Two main sections are tried, each with its own correction, and the better pair is
//! kept: the matched biquad above, and the matched-z design (poles *and* zeros mapped by
//! `z = e^(sT)`), whose residual is a smooth tilt where the matched biquad's has a
//! bump between two sharp resonances (resonant shelves near Nyquist).

use std::f64::consts::PI;

use super::coeffs::{
    matched_poles, numerator_from_squared, omega, quad_sq, sane_q, shelf_a, BiquadCoeffs,
};

/// A band whose main section is within this of the analog magnitude everywhere on the
/// check grid (20 Hz – 20 kHz) gets no correction section.
pub const CORRECTION_THRESHOLD_DB: f64 = 0.05;

/// Log-spaced fit points from 20 Hz to the top of the fitted range.
const GRID_POINTS: usize = 40;
/// Extra points around the band's centre (and resonances), where sharp bands change
/// faster than the log grid samples.
const CENTRE_POINTS: usize = 9;
/// Points between the top of the fitted range and Nyquist (see "The band edge").
const EDGE_POINTS: usize = 4;
/// Their weight relative to the in-band points.
const EDGE_WEIGHT: f64 = 0.25;
const MAX_POINTS: usize = GRID_POINTS + CENTRE_POINTS + EDGE_POINTS;
/// Re-weighted least-squares passes (Sanathanan–Koerner).
const PASSES: usize = 3;

/// A bell or shelf as two biquads in series: the matched `main` section and a
/// `correction` that is the identity when the main section alone is close enough.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BandCoeffs {
    /// The matched single-biquad design ([`BiquadCoeffs::bell`] and the shelves).
    pub main: BiquadCoeffs,
    /// The fitted correction (see the module notes), or the identity.
    pub correction: BiquadCoeffs,
}

/// Squared magnitude of a biquad at `p = sin²(ω/2)` (Vicanek eq. 8–10).
#[inline]
fn squared_at(c: &BiquadCoeffs, p: f64) -> f64 {
    let phi0 = 1.0 - p;
    let phi2 = 4.0 * phi0 * p;
    let n = (c.b0 + c.b1 + c.b2).powi(2) * phi0 + (c.b0 - c.b1 + c.b2).powi(2) * p
        - 4.0 * c.b0 * c.b2 * phi2;
    let s = 1.0 + c.a1 + c.a2;
    let d = 1.0 - c.a1 + c.a2;
    let den = s * s * phi0 + d * d * p - 4.0 * c.a2 * phi2;
    n / den
}

/// True when `c0 + c1·p + c2·p²` is positive on `0 ≤ p ≤ 1`.
#[inline]
fn positive_on_unit(c0: f64, c1: f64, c2: f64) -> bool {
    let at = |p: f64| c0 + c1 * p + c2 * p * p;
    let mut ok = at(0.0) > 0.0 && at(1.0) > 0.0;
    if c2 > 0.0 {
        let vertex = -c1 / (2.0 * c2);
        if vertex > 0.0 && vertex < 1.0 {
            ok &= at(vertex) > 0.0;
        }
    }
    ok
}

// Index loops read best in the small dense linear algebra below.
#[allow(clippy::needless_range_loop)]
/// Solves the 5×5 system `m·x = v` by Gaussian elimination with partial pivoting;
/// `None` when it is singular.
fn solve5(mut m: [[f64; 5]; 5], mut v: [f64; 5]) -> Option<[f64; 5]> {
    for col in 0..5 {
        let pivot = (col..5).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].is_nan() || m[pivot][col].abs() <= 1e-300 {
            return None;
        }
        m.swap(col, pivot);
        v.swap(col, pivot);
        for row in col + 1..5 {
            let f = m[row][col] / m[col][col];
            for k in col..5 {
                m[row][k] -= f * m[col][k];
            }
            v[row] -= f * v[col];
        }
    }
    let mut x = [0.0; 5];
    for row in (0..5).rev() {
        let mut acc = v[row];
        for k in row + 1..5 {
            acc -= m[row][k] * x[k];
        }
        x[row] = acc / m[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The biquad whose squared magnitude is `N(p)/D(p)` with `N = n0 + n1·p + n2·p²`,
/// `D = 1 + d1·p + d2·p²`, both positive on `[0, 1]`: numerator and denominator are
/// each factored with [`numerator_from_squared`] (minimum phase, hence a stable
/// denominator). In Vicanek's form a quadratic `q(p)` has `B0 = q(0)`, `B1 = q(1)`,
/// `B2 = −(p² coefficient)/4`.
fn biquad_from_squared(n: [f64; 3], d: [f64; 3]) -> Option<BiquadCoeffs> {
    if !positive_on_unit(n[0], n[1], n[2]) || !positive_on_unit(d[0], d[1], d[2]) {
        return None;
    }
    let (b0, b1, b2) = numerator_from_squared(n[0], n[0] + n[1] + n[2], -0.25 * n[2]);
    let (a0, a1, a2) = numerator_from_squared(d[0], d[0] + d[1] + d[2], -0.25 * d[2]);
    if a0.is_nan() || a0 <= 0.0 {
        return None;
    }
    let c = BiquadCoeffs {
        b0: b0 / a0,
        b1: b1 / a0,
        b2: b2 / a0,
        a1: a1 / a0,
        a2: a2 / a0,
    };
    (c.is_stable() && c.b0.is_finite() && c.b1.is_finite() && c.b2.is_finite()).then_some(c)
}

/// Re-weighted linearised least squares (see the module notes) of `N(p)/D(p)` to the
/// residuals `pts` = `(p, R, weight)`: `K = 5` unknowns `n0, n1, n2, d1, d2` (a
/// biquad) or `K = 3` unknowns `n0, n1, d1` (a first-order section). `None` when the
/// system is singular or the result is not a valid squared magnitude.
#[allow(clippy::needless_range_loop)] // dense 5×5 normal equations, indexed
fn fit_ratio<const K: usize>(pts: &[(f64, f64, f64)]) -> Option<BiquadCoeffs> {
    let nn = K.div_ceil(2); // numerator unknowns: 3 or 2
    let mut coef = [0.0f64; K];
    coef[0] = 1.0;
    let den = |coef: &[f64; K], p: f64| {
        let mut d = 1.0;
        let mut pk = p;
        for c in &coef[nn..] {
            d += c * pk;
            pk *= p;
        }
        d
    };
    for _ in 0..PASSES {
        let mut m = [[0.0f64; 5]; 5];
        let mut v = [0.0f64; 5];
        for &(p, r, w) in pts {
            let wt = w / (r * den(&coef, p).abs().max(1e-12));
            let mut row = [0.0f64; 5];
            let mut pk = 1.0;
            for x in row.iter_mut().take(nn) {
                *x = pk * wt;
                pk *= p;
            }
            let mut pk = p;
            for x in row[nn..K].iter_mut() {
                *x = -r * pk * wt;
                pk *= p;
            }
            let rhs = r * wt;
            for i in 0..K {
                for j in i..K {
                    m[i][j] += row[i] * row[j];
                }
                v[i] += row[i] * rhs;
            }
        }
        for i in 0..5 {
            for j in 0..i {
                m[i][j] = m[j][i];
            }
        }
        // Unused unknowns (K = 3) get the trivial equation x = 0.
        for (i, row) in m.iter_mut().enumerate().skip(K) {
            row[i] = 1.0;
        }
        // Equilibrate (the p and p² columns are tiny at low frequencies).
        let scale: [f64; 5] = std::array::from_fn(|i| 1.0 / m[i][i].max(1e-300).sqrt());
        let ms: [[f64; 5]; 5] =
            std::array::from_fn(|i| std::array::from_fn(|j| m[i][j] * scale[i] * scale[j]));
        let vs: [f64; 5] = std::array::from_fn(|i| v[i] * scale[i]);
        let x = solve5(ms, vs)?;
        coef = std::array::from_fn(|i| x[i] * scale[i]);
    }
    let (n, d) = if K == 5 {
        ([coef[0], coef[1], coef[2]], [1.0, coef[3], coef[4]])
    } else {
        ([coef[0], coef[1], 0.0], [1.0, coef[2], 0.0])
    };
    biquad_from_squared(n, d)
}

/// Fits the correction section for `main` against the analog squared magnitude
/// `target(f_hz)` (see the module notes). `centre_hz` and `q` place the extra points
/// around the band; `resonances` are further frequencies (Hz) to check. Returns the
/// identity when none is needed or none helps, with the largest error in dB that
/// remains on the fit points.
fn fit_correction(
    main: &BiquadCoeffs,
    fs: f64,
    centre_hz: f64,
    q: f64,
    resonances: &[f64],
    target: impl Fn(f64) -> f64,
) -> (BiquadCoeffs, f64) {
    let nyquist = 0.5 * fs;
    let top = (0.95 * nyquist).min(20_000.0);
    let p_of = |f: f64| {
        let s = (PI * f / fs).sin();
        s * s
    };
    // (p, residual R, weight)
    let mut pts = [(0.0f64, 1.0f64, 1.0f64); MAX_POINTS];
    let mut n = 0;
    let push = |f: f64, pts: &mut [(f64, f64, f64); MAX_POINTS], n: &mut usize| {
        if f >= 20.0 && f <= top && *n < MAX_POINTS {
            let p = p_of(f);
            let r = target(f) / squared_at(main, p);
            if r.is_finite() && r > 0.0 {
                pts[*n] = (p, r, 1.0);
                *n += 1;
            }
        }
    };
    // Geometric grid by repeated multiplication (one `powf`, not one per point).
    let step = (top / 20.0).powf(1.0 / (GRID_POINTS - 1) as f64);
    let mut f: f64 = 20.0;
    for _ in 0..GRID_POINTS {
        push(f.min(top), &mut pts, &mut n);
        f *= step;
    }
    let half = (CENTRE_POINTS / 2) as i32;
    let spread = 1.0 + 0.75 / q;
    let step = spread.powf(1.0 / half as f64);
    let mut f = centre_hz / spread;
    for _ in 0..CENTRE_POINTS {
        push(f, &mut pts, &mut n);
        f *= step;
    }
    for &r in resonances {
        push(r, &mut pts, &mut n);
    }
    let in_band = n;
    if in_band < 6 {
        return (BiquadCoeffs::IDENTITY, f64::INFINITY);
    }
    // Largest error in dB of the main section times `c` (one logarithm: the largest
    // power ratio is found first).
    let err_db = |c: Option<&BiquadCoeffs>, pts: &[(f64, f64, f64)]| {
        let worst = pts
            .iter()
            .map(|&(p, r, _)| {
                let ratio = c.map_or(1.0, |c| squared_at(c, p)) / r;
                ratio.max(1.0 / ratio)
            })
            .fold(1.0, f64::max);
        10.0 * worst.log10()
    };
    let before = err_db(None, &pts[..in_band]);
    if before <= CORRECTION_THRESHOLD_DB {
        return (BiquadCoeffs::IDENTITY, before);
    }
    // The band edge: the residual continued from the top to Nyquist with the slope it
    // has at the top (in dB per radian), that slope fading linearly to zero at Nyquist
    // (where every digital magnitude is flat): `ln R(ω) = ln R_top + s·Δ − s·Δ²/(2·L)`,
    // `Δ = ω − ω_top`, `L = π − ω_top`.
    let w_top = 2.0 * PI * top / fs;
    let residual = |f: f64| target(f) / squared_at(main, p_of(f));
    let r_top = residual(top);
    let below = 0.99 * top;
    let slope = (r_top / residual(below)).ln() / (w_top - 2.0 * PI * below / fs);
    let span = PI - w_top;
    if r_top.is_finite() && r_top > 0.0 && slope.is_finite() && span > 0.0 {
        for k in 1..=EDGE_POINTS {
            let d = span * k as f64 / EDGE_POINTS as f64;
            let r = r_top * (slope * d - slope * d * d / (2.0 * span)).exp();
            let s = (0.5 * (w_top + d)).sin();
            if n < MAX_POINTS && r.is_finite() {
                pts[n] = (s * s, r, EDGE_WEIGHT);
                n += 1;
            }
        }
    }
    let pts = &pts[..n];

    // The full second-order fit first; where it wants a pole/zero pair on the unit
    // circle (its quadratics not positive), the first-order fit (`n2 = d2 = 0`).
    let Some(c) = fit_ratio::<5>(pts).or_else(|| fit_ratio::<3>(pts)) else {
        return (BiquadCoeffs::IDENTITY, before);
    };
    let after = err_db(Some(&c), &pts[..in_band]);
    if after < before {
        (c, after)
    } else {
        (BiquadCoeffs::IDENTITY, before)
    }
}

/// The matched-z design (Vicanek 2016, §3; Pirkle's "matched" form): analog poles
/// `(w_poles, q_poles)` and zeros `(w_zeros, q_zeros)` both mapped by `z = e^(sT)`,
/// scaled to the squared DC gain `dc_sq`. `None` when the zeros lie at or past
/// Nyquist (mapped there they would alias).
fn matched_z(
    w_poles: f64,
    q_poles: f64,
    w_zeros: f64,
    q_zeros: f64,
    dc_sq: f64,
) -> Option<BiquadCoeffs> {
    if w_zeros.is_nan() || w_zeros >= 0.98 * PI {
        return None;
    }
    let (a1, a2) = matched_poles(w_poles, q_poles);
    let (c1, c2) = matched_poles(w_zeros, q_zeros);
    let k = dc_sq.sqrt() * (1.0 + a1 + a2) / (1.0 + c1 + c2);
    let c = BiquadCoeffs {
        b0: k,
        b1: k * c1,
        b2: k * c2,
        a1,
        a2,
    };
    (c.is_stable() && k.is_finite()).then_some(c)
}

/// The better of the corrected candidates: each main section gets its own correction,
/// the one with the smaller remaining error wins.
fn best_of(
    mains: [Option<BiquadCoeffs>; 2],
    fs: f64,
    centre_hz: f64,
    q: f64,
    resonances: &[f64],
    target: impl Fn(f64) -> f64,
) -> BandCoeffs {
    let mut best = (BandCoeffs::IDENTITY, f64::INFINITY);
    for main in mains.into_iter().flatten() {
        let (correction, err) = fit_correction(&main, fs, centre_hz, q, resonances, &target);
        if err < best.1 {
            best = (BandCoeffs { main, correction }, err);
        }
        if err <= CORRECTION_THRESHOLD_DB {
            break;
        }
    }
    best.0
}

impl BandCoeffs {
    /// Passes the signal unchanged.
    pub const IDENTITY: Self = Self {
        main: BiquadCoeffs::IDENTITY,
        correction: BiquadCoeffs::IDENTITY,
    };

    /// Both sections, main first.
    pub fn sections(&self) -> [BiquadCoeffs; 2] {
        [self.main, self.correction]
    }

    /// True when the correction section is in use.
    pub fn has_correction(&self) -> bool {
        !self.correction.is_identity()
    }

    /// Magnitude in dB of both sections at `freq_hz`.
    pub fn magnitude_db(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        let main = self.main.magnitude_db(freq_hz, sample_rate);
        if self.has_correction() {
            main + self.correction.magnitude_db(freq_hz, sample_rate)
        } else {
            main
        }
    }

    /// True when both sections are stable.
    pub fn is_stable(&self) -> bool {
        self.main.is_stable() && self.correction.is_stable()
    }

    /// `1/H` of both sections: a boost turned into the matching cut.
    fn inverted(&self) -> Self {
        Self {
            main: self.main.inverted(),
            correction: if self.has_correction() {
                self.correction.inverted()
            } else {
                BiquadCoeffs::IDENTITY
            },
        }
    }

    /// Bell matched to [`super::coeffs::analog_bell_db`]: [`BiquadCoeffs::bell`] plus
    /// its correction. Cuts are the inverted boost, exactly as for the single section.
    pub fn bell(centre_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let gain_db = if gain_db.is_finite() { gain_db } else { 0.0 };
        if gain_db == 0.0 {
            return Self::IDENTITY;
        }
        let fs = sample_rate;
        let main = BiquadCoeffs::bell(centre_hz, q, gain_db.abs(), fs);
        let centre = omega(centre_hz, fs) * fs / (2.0 * PI);
        let q = sane_q(q);
        let a = shelf_a(gain_db.abs());
        let target = |f: f64| {
            let x = f / centre;
            quad_sq(1.0, a / q, 1.0, x) / quad_sq(1.0, 1.0 / (a * q), 1.0, x)
        };
        let w = 2.0 * PI * centre / fs;
        let mz = matched_z(w, a * q, w, q / a, 1.0);
        let boost = best_of([Some(main), mz], fs, centre, q, &[], target);
        if gain_db > 0.0 {
            boost
        } else {
            boost.inverted()
        }
    }

    /// Low shelf matched to [`super::coeffs::analog_low_shelf_db`]:
    /// [`BiquadCoeffs::low_shelf`] plus its correction; cuts are the inverted boost.
    pub fn low_shelf(centre_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let gain_db = if gain_db.is_finite() { gain_db } else { 0.0 };
        if gain_db == 0.0 {
            return Self::IDENTITY;
        }
        let fs = sample_rate;
        let main = BiquadCoeffs::low_shelf(centre_hz, q, gain_db.abs(), fs);
        let centre = omega(centre_hz, fs) * fs / (2.0 * PI);
        let q = sane_q(q);
        let a = shelf_a(gain_db.abs());
        let c1 = a.sqrt() / q;
        let target = |f: f64| {
            let x = f / centre;
            a * a * quad_sq(a, c1, 1.0, x) / quad_sq(1.0, c1, a, x)
        };
        let res = [centre / a.sqrt(), centre * a.sqrt()];
        let w = 2.0 * PI * centre / fs;
        let mz = matched_z(w / a.sqrt(), q, w * a.sqrt(), q, a * a);
        let boost = best_of([Some(main), mz], fs, centre, q, &res, target);
        if gain_db > 0.0 {
            boost
        } else {
            boost.inverted()
        }
    }

    /// High shelf matched to [`super::coeffs::analog_high_shelf_db`]:
    /// [`BiquadCoeffs::high_shelf`] plus its correction; a boost is the inverted cut.
    pub fn high_shelf(centre_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let gain_db = if gain_db.is_finite() { gain_db } else { 0.0 };
        if gain_db == 0.0 {
            return Self::IDENTITY;
        }
        let fs = sample_rate;
        let main = BiquadCoeffs::high_shelf(centre_hz, q, -gain_db.abs(), fs);
        let centre = omega(centre_hz, fs) * fs / (2.0 * PI);
        let q = sane_q(q);
        let a = shelf_a(-gain_db.abs());
        let c1 = a.sqrt() / q;
        let target = |f: f64| {
            let x = f / centre;
            a * a * quad_sq(1.0, c1, a, x) / quad_sq(a, c1, 1.0, x)
        };
        let res = [centre * a.sqrt(), centre / a.sqrt()];
        let w = 2.0 * PI * centre / fs;
        let mz = matched_z(w * a.sqrt(), q, w / a.sqrt(), q, 1.0);
        let cut = best_of([Some(main), mz], fs, centre, q, &res, target);
        if gain_db < 0.0 {
            cut
        } else {
            cut.inverted()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::coeffs::{analog_bell_db, analog_high_shelf_db, analog_low_shelf_db};
    use super::*;

    type Design = fn(f64, f64, f64, f64) -> BandCoeffs;
    type Analog = fn(f64, f64, f64, f64) -> f64;

    const KINDS: [(&str, Design, Analog); 3] = [
        ("bell", BandCoeffs::bell, analog_bell_db),
        ("low shelf", BandCoeffs::low_shelf, analog_low_shelf_db),
        ("high shelf", BandCoeffs::high_shelf, analog_high_shelf_db),
    ];
    const QS: [f64; 6] = [0.5, 0.707, 1.0, 2.0, 4.0, 8.0];
    const GAINS: [f64; 8] = [-18.0, -12.0, -6.0, -1.0, 1.0, 6.0, 12.0, 18.0];

    fn max_error_db(c: &BandCoeffs, fs: f64, analog: impl Fn(f64) -> f64) -> f64 {
        (0..=200)
            .map(|i| 20.0 * 1000f64.powf(i as f64 / 200.0))
            .map(|f| (c.magnitude_db(f, fs) - analog(f)).abs())
            .fold(0.0, f64::max)
    }

    /// Centres the issue bounds at 0.1 dB (≤ 2 kHz) and at 0.5 dB (up to 16 kHz).
    const LOW_CENTRES: [f64; 7] = [20.0, 50.0, 100.0, 300.0, 1000.0, 1500.0, 2000.0];
    const HIGH_CENTRES: [f64; 9] = [
        3000.0, 4000.0, 5000.0, 6500.0, 8000.0, 10_000.0, 12_000.0, 14_000.0, 16_000.0,
    ];

    /// The worst error of `kind` at `fs` over `centres` × every Q × every gain, checking
    /// stability of both sections on the way.
    fn worst(kind: usize, fs: f64, centres: &[f64]) -> (f64, f64, f64, f64) {
        let (_, design, analog) = KINDS[kind];
        let mut worst = (0.0, 0.0, 0.0, 0.0);
        for &fc in centres {
            for q in QS {
                for g in GAINS {
                    let c = design(fc, q, g, fs);
                    assert!(c.is_stable(), "{fc} Hz Q {q} {g} dB @ {fs}: {c:?}");
                    let e = max_error_db(&c, fs, |f| analog(f, fc, q, g));
                    if e > worst.0 {
                        worst = (e, fc, q, g);
                    }
                }
            }
        }
        worst
    }

    /// The issue's accuracy bounds on the full grid (centre 20 Hz – 16 kHz, Q 0.5 – 8,
    /// gain ±1 – ±18 dB), error measured at 200 log-spaced points over 20 Hz – 20 kHz:
    /// ≤ 0.1 dB for centres ≤ 2 kHz, ≤ 0.5 dB above. The bounds are the issue's own,
    /// nothing is excluded. (The running EQ's impulse response is checked against the
    /// same bounds on a subset in `eq::tests`.)
    fn full_grid_meets_the_issue_bounds(fs: f64) {
        for (kind, (name, _, _)) in KINDS.iter().enumerate() {
            let low = worst(kind, fs, &LOW_CENTRES);
            assert!(low.0 <= 0.1, "{name} ≤ 2 kHz @ {fs}: {low:?}");
            let high = worst(kind, fs, &HIGH_CENTRES);
            assert!(high.0 <= 0.5, "{name} 3–16 kHz @ {fs}: {high:?}");
        }
    }

    #[test]
    fn full_grid_at_44k1_matches_the_analog_prototypes() {
        full_grid_meets_the_issue_bounds(44_100.0);
    }

    #[test]
    fn full_grid_at_48k_matches_the_analog_prototypes() {
        full_grid_meets_the_issue_bounds(48_000.0);
    }

    #[test]
    fn full_grid_at_96k_matches_the_analog_prototypes() {
        full_grid_meets_the_issue_bounds(96_000.0);
    }

    #[test]
    fn the_correction_is_used_only_where_the_main_section_misses() {
        // Low bands at 48 kHz and nearly everything at 96 kHz stay single sections
        // (the EQ's static cost); a wide 16 kHz bell at 44.1 kHz needs the correction.
        assert!(!BandCoeffs::bell(1000.0, 1.0, 6.0, 48_000.0).has_correction());
        assert!(!BandCoeffs::low_shelf(80.0, 0.707, 6.0, 48_000.0).has_correction());
        assert!(!BandCoeffs::bell(16_000.0, 1.0, 12.0, 96_000.0).has_correction());
        assert!(BandCoeffs::bell(16_000.0, 1.0, 12.0, 44_100.0).has_correction());
        // Where unused, the band is exactly the single matched section.
        let b = BandCoeffs::bell(1000.0, 1.0, 6.0, 48_000.0);
        assert_eq!(b.main, BiquadCoeffs::bell(1000.0, 1.0, 6.0, 48_000.0));
    }

    #[test]
    fn cuts_are_the_exact_inverse_of_boosts_and_0_db_is_the_identity() {
        let fs = 44_100.0;
        for (_, design, _) in KINDS {
            for (fc, q) in [(16_000.0, 1.0), (12_000.0, 8.0), (2000.0, 0.5)] {
                let up = design(fc, q, 12.0, fs);
                let down = design(fc, q, -12.0, fs);
                for f in [100.0, 3000.0, 15_000.0, 19_000.0] {
                    // f64 rounding only.
                    let sum = up.magnitude_db(f, fs) + down.magnitude_db(f, fs);
                    assert!(sum.abs() < 1e-9, "{fc} {q} {f}: {sum}");
                }
            }
            assert_eq!(design(1000.0, 1.0, 0.0, fs), BandCoeffs::IDENTITY);
        }
    }

    #[test]
    fn extreme_parameters_stay_stable() {
        for fs in [22_050.0, 44_100.0, 192_000.0, 384_000.0] {
            for f in [1.0, 20.0, 1000.0, 18_000.0, 20_000.0, 1e6] {
                for q in [0.025, 0.1, 18.0, 100.0] {
                    for g in [-48.0, -24.0, 24.0, 48.0] {
                        for (_, design, _) in KINDS {
                            let c = design(f, q, g, fs);
                            assert!(c.is_stable(), "{f} {q} {g} @ {fs}: {c:?}");
                        }
                    }
                }
            }
        }
        assert!(BandCoeffs::bell(f64::NAN, f64::NAN, f64::NAN, 48_000.0).is_stable());
    }
}
