//! K-weighting: the frequency weighting of ITU-R BS.1770-4 §2.1 (Annex 1, Figures 1–4,
//! Tables 1–2), a high-frequency shelf ("pre-filter", the acoustic effect of the head)
//! followed by the revised low-frequency B-curve high-pass ("RLB").
//!
//! BS.1770 publishes the coefficients at 48 kHz only. Both stages are derived here for any
//! sample rate from their analog prototypes (centre frequency, Q and gain) with the bilinear
//! transform, pre-warped at the prototype's `f0`. The prototype parameters are the ones
//! libebur128 uses (`ebur128_init_filter`; pyloudnorm parameterises the same way), fitted
//! so that at 48 kHz they reproduce the BS.1770-4 table to f64 rounding, 1e-15 (test
//! `matches_bs1770_48k_table`).
//!
//! State and coefficients are `f64`: the high-pass has its poles 0.005 from the unit
//! circle at 48 kHz (0.0003 at 384 kHz), where `f32` coefficients would move the corner.

use crate::cpu::{run_widest, QuadKernel};
use crate::filter::simd::{F64x2, Lanes, Quad};
use std::f64::consts::PI;

/// Centre frequency of the analog high-shelf prototype (BS.1770 pre-filter), Hz.
pub const PRE_FILTER_F0_HZ: f64 = 1_681.974_450_955_533;
/// High-frequency gain of the pre-filter shelf, dB.
pub const PRE_FILTER_GAIN_DB: f64 = 3.999_843_853_973_347;
/// Q of the pre-filter shelf.
pub const PRE_FILTER_Q: f64 = 0.707_175_236_955_419_6;
/// The shelf's mid-band gain is `Vh^0.49966…` (nearly √Vh), per the fitted prototype.
const PRE_FILTER_VB_EXPONENT: f64 = 0.499_666_774_154_541_6;
/// Corner frequency of the analog RLB high-pass prototype, Hz.
pub const RLB_HIGH_PASS_F0_HZ: f64 = 38.135_470_876_024_44;
/// Q of the RLB high-pass.
pub const RLB_HIGH_PASS_Q: f64 = 0.500_327_037_323_877_3;

/// One second-order stage, `H(z) = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²)`,
/// in the sign convention of BS.1770-4 Tables 1 and 2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KWeightingStage {
    /// Feed-forward coefficient of `x[n]`.
    pub b0: f64,
    /// Feed-forward coefficient of `x[n − 1]`.
    pub b1: f64,
    /// Feed-forward coefficient of `x[n − 2]`.
    pub b2: f64,
    /// Feedback coefficient of `y[n − 1]` (subtracted).
    pub a1: f64,
    /// Feedback coefficient of `y[n − 2]` (subtracted).
    pub a2: f64,
}

impl KWeightingStage {
    /// The high-shelf pre-filter (BS.1770-4 Table 1 at 48 kHz) at `sample_rate` Hz.
    ///
    /// Bilinear transform of `H(s) = (Vh s² + Vb (ω0/Q) s + ω0²) / (s² + (ω0/Q) s + ω0²)`
    /// with `K = tan(π f0 / fs)` (pre-warping at `f0`), as in libebur128 `ebur128_init_filter`.
    pub fn pre_filter(sample_rate: f64) -> Self {
        let k = (PI * PRE_FILTER_F0_HZ / sample_rate).tan();
        let vh = 10f64.powf(PRE_FILTER_GAIN_DB / 20.0);
        let vb = vh.powf(PRE_FILTER_VB_EXPONENT);
        let a0 = 1.0 + k / PRE_FILTER_Q + k * k;
        Self {
            b0: (vh + vb * k / PRE_FILTER_Q + k * k) / a0,
            b1: 2.0 * (k * k - vh) / a0,
            b2: (vh - vb * k / PRE_FILTER_Q + k * k) / a0,
            a1: 2.0 * (k * k - 1.0) / a0,
            a2: (1.0 - k / PRE_FILTER_Q + k * k) / a0,
        }
    }

