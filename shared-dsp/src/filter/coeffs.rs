//! Second-order filter coefficients and their designs.
//!
//! [`BiquadCoeffs`] is the transfer function
//!
//! ```text
//!         b0 + b1·z⁻¹ + b2·z⁻²
//! H(z) = ----------------------
//!          1 + a1·z⁻¹ + a2·z⁻²
//! ```
//!
//! in `f64`. It knows its own magnitude response and whether it is stable; how it is
//! run (a TPT state-variable structure) lives in [`super::svf`].
//!
//! # Analog-matched designs
//!
//! The textbook bilinear transform (RBJ "Audio EQ Cookbook") squeezes the whole analog
//! frequency axis into 0…fs/2, so a bell at 16 kHz at 44.1 kHz comes out far narrower
//! and lower than the analog curve it claims to draw (about 8 dB off in places). The
//! bell, shelf, low-pass and band-pass designs here follow Martin Vicanek, "Matched
//! Second Order Digital Filters" (2016, <https://vicanek.de/articles/BiquadFits.pdf>):
//!
//! 1. the poles are the analog poles mapped exactly, `z = e^(s·T)` (impulse invariance
//!    of the denominator), so resonances sit where the analog ones do, even near
//!    Nyquist;
//! 2. the numerator is chosen by its *squared magnitude*, which for a second-order
//!    polynomial is linear in three numbers `B0, B1, B2`:
//!    `|B(e^jω)|² = B0·φ0 + B1·φ1 + B2·φ2` with `φ1 = sin²(ω/2)`, `φ0 = 1 − φ1`,
//!    `φ2 = 4·φ0·φ1` (Vicanek eq. 8–10). Matching the analog magnitude at three
//!    conditions gives `B0, B1, B2` in closed form, and a minimum-phase `b0, b1, b2`
//!    follows (Vicanek eq. 12–13, [`numerator_from_squared`]).
//!
//! Where the prototype's zeros are the sharper resonance (a cut bell, a boosting high
//! shelf, a cutting low shelf), the mirrored design is made and inverted, so the sharp
//! pair is always the one mapped exactly (Vicanek §4, "for G < 1 … swap numerator and
//! denominator").
//!
//! The analog prototypes (their magnitude functions are public, the tests compare
//! against them) are the usual constant-Q ones of the RBJ cookbook's analog forms:
//!
//! - bell: `H(s) = (s² + s·A/Q + 1) / (s² + s/(A·Q) + 1)`, `A = 10^(dB/40)`;
//! - low shelf: `H(s) = A·(s² + s·√A/Q + A) / (A·s² + s·√A/Q + 1)`;
//! - high shelf: `H(s) = A·(A·s² + s·√A/Q + 1) / (s² + s·√A/Q + A)`;
//!
//! with `s` normalised to the centre frequency. High-pass sections are the bilinear
//! transform with the cutoff pre-warped (exact −3 dB point, exact zero at DC; the
//! bilinear's only flaw, compression near Nyquist, does not touch a high-pass).

use std::f64::consts::PI;

/// The Butterworth Q of a second-order section, `1/√2`.
pub const BUTTERWORTH_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Designs keep their centre or cutoff at or below this fraction of the sample rate,
/// so an 18 kHz low-pass at 22.05 kHz or a 20 kHz bell at 44.1 kHz never lands on or
/// past Nyquist (0.49·fs: 10.8 kHz at 22.05 kHz, 21.6 kHz at 44.1 kHz).
pub const MAX_FREQ_FRACTION: f64 = 0.49;

/// The lowest design frequency, far below any audible use and above zero so that
/// logarithms and `tan` stay finite.
pub const MIN_FREQ_HZ: f64 = 1.0;

/// The lowest Q a design accepts (a Q of zero is a filter with no bandwidth limit).
pub const MIN_Q: f64 = 0.025;

/// Normalised biquad coefficients (`a0 = 1`), in double precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BiquadCoeffs {
    /// Numerator, `z⁰`.
    pub b0: f64,
    /// Numerator, `z⁻¹`.
    pub b1: f64,
    /// Numerator, `z⁻²`.
    pub b2: f64,
    /// Denominator, `z⁻¹`.
    pub a1: f64,
    /// Denominator, `z⁻²`.
    pub a2: f64,
}

impl Default for BiquadCoeffs {
    fn default() -> Self {
        Self::IDENTITY
    }
}

