//! Running a biquad as a TPT state-variable filter, robust under modulation.
//!
//! Any stable [`BiquadCoeffs`] is realised with the linear trapezoidal state-variable
//! filter of Andrew Simper ("Linear Trapezoidal Integrated SVF", Cytomic technical
//! paper, 2013; Zavalishin, "The Art of VA Filter Design", ch. 4): two trapezoidal
//! integrators whose states are the (scaled) band-pass and low-pass signals, plus an
//! output mix `y = m0·x + m1·band + m2·low`.
//!
//! Why this structure: the states are the integrator outputs of an analog network, not
//! weighted sums of past samples that only make sense for one set of coefficients (as
//! in direct form II), so changing `g`, `k` or the mix between two samples leaves the
//! states meaningful and continuous. For `g > 0` and `k > 0` each frozen-coefficient
//! system is stable, and the mix coefficients sit outside the feedback loop, so they can
//! jump without any effect on the state at all. The tests sweep frequency, gain and Q
//! every few samples under full-scale noise and check the output stays bounded.
//!
//! Mapping a digital biquad onto it: the SVF is the bilinear transform (with
//! `s = (1/g)·(1 − z⁻¹)/(1 + z⁻¹)`) of `(c2·s² + c1·s + c0)/(s² + k·s + 1)`, so from the
//! denominator `g² = (1 + a1 + a2)/(1 − a1 + a2)`, `k = 2·(1 − a2)/((1 − a1 + a2)·g)`,
//! and from the numerator (times `a0 = 1 + g·k + g²`):
//! `c2 = (B0 − B1 + B2)/4`, `c1 = (B0 − B2)/(2g)`, `c0 = (B0 + B1 + B2)/(4g²)`.
//! The SVF's outputs give `x = (s² + ks + 1)/D`, `band = s/D`, `low = 1/D`, hence
//! `m0 = c2`, `m1 = c1 − k·c2`, `m2 = c0 − c2`.
//!
//! State is `f64`: at 384 kHz a 10 Hz pole sits 2·10⁻⁴ from z = 1, where `f32` loses
//! half of its mantissa.

use super::coeffs::BiquadCoeffs;
use super::simd::{F64x2, Lanes, Quad};
use crate::sanitize::finite_sample;

/// The coefficients of one TPT SVF section (see the module notes for the mapping).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvfCoeffs {
    /// Simper's `a1 = 1/(1 + g·(g + k))`.
    a1: f64,
    /// Simper's `a2 = g·a1`.
    a2: f64,
    /// The pre-warped integrator gain `g = tan(ω/2)` of the equivalent analog filter.
    g: f64,
    /// Output mix: input, band-pass and low-pass weights.
    m0: f64,
    m1: f64,
    m2: f64,
}

impl Default for SvfCoeffs {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl SvfCoeffs {
    /// Passes the signal unchanged (the states still run, harmlessly).
    pub const IDENTITY: Self = Self {
        a1: 1.0 / 3.0,
        a2: 1.0 / 3.0,
        g: 1.0,
        m0: 1.0,
        m1: 0.0,
        m2: 0.0,
    };

    /// The SVF realisation of `c`. A coefficient set that is not stable (never produced
    /// by this module's designs) becomes the identity rather than a runaway filter.
    pub fn from_biquad(c: &BiquadCoeffs) -> Self {
        if !c.is_stable() {
            return Self::IDENTITY;
        }
        let sum = 1.0 + c.a1 + c.a2; // > 0 inside the stability triangle
        let diff = 1.0 - c.a1 + c.a2; // > 0 likewise
        if sum <= 0.0 || diff <= 0.0 {
            return Self::IDENTITY;
        }
        let g = (sum / diff).sqrt();
        let k = 2.0 * (1.0 - c.a2) / (diff * g);
        let a0 = 1.0 + g * k + g * g;
        let (b0, b1, b2) = (c.b0 * a0, c.b1 * a0, c.b2 * a0);
        let c2 = 0.25 * (b0 - b1 + b2);
        let c1 = 0.5 * (b0 - b2) / g;
        let c0 = 0.25 * (b0 + b1 + b2) / (g * g);
        let a1 = 1.0 / (1.0 + g * (g + k));
        let out = Self {
            a1,
            a2: g * a1,
            g,
            m0: c2,
            m1: c1 - k * c2,
            m2: c0 - c2,
        };
        if [out.a1, out.a2, out.g, out.m0, out.m1, out.m2]
            .iter()
            .all(|v| v.is_finite())
        {
            out
        } else {
            Self::IDENTITY
        }
    }