    /// The RLB high-pass (BS.1770-4 Table 2 at 48 kHz) at `sample_rate` Hz.
    ///
    /// The numerator is `1 − 2z⁻¹ + z⁻²` exactly, as in the table (unity gain at Nyquist
    /// instead of the bilinear `1/(1 + K/Q + K²)` scaling: BS.1770 normalises it that way).
    pub fn rlb_high_pass(sample_rate: f64) -> Self {
        let k = (PI * RLB_HIGH_PASS_F0_HZ / sample_rate).tan();
        let a0 = 1.0 + k / RLB_HIGH_PASS_Q + k * k;
        Self {
            b0: 1.0,
            b1: -2.0,
            b2: 1.0,
            a1: 2.0 * (k * k - 1.0) / a0,
            a2: (1.0 - k / RLB_HIGH_PASS_Q + k * k) / a0,
        }
    }

    /// Magnitude response in dB at `freq_hz` for a stage running at `sample_rate`.
    pub fn magnitude_db(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        let w = 2.0 * PI * freq_hz / sample_rate;
        // z⁻¹ = e^{−jw}, z⁻² = e^{−2jw}.
        let (c1, s1) = (w.cos(), -w.sin());
        let (c2, s2) = ((2.0 * w).cos(), -(2.0 * w).sin());
        let num_re = self.b0 + self.b1 * c1 + self.b2 * c2;
        let num_im = self.b1 * s1 + self.b2 * s2;
        let den_re = 1.0 + self.a1 * c1 + self.a2 * c2;
        let den_im = self.a1 * s1 + self.a2 * s2;
        let power = (num_re * num_re + num_im * num_im) / (den_re * den_re + den_im * den_im);
        10.0 * power.log10()
    }

    /// Both poles strictly inside the unit circle (stability triangle: |a2| < 1 and
    /// |a1| < 1 + a2).
    pub fn is_stable(&self) -> bool {
        self.a2.abs() < 1.0 && self.a1.abs() < 1.0 + self.a2
    }
}

/// A non-finite input sample is measured as silence, so the filter state stays finite.
#[inline(always)]
fn sanitize(x: f32) -> f64 {
    if x.abs() <= f32::MAX {
        x as f64
    } else {
        0.0
    }
}

/// The K-weighting filter of one channel: pre-filter shelf, then RLB high-pass.
#[derive(Debug, Clone)]
pub struct KWeighting {
    sample_rate: f64,
    pre_filter: KWeightingStage,
    high_pass: KWeightingStage,
    pre_state: [f64; 4],
    high_pass_state: [f64; 4],
}

impl KWeighting {
    /// A K-weighting filter for `sample_rate` Hz (any rate above 2 × 1.7 kHz; the meter
    /// supports 22 050 to 384 000 Hz).
    pub fn new(sample_rate: f64) -> Self {
        Self {
            sample_rate,
            pre_filter: KWeightingStage::pre_filter(sample_rate),
            high_pass: KWeightingStage::rlb_high_pass(sample_rate),
            pre_state: [0.0; 4],
            high_pass_state: [0.0; 4],
        }
    }

    /// The sample rate the coefficients were derived for.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// The first stage (high shelf).
    pub fn pre_filter(&self) -> KWeightingStage {
        self.pre_filter
    }

    /// The second stage (RLB high-pass).
    pub fn rlb_high_pass(&self) -> KWeightingStage {
        self.high_pass
    }

    /// The cascade's magnitude response in dB at `freq_hz`.
    pub fn magnitude_db(&self, freq_hz: f64) -> f64 {
        self.pre_filter.magnitude_db(freq_hz, self.sample_rate)
            + self.high_pass.magnitude_db(freq_hz, self.sample_rate)
    }

    /// Both stages stable.
    pub fn is_stable(&self) -> bool {
        self.pre_filter.is_stable() && self.high_pass.is_stable()
    }