/// Clamps a design frequency to `[MIN_FREQ_HZ, MAX_FREQ_FRACTION·fs]` and returns it in
/// radians per sample. Non-finite inputs fall back to 1 kHz (or the clamp).
#[inline]
fn omega(freq_hz: f64, sample_rate: f64) -> f64 {
    let fs = if sample_rate.is_finite() && sample_rate > 2.0 * MIN_FREQ_HZ {
        sample_rate
    } else {
        48_000.0
    };
    let f = if freq_hz.is_finite() { freq_hz } else { 1000.0 };
    let f = f.clamp(MIN_FREQ_HZ, MAX_FREQ_FRACTION * fs);
    2.0 * PI * f / fs
}

#[inline]
fn sane_q(q: f64) -> f64 {
    if q.is_finite() {
        q.clamp(MIN_Q, 100.0)
    } else {
        BUTTERWORTH_Q
    }
}

/// `A = 10^(dB/40)`, the square root of the amplitude gain. Gains are clamped to ±48 dB.
#[inline]
fn shelf_a(gain_db: f64) -> f64 {
    let g = if gain_db.is_finite() { gain_db } else { 0.0 };
    10f64.powf(g.clamp(-48.0, 48.0) / 40.0)
}

/// `(φ0, φ1, φ2)` at `w` radians per sample (Vicanek eq. 9).
#[inline]
fn phis(w: f64) -> (f64, f64, f64) {
    let s = (0.5 * w).sin();
    let phi1 = s * s;
    let phi0 = 1.0 - phi1;
    (phi0, phi1, 4.0 * phi0 * phi1)
}

/// The denominator of an analog pole pair `s² + s·ω/Q + ω²` (ω in radians per sample)
/// mapped by `z = e^(sT)` (Vicanek eq. 5–6): returns `(a1, a2)`.
#[inline]
fn matched_poles(w: f64, q: f64) -> (f64, f64) {
    let zeta = 0.5 / q;
    let decay = (-zeta * w).exp();
    let a1 = if zeta <= 1.0 {
        -2.0 * decay * (w * (1.0 - zeta * zeta).sqrt()).cos()
    } else {
        -2.0 * decay * (w * (zeta * zeta - 1.0).sqrt()).cosh()
    };
    (a1, decay * decay)
}

/// `(A0, A1, A2)`, the squared-magnitude form of the denominator `1 + a1·z⁻¹ + a2·z⁻²`.
#[inline]
fn squared_denominator(a1: f64, a2: f64) -> (f64, f64, f64) {
    let s = 1.0 + a1 + a2;
    let d = 1.0 - a1 + a2;
    (s * s, d * d, -4.0 * a2)
}

/// A minimum-phase numerator `(b0, b1, b2)` with squared magnitude
/// `B0·φ0 + B1·φ1 + B2·φ2` (Vicanek eq. 12–13). Where no real solution exists (the
/// requested shape is not a second-order magnitude), the nearest one with real
/// coefficients is returned, never NaN.
#[inline]
pub fn numerator_from_squared(b0_sq: f64, b1_sq: f64, b2_sq: f64) -> (f64, f64, f64) {
    let s0 = b0_sq.max(0.0).sqrt();
    let s1 = b1_sq.max(0.0).sqrt();
    let w = 0.5 * (s0 + s1);
    let b0 = 0.5 * (w + (w * w + b2_sq).max(0.0).sqrt());
    let b1 = 0.5 * (s0 - s1);
    let b2 = if b0 > 0.0 { -b2_sq / (4.0 * b0) } else { 0.0 };
    (b0, b1, b2)
}

/// Magnitude in dB of `N(jx)/D(jx)` for real analog quadratics given by their squared
/// magnitudes, floored to avoid `log(0)`.
#[inline]
fn ratio_db(num_sq: f64, den_sq: f64) -> f64 {
    10.0 * (num_sq.max(1e-300) / den_sq.max(1e-300)).log10()
}

/// `|c0 + c1·s + c2·s²|²` at `s = jx`.
#[inline]
fn quad_sq(c0: f64, c1: f64, c2: f64, x: f64) -> f64 {
    let re = c0 - c2 * x * x;
    let im = c1 * x;
    re * re + im * im
}

