//! Loudness and true-peak metering: ITU-R BS.1770-4 and EBU R 128 (EBU Tech 3341 for
//! the meter, EBU Tech 3342 for the loudness range).
//!
//! [`LoudnessMeter`] measures, from one pass over the audio:
//!
//! - momentary loudness (400 ms window) and short-term loudness (3 s window), updated
//!   every 10 ms, and their maxima;
//! - integrated loudness (BS.1770-4 §2.2–2.3: 400 ms gating blocks with 75 % overlap,
//!   absolute gate −70 LUFS, relative gate −10 LU);
//! - loudness range (EBU Tech 3342, 2016: 3 s short-term blocks every 100 ms, i.e. the
//!   ≥ 10 Hz / ≥ 2.9 s overlap that revision requires, absolute gate −70 LUFS, relative
//!   gate −20 LU, LRA = 95th − 10th percentile, nearest rank);
//! - sample peak and true peak (BS.1770-4 Annex 2, [`TruePeakDetector`]; the largest
//!   of all channels, the LFE included) and the peak-to-loudness ratio
//!   PLR = true peak − integrated loudness.
//!
//! # Real-time use
//!
//! Everything is allocated in [`LoudnessMeter::new`]; [`LoudnessMeter::process`] never
//! allocates, locks or panics and takes any block size. Memory does not grow with time:
//! the K-weighted power is summed into 10 ms steps kept in a ring of 300 (3 s), and the
//! gating blocks of the integrated loudness and the LRA go into fixed histograms (see
//! [`histogram`]). A GUI thread reads the values through [`SharedLoudness`].
//!
//! # Timing
//!
//! Step `k` ends at sample `⌊(k + 1)·fs / 100⌋`, so at every integer rate the 100 ms hop,
//! the 400 ms and 3 s windows are exactly `fs/10`, `0.4·fs` and `3·fs` samples long
//! (±1 sample at rates that are not multiples of 100 Hz). Gating blocks end every 100 ms
//! from 400 ms on (the grid of libebur128), short-term blocks for the LRA every 100 ms
//! from 3 s on (libebur128 takes one per second, the pre-2016 rule). Momentary and
//! short-term values (and their maxima) are evaluated at every 10 ms step, so the window
//! is never more than 5 ms off a 400 ms tone burst (−0.055 LU at worst) or a 3 s one
//! (−0.007 LU), whatever its offset (EBU Tech 3341 cases 10, 11, 13 and 14). Before the
//! first window is full, the missing time counts as silence.
//!
//! # Values without a measurement
//!
//! All values are finite, for JSON and for drawing. A level of silence, or one that has
//! no measurement yet (integrated loudness before a block passed the gates), reads
//! [`NO_LEVEL`] = −200 (the crate's [`MINUS_INFINITY_DB`]); [`measured`] turns that into
//! `None`. The loudness range reads 0 LU until short-term blocks exist; PLR reads
//! [`NO_LEVEL`] while the integrated loudness does.

pub mod histogram;
pub mod kweighting;
mod shared;
pub mod streaming;
pub mod true_peak;

#[cfg(test)]
mod conformance_tests;

pub use histogram::{lufs_to_power, power_to_lufs};
pub use kweighting::{KWeighting, KWeightingStage};
pub use shared::SharedLoudness;
pub use true_peak::{TruePeakDetector, TruePeakInterpolator};

use crate::db::MINUS_INFINITY_DB;
use crate::denormal::FlushDenormals;
use histogram::BlockHistogram;

/// The value of a level that is silent or not measured yet, dB / LUFS.
pub const NO_LEVEL: f64 = MINUS_INFINITY_DB as f64;

/// `None` for [`NO_LEVEL`] (or below), the value otherwise: for JSON `null`.
pub fn measured(value: f64) -> Option<f64> {
    if value > NO_LEVEL {
        Some(value)
    } else {
        None
    }
}

/// Most channels a meter measures.
pub const MAX_CHANNELS: usize = 8;

