//! Click detection from the AR residual (Godsill & Rayner, "Digital Audio Restoration",
//! 1998, §5.3: a click is a burst that the AR model of the music cannot predict, so it
//! stands out in the prediction error while the music is whitened away).
//!
//! Per hop of about 46 ms, Burg's method fits the model on the hop and a margin either
//! side; the forward error `e[n] = Σ a[i]·x[n−i]` rises at a click's first sample and
//! the backward error `b[n] = Σ a[i]·x[n+i]` falls after its last, so together they
//! bracket it. The threshold adapts to the programme: each sub-block of about 6 ms
//! takes a robust scale of its residual, `σ = 1.4826 · median|e|` (the median absolute
//! deviation of a zero-median residual, equal to σ for Gaussian noise and unmoved by the
//! click itself while the click covers less than half the sub-block), and a sample is
//! flagged when its error exceeds `threshold · σ`, σ being the largest of its own and
//! the two neighbouring sub-blocks' scales, so the onset of a loud noisy passage (where
//! the sub-block before is quiet) is not taken for a click. Flags above half that
//! threshold and closer than the AR order merge into one cluster; a cluster with a
//! flag above the full threshold becomes a span from its first forward flag to its
//! last backward flag, widened by a guard.

use super::burg::{backward_error, forward_errors, Burg};
use std::ops::Range;

/// `σ = MAD_TO_SIGMA · median|e|` for Gaussian noise (1 / Φ⁻¹(3/4)).
const MAD_TO_SIGMA: f64 = 1.4826;

/// The smallest residual scale: −140 dBFS (below 24-bit quantisation noise), so digital
/// silence does not flag every sample at a threshold times zero.
const SCALE_FLOOR: f64 = 1e-7;

/// A click's edges are traced down to this share of the threshold (hysteresis): the
/// full threshold finds it, the lower one finds where its faint onset and decaying tail
/// end. At the default 8 σ this is 3 σ, which Gaussian noise crosses about once in 370
/// samples per residual; weak flags therefore join a cluster only within
/// [`WEAK_GAP_SHARE`] of the order, so a span grows by chance by a few samples at most.
const WEAK_SHARE: f64 = 0.375;

/// Weak flags join a cluster within the AR order over this; strong flags within
/// the whole order.
const WEAK_GAP_SHARE: usize = 4;

/// Power ratio (after / before, 10 dB) above which a detection is a note onset.
const ONSET_RATIO: f64 = 10.0;

/// What the detector needs from the settings, in samples.
#[derive(Debug, Clone, Copy)]
pub struct DetectorConfig {
    /// AR order.
    pub order: usize,
    /// Samples per analysis hop.
    pub hop: usize,
    /// Samples either side of the hop that the fit also sees (the overlap).
    pub fit_margin: usize,
    /// Samples per robust-scale sub-block.
    pub sub_block: usize,
    /// Flag when |error| > threshold · σ.
    pub threshold: f64,
    /// Samples added to each side of a detected span.
    pub guard: usize,
    /// Spans longer than this are not clicks (a transient the model missed) and are
    /// left alone.
    pub max_span: usize,
}

/// A detection cluster being built: flags (weak or strong) no further apart than the
/// order (strong) or a quarter of it (weak).
#[derive(Debug, Clone, Copy)]
struct Cluster {
    first: usize,
    last: usize,
    /// Last forward flag, and where its chain of close forward flags began.
    fwd_last: Option<usize>,
    fwd_chain_start: usize,
    /// The span's start: the chain start of the first strong forward flag.
    start: Option<usize>,
    /// Last backward flag, and whether its chain holds a strong flag.
    bwd_last: Option<usize>,
    bwd_chain_strong: bool,
    /// The span's end: one past the last backward flag of a strong chain.
    end: Option<usize>,
}

impl Cluster {
    fn new(n: usize) -> Self {
        Self {
            first: n,
            last: n,
            fwd_last: None,
            fwd_chain_start: n,
            start: None,
            bwd_last: None,
            bwd_chain_strong: false,
            end: None,
        }
    }
}