    /// Clears the filter state.
    pub fn reset(&mut self) {
        self.pre_state = [0.0; 4];
        self.high_pass_state = [0.0; 4];
    }

    /// One sample in, one K-weighted sample out.
    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        let c = LaneCoeffs::gather([&*self], |[v]| v);
        let mut s = LaneState::gather([&*self], [0.0], |[v]| v);
        let y = kweight_frame(&c, &mut s, x);
        s.scatter([self], |v| [v]);
        y
    }

    /// Filters `input` and adds the square of every K-weighted sample to `sum_of_squares`,
    /// one sample at a time (so the sum does not depend on how the signal is split into
    /// blocks). Non-finite samples count as zero.
    pub fn accumulate_squares(&mut self, input: &[f32], sum_of_squares: &mut f64) {
        let c = LaneCoeffs::gather([&*self], |[v]| v);
        let mut s = LaneState::gather([&*self], [*sum_of_squares], |[v]| v);
        for &x in input {
            kweight_frame(&c, &mut s, sanitize(x));
        }
        [*sum_of_squares] = s.scatter([self], |v| [v]);
    }

    /// [`KWeighting::accumulate_squares`] for two channels at once. The two recursions are
    /// independent, so interleaving them lets the CPU overlap their latency chains (about
    /// twice the throughput of two separate loops). `a` and `b` must be equally long;
    /// extra samples of the longer one are ignored.
    pub fn accumulate_squares_pair(
        first: &mut KWeighting,
        second: &mut KWeighting,
        a: &[f32],
        b: &[f32],
        sums_of_squares: (&mut f64, &mut f64),
    ) {
        debug_assert_eq!(a.len(), b.len());
        let pack = |[l, r]: [f64; 2]| F64x2::new(l, r);
        let c = LaneCoeffs::gather([&*first, &*second], pack);
        let sums = [*sums_of_squares.0, *sums_of_squares.1];
        let mut s = LaneState::gather([&*first, &*second], sums, pack);
        for (&xa, &xb) in a.iter().zip(b) {
            kweight_frame(&c, &mut s, F64x2::new(sanitize(xa), sanitize(xb)));
        }
        [*sums_of_squares.0, *sums_of_squares.1] = s.scatter([first, second], F64x2::to_array);
    }
}

/// The coefficients of both stages, one channel per lane (the RLB numerator is
/// `1, −2, 1` in every lane; see [`kweight_frame`]).
#[derive(Clone, Copy)]
struct LaneCoeffs<V> {
    pb0: V,
    pb1: V,
    pb2: V,
    pa1: V,
    pa2: V,
    ha1: V,
    ha2: V,
}

/// The state of both stages (`[x1, x2, y1, y2]`, `[u1, u2, z1, z2]`) and the running
/// sum of squares, one channel per lane.
#[derive(Clone, Copy)]
struct LaneState<V> {
    pre: [V; 4],
    high: [V; 4],
    acc: V,
}

impl<V: Copy> LaneCoeffs<V> {
    /// The coefficients of `filters`, one per lane (`pack` makes the register).
    #[inline(always)]
    fn gather<const N: usize>(filters: [&KWeighting; N], pack: impl Fn([f64; N]) -> V) -> Self {
        debug_assert!(filters.iter().all(|k| {
            let h = &k.high_pass;
            (h.b0, h.b1, h.b2) == (1.0, -2.0, 1.0)
        }));
        let v = |g: fn(&KWeighting) -> f64| pack(filters.map(g));
        Self {
            pb0: v(|k| k.pre_filter.b0),
            pb1: v(|k| k.pre_filter.b1),
            pb2: v(|k| k.pre_filter.b2),
            pa1: v(|k| k.pre_filter.a1),
            pa2: v(|k| k.pre_filter.a2),
            ha1: v(|k| k.high_pass.a1),
            ha2: v(|k| k.high_pass.a2),
        }
    }
}