/// Relative gate of the integrated loudness, LU (BS.1770-4 §2.3).
pub const INTEGRATED_RELATIVE_GATE_LU: f64 = -10.0;
/// Relative gate of the loudness range, LU (EBU Tech 3342).
pub const LRA_RELATIVE_GATE_LU: f64 = -20.0;
/// Lower percentile of the loudness range (EBU Tech 3342).
pub const LRA_LOW_PERCENTILE: f64 = 0.10;
/// Upper percentile of the loudness range (EBU Tech 3342).
pub const LRA_HIGH_PERCENTILE: f64 = 0.95;

/// Steps per second (10 ms steps).
const STEPS_PER_SECOND: u64 = 100;
/// Steps per 100 ms hop.
const STEPS_PER_HOP: u64 = 10;
/// Steps in the momentary window (400 ms).
const MOMENTARY_STEPS: usize = 40;
/// Steps in the short-term window (3 s), also the ring length.
const SHORT_TERM_STEPS: usize = 300;

/// Channel order and BS.1770-4 weights (Table 3: 1.0 for front and centre, 1.41 for the
/// surrounds, the LFE is not measured).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelLayout {
    /// One channel, weight 1.
    Mono,
    /// L R.
    Stereo,
    /// L R C Ls Rs (as EBU Tech 3341 case 6).
    Surround50,
    /// L R C LFE Ls Rs (SMPTE / WAV order); LFE weight 0.
    Surround51,
}

impl ChannelLayout {
    /// The layout for an interleaved file with `channels` channels: 1, 2, 5 (5.0) or
    /// 6 (5.1); `None` otherwise.
    pub fn for_channel_count(channels: usize) -> Option<Self> {
        match channels {
            1 => Some(Self::Mono),
            2 => Some(Self::Stereo),
            5 => Some(Self::Surround50),
            6 => Some(Self::Surround51),
            _ => None,
        }
    }

    /// Number of channels.
    pub fn channel_count(self) -> usize {
        self.weights().len()
    }

    /// Weight `Gᵢ` of each channel (BS.1770-4 eq. 2 and Table 3).
    pub fn weights(self) -> &'static [f64] {
        match self {
            Self::Mono => &[1.0],
            Self::Stereo => &[1.0, 1.0],
            Self::Surround50 => &[1.0, 1.0, 1.0, 1.41, 1.41],
            Self::Surround51 => &[1.0, 1.0, 1.0, 0.0, 1.41, 1.41],
        }
    }
}

/// What a meter measures besides loudness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeterOptions {
    /// Measure the true peak (the oversampling FIR is most of the meter's cost). Without
    /// it, `true_peak_dbtp` and `plr_lu` read [`NO_LEVEL`]; the sample peak is measured
    /// either way.
    pub true_peak: bool,
}

impl Default for MeterOptions {
    fn default() -> Self {
        Self { true_peak: true }
    }
}

/// Everything a meter shows, in plain units. See the module docs for [`NO_LEVEL`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoudnessReading {
    /// Momentary loudness (400 ms), LUFS.
    pub momentary_lufs: f64,
    /// Short-term loudness (3 s), LUFS.
    pub short_term_lufs: f64,
    /// Gated integrated loudness since the last reset, LUFS.
    pub integrated_lufs: f64,
    /// Largest momentary loudness since the last reset, LUFS.
    pub momentary_max_lufs: f64,
    /// Largest short-term loudness since the last reset, LUFS.
    pub short_term_max_lufs: f64,
    /// Loudness range (EBU Tech 3342), LU.
    pub lra_lu: f64,
    /// Largest absolute sample value of all channels, dBFS.
    pub sample_peak_dbfs: f64,
    /// Largest true peak of all channels, dBTP.
    pub true_peak_dbtp: f64,
    /// Peak-to-loudness ratio: true peak − integrated loudness, LU.
    pub plr_lu: f64,
}