    /// One sample through the section with state `(ic1, ic2)`.
    #[inline(always)]
    pub(crate) fn run(&self, x: f64, ic1: &mut f64, ic2: &mut f64) -> f64 {
        let v3 = x - *ic2;
        let v1 = self.a1 * *ic1 + self.a2 * v3;
        let v2 = *ic2 + self.g * v1;
        *ic1 = 2.0 * v1 - *ic1;
        *ic2 = 2.0 * v2 - *ic2;
        self.m0 * x + self.m1 * v1 + self.m2 * v2
    }

    /// One stereo frame through the section, both channels sharing the coefficients
    /// (written lane-wise so the compiler can use one SIMD register for the pair).
    #[inline(always)]
    #[allow(dead_code)]
    pub(crate) fn run2(&self, x: [f64; 2], ic1: &mut [f64; 2], ic2: &mut [f64; 2]) -> [f64; 2] {
        let mut y = [0.0; 2];
        for i in 0..2 {
            let v3 = x[i] - ic2[i];
            let v1 = self.a1 * ic1[i] + self.a2 * v3;
            let v2 = ic2[i] + self.g * v1;
            ic1[i] = 2.0 * v1 - ic1[i];
            ic2[i] = 2.0 * v2 - ic2[i];
            y[i] = self.m0 * x[i] + self.m1 * v1 + self.m2 * v2;
        }
        y
    }
}

impl SvfCoeffs {
    /// The state-space form of the section, `s' = A·s + B·x`, `y = C·s + D·x`, with
    /// `s = (ic1, ic2)`: returns `(A, C)` (rows of `A`, then `C`). Substituting `v3`,
    /// `v1`, `v2` of [`SvfCoeffs::run`] gives `A = [[2a1 − 1, −2a2], [2g·a1, 1 − 2g·a2]]`
    /// and, with `n1 = m1 + m2·g`, `C = [n1·a1, m2 − n1·a2]`.
    fn state_space(&self) -> ([[f64; 2]; 2], [f64; 2]) {
        let a = [
            [2.0 * self.a1 - 1.0, -2.0 * self.a2],
            [2.0 * self.g * self.a1, 1.0 - 2.0 * self.g * self.a2],
        ];
        let n1 = self.m1 + self.m2 * self.g;
        (a, [n1 * self.a1, self.m2 - n1 * self.a2])
    }

    /// The two rows that map an SVF state to the transposed-direct-form-II state of the
    /// same transfer function (denominator `1 + a1·z⁻¹ + a2·z⁻²`): both must give the
    /// same zero-input output, so `s1 = C·s` (this sample's output) and
    /// `s2 = C·A·s + a1·s1` (from `y₁ = −a1·y₀ + s2` in direct form).
    fn direct_rows(&self, df_a1: f64) -> [[f64; 2]; 2] {
        let (a, c) = self.state_space();
        let ca = [
            c[0] * a[0][0] + c[1] * a[1][0],
            c[0] * a[0][1] + c[1] * a[1][1],
        ];
        [c, [ca[0] + df_a1 * c[0], ca[1] + df_a1 * c[1]]]
    }

    /// SVF state → direct-form state (see [`Self::direct_rows`]).
    pub(crate) fn svf_to_direct(&self, df_a1: f64, ic: [f64; 2]) -> [f64; 2] {
        let m = self.direct_rows(df_a1);
        [
            m[0][0] * ic[0] + m[0][1] * ic[1],
            m[1][0] * ic[0] + m[1][1] * ic[1],
        ]
    }