impl<V: Copy> LaneState<V> {
    /// The state of `filters` and the sums, one per lane.
    #[inline(always)]
    fn gather<const N: usize>(
        filters: [&KWeighting; N],
        sums: [f64; N],
        pack: impl Fn([f64; N]) -> V,
    ) -> Self {
        Self {
            pre: std::array::from_fn(|k| pack(filters.map(|f| f.pre_state[k]))),
            high: std::array::from_fn(|k| pack(filters.map(|f| f.high_pass_state[k]))),
            acc: pack(sums),
        }
    }

    /// Writes the state back into `filters` and returns the sums (`unpack` reads a
    /// register's lanes).
    #[inline(always)]
    fn scatter<const N: usize>(
        &self,
        filters: [&mut KWeighting; N],
        unpack: impl Fn(V) -> [f64; N],
    ) -> [f64; N] {
        let mut filters = filters;
        for k in 0..4 {
            for (f, l) in filters.iter_mut().zip(unpack(self.pre[k])) {
                f.pre_state[k] = l;
            }
            for (f, l) in filters.iter_mut().zip(unpack(self.high[k])) {
                f.high_pass_state[k] = l;
            }
        }
        unpack(self.acc)
    }
}

/// One frame `x` through both stages (returned) and into the sum of squares, one
/// channel per lane: the one kernel of the scalar, pair and quad paths, so any lane
/// count, and either build, gives the same values.
///
/// Direct form I in `f64`: everything but `a1·y₁` is computed off the recursion, so the
/// loop-carried dependency is one multiply and one subtraction per sample (transposed
/// form II has three operations in its loop), and its state is the plain signal, which
/// cannot overflow internally. The RLB numerator is exactly `1, −2, 1`: the products by
/// 1 and −2 are exact, so they are left out (same result bit for bit, three
/// multiplications cheaper).
#[inline(always)]
fn kweight_frame<V: Lanes>(c: &LaneCoeffs<V>, s: &mut LaneState<V>, x: V) -> V {
    let [x1, x2, y1, y2] = s.pre;
    // Pre-filter: ((b0·x + b1·x1) + b2·x2) − a2·y2, then − a1·y1.
    let feed = c
        .pb0
        .mul(x)
        .add(c.pb1.mul(x1))
        .add(c.pb2.mul(x2))
        .sub(c.pa2.mul(y2));
    let y = feed.sub(c.pa1.mul(y1));
    s.pre = [x, x1, y, y1];
    let [u1, u2, z1, z2] = s.high;
    // RLB: ((y − 2·u1) + u2) − a2·z2, then − a1·z1.
    let feed = y.sub(u1.add(u1)).add(u2).sub(c.ha2.mul(z2));
    let z = feed.sub(c.ha1.mul(z1));
    s.high = [y, u1, z, z1];
    s.acc = s.acc.add(z.mul(z));
    z
}

