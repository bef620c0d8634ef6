//! The pipelined biquad cascade: stereo sections in series, run so that the CPU
//! overlaps their recursions, written once against [`Quad`] and compiled twice
//! (portable, and the wide build on CPUs that have it; [`crate::cpu::run_widest`]).
//!
//! - [`SvfSection`]: one SVF section (or two side by side) with its state, on any lane
//!   type: the unit the crossover and the imager build their pipelines from.
//! - [`Section`]: a stereo biquad section that runs as a TPT SVF while its
//!   coefficients move and in transposed direct form II while they rest, with the
//!   exact state conversion between the two (the EQ's section).
//! - [`run_wavefront`]: any number of [`Section`]s in series over a block of `f32`
//!   frames, in wavefront order, grouped two sections per [`Quad`].
//!
//! Every path does the same IEEE operations per lane in the same order as running
//! the sections one frame at a time (no fused multiply-add), so the output does not
//! depend on the CPU or on the path taken (tests in the EQ, the crossover and the
//! imager compare them bit for bit).

use super::coeffs::BiquadCoeffs;
use super::simd::{F64x2, Lanes, Quad};
use super::svf::{DirectCoeffs2, DirectLanes, SvfCoeffs, SvfCoeffs2, SvfLanes};
use crate::cpu::{run_widest, QuadKernel};

/// One SVF section on lanes `V` with its state: on an [`F64x2`], the same section on
/// both channels or two sections of one channel; on a [`Quad`], two such pairs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SvfSection<V> {
    pub(crate) coeffs: SvfLanes<V>,
    ic1: V,
    ic2: V,
}

impl<V: Lanes> SvfSection<V> {
    /// One frame through every lane.
    #[inline(always)]
    pub(crate) fn run(&mut self, x: V) -> V {
        self.coeffs.run(x, &mut self.ic1, &mut self.ic2)
    }
}

impl SvfSection<F64x2> {
    /// [`Self::run`] on two scalars (lane 0, lane 1).
    #[inline(always)]
    pub(crate) fn run_pair(&mut self, a: f64, b: f64) -> (f64, f64) {
        let [y0, y1] = self.run(F64x2::new(a, b)).to_array();
        (y0, y1)
    }

    /// Clears the state of both lanes.
    pub(crate) fn reset(&mut self) {
        self.ic1 = F64x2::default();
        self.ic2 = F64x2::default();
    }

    /// Clears lane 0, keeps lane 1.
    pub(crate) fn reset_lane0(&mut self) {
        self.ic1 = F64x2::new(0.0, self.ic1.to_array()[1]);
        self.ic2 = F64x2::new(0.0, self.ic2.to_array()[1]);
    }
}

impl<Q: Quad> SvfSection<Q> {
    /// `lo`'s sections and state in lanes 0, 1, `hi`'s in lanes 2, 3.
    #[inline(always)]
    pub(crate) fn load(isa: Q::Isa, lo: &SvfSection<F64x2>, hi: &SvfSection<F64x2>) -> Self {
        Self {
            coeffs: SvfLanes::quad(isa, &lo.coeffs, &hi.coeffs),
            ic1: Q::from_halves(isa, lo.ic1, hi.ic1),
            ic2: Q::from_halves(isa, lo.ic2, hi.ic2),
        }
    }

    /// Writes the state back (the inverse of [`Self::load`]).
    #[inline(always)]
    pub(crate) fn store(&self, lo: &mut SvfSection<F64x2>, hi: &mut SvfSection<F64x2>) {
        (lo.ic1, hi.ic1) = (self.ic1.lo(), self.ic1.hi());
        (lo.ic2, hi.ic2) = (self.ic2.lo(), self.ic2.hi());
    }
}

/// How a [`Section`] runs. While anything moves, as a TPT SVF (robust under
/// modulation); once everything rests, its state is converted exactly to transposed
/// direct form II, which computes the same transfer function with 9 instead of 15
/// operations per sample. The conversion is a 2×2 linear map per section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Structure {
    Svf,
    Direct,
}