    /// Direct-form state → SVF state: the inverse of [`Self::svf_to_direct`]. Any SVF
    /// state with the same first two zero-input outputs continues identically (a
    /// second-order recursion is fixed by two values), so where the map is singular (a
    /// first-order section, whose SVF has a state that never reaches the output) the
    /// least-norm solution is used.
    pub(crate) fn direct_to_svf(&self, df_a1: f64, s: [f64; 2]) -> [f64; 2] {
        let m = self.direct_rows(df_a1);
        let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
        let scale = m.iter().flatten().fold(0.0f64, |acc, v| acc.max(v.abs()));
        if det.abs() > 1e-9 * scale * scale {
            return [
                (m[1][1] * s[0] - m[0][1] * s[1]) / det,
                (m[0][0] * s[1] - m[1][0] * s[0]) / det,
            ];
        }
        // Rank one (or zero): project on the row that carries the output.
        for (row, value) in [(m[0], s[0]), (m[1], s[1])] {
            let norm = row[0] * row[0] + row[1] * row[1];
            if norm > 1e-300 {
                return [row[0] * value / norm, row[1] * value / norm];
            }
        }
        [0.0; 2]
    }
}

/// Transposed direct form II coefficients, denominator negated, one section per pair
/// of lanes: the same section in both lanes of an [`F64x2`] ([`DirectCoeffs2`]), or
/// two sections side by side in a [`Quad`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DirectLanes<V> {
    b0: V,
    b1: V,
    b2: V,
    neg_a1: V,
    neg_a2: V,
}

/// [`DirectLanes`] of one stereo section.
pub(crate) type DirectCoeffs2 = DirectLanes<F64x2>;

impl From<&BiquadCoeffs> for DirectCoeffs2 {
    fn from(c: &BiquadCoeffs) -> Self {
        Self {
            b0: F64x2::splat(c.b0),
            b1: F64x2::splat(c.b1),
            b2: F64x2::splat(c.b2),
            neg_a1: F64x2::splat(-c.a1),
            neg_a2: F64x2::splat(-c.a2),
        }
    }
}

impl<Q: Quad> DirectLanes<Q> {
    /// `lo` in lanes 0, 1, `hi` in lanes 2, 3.
    #[inline(always)]
    pub(crate) fn pair(isa: Q::Isa, lo: &DirectCoeffs2, hi: &DirectCoeffs2) -> Self {
        let q = |a, b| Q::from_halves(isa, a, b);
        Self {
            b0: q(lo.b0, hi.b0),
            b1: q(lo.b1, hi.b1),
            b2: q(lo.b2, hi.b2),
            neg_a1: q(lo.neg_a1, hi.neg_a1),
            neg_a2: q(lo.neg_a2, hi.neg_a2),
        }
    }
}

impl<V: Lanes> DirectLanes<V> {
    /// One frame, transposed direct form II: 5 multiplies and 4 adds against the
    /// SVF's 6 and 9. Used only while the coefficients stand still.
    ///
    /// `b1·x + s2` is summed first because it does not wait for `y`: the recursion
    /// `s1 → y → −a1·y → s1` is then one add, one multiply and one add (9 cycles on
    /// current x86 cores) instead of two adds after the multiply (12), and the EQ's
    /// static path is bound by that recursion. Same arithmetic otherwise.
    #[inline(always)]
    pub(crate) fn run(&self, x: V, s1: &mut V, s2: &mut V) -> V {
        let y = self.b0.mul(x).add(*s1);
        *s1 = self.b1.mul(x).add(*s2).add(self.neg_a1.mul(y));
        *s2 = self.b2.mul(x).add(self.neg_a2.mul(y));
        y
    }
}

/// [`SvfCoeffs`] one section per pair of lanes: the same section in both lanes of an
/// [`F64x2`] ([`SvfCoeffs2`], or two sections with [`SvfCoeffs2::pair`]), or two
/// stereo sections side by side in a [`Quad`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SvfLanes<V> {
    a1: V,
    a2: V,
    g: V,
    m0: V,
    m1: V,
    m2: V,
}

/// [`SvfLanes`] of one stereo section (or two sections of one channel).
pub(crate) type SvfCoeffs2 = SvfLanes<F64x2>;

impl From<SvfCoeffs> for SvfCoeffs2 {
    fn from(c: SvfCoeffs) -> Self {
        Self::pair(c, c)
    }
}

impl SvfCoeffs2 {
    /// Lane 0 runs `a`, lane 1 runs `b` (two different sections in one register).
    pub(crate) fn pair(a: SvfCoeffs, b: SvfCoeffs) -> Self {
        Self {
            a1: F64x2::new(a.a1, b.a1),
            a2: F64x2::new(a.a2, b.a2),
            g: F64x2::new(a.g, b.g),
            m0: F64x2::new(a.m0, b.m0),
            m1: F64x2::new(a.m1, b.m1),
            m2: F64x2::new(a.m2, b.m2),
        }
    }
}