/// Analog bell (peaking) magnitude in dB at `freq_hz` for centre `centre_hz`:
/// `H(s) = (s² + s·A/Q + 1) / (s² + s/(A·Q) + 1)`, `A = 10^(gain_db/40)`, peak gain
/// `gain_db` at the centre (RBJ cookbook, analog prototype of "peakingEQ").
pub fn analog_bell_db(freq_hz: f64, centre_hz: f64, q: f64, gain_db: f64) -> f64 {
    let a = shelf_a(gain_db);
    let q = sane_q(q);
    let x = freq_hz / centre_hz;
    ratio_db(
        quad_sq(1.0, a / q, 1.0, x),
        quad_sq(1.0, 1.0 / (a * q), 1.0, x),
    )
}

/// Analog low-shelf magnitude in dB: `H(s) = A·(s² + s·√A/Q + A) / (A·s² + s·√A/Q + 1)`
/// (RBJ cookbook analog "lowShelf"); `gain_db` at DC, 0 dB far above, `gain_db/2` at
/// the centre.
pub fn analog_low_shelf_db(freq_hz: f64, centre_hz: f64, q: f64, gain_db: f64) -> f64 {
    let a = shelf_a(gain_db);
    let q = sane_q(q);
    let x = freq_hz / centre_hz;
    let c1 = a.sqrt() / q;
    20.0 * a.log10() + ratio_db(quad_sq(a, c1, 1.0, x), quad_sq(1.0, c1, a, x))
}

/// Analog high-shelf magnitude in dB: `H(s) = A·(A·s² + s·√A/Q + 1) / (s² + s·√A/Q + A)`
/// (RBJ cookbook analog "highShelf"); 0 dB at DC, `gain_db` far above.
pub fn analog_high_shelf_db(freq_hz: f64, centre_hz: f64, q: f64, gain_db: f64) -> f64 {
    let a = shelf_a(gain_db);
    let q = sane_q(q);
    let x = freq_hz / centre_hz;
    let c1 = a.sqrt() / q;
    20.0 * a.log10() + ratio_db(quad_sq(1.0, c1, a, x), quad_sq(a, c1, 1.0, x))
}

/// Analog second-order low-pass magnitude in dB: `1 / (s² + s/Q + 1)`.
pub fn analog_lowpass_db(freq_hz: f64, cutoff_hz: f64, q: f64) -> f64 {
    let x = freq_hz / cutoff_hz;
    ratio_db(1.0, quad_sq(1.0, 1.0 / sane_q(q), 1.0, x))
}

/// Analog second-order high-pass magnitude in dB: `s² / (s² + s/Q + 1)`.
pub fn analog_highpass_db(freq_hz: f64, cutoff_hz: f64, q: f64) -> f64 {
    let x = freq_hz / cutoff_hz;
    ratio_db(x.powi(4), quad_sq(1.0, 1.0 / sane_q(q), 1.0, x))
}

/// Analog band-pass magnitude in dB, 0 dB at the centre: `(s/Q) / (s² + s/Q + 1)`.
pub fn analog_bandpass_db(freq_hz: f64, centre_hz: f64, q: f64) -> f64 {
    let q = sane_q(q);
    let x = freq_hz / centre_hz;
    ratio_db(quad_sq(0.0, 1.0 / q, 0.0, x), quad_sq(1.0, 1.0 / q, 1.0, x))
}

/// Analog Butterworth magnitude in dB of order `order` (1…8):
/// `|H|² = 1 / (1 + (f/fc)^(2n))` for the low-pass, `(f/fc)^(2n)/(1 + (f/fc)^(2n))` for
/// the high-pass.
pub fn analog_butterworth_db(freq_hz: f64, cutoff_hz: f64, order: u32, highpass: bool) -> f64 {
    let x = freq_hz / cutoff_hz;
    let x = if highpass { 1.0 / x } else { x };
    -10.0 * (1.0 + x.powi(2 * order as i32)).log10()
}

impl BiquadCoeffs {
    /// The identity: passes the signal unchanged.
    pub const IDENTITY: Self = Self {
        b0: 1.0,
        b1: 0.0,
        b2: 0.0,
        a1: 0.0,
        a2: 0.0,
    };

    /// True when this is exactly the identity.
    #[inline]
    pub fn is_identity(&self) -> bool {
        *self == Self::IDENTITY
    }