/// The detector and its work buffers (sized in [`Detector::new`]).
#[derive(Debug, Clone)]
pub struct Detector {
    config: DetectorConfig,
    burg: Burg,
    coeffs: Vec<f64>,
    /// The samples the hop needs, in f64.
    buffer: Vec<f64>,
    /// |forward error| over the hop and one sub-block either side.
    forward: Vec<f64>,
    /// Robust scales of the errors per sub-block.
    scale: Vec<f64>,
    /// Positions in `forward` above the weak threshold.
    flagged: Vec<usize>,
    /// Scratch for the medians (bit patterns of non-negative floats).
    sorted: Vec<u64>,
    /// Buffer ranges around strong flags, left out of the second fit.
    excluded: Vec<Range<usize>>,
    /// The second fit's segments.
    segments: Vec<Range<usize>>,
    cluster: Option<Cluster>,
}

impl Detector {
    /// A detector for `config`, with every buffer allocated.
    pub fn new(config: DetectorConfig) -> Self {
        let span = config.hop + 2 * config.sub_block.max(config.fit_margin) + 2 * config.order;
        let subs = config.hop / config.sub_block.max(1) + 4;
        Self {
            config,
            burg: Burg::new(span / 2, config.order),
            coeffs: vec![0.0; config.order + 1],
            buffer: Vec::with_capacity(span),
            forward: Vec::with_capacity(span),
            scale: Vec::with_capacity(subs),
            flagged: Vec::with_capacity(span),
            sorted: Vec::with_capacity(config.sub_block),
            excluded: Vec::with_capacity(span / 2),
            segments: Vec::with_capacity(span / 2),
            cluster: None,
        }
    }

    /// Finds the damaged spans of a whole channel, in order, non-overlapping.
    pub fn detect(&mut self, x: &[f32]) -> Vec<Range<usize>> {
        let mut spans = Vec::new();
        self.cluster = None;
        let mut start = 0;
        while start < x.len() {
            let end = (start + self.config.hop).min(x.len());
            self.hop(x, start..end, &mut spans);
            start = end;
        }
        if let Some(cluster) = self.cluster.take() {
            self.close(cluster, x, &mut spans);
        }
        spans
    }

    /// Moves every position the detector holds `by` samples earlier (a streaming
    /// buffer shifted its contents left).
    pub fn shift(&mut self, by: usize) {
        if let Some(c) = &mut self.cluster {
            c.first = c.first.saturating_sub(by);
            c.last = c.last.saturating_sub(by);
            c.fwd_chain_start = c.fwd_chain_start.saturating_sub(by);
            c.fwd_last = c.fwd_last.map(|v| v.saturating_sub(by));
            c.start = c.start.map(|v| v.saturating_sub(by));
            c.bwd_last = c.bwd_last.map(|v| v.saturating_sub(by));
            c.end = c.end.map(|v| v.saturating_sub(by));
        }
    }

    /// Forgets any open detection.
    pub fn reset(&mut self) {
        self.cluster = None;
    }

    /// Sets the threshold (in robust standard deviations).
    pub fn set_threshold(&mut self, threshold: f64) {
        self.config.threshold = threshold.max(1.0);
    }

