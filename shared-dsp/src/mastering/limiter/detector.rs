//! The limiter's true-peak detector: the signal at 16×, in two stages, and for every
//! input interval the largest absolute value on that grid.
//!
//! 1. **2×**: the value half-way between every two samples, from a Kaiser-windowed
//!    sinc of [`HALF_A`] samples each side (β = [`BETA_A`], cut-off fs/2, folded: 64
//!    products per value). Flat within 1e-5 to 0.47·fs; content between 0.47 fs and
//!    fs/2 is read lower, as every finite reconstruction reads it (−6 dB at fs/2).
//! 2. **8× of the 2× signal** (16× in all): the 2× signal lies below 0.27 of its rate
//!    and its images above 0.73, so a short windowed sinc ([`HALF_B`] 2× samples each
//!    side, β = [`BETA_B`]) interpolates it within 1e-4 (0.001 dB); its seven phases
//!    come in mirror pairs and are folded the same way.
//!
//! Why so long a first stage: a 48-tap interpolator (BS.1770's kind, flat to 0.45·fs)
//! reads full-band content, white noise driven into a limiter or clipped hats, up to
//! 1 dB below a longer reconstruction (issue 18: noise through the limiter came out at
//! −0.67 dBTP for a −1 dBTP ceiling), and an 8× grid misses up to 0.17 dB of a peak
//! near fs/2 that the 16× grid sees. With 128 taps the transition band is the last 3 %
//! below fs/2.
//!
//! Why a second, short first stage ([`HALF_S`], the loudness meter's 48-tap design)
//! beside it: content between 0.45·fs and fs/2 is not read the same by different
//! reconstructions, and not always higher by the longer one. Limited by the long one
//! alone, dense programmes read up to 0.26 dB over the ceiling through a 48-tap meter
//! (the crate's BS.1770 meter among them). The envelope is the larger of the two
//! reconstructions, each at 16× through the same 8× stage, so the output holds the
//! ceiling by both and by the filters between them (measured: 48 to 128 taps within
//! 0.02 dB). Longer reconstructions still read full-band white noise higher (0.2 dB at
//! 256 taps, 0.35 at 512): no finite detector follows them, only band-limiting the top
//! 3 % of the output would.
//!
//! The envelope written for input `n` covers the interval from input
//! `n − LATENCY` (included) to the next input: the 16 grid points from that sample on.
//! The stages are plain loops over 8 lanes, compiled twice (portable and AVX2, see
//! [`crate::cpu`]) with the same operations in the same order: the envelope is the
//! same bits in both builds and at every block size.

use crate::cpu::wide_build;
use crate::loudness::true_peak::bessel_i0;

/// Input samples on each side of the long 2× stage's half-sample point.
pub const HALF_A: usize = 64;
/// Kaiser β of the long 2× stage.
pub const BETA_A: f64 = 10.0;
/// Input samples on each side of the short 2× stage's half-sample point.
pub const HALF_S: usize = 24;
/// Kaiser β of the short 2× stage (the loudness meter's, [`crate::loudness::true_peak::KAISER_BETA`]).
pub const BETA_S: f64 = 7.5;
/// 2× samples on each side of the 8× stage's points (even, so that each input
/// interval's two 2× samples stay paired).
pub const HALF_B: usize = 6;
/// Kaiser β of the 8× stage.
pub const BETA_B: f64 = 10.0;
/// Delay of the envelope behind the input, in samples.
pub const LATENCY: usize = HALF_A + HALF_B / 2;

/// Inputs handled per pass.
const CHUNK: usize = 256;
/// Inputs kept in front of each chunk for the 2× stage.
const HIST_A: usize = 2 * HALF_A - 1;
/// 2× samples kept in front of each chunk for the 8× stage.
const HIST_B: usize = 2 * HALF_B - 1;
/// Outputs computed together (one AVX register, two SSE ones).
const LANES: usize = 8;