/// One running stereo section: coefficients in both forms and the stereo state.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Section {
    /// The design.
    coeffs: BiquadCoeffs,
    /// Its SVF form (scalar, for state conversion).
    svf_scalar: SvfCoeffs,
    svf: SvfCoeffs2,
    direct: DirectCoeffs2,
    /// The state: SVF integrator states or direct-form states, per [`Structure`].
    ic1: F64x2,
    ic2: F64x2,
}

impl Section {
    /// Takes new coefficients (the state is kept, in whichever structure it is).
    pub(crate) fn set(&mut self, coeffs: &BiquadCoeffs) {
        self.coeffs = *coeffs;
        self.svf_scalar = SvfCoeffs::from_biquad(coeffs);
        self.svf = self.svf_scalar.into();
        // A design the SVF refused (unstable; never produced here) runs as the identity
        // in both forms.
        self.direct = if self.svf_scalar == SvfCoeffs::IDENTITY {
            (&BiquadCoeffs::IDENTITY).into()
        } else {
            coeffs.into()
        };
    }

    /// One frame as a TPT SVF.
    #[inline(always)]
    pub(crate) fn run_svf(&mut self, x: F64x2) -> F64x2 {
        self.svf.run(x, &mut self.ic1, &mut self.ic2)
    }

    #[inline(always)]
    fn run_direct(&mut self, x: F64x2) -> F64x2 {
        self.direct.run(x, &mut self.ic1, &mut self.ic2)
    }

    #[inline(always)]
    fn run<const DIRECT: bool>(&mut self, x: F64x2) -> F64x2 {
        if DIRECT {
            self.run_direct(x)
        } else {
            self.run_svf(x)
        }
    }

    /// Re-expresses the state for the other structure; the output continues exactly.
    pub(crate) fn convert(&mut self, to: Structure) {
        let a1 = if self.svf_scalar == SvfCoeffs::IDENTITY {
            0.0
        } else {
            self.coeffs.a1
        };
        let [l1, r1] = self.ic1.to_array();
        let [l2, r2] = self.ic2.to_array();
        let f = |s: [f64; 2]| match to {
            Structure::Svf => self.svf_scalar.direct_to_svf(a1, s),
            Structure::Direct => self.svf_scalar.svf_to_direct(a1, s),
        };
        let (l, r) = (f([l1, l2]), f([r1, r2]));
        self.ic1 = F64x2::new(l[0], r[0]);
        self.ic2 = F64x2::new(l[1], r[1]);
    }

    /// Clears the state.
    pub(crate) fn clear(&mut self) {
        self.ic1 = F64x2::default();
        self.ic2 = F64x2::default();
    }

    /// Copies the state of `other` (a working copy of this section) back.
    pub(crate) fn take_state(&mut self, other: &Section) {
        self.ic1 = other.ic1;
        self.ic2 = other.ic2;
    }

    /// The state is finite.
    pub(crate) fn is_finite(&self) -> bool {
        let [a, b] = self.ic1.add(self.ic2).to_array();
        (a + b).is_finite()
    }
}

/// Frames per pass of [`run_wavefront`] (an 8 KiB `f64x2` buffer on the stack; each
/// pass ramps every group in and out, so longer passes waste fewer steps).
const WAVEFRONT_FRAMES: usize = 512;