impl<Q: Quad> SvfLanes<Q> {
    /// `lo` in lanes 0, 1, `hi` in lanes 2, 3.
    #[inline(always)]
    pub(crate) fn quad(isa: Q::Isa, lo: &SvfCoeffs2, hi: &SvfCoeffs2) -> Self {
        let q = |a, b| Q::from_halves(isa, a, b);
        Self {
            a1: q(lo.a1, hi.a1),
            a2: q(lo.a2, hi.a2),
            g: q(lo.g, hi.g),
            m0: q(lo.m0, hi.m0),
            m1: q(lo.m1, hi.m1),
            m2: q(lo.m2, hi.m2),
        }
    }
}

impl<V: Lanes> SvfLanes<V> {
    /// One frame through the section(s) (same arithmetic as [`SvfCoeffs::run`] in
    /// every lane).
    #[inline(always)]
    pub(crate) fn run(&self, x: V, ic1: &mut V, ic2: &mut V) -> V {
        let v3 = x.sub(*ic2);
        let v1 = self.a1.mul(*ic1).add(self.a2.mul(v3));
        let v2 = ic2.add(self.g.mul(v1));
        *ic1 = v1.add(v1).sub(*ic1);
        *ic2 = v2.add(v2).sub(*ic2);
        self.m0.mul(x).add(self.m1.mul(v1)).add(self.m2.mul(v2))
    }
}

/// One channel of a biquad filter: coefficients plus `f64` state, run as a TPT SVF.
///
/// Change the coefficients at any time with [`Biquad::set_coeffs`]; the state carries
/// over (that is the point of the structure). Typical use:
///
/// ```
/// use shared_dsp::filter::{Biquad, BiquadCoeffs, BUTTERWORTH_Q};
/// let mut hp = Biquad::new(BiquadCoeffs::highpass(100.0, BUTTERWORTH_Q, 48_000.0));
/// let y = hp.tick(0.5);
/// assert!(y.is_finite());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Biquad {
    coeffs: SvfCoeffs,
    ic1: f64,
    ic2: f64,
}

impl Biquad {
    /// A filter at rest running `coeffs`.
    pub fn new(coeffs: BiquadCoeffs) -> Self {
        Self {
            coeffs: SvfCoeffs::from_biquad(&coeffs),
            ic1: 0.0,
            ic2: 0.0,
        }
    }

    /// Replaces the coefficients, keeping the state (no click for small changes).
    #[inline]
    pub fn set_coeffs(&mut self, coeffs: &BiquadCoeffs) {
        self.coeffs = SvfCoeffs::from_biquad(coeffs);
    }

    /// Replaces the coefficients with already converted ones.
    #[inline]
    pub fn set_svf_coeffs(&mut self, coeffs: SvfCoeffs) {
        self.coeffs = coeffs;
    }

    /// Clears the state.
    #[inline]
    pub fn reset(&mut self) {
        self.ic1 = 0.0;
        self.ic2 = 0.0;
    }

    /// One sample in double precision.
    #[inline]
    pub fn process_sample(&mut self, x: f64) -> f64 {
        self.coeffs.run(x, &mut self.ic1, &mut self.ic2)
    }