/// [`KWeighting::accumulate_squares_pair`] for two pairs of channels at once, the four
/// filters in the lanes of one [`Quad`] (one AVX register in the wide build), running
/// [`kweight_frame`] in every lane, so the sums are those of two pair calls bit for
/// bit. Latency-bound like the pair (each lane is one recursion), it does the work of
/// two pair calls in about the time of one. `f`: the filters; `x`: their inputs
/// (equally long; extra samples of a longer one are ignored); `allow_wide: false`
/// forces the portable build (tests).
pub(crate) fn accumulate_squares_quad(
    f: [&mut KWeighting; 4],
    x: [&[f32]; 4],
    sums_of_squares: [&mut f64; 4],
    allow_wide: bool,
) {
    struct QuadRun<'a> {
        f: [&'a mut KWeighting; 4],
        x: [&'a [f32]; 4],
        sums_of_squares: [&'a mut f64; 4],
    }
    impl QuadKernel for QuadRun<'_> {
        type Output = ();
        #[inline(always)]
        fn run<Q: Quad>(self, isa: Q::Isa) {
            let Self {
                f,
                x,
                sums_of_squares,
            } = self;
            let quad =
                |v: [f64; 4]| Q::from_halves(isa, F64x2::new(v[0], v[1]), F64x2::new(v[2], v[3]));
            let lanes = |v: Q| {
                let ([a, b], [c, d]) = (v.lo().to_array(), v.hi().to_array());
                [a, b, c, d]
            };
            let n = x.iter().map(|c| c.len()).min().unwrap_or(0);
            let shared = f.each_ref().map(|k| &**k);
            let c = LaneCoeffs::gather(shared, quad);
            let sums = sums_of_squares.each_ref().map(|v| **v);
            let mut s = LaneState::gather(shared, sums, quad);
            let frames = x[0][..n]
                .iter()
                .zip(&x[1][..n])
                .zip(x[2][..n].iter().zip(&x[3][..n]));
            for ((&c0, &c1), (&c2, &c3)) in frames {
                let xi = quad([sanitize(c0), sanitize(c1), sanitize(c2), sanitize(c3)]);
                kweight_frame(&c, &mut s, xi);
            }
            let sums = s.scatter(f, lanes);
            for (sum, l) in sums_of_squares.into_iter().zip(sums) {
                *sum = l;
            }
        }
    }
    let kernel = QuadRun {
        f,
        x,
        sums_of_squares,
    };
    run_widest(kernel, allow_wide);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_bs1770_48k_table() {
        // BS.1770-4 Annex 1, Table 1 (pre-filter) and Table 2 (RLB), 48 kHz.
        let pre = KWeightingStage::pre_filter(48_000.0);
        let table_pre = [
            1.535_124_859_586_97,
            -2.691_696_189_406_38,
            1.198_392_810_852_85,
            -1.690_659_293_182_41,
            0.732_480_774_215_85,
        ];
        let rlb = KWeightingStage::rlb_high_pass(48_000.0);
        let table_rlb = [1.0, -2.0, 1.0, -1.990_047_454_833_98, 0.990_072_250_366_21];
        // The fitted prototype reproduces the table to f64 rounding (largest difference
        // 9e-16); 1e-12 leaves room for a different libm `tan`/`powf`, and is far inside
        // the 1e-6 the issue asks for (the table is printed to 14 decimals).
        for (got, want) in [pre.b0, pre.b1, pre.b2, pre.a1, pre.a2]
            .iter()
            .zip(table_pre)
            .chain(
                [rlb.b0, rlb.b1, rlb.b2, rlb.a1, rlb.a2]
                    .iter()
                    .zip(table_rlb),
            )
        {
            assert!((got - want).abs() < 1e-12, "{got} vs table {want}");
        }
    }

    #[test]
    fn response_is_nearly_rate_independent_and_stable() {
        // The analog prototype fixes the response; the bilinear transform warps it a
        // little differently at each rate. Against 48 kHz (the rate of the BS.1770 table)
        // the cascade stays within 0.07 dB from 100 Hz to 10 kHz at every supported rate
        // (the largest deviation, 0.064 dB, is at 5 kHz and 22.05 kHz; 0.03 dB at 1 kHz),
        // i.e. a 1 kHz tone reads the same loudness to 0.03 LU at any rate.
        let reference = KWeighting::new(48_000.0);
        // At 48 kHz: +0.70 dB at 1 kHz (what BS.1770's −0.691 offset cancels, to 0.007 dB
        // at 1 kHz; the offset is defined at 997 Hz) and the +4 dB shelf.
        assert!((reference.magnitude_db(1_000.0) - 0.6977).abs() < 1e-3);
        assert!((reference.magnitude_db(10_000.0) - 4.04).abs() < 0.01);
        for rate in [22_050.0, 44_100.0, 96_000.0, 192_000.0, 384_000.0] {
            let k = KWeighting::new(rate);
            assert!(k.is_stable(), "stable at {rate}");
            for freq in [100.0, 1_000.0, 5_000.0, 10_000.0] {
                let difference = k.magnitude_db(freq) - reference.magnitude_db(freq);
                assert!(
                    difference.abs() < 0.07,
                    "{rate} Hz, {freq} Hz: {difference} dB"
                );
            }
            assert!(k.magnitude_db(10.0) < -10.0, "{rate}: high-pass");
        }
    }

    #[test]
    fn measured_impulse_response_matches_coefficients() {
        // The DFT of the impulse response (8192 points, decayed to < 1e-12) against the
        // analytic magnitude: 1e-6 dB is far below any loudness resolution and above
        // f64 rounding of the DFT sum.
        let rate = 44_100.0;
        let mut k = KWeighting::new(rate);
        let n = 8192;
        let ir: Vec<f64> = (0..n)
            .map(|i| k.tick(if i == 0 { 1.0 } else { 0.0 }))
            .collect();
        for freq in [20.0, 100.0, 997.0, 5_000.0, 15_000.0] {
            let w = 2.0 * PI * freq / rate;
            let (re, im) = ir.iter().enumerate().fold((0.0, 0.0), |(re, im), (i, h)| {
                (re + h * (w * i as f64).cos(), im - h * (w * i as f64).sin())
            });
            let measured = 10.0 * (re * re + im * im).log10();
            assert!((measured - k.magnitude_db(freq)).abs() < 1e-6, "{freq} Hz");
        }
    }

    #[test]
    fn pair_equals_single_and_non_finite_recovers() {
        let input: Vec<f32> = (0..1000).map(|i| ((i as f32) * 0.37).sin()).collect();
        let mut single = KWeighting::new(48_000.0);
        let mut s = 0.0;
        single.accumulate_squares(&input, &mut s);
        let (mut a, mut b) = (KWeighting::new(48_000.0), KWeighting::new(48_000.0));
        let (mut sa, mut sb) = (0.0, 0.0);
        KWeighting::accumulate_squares_pair(&mut a, &mut b, &input, &input, (&mut sa, &mut sb));
        // Identical operations in identical order: bit-exact.
        assert_eq!(s, sa);
        assert_eq!(s, sb);
        assert_eq!(
            a.tick(0.25),
            single.tick(0.25),
            "same state after the pair run"
        );

        let mut poisoned = vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        poisoned.extend_from_slice(&input);
        let mut p = 0.0;
        let mut k = KWeighting::new(48_000.0);
        k.accumulate_squares(&poisoned, &mut p);
        assert!(p.is_finite() && p > 0.0);
        assert!(k.tick(0.5).is_finite());
    }

    #[test]
    fn quad_equals_single_bit_for_bit_in_both_builds() {
        // The wide build (where the CPU has it) and the forced portable build of the
        // four-lane kernel against one channel at a time.
        let inputs: [Vec<f32>; 4] = std::array::from_fn(|c| {
            (0..1000)
                .map(|i| ((i as f32) * (0.21 + 0.13 * c as f32)).sin())
                .collect()
        });
        for allow_wide in [true, false] {
            let mut quad: [KWeighting; 4] = std::array::from_fn(|_| KWeighting::new(48_000.0));
            let mut sums = [0.5f64; 4];
            let [q0, q1, q2, q3] = &mut quad;
            let [s0, s1, s2, s3] = &mut sums;
            let x = [&inputs[0][..], &inputs[1], &inputs[2], &inputs[3]];
            accumulate_squares_quad([q0, q1, q2, q3], x, [s0, s1, s2, s3], allow_wide);
            for c in 0..4 {
                let mut single = KWeighting::new(48_000.0);
                let mut s = 0.5;
                single.accumulate_squares(&inputs[c], &mut s);
                // Identical operations in identical order: bit-exact, state included.
                assert_eq!(sums[c], s, "channel {c}, wide allowed: {allow_wide}");
                assert_eq!(quad[c].tick(0.25), single.tick(0.25), "channel {c}");
            }
        }
    }
}