/// Runs `sections` in series over the frames (`right` absent: mono, in lane 0), in
/// "wavefront" order: at step `t`, section `j` processes frame `t − j`. Each frame
/// still passes the sections in order and each section sees its frames in order, so
/// the result is bit-identical to the plain frame-by-frame loop; but the sections of
/// one step are independent of each other, so the CPU overlaps them instead of waiting
/// for one long chain of dependent multiply-adds per frame (3–4× faster with ten
/// sections). Non-finite input samples count as silence. `allow_wide: false` forces
/// the portable build (tests).
pub(crate) fn run_wavefront<const DIRECT: bool>(
    sections: &mut [Section],
    left: &mut [f32],
    mut right: Option<&mut [f32]>,
    allow_wide: bool,
) {
    /// [`run_groups`] for [`run_widest`].
    struct Groups<'a, const DIRECT: bool> {
        sections: &'a mut [Section],
        buf: &'a mut [F64x2],
    }
    impl<const DIRECT: bool> QuadKernel for Groups<'_, DIRECT> {
        type Output = ();
        #[inline(always)]
        fn run<Q: Quad>(self, isa: Q::Isa) {
            run_groups::<Q, DIRECT>(isa, self.sections, self.buf);
        }
    }
    if sections.is_empty() {
        return;
    }
    let mut buf = [F64x2::default(); WAVEFRONT_FRAMES];
    let mut start = 0;
    while start < left.len() {
        let frames = (left.len() - start).min(WAVEFRONT_FRAMES);
        let l = &mut left[start..start + frames];
        match right.as_deref_mut() {
            Some(r) => {
                for ((v, &a), &b) in buf.iter_mut().zip(l.iter()).zip(&r[start..start + frames]) {
                    *v = F64x2::new(sane(a), sane(b));
                }
            }
            None => {
                for (v, &a) in buf.iter_mut().zip(l.iter()) {
                    *v = F64x2::new(sane(a), 0.0);
                }
            }
        }
        let buf = &mut buf[..frames];
        let kernel = Groups::<DIRECT> {
            sections: &mut *sections,
            buf: &mut *buf,
        };
        run_widest(kernel, allow_wide);
        match right.as_deref_mut() {
            Some(r) => {
                for ((v, a), b) in buf
                    .iter()
                    .zip(l.iter_mut())
                    .zip(r[start..start + frames].iter_mut())
                {
                    let [x, y] = v.to_array();
                    *a = x as f32;
                    *b = y as f32;
                }
            }
            None => {
                for (v, a) in buf.iter().zip(l.iter_mut()) {
                    *a = v.to_array()[0] as f32;
                }
            }
        }
        start += frames;
    }
}

/// A non-finite sample becomes silence.
#[inline(always)]
pub(crate) fn sane(x: f32) -> f64 {
    if x.is_finite() {
        x as f64
    } else {
        0.0
    }
}

/// The most section pairs run together in one group: their states and the values in
/// flight (three registers per pair) fit in the sixteen vector registers. The AVX
/// [`Quad`] is one register (four pairs); the portable one is two (three pairs, the
/// six sections that fit in the sixteen SSE registers).
const fn max_pairs<Q: Quad>() -> usize {
    if Q::REGISTERS == 1 {
        4
    } else {
        3
    }
}

/// Runs `sections` over `buf` in groups of at most `2 · max_pairs` sections, the pairs
/// spread as evenly as possible over the groups (11 → 6 + 5 with four pairs, 10 →
/// 6 + 4 with three), each group by [`run_group`].
#[inline(always)]
fn run_groups<Q: Quad, const DIRECT: bool>(
    isa: Q::Isa,
    sections: &mut [Section],
    buf: &mut [F64x2],
) {
    let pairs = sections.len().div_ceil(2);
    let groups = pairs.div_ceil(max_pairs::<Q>());
    let mut rest = &mut sections[..];
    let mut pairs_left = pairs;
    for g in 0..groups {
        let p = pairs_left.div_ceil(groups - g);
        pairs_left -= p;
        let (group, tail) = rest.split_at_mut((2 * p).min(rest.len()));
        match p {
            4 => run_group::<Q, 4, DIRECT>(isa, group, buf),
            3 => run_group::<Q, 3, DIRECT>(isa, group, buf),
            2 => run_group::<Q, 2, DIRECT>(isa, group, buf),
            _ => run_group::<Q, 1, DIRECT>(isa, group, buf),
        }
        rest = tail;
    }
}