    /// The complex response `H(e^jω)` at `freq_hz`, as `(re, im)`.
    pub fn response(&self, freq_hz: f64, sample_rate: f64) -> (f64, f64) {
        let w = 2.0 * PI * freq_hz / sample_rate;
        let (c1, s1) = (w.cos(), -w.sin());
        let (c2, s2) = ((2.0 * w).cos(), -(2.0 * w).sin());
        let (nr, ni) = (
            self.b0 + self.b1 * c1 + self.b2 * c2,
            self.b1 * s1 + self.b2 * s2,
        );
        let (dr, di) = (
            1.0 + self.a1 * c1 + self.a2 * c2,
            self.a1 * s1 + self.a2 * s2,
        );
        let den = dr * dr + di * di;
        ((nr * dr + ni * di) / den, (ni * dr - nr * di) / den)
    }

    /// Magnitude response in dB at `freq_hz` (floored at −300 dB), evaluated with the
    /// squared-magnitude form (exact, and precise at low frequencies where `cos ω ≈ 1`).
    pub fn magnitude_db(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        let w = 2.0 * PI * freq_hz / sample_rate;
        let (phi0, phi1, phi2) = phis(w);
        let (n0, n1, n2) = (
            (self.b0 + self.b1 + self.b2).powi(2),
            (self.b0 - self.b1 + self.b2).powi(2),
            -4.0 * self.b0 * self.b2,
        );
        let (d0, d1, d2) = squared_denominator(self.a1, self.a2);
        let num = n0 * phi0 + n1 * phi1 + n2 * phi2;
        let den = d0 * phi0 + d1 * phi1 + d2 * phi2;
        10.0 * (num.max(1e-30) / den.max(1e-300)).log10()
    }

    /// True when both poles lie strictly inside the unit circle (the stability
    /// triangle `|a2| < 1`, `|a1| < 1 + a2`) and every coefficient is finite.
    pub fn is_stable(&self) -> bool {
        let finite = [self.b0, self.b1, self.b2, self.a1, self.a2]
            .iter()
            .all(|c| c.is_finite());
        finite && self.a2.abs() < 1.0 && self.a1.abs() < 1.0 + self.a2
    }

    /// `1/H`: numerator and denominator swapped and renormalised. Used to turn a boost
    /// into the matching cut (see the module notes). `self` must be minimum phase with
    /// `b0 ≠ 0`, which every design here is.
    fn inverted(&self) -> Self {
        let b0 = if self.b0.abs() > 1e-300 {
            self.b0
        } else {
            1e-300
        };
        Self {
            b0: 1.0 / b0,
            b1: self.a1 / b0,
            b2: self.a2 / b0,
            a1: self.b1 / b0,
            a2: self.b2 / b0,
        }
    }

    /// Bell (peaking) filter matched to [`analog_bell_db`] (Vicanek 2016, §4.4 "peaking
    /// EQ"): exact poles, unity gain at DC, the peak gain at the centre and a zero slope
    /// there. Cuts are the inverted boost (poles and zeros swap roles).
    pub fn bell(centre_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let gain_db = if gain_db.is_finite() { gain_db } else { 0.0 };
        if gain_db == 0.0 {
            return Self::IDENTITY;
        }
        let boost = Self::bell_boost(centre_hz, q, gain_db.abs(), sample_rate);
        if gain_db > 0.0 {
            boost
        } else {
            boost.inverted()
        }
    }

    fn bell_boost(centre_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let w = omega(centre_hz, sample_rate);
        let q = sane_q(q);
        let a = shelf_a(gain_db);
        let g2 = a.powi(4); // |H(ω0)|² = G² = A⁴
                            // Poles: s² + s/(A·Q) + 1, so the pole Q is A·Q.
        let (a1, a2) = matched_poles(w, a * q);
        let (a0_sq, a1_sq, a2_sq) = squared_denominator(a1, a2);
        let (phi0, phi1, phi2) = phis(w);
        // Vicanek eq. 31–34: value and derivative (in φ1) of |B|² at the centre.
        let r1 = (a0_sq * phi0 + a1_sq * phi1 + a2_sq * phi2) * g2;
        let r2 = (-a0_sq + a1_sq + 4.0 * (phi0 - phi1) * a2_sq) * g2;
        let b0_sq = a0_sq;
        let b2_sq = (r1 - r2 * phi1 - b0_sq) / (4.0 * phi1 * phi1);
        let b1_sq = r2 + b0_sq + 4.0 * (phi1 - phi0) * b2_sq;
        let (b0, b1, b2) = numerator_from_squared(b0_sq, b1_sq, b2_sq);
        Self { b0, b1, b2, a1, a2 }
    }