/// Taps of a Kaiser-windowed sinc (cut-off at half the rate) for the point `frac`
/// (0 < frac < 1) after sample `half − 1` of a window of `2·half` samples; unity DC gain.
fn windowed_sinc(frac: f64, half: usize, beta: f64) -> Vec<f64> {
    let i0_beta = bessel_i0(beta);
    let mut taps: Vec<f64> = (0..2 * half)
        .map(|j| {
            let u = j as f64 - (half as f64 - 1.0) - frac;
            let r = u / half as f64;
            let window = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0_beta;
            let x = std::f64::consts::PI * u;
            window * if u == 0.0 { 1.0 } else { x.sin() / x }
        })
        .collect();
    let dc: f64 = taps.iter().sum();
    taps.iter_mut().for_each(|t| *t /= dc);
    taps
}

/// The 16× true-peak envelope of one channel (see the module docs).
#[derive(Debug, Clone)]
pub struct Detector {
    /// Long 2× stage, folded: `a[j]` weighs `x[w + j] + x[w + 2·HALF_A − 1 − j]`.
    taps_a: [f32; HALF_A],
    /// Short 2× stage, folded the same way.
    taps_s: [f32; HALF_S],
    /// 8× stage, phases 1/8, 2/8, 3/8 and their mirrors 7/8, 6/8, 5/8, folded:
    /// symmetric and antisymmetric halves, `[pair][j]`.
    sym: [[f32; HALF_B]; 3],
    anti: [[f32; HALF_B]; 3],
    /// Phase 4/8 (its own mirror: symmetric only).
    centre: [f32; HALF_B],
    /// `HIST_A` older inputs, then up to `CHUNK` new ones.
    x: Box<[f32; HIST_A + CHUNK]>,
    /// `HIST_B` older 2× samples, then up to `2·CHUNK` new ones: the long and the
    /// short reconstruction.
    z: [Box<[f32; HIST_B + 2 * CHUNK]>; 2],
    /// The largest value from each new 2× sample to the next, of each.
    q: [Box<[f32; 2 * CHUNK]>; 2],
}

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

impl Detector {
    /// A detector at rest.
    pub fn new() -> Self {
        // Symmetric to rounding in f64; one side, as f32.
        let a = windowed_sinc(0.5, HALF_A, BETA_A);
        let taps_a: [f32; HALF_A] = std::array::from_fn(|j| a[j] as f32);
        let a = windowed_sinc(0.5, HALF_S, BETA_S);
        let taps_s: [f32; HALF_S] = std::array::from_fn(|j| a[j] as f32);
        let fold = |p: usize| {
            let t = windowed_sinc(p as f64 / 8.0, HALF_B, BETA_B);
            let mut sym = [0.0f32; HALF_B];
            let mut anti = [0.0f32; HALF_B];
            for j in 0..HALF_B {
                let (u, v) = (t[j], t[2 * HALF_B - 1 - j]);
                sym[j] = (0.5 * (u + v)) as f32;
                anti[j] = (0.5 * (u - v)) as f32;
            }
            (sym, anti)
        };
        let (s1, a1) = fold(1);
        let (s2, a2) = fold(2);
        let (s3, a3) = fold(3);
        Self {
            taps_a,
            taps_s,
            sym: [s1, s2, s3],
            anti: [a1, a2, a3],
            centre: fold(4).0,
            x: Box::new([0.0; HIST_A + CHUNK]),
            z: std::array::from_fn(|_| Box::new([0.0; HIST_B + 2 * CHUNK])),
            q: std::array::from_fn(|_| Box::new([0.0; 2 * CHUNK])),
        }
    }

    /// Clears the history.
    pub fn reset(&mut self) {
        self.x.fill(0.0);
        for z in self.z.iter_mut() {
            z.fill(0.0);
        }
    }

    wide_build! {
        /// For every sample of `input`, the largest absolute value on the 16× grid of
        /// the interval [`LATENCY`] samples earlier (see the module docs), into
        /// `envelope` (`min` of the two lengths). The input must be finite.
        pub fn process_envelope(&mut self, input: &[f32], envelope: &mut [f32])
            => process_envelope_wide, process_envelope_portable
    }