    /// One `f32` sample. A non-finite input is treated as silence so the state stays
    /// finite.
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        let x = finite_sample(x) as f64;
        self.process_sample(x) as f32
    }

    /// Filters a block in place; non-finite samples are treated as silence.
    pub fn process(&mut self, block: &mut [f32]) {
        let (mut ic1, mut ic2) = (self.ic1, self.ic2);
        let c = self.coeffs;
        for s in block.iter_mut() {
            let x = finite_sample(*s) as f64;
            *s = c.run(x, &mut ic1, &mut ic2) as f32;
        }
        if ic1.is_finite() && ic2.is_finite() {
            self.ic1 = ic1;
            self.ic2 = ic2;
        } else {
            self.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: direct form I in f64, the textbook difference equation.
    fn direct_form(c: &BiquadCoeffs, input: &[f64]) -> Vec<f64> {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        input
            .iter()
            .map(|&x| {
                let y = c.b0 * x + c.b1 * x1 + c.b2 * x2 - c.a1 * y1 - c.a2 * y2;
                (x2, x1, y2, y1) = (x1, x, y1, y);
                y
            })
            .collect()
    }

    #[test]
    fn svf_realises_the_same_transfer_function_as_the_difference_equation() {
        let fs = 48_000.0;
        let designs = [
            BiquadCoeffs::bell(1000.0, 2.0, 9.0, fs),
            BiquadCoeffs::bell(15_000.0, 0.7, -12.0, fs),
            BiquadCoeffs::low_shelf(80.0, 0.707, 6.0, fs),
            BiquadCoeffs::high_shelf(12_000.0, 1.0, -6.0, fs),
            BiquadCoeffs::highpass(30.0, BUTTERWORTH_Q_TEST, fs),
            BiquadCoeffs::lowpass(18_000.0, 2.5, fs),
            BiquadCoeffs::bandpass(3000.0, 4.0, fs),
            BiquadCoeffs::highpass_first_order(100.0, fs),
            BiquadCoeffs::lowpass_first_order(5000.0, fs),
        ];
        let mut input = vec![0.0; 512];
        input[0] = 1.0;
        input[100] = -0.5;
        for c in designs {
            let reference = direct_form(&c, &input);
            let mut f = Biquad::new(c);
            for (i, (&x, &r)) in input.iter().zip(&reference).enumerate() {
                let y = f.process_sample(x);
                // Both are exact realisations of one rational function in f64; they
                // round differently, so agreement to 1e-9 (−180 dB) proves the mapping.
                assert!((y - r).abs() < 1e-9, "{c:?} sample {i}: {y} vs {r}");
            }
        }
    }

    const BUTTERWORTH_Q_TEST: f64 = std::f64::consts::FRAC_1_SQRT_2;

    #[test]
    fn unstable_coefficients_become_the_identity() {
        let bad = BiquadCoeffs {
            b0: 1.0,
            b1: 0.0,
            b2: 0.0,
            a1: -2.5,
            a2: 1.2,
        };
        assert!(!bad.is_stable());
        let mut f = Biquad::new(bad);
        assert_eq!(f.process_sample(0.25), 0.25);
    }

    #[test]
    fn non_finite_input_does_not_poison_the_state() {
        let mut f = Biquad::new(BiquadCoeffs::lowpass(100.0, 0.707, 48_000.0));
        let mut block = [1.0, f32::NAN, f32::INFINITY, 0.5];
        f.process(&mut block);
        assert!(block.iter().all(|s| s.is_finite()));
        assert!(f.tick(f32::NAN).is_finite());
    }

    #[test]
    fn converting_the_state_to_direct_form_and_back_continues_the_output_exactly() {
        // Run the SVF, convert its state to transposed direct form II, continue there,
        // convert back and continue in the SVF: the output must equal an SVF that never
        // switched. Tolerance 1e-10 (−200 dB): both are exact realisations, the 2×2
        // conversion adds a few f64 roundings.
        let fs = 48_000.0;
        for c in [
            BiquadCoeffs::bell(30.0, 8.0, 18.0, fs),
            BiquadCoeffs::bell(16_000.0, 0.5, -18.0, fs),
            BiquadCoeffs::high_shelf(8000.0, 4.0, 12.0, fs),
            BiquadCoeffs::highpass(10.0, 0.54, fs),
            BiquadCoeffs::lowpass_first_order(1000.0, fs),
        ] {
            let svf = SvfCoeffs::from_biquad(&c);
            let input: Vec<f64> = (0..600)
                .map(|n| ((n * 37 % 101) as f64 / 50.0) - 1.0)
                .collect();
            let (mut r1, mut r2) = (0.0, 0.0);
            let reference: Vec<f64> = input
                .iter()
                .map(|&x| svf.run(x, &mut r1, &mut r2))
                .collect();
            let (mut i1, mut i2) = (0.0, 0.0);
            let mut out = Vec::new();
            for &x in &input[..200] {
                out.push(svf.run(x, &mut i1, &mut i2));
            }
            let [mut s1, mut s2] = svf.svf_to_direct(c.a1, [i1, i2]);
            for &x in &input[200..400] {
                let y = c.b0 * x + s1;
                s1 = c.b1 * x - c.a1 * y + s2;
                s2 = c.b2 * x - c.a2 * y;
                out.push(y);
            }
            [i1, i2] = svf.direct_to_svf(c.a1, [s1, s2]);
            for &x in &input[400..] {
                out.push(svf.run(x, &mut i1, &mut i2));
            }
            for (n, (a, b)) in out.iter().zip(&reference).enumerate() {
                assert!((a - b).abs() < 1e-10, "{c:?} at {n}: {a} vs {b}");
            }
        }
    }
}