    /// Fits the numerator over fixed poles so that `|H|²` equals `target(ω)` at DC,
    /// at Nyquist and at `w_match` (three linear conditions on `B0, B1, B2`).
    fn fit_three_points(
        a1: f64,
        a2: f64,
        dc_sq: f64,
        nyq_sq: f64,
        w_match: f64,
        m_sq: f64,
    ) -> Self {
        let (a0_sq, a1_sq, a2_sq) = squared_denominator(a1, a2);
        let (phi0, phi1, phi2) = phis(w_match);
        let b0_sq = a0_sq * dc_sq;
        let b1_sq = a1_sq * nyq_sq;
        let den_at = a0_sq * phi0 + a1_sq * phi1 + a2_sq * phi2;
        let b2_sq = if phi2 > 1e-300 {
            (den_at * m_sq - b0_sq * phi0 - b1_sq * phi1) / phi2
        } else {
            0.0
        };
        let (b0, b1, b2) = numerator_from_squared(b0_sq, b1_sq, b2_sq);
        Self { b0, b1, b2, a1, a2 }
    }

    /// Low shelf matched to [`analog_low_shelf_db`]: exact poles, the analog magnitude
    /// at DC, at Nyquist and at the centre (Vicanek's three-point matching applied to
    /// the shelf prototype). Cuts are the inverted boost.
    pub fn low_shelf(centre_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let gain_db = if gain_db.is_finite() { gain_db } else { 0.0 };
        if gain_db == 0.0 {
            return Self::IDENTITY;
        }
        let boost = Self::low_shelf_boost(centre_hz, q, gain_db.abs(), sample_rate);
        if gain_db > 0.0 {
            boost
        } else {
            boost.inverted()
        }
    }

    /// The boosting low shelf: its poles (`ω0/√A`) are the lower, sharper-mapped pair.
    fn low_shelf_boost(centre_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let fs = sample_rate;
        let w = omega(centre_hz, fs);
        let centre = w * fs / (2.0 * PI);
        let q = sane_q(q);
        let a = shelf_a(gain_db);
        // Poles of A·s² + s·√A/Q + 1: ω = ω0/√A, same Q.
        let (a1, a2) = matched_poles(w / a.sqrt(), q);
        let target = |f: f64| 10f64.powf(analog_low_shelf_db(f, centre, q, gain_db) / 10.0);
        let nyq = target(0.5 * fs);
        let w_match = w.min(0.9 * PI);
        let m = target(w_match * fs / (2.0 * PI));
        Self::fit_three_points(a1, a2, a.powi(4), nyq, w_match, m)
    }

    /// High shelf matched to [`analog_high_shelf_db`]; a boost is the inverted cut (the
    /// cut's poles, `ω0·√A` with `A < 1`, are the lower pair and always below Nyquist).
    pub fn high_shelf(centre_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let gain_db = if gain_db.is_finite() { gain_db } else { 0.0 };
        if gain_db == 0.0 {
            return Self::IDENTITY;
        }
        let cut = Self::high_shelf_cut(centre_hz, q, -gain_db.abs(), sample_rate);
        if gain_db < 0.0 {
            cut
        } else {
            cut.inverted()
        }
    }

    fn high_shelf_cut(centre_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let fs = sample_rate;
        let w = omega(centre_hz, fs);
        let centre = w * fs / (2.0 * PI);
        let q = sane_q(q);
        let a = shelf_a(gain_db); // < 1
                                  // Poles of s² + s·√A/Q + A: ω = ω0·√A, same Q.
        let (a1, a2) = matched_poles(w * a.sqrt(), q);
        let target = |f: f64| 10f64.powf(analog_high_shelf_db(f, centre, q, gain_db) / 10.0);
        let nyq = target(0.5 * fs);
        let w_match = w.min(0.9 * PI);
        let m = target(w_match * fs / (2.0 * PI));
        Self::fit_three_points(a1, a2, 1.0, nyq, w_match, m)
    }