    #[inline(always)]
    fn process_envelope_portable(&mut self, input: &[f32], envelope: &mut [f32]) {
        let len = input.len().min(envelope.len());
        let mut done = 0;
        while done < len {
            let n = (len - done).min(CHUNK);
            self.x[HIST_A..HIST_A + n].copy_from_slice(&input[done..done + n]);
            let [z_long, z_short] = &mut self.z;
            half_samples(&self.x[..], &self.taps_a, 0, n, &mut z_long[HIST_B..]);
            half_samples(
                &self.x[..],
                &self.taps_s,
                HALF_A - HALF_S,
                n,
                &mut z_short[HIST_B..],
            );
            for (z, q) in self.z.iter().zip(self.q.iter_mut()) {
                fine_grid(
                    &self.sym,
                    &self.anti,
                    &self.centre,
                    &z[..HIST_B + 2 * n],
                    &mut q[..],
                );
            }
            let [q_long, q_short] = &self.q;
            let pairs = q_long[..2 * n].chunks_exact(2).zip(q_short.chunks_exact(2));
            for (e, (l, s)) in envelope[done..done + n].iter_mut().zip(pairs) {
                *e = larger(larger(l[0], l[1]), larger(s[0], s[1]));
            }
            self.x.copy_within(n..n + HIST_A, 0);
            for z in self.z.iter_mut() {
                z.copy_within(2 * n..2 * n + HIST_B, 0);
            }
            done += n;
        }
    }

    /// [`Self::process_envelope`], portable build only (tests of the reproducibility
    /// rule).
    #[cfg(test)]
    pub(crate) fn envelope_portable(&mut self, input: &[f32], envelope: &mut [f32]) {
        self.process_envelope_portable(input, envelope)
    }
}

/// A 2× stage for the `n` newest inputs of `x` (after `HIST_A` older ones), with the
/// folded half-band `taps` of `H` samples each side whose window starts `skip` samples
/// later than the long stage's: writes `z[2i]` (the input `HALF_A` samples before
/// input `i`) and `z[2i + 1]` (the point half a sample after it).
#[inline(always)]
fn half_samples<const H: usize>(x: &[f32], taps: &[f32; H], skip: usize, n: usize, z: &mut [f32]) {
    let x = &x[skip..HIST_A + n];
    let z = &mut z[..2 * n];
    // One output: `acc + c·(x + y)` over j in order (the lanes do the same).
    let one = |w: usize| {
        let mut acc = 0.0f32;
        for (j, &c) in taps.iter().enumerate() {
            acc += c * (x[w + j] + x[w + 2 * H - 1 - j]);
        }
        acc
    };
    let mut i = 0;
    // 32 outputs per pass (four independent accumulator chains: one chain of 64 adds
    // would wait on the add latency), then 8, then one at a time.
    while i + 4 * LANES <= n {
        half_block::<H, { 4 * LANES }>(x, taps, i, z);
        i += 4 * LANES;
    }
    while i + LANES <= n {
        half_block::<H, LANES>(x, taps, i, z);
        i += LANES;
    }
    for i in i..n {
        z[2 * i] = x[i + H - 1];
        z[2 * i + 1] = one(i);
    }
}

/// [`half_samples`] for the `W` outputs from `i` on, in lanes.
#[inline(always)]
fn half_block<const H: usize, const W: usize>(x: &[f32], taps: &[f32; H], i: usize, z: &mut [f32]) {
    let mut acc = [0.0f32; W];
    for (j, &c) in taps.iter().enumerate() {
        let lo = &x[i + j..i + j + W];
        let hi = &x[i + 2 * H - 1 - j..i + 2 * H - 1 - j + W];
        for l in 0..W {
            acc[l] += c * (lo[l] + hi[l]);
        }
    }
    for l in 0..W {
        z[2 * (i + l)] = x[i + l + H - 1];
        z[2 * (i + l) + 1] = acc[l];
    }
}