    /// Analyses the samples `hop` of `x` (which must hold the context around it: the
    /// sub-block, fit margin and order either side) and pushes the spans that it
    /// completes. Allocates nothing once the buffers have grown to a hop's needs.
    pub fn hop(&mut self, x: &[f32], hop: Range<usize>, spans: &mut Vec<Range<usize>>) {
        let c = self.config;
        let p = c.order;
        let len = x.len();
        let ext = hop.start.saturating_sub(c.sub_block)..(hop.end + c.sub_block).min(len);
        let fit = hop.start.saturating_sub(c.fit_margin)..(hop.end + c.fit_margin).min(len);
        let copy = ext.start.min(fit.start).saturating_sub(p)..(ext.end.max(fit.end) + p).min(len);
        self.buffer.clear();
        self.buffer
            .extend(x[copy.clone()].iter().map(|&v| v as f64));
        let fit_local = fit.start - copy.start..fit.end - copy.start;
        self.burg
            .fit(&self.buffer, [fit_local.clone()], p, &mut self.coeffs);
        self.analyse(ext.clone(), copy.start);
        // A loud click pulls the model towards itself and hides its own tail; if the
        // hop holds one, fit again without the samples around every strong flag
        // (G&R's iterated detection) and analyse once more.
        self.excluded.clear();
        for (j, chunk) in self.forward.chunks(c.sub_block).enumerate() {
            let level = c.threshold * self.scale[j];
            for (i, &f) in chunk.iter().enumerate() {
                if f <= level {
                    continue;
                }
                let n = ext.start + j * c.sub_block + i - copy.start;
                let around = n.saturating_sub(p)..n + p + 1;
                match self.excluded.last_mut() {
                    Some(last) if around.start <= last.end => last.end = around.end,
                    _ => self.excluded.push(around),
                }
            }
        }
        if !self.excluded.is_empty() {
            let mut cursor = fit_local.start;
            self.segments.clear();
            for gap in &self.excluded {
                if gap.start > cursor {
                    self.segments.push(cursor..gap.start.min(fit_local.end));
                }
                cursor = cursor.max(gap.end);
            }
            if cursor < fit_local.end {
                self.segments.push(cursor..fit_local.end);
            }
            self.burg.fit(
                &self.buffer,
                self.segments.iter().cloned(),
                p,
                &mut self.coeffs,
            );
            self.analyse(ext.clone(), copy.start);
        }
        let weak = c.threshold * WEAK_SHARE;
        let weak_gap = p / WEAK_GAP_SHARE;
        let hop_end = hop.end;
        // The backward error is needed only within the order of a forward flag (a
        // click's backward flags run from p before its onset to its end), so it is
        // computed only there, against the forward error's scale (the same model's
        // errors in either direction have the same variance).
        self.flagged.clear();
        for (j, chunk) in self.forward.chunks(c.sub_block).enumerate() {
            let level = weak * self.scale[j];
            let base = j * c.sub_block;
            for (i, &f) in chunk.iter().enumerate() {
                if f > level {
                    self.flagged.push(base + i);
                }
            }
        }
        let mut next_flag = 0;
        for n in hop {
            let i = n - ext.start;
            while next_flag < self.flagged.len() && self.flagged[next_flag] + p < i {
                next_flag += 1;
            }
            let near = next_flag < self.flagged.len() && self.flagged[next_flag] <= i + p;
            if !near {
                continue;
            }
            let scale = self.scale[i / c.sub_block];
            let forward = self.forward[i];
            let backward = if n + p < len {
                backward_error(&self.buffer, n - copy.start, &self.coeffs).abs()
            } else {
                0.0
            };
            let fwd = forward > weak * scale;
            let bwd = backward > weak * scale;
            if !(fwd || bwd) {
                continue;
            }
            let fwd_strong = forward > c.threshold * scale;
            let bwd_strong = backward > c.threshold * scale;
            let reach = if fwd_strong || bwd_strong {
                p
            } else {
                weak_gap
            };
            let mut cluster = match self.cluster {
                Some(open) if n - open.last <= reach => open,
                other => {
                    if let Some(done) = other {
                        self.close(done, x, spans);
                    }
                    Cluster::new(n)
                }
            };
            cluster.last = n;
            if fwd {
                // A chain of forward flags leading to the first strong one marks the
                // click's onset; forward flags before a gap are the music's.
                if cluster.fwd_last.is_none_or(|l| n - l > weak_gap) {
                    cluster.fwd_chain_start = n;
                }
                cluster.fwd_last = Some(n);
                if fwd_strong && cluster.start.is_none() {
                    cluster.start = Some(cluster.fwd_chain_start);
                }
            }
            if bwd {
                // The last backward flag of a chain holding a strong one marks its end.
                if cluster.bwd_last.is_none_or(|l| n - l > weak_gap) {
                    cluster.bwd_chain_strong = false;
                }
                cluster.bwd_last = Some(n);
                cluster.bwd_chain_strong |= bwd_strong;
                if cluster.bwd_chain_strong {
                    cluster.end = Some(n + 1);
                }
            }
            self.cluster = Some(cluster);
        }
        // A cluster that no later flag can reach is complete: close it now, so a
        // stream repairs it while its samples are still in the buffer.
        if let Some(open) = self.cluster {
            if hop_end - open.last > p {
                self.cluster = None;
                self.close(open, x, spans);
            }
        }
    }