/// `2·P − 1` or `2·P` sections in skewed order with their states held in registers,
/// two sections per [`Quad`]: pair `k` holds section `k` in its low half and section
/// `k + P` in its high half (a placeholder that is never read when there is no such
/// section). `P` independent recursions per step keep the floating-point units busy,
/// where one section alone would wait on its own feedback latency.
///
/// In the steady part every pair takes the previous step's output of pair `k − 1` as
/// it stands (section `k − 1` feeds `k`, `k − 1 + P` feeds `k + P`), and pair 0 takes
/// the next input frame and the output of section `P − 1`. Each section sees the same
/// inputs and does the same operations as frame by frame, so the output is
/// bit-identical. A single section, or fewer frames than sections, runs skewed from
/// memory.
#[inline(always)]
fn run_group<Q: Quad, const P: usize, const DIRECT: bool>(
    isa: Q::Isa,
    group: &mut [Section],
    buf: &mut [F64x2],
) {
    let g = group.len();
    let frames = buf.len();
    if g < 2 || g > 2 * P || g + 1 < 2 * P || frames < g {
        run_skewed_steps::<DIRECT>(group, buf, 0, frames + g - 1);
        return;
    }
    // Ramp in: steps 0..g−1, where the later sections have no frame yet.
    run_skewed_steps::<DIRECT>(group, buf, 0, g - 1);
    // After the ramp-in, section j's latest output is frame g − 2 − j (j ≤ g − 2).
    let zero = F64x2::default();
    let latest = |j: usize| if j + 2 <= g { buf[g - 2 - j] } else { zero };
    let placeholder = Section::default();
    let q0 = Q::from_halves(isa, zero, zero);
    let mut pipe = [q0; P];
    let mut ic1 = [q0; P];
    let mut ic2 = [q0; P];
    let mut direct = [DirectLanes::pair(isa, &placeholder.direct, &placeholder.direct); P];
    let mut svf = [SvfLanes::quad(isa, &placeholder.svf, &placeholder.svf); P];
    for k in 0..P {
        let lo = &group[k];
        let hi = group.get(k + P).unwrap_or(&placeholder);
        pipe[k] = Q::from_halves(isa, latest(k), latest(k + P));
        ic1[k] = Q::from_halves(isa, lo.ic1, hi.ic1);
        ic2[k] = Q::from_halves(isa, lo.ic2, hi.ic2);
        if DIRECT {
            direct[k] = DirectLanes::pair(isa, &lo.direct, &hi.direct);
        } else {
            svf[k] = SvfLanes::quad(isa, &lo.svf, &hi.svf);
        }
    }
    // The last section, g − 1, sits in the high half of pair g − 1 − P.
    let last = g - 1 - P;
    for t in g - 1..frames {
        let mut next = pipe;
        for k in 0..P {
            let x = if k == 0 {
                Q::with_lo_of(buf[t], pipe[P - 1])
            } else {
                pipe[k - 1]
            };
            next[k] = if DIRECT {
                direct[k].run(x, &mut ic1[k], &mut ic2[k])
            } else {
                svf[k].run(x, &mut ic1[k], &mut ic2[k])
            };
        }
        buf[t + 1 - g] = next[last].hi();
        pipe = next;
    }
    // Hand the frames still in flight back to the buffer for the ramp-out: section
    // j ≤ g − 2 last produced frame frames − 1 − j.
    for k in 0..P {
        if k + 2 <= g {
            buf[frames - 1 - k] = pipe[k].lo();
        }
        if k + P + 2 <= g {
            buf[frames - 1 - k - P] = pipe[k].hi();
        }
        group[k].ic1 = ic1[k].lo();
        group[k].ic2 = ic2[k].lo();
        if let Some(s) = group.get_mut(k + P) {
            s.ic1 = ic1[k].hi();
            s.ic2 = ic2[k].hi();
        }
    }
    // Ramp out: steps frames..frames + g − 1, the earlier sections are done.
    run_skewed_steps::<DIRECT>(group, buf, frames, frames + g - 1);
}