impl LoudnessReading {
    /// The reading of a meter that has measured nothing.
    pub fn silent() -> Self {
        Self {
            momentary_lufs: NO_LEVEL,
            short_term_lufs: NO_LEVEL,
            integrated_lufs: NO_LEVEL,
            momentary_max_lufs: NO_LEVEL,
            short_term_max_lufs: NO_LEVEL,
            lra_lu: 0.0,
            sample_peak_dbfs: NO_LEVEL,
            true_peak_dbtp: NO_LEVEL,
            plr_lu: NO_LEVEL,
        }
    }
}

/// Loudness in LUFS of a mean power, floored at [`NO_LEVEL`].
fn lufs_or_floor(power: f64) -> f64 {
    if power > 0.0 {
        power_to_lufs(power).max(NO_LEVEL)
    } else {
        NO_LEVEL
    }
}

/// The BS.1770 / EBU R 128 loudness meter. See the module docs.
#[derive(Debug, Clone)]
pub struct LoudnessMeter {
    layout: ChannelLayout,
    sample_rate_hz: u64,
    filters: Box<[KWeighting]>,
    /// Channels with a non-zero weight, in order.
    measured_channels: [usize; MAX_CHANNELS],
    measured_count: usize,
    /// Σ y² of each channel in the current step.
    step_squares: [f64; MAX_CHANNELS],
    /// Index of the current step modulo 100 (its length depends on it).
    step_phase: u64,
    step_length: usize,
    step_filled: usize,
    steps_done: u64,
    /// Weighted power sums (Σ Gᵢ Σ yᵢ²) and sample counts of the last 300 steps.
    ring_power: Box<[f64]>,
    ring_samples: Box<[u32]>,
    ring_next: usize,
    momentary_power: f64,
    short_term_power: f64,
    momentary_max_power: f64,
    short_term_max_power: f64,
    gating_blocks: BlockHistogram,
    short_term_blocks: BlockHistogram,
    integrated_lufs: f64,
    lra_lu: f64,
    peaks: TruePeakDetector,
    measure_true_peak: bool,
    /// Steps between LRA blocks: 10 (10 Hz, Tech 3342 v3); 100 only in the test that
    /// compares with libebur128's 1 Hz grid.
    lra_hop_steps: u64,
}

impl LoudnessMeter {
    /// A meter with true peak for `layout` at `sample_rate` Hz. The rate is rounded to
    /// whole Hz and clamped to 8 kHz–768 kHz (supported: 22 050–384 000).
    pub fn new(sample_rate: f64, layout: ChannelLayout) -> Self {
        Self::with_options(sample_rate, layout, MeterOptions::default())
    }

    /// A meter with explicit [`MeterOptions`].
    pub fn with_options(sample_rate: f64, layout: ChannelLayout, options: MeterOptions) -> Self {
        let rate = if sample_rate.is_finite() {
            sample_rate.round().clamp(8_000.0, 768_000.0)
        } else {
            48_000.0
        };
        let channels = layout.channel_count();
        let mut measured_channels = [0; MAX_CHANNELS];
        let mut measured_count = 0;
        for (c, &w) in layout.weights().iter().enumerate() {
            if w != 0.0 {
                measured_channels[measured_count] = c;
                measured_count += 1;
            }
        }
        let factor = if options.true_peak {
            true_peak::oversampling_factor_for(rate)
        } else {
            1
        };
        let nominal_step = (rate / STEPS_PER_SECOND as f64).round() as u32;
        let mut meter = Self {
            layout,
            sample_rate_hz: rate as u64,
            filters: vec![KWeighting::new(rate); channels].into_boxed_slice(),
            measured_channels,
            measured_count,
            step_squares: [0.0; MAX_CHANNELS],
            step_phase: 0,
            step_length: 0,
            step_filled: 0,
            steps_done: 0,
            ring_power: vec![0.0; SHORT_TERM_STEPS].into_boxed_slice(),
            ring_samples: vec![nominal_step; SHORT_TERM_STEPS].into_boxed_slice(),
            ring_next: 0,
            momentary_power: 0.0,
            short_term_power: 0.0,
            momentary_max_power: 0.0,
            short_term_max_power: 0.0,
            gating_blocks: BlockHistogram::new(),
            short_term_blocks: BlockHistogram::new(),
            integrated_lufs: NO_LEVEL,
            lra_lu: 0.0,
            peaks: TruePeakDetector::with_factor(factor, channels),
            measure_true_peak: options.true_peak,
            lra_hop_steps: STEPS_PER_HOP,
        };
        meter.reset();
        meter
    }