/// The larger of two finite values (`f32::max` also orders NaN, which keeps the
/// compiler from using the vector maximum instruction).
#[inline(always)]
fn larger(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// The 8× stage for the 2× samples after the first `HIST_B` of `z`: `q[k]` is the
/// largest absolute value from 2× sample `z[k + HALF_B − 1]` up to the next (itself and
/// 7 points).
#[inline(always)]
fn fine_grid(
    sym: &[[f32; HALF_B]; 3],
    anti: &[[f32; HALF_B]; 3],
    centre: &[f32; HALF_B],
    z: &[f32],
    q: &mut [f32],
) {
    let m = z.len() - HIST_B;
    let q = &mut q[..m];
    let mut k = 0;
    while k + LANES <= m {
        let mut a = [[0.0f32; LANES]; 3];
        let mut b = [[0.0f32; LANES]; 3];
        let mut c = [0.0f32; LANES];
        for j in 0..HALF_B {
            let lo = &z[k + j..k + j + LANES];
            let hi = &z[k + 2 * HALF_B - 1 - j..k + 2 * HALF_B - 1 - j + LANES];
            let mut s = [0.0f32; LANES];
            let mut d = [0.0f32; LANES];
            for l in 0..LANES {
                s[l] = lo[l] + hi[l];
                d[l] = lo[l] - hi[l];
            }
            for p in 0..3 {
                let (cs, ca) = (sym[p][j], anti[p][j]);
                for l in 0..LANES {
                    a[p][l] += cs * s[l];
                    b[p][l] += ca * d[l];
                }
            }
            for l in 0..LANES {
                c[l] += centre[j] * s[l];
            }
        }
        let mut v = [0.0f32; LANES];
        for l in 0..LANES {
            v[l] = larger(z[k + l + HALF_B - 1].abs(), c[l].abs());
        }
        for p in 0..3 {
            for l in 0..LANES {
                let (plus, minus) = ((a[p][l] + b[p][l]).abs(), (a[p][l] - b[p][l]).abs());
                v[l] = larger(larger(v[l], plus), minus);
            }
        }
        q[k..k + LANES].copy_from_slice(&v);
        k += LANES;
    }
    for k in k..m {
        // The lanes' operations for one 2× sample, in their order.
        let (mut a, mut b, mut c) = ([0.0f32; 3], [0.0f32; 3], 0.0f32);
        for j in 0..HALF_B {
            let (lo, hi) = (z[k + j], z[k + 2 * HALF_B - 1 - j]);
            let (s, d) = (lo + hi, lo - hi);
            for p in 0..3 {
                a[p] += sym[p][j] * s;
                b[p] += anti[p][j] * d;
            }
            c += centre[j] * s;
        }
        let mut v = larger(z[k + HALF_B - 1].abs(), c.abs());
        for p in 0..3 {
            v = larger(larger(v, (a[p] + b[p]).abs()), (a[p] - b[p]).abs());
        }
        q[k] = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct (unfolded) two-stage computation in `f64`, per input interval, with
    /// a first stage of `half` taps a side and `beta`.
    fn direct(x: &[f32], half: usize, beta: f64) -> Vec<f64> {
        let a = windowed_sinc(0.5, half, beta);
        let b: Vec<Vec<f64>> = (1..8)
            .map(|p| windowed_sinc(p as f64 / 8.0, HALF_B, BETA_B))
            .collect();
        let at = |n: isize| if n < 0 { 0.0 } else { x[n as usize] as f64 };
        // z[2m] = x[m], z[2m + 1] = the half-sample point after it.
        let z = |k: isize| {
            if k % 2 == 0 {
                at(k / 2)
            } else {
                let m = (k - 1) / 2;
                (0..2 * half)
                    .map(|j| a[j] * at(m - half as isize + 1 + j as isize))
                    .sum()
            }
        };
        (0..x.len() as isize)
            .map(|n| {
                let m = n - LATENCY as isize;
                let mut v = 0.0f64;
                for k in [2 * m, 2 * m + 1] {
                    v = v.max(z(k).abs());
                    for taps in &b {
                        let y: f64 = (0..2 * HALF_B)
                            .map(|j| taps[j] * z(k - HALF_B as isize + 1 + j as isize))
                            .sum();
                        v = v.max(y.abs());
                    }
                }
                v
            })
            .collect()
    }

    fn programme(len: usize) -> Vec<f32> {
        let mut rng = crate::rng::Pcg32::new(3, 7);
        (0..len)
            .map(|n| (n as f32 * 0.37).sin() + 2.0 * rng.next_bipolar())
            .collect()
    }

    #[test]
    fn folded_stages_match_the_direct_computation() {
        // The larger of the two reconstructions, each computed directly. Same taps, folded sums in f32: ~190 products of a signal peaking at 3 round
        // to a few 1e-7 of full scale (3e-6 relative to max(value, 1) leaves room).
        let x = programme(3000);
        let mut d = Detector::new();
        let mut got = vec![0.0f32; x.len()];
        d.process_envelope(&x, &mut got);
        let long = direct(&x, HALF_A, BETA_A);
        let short = direct(&x, HALF_S, BETA_S);
        let want = long.iter().zip(&short).map(|(a, b)| a.max(*b));
        for (n, (&g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g as f64 - w).abs() <= 3e-6 * w.max(1.0),
                "at {n}: {g} vs {w}"
            );
        }
    }

    #[test]
    fn latency_is_the_position_of_an_impulse() {
        let mut x = vec![0.0f32; 400];
        x[100] = 1.0;
        let mut env = vec![0.0f32; 400];
        Detector::new().process_envelope(&x, &mut env);
        // Exactly 1 in the interval that starts at the impulse (the sample itself; the
        // sinc is below 1 everywhere else), less everywhere else.
        assert_eq!(env[100 + LATENCY], 1.0);
        for (n, &e) in env.iter().enumerate() {
            assert!(n == 100 + LATENCY || e < 1.0, "at {n}: {e}");
        }
    }

    #[test]
    fn block_size_and_build_do_not_change_the_envelope() {
        let x = programme(5000);
        let run = |block: usize, portable: bool| {
            let mut d = Detector::new();
            let mut out = vec![0.0f32; x.len()];
            for (i, o) in x.chunks(block).zip(out.chunks_mut(block)) {
                if portable {
                    d.envelope_portable(i, o);
                } else {
                    d.process_envelope(i, o);
                }
            }
            out
        };
        // Bit-identical: the scalar tails repeat the lanes' operations in their order,
        // and the wide build is the same code (without AVX2 both are portable).
        let whole = run(4096, false);
        assert!(whole == run(1, false));
        assert!(whole == run(77, false));
        assert!(whole == run(4096, true));
        assert!(whole == run(13, true));
    }

    #[test]
    fn reads_a_tone_near_nyquist_on_the_16x_grid() {
        // 0.46·fs, amplitude 1, phases that put the crest between the 8× points: the
        // 16× grid reads it within cos(π·0.46/16) (0.036 dB) plus the filters' 1e-4.
        for phase in [0.0f64, 0.1, 0.2, 0.3] {
            let x: Vec<f32> = (0..3000)
                .map(|n| (std::f64::consts::PI * (0.92 * n as f64 + phase)).sin() as f32)
                .collect();
            let mut env = vec![0.0f32; x.len()];
            Detector::new().process_envelope(&x, &mut env);
            let floor = (std::f64::consts::PI * 0.46 / 16.0).cos() - 1e-4;
            for &e in &env[1000..2900] {
                assert!(e as f64 <= 1.0 + 1e-4, "{e}");
            }
            let peak = env[1000..2900].iter().fold(0.0f32, |m, &v| m.max(v));
            assert!(peak as f64 >= floor, "phase {phase}: {peak}");
        }
    }
}