/// Steps `t_from..t_to` of the skewed order over a buffer with the states in memory:
/// at step `t`, section `j` processes frame `t − j`. The ramps in and out of
/// [`run_group`], and single sections.
#[inline(always)]
fn run_skewed_steps<const DIRECT: bool>(
    sections: &mut [Section],
    buf: &mut [F64x2],
    t_from: usize,
    t_to: usize,
) {
    let n = sections.len();
    let frames = buf.len();
    if n == 0 || frames == 0 {
        return;
    }
    for t in t_from..t_to {
        let lo = (t + 1).saturating_sub(n);
        let hi = t.min(frames - 1);
        if lo > hi {
            continue;
        }
        let first = t - hi;
        for (s, v) in sections[first..]
            .iter_mut()
            .zip(buf[lo..=hi].iter_mut().rev())
        {
            *v = s.run::<DIRECT>(*v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Pcg32;

    /// `n` different sections (bells, shelves, high/low-passes across the band), with
    /// a non-zero state so that the groups' loading and storing of state counts.
    fn sections(n: usize) -> Vec<Section> {
        let fs = 48_000.0;
        (0..n)
            .map(|k| {
                let f = 40.0 * 1.45f64.powi(k as i32);
                let c = match k % 4 {
                    0 => BiquadCoeffs::bell(f, 0.7 + 0.3 * k as f64, 6.0 - k as f64, fs),
                    1 => BiquadCoeffs::highpass(f, 0.707, fs),
                    2 => BiquadCoeffs::low_shelf(f, 0.9, -4.0, fs),
                    _ => BiquadCoeffs::lowpass(f.max(2000.0), 1.2, fs),
                };
                let mut s = Section::default();
                s.set(&c);
                s.ic1 = F64x2::new(0.01 * k as f64, -0.02);
                s.ic2 = F64x2::new(-0.005, 0.003 * k as f64);
                s
            })
            .collect()
    }

    /// The plain loop: every frame through every section in order.
    fn frame_by_frame<const DIRECT: bool>(
        sections: &mut [Section],
        left: &mut [f32],
        right: &mut [f32],
    ) {
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let mut v = F64x2::new(sane(*l), sane(*r));
            for s in sections.iter_mut() {
                v = s.run::<DIRECT>(v);
            }
            let [a, b] = v.to_array();
            (*l, *r) = (a as f32, b as f32);
        }
    }

    fn check<const DIRECT: bool>() {
        let mut rng = Pcg32::new(3, 9);
        for n in 1..=20 {
            // Fewer frames than sections, one group pass, and several passes.
            for frames in [1, 3, 19, 100, WAVEFRONT_FRAMES + 37, 3 * WAVEFRONT_FRAMES] {
                let left: Vec<f32> = (0..frames).map(|_| rng.next_bipolar()).collect();
                let right: Vec<f32> = (0..frames).map(|_| rng.next_bipolar()).collect();
                let mut reference = sections(n);
                let (mut l0, mut r0) = (left.clone(), right.clone());
                frame_by_frame::<DIRECT>(&mut reference, &mut l0, &mut r0);
                for allow_wide in [true, false] {
                    let mut run = sections(n);
                    let (mut l, mut r) = (left.clone(), right.clone());
                    run_wavefront::<DIRECT>(&mut run, &mut l, Some(&mut r), allow_wide);
                    let what = format!("{n} sections, {frames} frames, wide {allow_wide}");
                    assert_eq!((&l, &r), (&l0, &r0), "{what}");
                    for (a, b) in run.iter().zip(&reference) {
                        assert_eq!(a.ic1.to_array(), b.ic1.to_array(), "{what}");
                        assert_eq!(a.ic2.to_array(), b.ic2.to_array(), "{what}");
                    }
                }
            }
        }
    }

    /// The wavefront, in the wide build (where the CPU has it) and in the forced
    /// portable build, computes exactly the plain frame-by-frame loop, output and final
    /// state, for 1…20 sections (odd counts leave a placeholder lane; more than eight
    /// make several groups) and any number of frames.
    #[test]
    fn wavefront_equals_the_frame_by_frame_loop_in_both_builds() {
        check::<false>();
        check::<true>();
    }
}