    /// The |forward error| over `ext` (the buffer starting at sample `offset`) and the
    /// robust scale each sample is judged by, per sub-block, from `self.coeffs`.
    fn analyse(&mut self, ext: Range<usize>, offset: usize) {
        let p = self.config.order;
        // The first p samples of a channel have no full history: no error there.
        let from = ext.start.max(p).min(ext.end);
        self.forward.clear();
        self.forward.resize(ext.len(), 0.0);
        forward_errors(
            &self.buffer,
            from - offset..ext.end - offset,
            &self.coeffs,
            &mut self.forward[from - ext.start..],
        );
        self.forward.iter_mut().for_each(|e| *e = e.abs());
        let sub = self.config.sub_block;
        robust_scales(&self.forward, sub, &mut self.sorted, &mut self.scale);
        local_scales(&mut self.scale);
    }

    /// Turns a finished cluster into a span (merging it into the previous one when they
    /// touch), unless it is too long to be a click or holds no strong flag.
    fn close(&self, cluster: Cluster, x: &[f32], spans: &mut Vec<Range<usize>>) {
        let c = self.config;
        let len = x.len();
        if cluster.start.is_none() && cluster.end.is_none() {
            return;
        }
        let mut start = cluster.start.unwrap_or(cluster.first);
        let mut end = cluster.end.unwrap_or(cluster.last + 1);
        if end <= start {
            (start, end) = (cluster.first, cluster.last + 1);
        }
        let span = start.saturating_sub(c.guard)..(end + c.guard).min(len);
        if span.len() > c.max_span || is_onset(x, &span, c.sub_block) {
            return;
        }
        match spans.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => spans.push(span),
        }
    }
}

/// Whether `span` of `x` is the onset of a note rather than a click: the sub-block after
/// it carries more than [`ONSET_RATIO`] times the power of the sub-block before it. A
/// click leaves the music as it found it; an onset is new sound that stays, and
/// interpolating it away would remove the attack.
fn is_onset(x: &[f32], span: &Range<usize>, window: usize) -> bool {
    let power =
        |s: &[f32]| s.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / s.len().max(1) as f64;
    let before = power(&x[span.start.saturating_sub(window)..span.start]);
    let after = power(&x[span.end..(span.end + window).min(x.len())]);
    after > ONSET_RATIO * before
}

/// `scales[j] = 1.4826 · median(|e|)` over sub-block `j` of `magnitudes` (which are
/// all ≥ 0, so their IEEE bit patterns sort as the numbers do, and the selection runs
/// on integers).
fn robust_scales(
    magnitudes: &[f64],
    sub_block: usize,
    sorted: &mut Vec<u64>,
    scales: &mut Vec<f64>,
) {
    scales.clear();
    for chunk in magnitudes.chunks(sub_block) {
        // Every other sample: the median of 128 is as robust (a 45-sample click still
        // holds under half of them) at half the selection cost.
        sorted.clear();
        sorted.extend(chunk.iter().step_by(2).map(|m| m.to_bits()));
        let mid = sorted.len() / 2;
        let (_, median, _) = sorted.select_nth_unstable(mid);
        scales.push((MAD_TO_SIGMA * f64::from_bits(*median)).max(SCALE_FLOOR));
    }
}

/// Replaces each sub-block's scale by the largest of its own and its neighbours'.
fn local_scales(scales: &mut [f64]) {
    let mut previous = 0.0f64;
    for j in 0..scales.len() {
        let own = scales[j];
        let next = scales.get(j + 1).copied().unwrap_or(0.0);
        scales[j] = previous.max(own).max(next);
        previous = own;
    }
}