    /// Second-order low-pass matched to [`analog_lowpass_db`] (Vicanek 2016, §4.1):
    /// exact poles, unity gain at DC, the analog gain at Nyquist and `Q` (the analog
    /// gain) at the cutoff, so Butterworth cascades are exactly −3 dB at the cutoff.
    pub fn lowpass(cutoff_hz: f64, q: f64, sample_rate: f64) -> Self {
        let fs = sample_rate;
        let w = omega(cutoff_hz, fs);
        let cutoff = w * fs / (2.0 * PI);
        let q = sane_q(q);
        let (a1, a2) = matched_poles(w, q);
        let nyq = 10f64.powf(analog_lowpass_db(0.5 * fs, cutoff, q) / 10.0);
        Self::fit_three_points(a1, a2, 1.0, nyq, w, q * q)
    }

    /// Second-order high-pass, bilinear transform with the cutoff pre-warped (RBJ
    /// cookbook "HPF"): exact zero at DC, exact analog gain (`Q`) at the cutoff.
    pub fn highpass(cutoff_hz: f64, q: f64, sample_rate: f64) -> Self {
        let w = omega(cutoff_hz, sample_rate);
        let q = sane_q(q);
        let (sin, cos) = w.sin_cos();
        let alpha = sin / (2.0 * q);
        let a0 = 1.0 + alpha;
        let b = (1.0 + cos) / (2.0 * a0);
        Self {
            b0: b,
            b1: -2.0 * b,
            b2: b,
            a1: -2.0 * cos / a0,
            a2: (1.0 - alpha) / a0,
        }
    }

    /// Band-pass with 0 dB at the centre, matched to [`analog_bandpass_db`] (Vicanek
    /// 2016, §4.3): exact poles, a zero at DC, the analog gain at Nyquist and 0 dB at the
    /// centre.
    pub fn bandpass(centre_hz: f64, q: f64, sample_rate: f64) -> Self {
        let fs = sample_rate;
        let w = omega(centre_hz, fs);
        let centre = w * fs / (2.0 * PI);
        let q = sane_q(q);
        let (a1, a2) = matched_poles(w, q);
        let nyq = 10f64.powf(analog_bandpass_db(0.5 * fs, centre, q) / 10.0);
        Self::fit_three_points(a1, a2, 0.0, nyq, w, 1.0)
    }

    /// First-order low-pass `1/(s + 1)` matched (Vicanek-style): exact pole `e^(−ω)`,
    /// unity gain at DC and −3.01 dB (half power) at the cutoff.
    pub fn lowpass_first_order(cutoff_hz: f64, sample_rate: f64) -> Self {
        let w = omega(cutoff_hz, sample_rate);
        let p = (-w).exp();
        let (phi0, phi1, _) = phis(w);
        let den_at = (1.0 - p).powi(2) * phi0 + (1.0 + p).powi(2) * phi1;
        let sum = 1.0 - p; // b0 + b1 for unity DC gain
        let diff = ((0.5 * den_at - sum * sum * phi0) / phi1).max(0.0).sqrt();
        Self {
            b0: 0.5 * (sum + diff),
            b1: 0.5 * (sum - diff),
            b2: 0.0,
            a1: -p,
            a2: 0.0,
        }
    }

    /// First-order high-pass `s/(s + 1)`, bilinear with the cutoff pre-warped: exact zero
    /// at DC and −3.01 dB at the cutoff.
    pub fn highpass_first_order(cutoff_hz: f64, sample_rate: f64) -> Self {
        let w = omega(cutoff_hz, sample_rate);
        let k = (0.5 * w).tan();
        let a0 = 1.0 + k;
        Self {
            b0: 1.0 / a0,
            b1: -1.0 / a0,
            b2: 0.0,
            a1: (k - 1.0) / a0,
            a2: 0.0,
        }
    }

    /// The textbook bilinear bell (RBJ "Audio EQ Cookbook", peakingEQ, pre-warped
    /// centre). Kept for comparison only: near Nyquist it departs from the analog curve
    /// (the tests show by how much).
    pub fn bilinear_bell(centre_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Self {
        let w = omega(centre_hz, sample_rate);
        let a = shelf_a(gain_db);
        let q = sane_q(q);
        let (sin, cos) = w.sin_cos();
        let alpha = sin / (2.0 * q);
        let a0 = 1.0 + alpha / a;
        Self {
            b0: (1.0 + alpha * a) / a0,
            b1: -2.0 * cos / a0,
            b2: (1.0 - alpha * a) / a0,
            a1: -2.0 * cos / a0,
            a2: (1.0 - alpha / a) / a0,
        }
    }
}