    /// The channel layout.
    pub fn layout(&self) -> ChannelLayout {
        self.layout
    }

    /// The sample rate in use (whole Hz).
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate_hz as f64
    }

    /// Delay of the true-peak reading behind the input, samples (the loudness values have
    /// none beyond their windows).
    pub fn latency(&self) -> usize {
        self.peaks.latency()
    }

    /// The true-peak detector (per-channel peaks).
    pub fn peaks(&self) -> &TruePeakDetector {
        &self.peaks
    }

    /// Clears every measurement, as a new meter.
    pub fn reset(&mut self) {
        for f in self.filters.iter_mut() {
            f.reset();
        }
        self.step_squares = [0.0; MAX_CHANNELS];
        self.step_phase = 0;
        self.step_length = self.length_of_step(0);
        self.step_filled = 0;
        self.steps_done = 0;
        self.ring_power.fill(0.0);
        let nominal = (self.sample_rate_hz as f64 / STEPS_PER_SECOND as f64).round() as u32;
        self.ring_samples.fill(nominal);
        self.ring_next = 0;
        self.momentary_power = 0.0;
        self.short_term_power = 0.0;
        self.momentary_max_power = 0.0;
        self.short_term_max_power = 0.0;
        self.gating_blocks.reset();
        self.short_term_blocks.reset();
        self.integrated_lufs = NO_LEVEL;
        self.lra_lu = 0.0;
        self.peaks.reset();
    }

    /// Samples in step `phase` (0–99): steps end at ⌊(k + 1)·fs/100⌋.
    fn length_of_step(&self, phase: u64) -> usize {
        let rate = self.sample_rate_hz;
        (((phase + 1) * rate) / STEPS_PER_SECOND - (phase * rate) / STEPS_PER_SECOND) as usize
    }

    /// Measures one block: one slice per channel in the layout's order, all of the same
    /// length (checked in debug builds; in release builds extra slices are ignored,
    /// missing channels count as silence and the shortest length is used). Any block
    /// length; never allocates.
    pub fn process(&mut self, channels: &[&[f32]]) {
        let _flush = FlushDenormals::new();
        let present = channels.len().min(self.filters.len());
        debug_assert_eq!(channels.len(), self.filters.len(), "channel count");
        let channels = &channels[..present];
        let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        self.peaks.process(channels);

        let mut position = 0;
        while position < frames {
            let n = (frames - position).min(self.step_length - self.step_filled);
            let end = position + n;
            if cfg!(debug_assertions) {
                // Unoptimised builds (the tests) run the scalar form: the same result bit
                // for bit (`pair_equals_single_and_non_finite_recovers`), while intrinsics
                // that are not inlined make the paired form ~8× slower there.
                for &c in &self.measured_channels[..self.measured_count] {
                    if c < present {
                        self.filters[c].accumulate_squares(
                            &channels[c][position..end],
                            &mut self.step_squares[c],
                        );
                    }
                }
            } else {
                self.filter_pairs(channels, present, position, end);
            }
            self.step_filled += n;
            position = end;
            if self.step_filled == self.step_length {
                self.finish_step();
            }
        }
    }

    /// Measures a block on each of two stereo meters: the same as `first.process(a)`
    /// then `second.process(b)`, value for value. When both are stereo, at the same
    /// rate and on the same step grid (e.g. reset together and fed equally long blocks,
    /// as a chain's input and output meters are), the four channels' K-weighting runs
    /// as one four-lane kernel ([`kweighting::accumulate_squares_quad`]; one AVX
    /// register in the wide build), about the cost of one meter's; otherwise the meters
    /// run one after the other.
    pub fn process_two(
        first: &mut LoudnessMeter,
        a: &[&[f32]],
        second: &mut LoudnessMeter,
        b: &[&[f32]],
    ) {
        // Unoptimised builds (the tests) keep the scalar path, as `process` does.
        Self::process_two_with(first, a, second, b, !cfg!(debug_assertions));
    }

    /// [`Self::process_two`]; `allow_quad` permits the four-lane path (tests force it).
    fn process_two_with(
        first: &mut LoudnessMeter,
        a: &[&[f32]],
        second: &mut LoudnessMeter,
        b: &[&[f32]],
        allow_quad: bool,
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            let frames = a.iter().chain(b).map(|c| c.len()).min().unwrap_or(0);
            let same_grid = |m: &LoudnessMeter| {
                m.layout == ChannelLayout::Stereo
                    && m.sample_rate_hz == first.sample_rate_hz
                    && m.step_phase == first.step_phase
                    && m.step_filled == first.step_filled
            };
            let fits = a.len() == 2
                && b.len() == 2
                && a.iter().chain(b).all(|c| c.len() == frames)
                && same_grid(first)
                && same_grid(second)
                && allow_quad;
            if fits {
                let _flush = FlushDenormals::new();
                first.peaks.process(a);
                second.peaks.process(b);
                let mut position = 0;
                while position < frames {
                    let n = (frames - position).min(first.step_length - first.step_filled);
                    let end = position + n;
                    Self::filter_quad(first, second, a, b, position, end);
                    for m in [&mut *first, &mut *second] {
                        m.step_filled += n;
                        if m.step_filled == m.step_length {
                            m.finish_step();
                        }
                    }
                    position = end;
                }
                return;
            }
        }
        first.process(a);
        second.process(b);
    }

    /// The four channels of two stereo meters through
    /// [`kweighting::accumulate_squares_quad`].
    #[cfg(target_arch = "x86_64")]
    fn filter_quad(
        first: &mut LoudnessMeter,
        second: &mut LoudnessMeter,
        a: &[&[f32]],
        b: &[&[f32]],
        position: usize,
        end: usize,
    ) {
        let [f0, f1] = &mut first.filters[..] else {
            return;
        };
        let [g0, g1] = &mut second.filters[..] else {
            return;
        };
        let [s0, s1, ..] = &mut first.step_squares;
        let [t0, t1, ..] = &mut second.step_squares;
        let r = position..end;
        let x = [
            &a[0][r.clone()],
            &a[1][r.clone()],
            &b[0][r.clone()],
            &b[1][r],
        ];
        kweighting::accumulate_squares_quad([f0, f1, g0, g1], x, [s0, s1, t0, t1], true);
    }

    /// K-weights `channels[..][position..end]` into the step sums, two channels at a time
    /// (see [`KWeighting::accumulate_squares_pair`]).
    fn filter_pairs(&mut self, channels: &[&[f32]], present: usize, position: usize, end: usize) {
        let mut k = 0;
        while k < self.measured_count {
            let c = self.measured_channels[k];
            if c >= present {
                break;
            }
            let next = if k + 1 < self.measured_count {
                Some(self.measured_channels[k + 1]).filter(|&d| d < present)
            } else {
                None
            };
            match next {
                Some(d) => {
                    let (lo, hi) = self.filters.split_at_mut(d);
                    let (sc, sd) = {
                        let (a, b) = self.step_squares.split_at_mut(d);
                        (&mut a[c], &mut b[0])
                    };
                    KWeighting::accumulate_squares_pair(
                        &mut lo[c],
                        &mut hi[0],
                        &channels[c][position..end],
                        &channels[d][position..end],
                        (sc, sd),
                    );
                    k += 2;
                }
                None => {
                    self.filters[c]
                        .accumulate_squares(&channels[c][position..end], &mut self.step_squares[c]);
                    k += 1;
                }
            }
        }
    }

    /// Weighted power sum and sample count of the last `steps` steps of the ring.
    fn window(&self, steps: usize) -> (f64, u64) {
        let (mut power, mut samples) = (0.0, 0u64);
        let steps = steps.min(self.ring_power.len());
        // Newest first: ring_next − 1 down to 0, then from the end of the ring down
        // (the ring order, without a division per step).
        let (head, tail) = self.ring_power.split_at(self.ring_next);
        let (head_n, tail_n) = self.ring_samples.split_at(self.ring_next);
        let from_head = steps.min(head.len());
        let newest = head.iter().zip(head_n).rev().take(from_head);
        let wrapped = tail.iter().zip(tail_n).rev().take(steps - from_head);
        for (&p, &n) in newest.chain(wrapped) {
            power += p;
            samples += n as u64;
        }
        (power, samples)
    }

    fn finish_step(&mut self) {
        let weights = self.layout.weights();
        let mut power = 0.0;
        for (squares, &w) in self.step_squares.iter_mut().zip(weights) {
            power += w * *squares;
            *squares = 0.0;
        }
        let len = self.ring_power.len();
        self.ring_power[self.ring_next] = power;
        self.ring_samples[self.ring_next] = self.step_length as u32;
        self.ring_next = (self.ring_next + 1) % len;
        self.steps_done += 1;

        let (m_power, m_samples) = self.window(MOMENTARY_STEPS);
        let (s_power, s_samples) = self.window(SHORT_TERM_STEPS);
        self.momentary_power = m_power / m_samples.max(1) as f64;
        self.short_term_power = s_power / s_samples.max(1) as f64;
        self.momentary_max_power = self.momentary_max_power.max(self.momentary_power);
        self.short_term_max_power = self.short_term_max_power.max(self.short_term_power);

        if self.steps_done.is_multiple_of(STEPS_PER_HOP)
            && self.steps_done >= MOMENTARY_STEPS as u64
        {
            self.gating_blocks.add(self.momentary_power);
            self.integrated_lufs = self.compute_integrated();
        }
        if let Some(since) = self.steps_done.checked_sub(SHORT_TERM_STEPS as u64) {
            if since.is_multiple_of(self.lra_hop_steps) {
                self.short_term_blocks.add(self.short_term_power);
                self.lra_lu = self.compute_lra();
            }
        }

        self.step_phase = (self.step_phase + 1) % STEPS_PER_SECOND;
        self.step_length = self.length_of_step(self.step_phase);
        self.step_filled = 0;
    }

    /// BS.1770-4 eq. 7–8 from the gating-block histogram.
    fn compute_integrated(&self) -> f64 {
        Self::integrated_of(self.gating_blocks.gate(INTEGRATED_RELATIVE_GATE_LU))
    }

    fn integrated_of(gated: Option<histogram::GatedBlocks>) -> f64 {
        match gated {
            Some(g) if g.count > 0 => lufs_or_floor(g.power_sum / g.count as f64),
            _ => NO_LEVEL,
        }
    }

    /// The integrated loudness of several programmes taken together (an album's
    /// loudness): the BS.1770-4 gates applied to the gating blocks of all of them, as
    /// if they were one programme (without blocks spanning two of them). LUFS,
    /// [`NO_LEVEL`] if no block passed the gates. No allocation.
    pub fn combined_integrated_lufs(meters: &[&LoudnessMeter]) -> f64 {
        let histograms = meters.iter().map(|m| &m.gating_blocks);
        Self::integrated_of(BlockHistogram::gate_combined(
            histograms,
            INTEGRATED_RELATIVE_GATE_LU,
        ))
    }

    /// EBU Tech 3342 from the short-term-block histogram: nearest-rank percentiles
    /// (rank `round((n − 1)·p)`, as libebur128).
    fn compute_lra(&self) -> f64 {
        match self.short_term_blocks.gate(LRA_RELATIVE_GATE_LU) {
            Some(g) if g.count > 0 => {
                let last = (g.count - 1) as f64;
                let low_rank = (last * LRA_LOW_PERCENTILE).round() as u64;
                let high_rank = (last * LRA_HIGH_PERCENTILE).round() as u64;
                let low = self.short_term_blocks.power_at_rank(g.first_bin, low_rank);
                let high = self.short_term_blocks.power_at_rank(g.first_bin, high_rank);
                if low > 0.0 && high > 0.0 {
                    (power_to_lufs(high) - power_to_lufs(low)).max(0.0)
                } else {
                    0.0
                }
            }
            _ => 0.0,
        }
    }

    /// Momentary loudness at the end of the last 10 ms step, LUFS.
    pub fn momentary_lufs(&self) -> f64 {
        lufs_or_floor(self.momentary_power)
    }

    /// Short-term loudness at the end of the last 10 ms step, LUFS.
    pub fn short_term_lufs(&self) -> f64 {
        lufs_or_floor(self.short_term_power)
    }

    /// Integrated loudness, LUFS ([`NO_LEVEL`] until a block passes the gates).
    pub fn integrated_lufs(&self) -> f64 {
        self.integrated_lufs
    }

    /// Loudness range, LU.
    pub fn lra_lu(&self) -> f64 {
        self.lra_lu
    }

    /// Largest momentary loudness, LUFS.
    pub fn momentary_max_lufs(&self) -> f64 {
        lufs_or_floor(self.momentary_max_power)
    }

    /// Largest short-term loudness, LUFS.
    pub fn short_term_max_lufs(&self) -> f64 {
        lufs_or_floor(self.short_term_max_power)
    }

    /// Largest sample peak of all channels, dBFS.
    pub fn sample_peak_dbfs(&self) -> f64 {
        self.peaks.sample_peak_dbfs()
    }

    /// Largest true peak of all channels, dBTP ([`NO_LEVEL`] if disabled).
    pub fn true_peak_dbtp(&self) -> f64 {
        if self.measure_true_peak {
            self.peaks.true_peak_dbtp()
        } else {
            NO_LEVEL
        }
    }

    /// Gating blocks (400 ms) that passed the absolute gate so far, and short-term
    /// blocks (3 s) likewise: for album loudness and diagnostics.
    pub fn block_counts(&self) -> (u64, u64) {
        (
            self.gating_blocks.total_count(),
            self.short_term_blocks.total_count(),
        )
    }

    /// All values at once.
    pub fn reading(&self) -> LoudnessReading {
        let true_peak_dbtp = self.true_peak_dbtp();
        let plr_lu = if self.integrated_lufs > NO_LEVEL && true_peak_dbtp > NO_LEVEL {
            true_peak_dbtp - self.integrated_lufs
        } else {
            NO_LEVEL
        };
        LoudnessReading {
            momentary_lufs: self.momentary_lufs(),
            short_term_lufs: self.short_term_lufs(),
            integrated_lufs: self.integrated_lufs,
            momentary_max_lufs: self.momentary_max_lufs(),
            short_term_max_lufs: self.short_term_max_lufs(),
            lra_lu: self.lra_lu,
            sample_peak_dbfs: self.sample_peak_dbfs(),
            true_peak_dbtp,
            plr_lu,
        }
    }

    /// LRA blocks every `steps` 10 ms steps instead of every 100 ms (test only: to
    /// compare with libebur128's 1 s grid).
    #[cfg(test)]
    fn set_lra_hop_steps(&mut self, steps: u64) {
        self.lra_hop_steps = steps.max(1);
    }

    /// Total element capacity of every buffer the meter owns (for the test that memory
    /// does not grow while metering).
    #[cfg(test)]
    fn storage_capacity(&self) -> usize {
        self.filters.len()
            + self.ring_power.len()
            + self.ring_samples.len()
            + self.gating_blocks.capacity()
            + self.short_term_blocks.capacity()
            + self.peaks.storage_capacity()
    }
}
