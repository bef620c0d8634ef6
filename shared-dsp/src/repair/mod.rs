//! Audio repair: click removal, declipping and hand-drawn regions (the "pencil"), by
//! autoregressive (AR) modelling, offline over whole channel buffers.
//!
//! - [`declick`]: finds clicks in the residual of an AR model fitted by Burg's method
//!   ([`burg`], [`detect`]) and replaces each damaged span by least-squares AR
//!   interpolation from the good samples on both sides ([`lsar`]).
//! - [`declip()`]: finds runs of samples at the clipping level ([`mod@declip`])
//!   and restores them by the same interpolation, constrained to go beyond the clip
//!   level with the same sign, or by sparse declipping (S-SPADE, module `spade`) where that
//!   restoration is the sparser in frequency, as it is on dense music.
//! - [`repair_region`]: interpolates exactly the span given, detected or not.
//! - [`Declicker`]: the same detection and repair as a streaming processor with a
//!   fixed latency, allocation-free after `new`, for a stage of the mastering chain.
//!
//! Each function leaves every sample outside the spans it reports bit-identical, and
//! returns the spans it repaired, with their peak level before and after, for a
//! report. Channels are repaired independently. The functions allocate their work
//! buffers once per call and are meant for offline use; [`Declicker`] is the one for
//! the audio thread.
//!
//! References: S. J. Godsill and P. J. W. Rayner, "Digital Audio Restoration",
//! Springer, 1998, chapter 5; A. J. E. M. Janssen, R. N. J. Veldhuis and L. B. Vries,
//! IEEE Trans. ASSP 34(2), 1986.

pub mod burg;
pub mod declip;
pub mod detect;
pub mod lsar;
pub(crate) mod spade;
pub mod stream;

#[cfg(test)]
mod test_signals;
#[cfg(test)]
mod tests;

pub use declip::{declip, DeclipSettings};
pub use stream::Declicker;

use burg::{ar_order, Burg};
use detect::{Detector, DetectorConfig};
use lsar::Interpolator;
use std::ops::Range;

/// One repaired span of one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct RepairedSpan {
    /// The channel's index in the buffers given.
    pub channel: usize,
    /// First repaired sample.
    pub start: usize,
    /// One past the last repaired sample.
    pub end: usize,
    /// Largest |sample| of the span before the repair (linear, 1.0 = full scale).
    pub peak_before: f32,
    /// Largest |sample| of the span after the repair.
    pub peak_after: f32,
}

/// Settings of [`declick`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeclickSettings {
    /// Detection threshold, in robust standard deviations of the AR residual: a
    /// sample whose prediction error exceeds this many times the local scale of the
    /// residual is part of a click. Lower finds quieter clicks and risks touching
    /// good music. See [`DeclickSettings::from_sensitivity`].
    pub threshold: f64,
    /// Good samples added on each side of a detected span, so the click's faint edges
    /// are replaced too.
    pub guard_samples: usize,
    /// Detections longer than this (in ms) are not clicks but something the model
    /// missed (a transient) and are left alone.
    pub max_span_ms: f64,
    /// Re-fit the AR model on the restored context and interpolate again (Godsill &
    /// Rayner's iterated estimate; better on long spans, twice the repair cost).
    pub refine: bool,
}

impl Default for DeclickSettings {
    fn default() -> Self {
        Self::from_sensitivity(50.0)
    }
}

impl DeclickSettings {
    /// Settings from a sensitivity of 0 (only the loudest clicks) to 100 (quiet
    /// ones, with more risk of repairing good transients): the threshold goes
    /// geometrically from 16 σ down to 4 σ, 8 σ at 50.
    pub fn from_sensitivity(sensitivity: f64) -> Self {
        let s = sensitivity.clamp(0.0, 100.0) / 100.0;
        Self {
            threshold: 16.0 * 0.25f64.powf(s),
            guard_samples: 3,
            max_span_ms: 4.0,
            refine: false,
        }
    }
}

/// Samples of good context the AR model of a repair is fitted on, on each side: about
/// 46 ms, four samples per coefficient of the order-512 fit. Burg's method, which
/// never lets a reflection coefficient leave the unit circle, does not turn that into
/// a wild interpolant; on the stereo music test 35 and 46 ms gained the same and 23 ms
/// 6 dB less (the fit then resolves the partials too coarsely), while 186 ms lost
/// 28 dB on the piano (its decaying notes are not stationary that long).
fn context_len(sample_rate: f64) -> usize {
    (sample_rate * 0.046).round().max(512.0) as usize
}

/// The AR order of a repair: 512 at 44.1 kHz, scaled with the rate, at most
/// [`burg::MAX_ORDER`]. A gap of dozens of samples in rich music needs a pole pair
/// per partial, and enough poles besides to follow each partial's vibrato and the
/// noise floor between them: on the stereo music test (six click and programme seeds)
/// the restored SNR gained 10–17 dB over the damaged one at order 128, 16–21 dB at
/// 256 and 19–34 dB at 512; 768 gained no more. Detection keeps its own low order
/// ([`ar_order`]); only the few damaged spans pay for this one, whose cost (one
/// autocorrelation of the context at 512 lags, and a dense solve for the span) is
/// small next to detection's.
fn interpolation_order(sample_rate: f64) -> usize {
    ((512.0 * sample_rate / 44_100.0).round() as usize).clamp(16, burg::MAX_ORDER)
}

/// The most multiply-adds a joint repair's solve may take (about `L·p²/2` for `L`
/// unknowns at order `p`): what the order-128 repair of a hop of unknowns (2048
/// samples) took. A stream repairs a hop's spans within the hop's time on the audio
/// thread; a dense crackle could otherwise put thousands of unknowns in one order-512
/// solve, 16 times this.
const SOLVE_BUDGET: f64 = 2048.0 * 128.0 * 128.0 / 2.0;

/// The order of a joint repair of `unknowns` samples: the repair order, lowered (to
/// no less than 16) for groups so large that the solve would exceed [`SOLVE_BUDGET`].
/// A click's few dozen samples keep the full order.
fn group_order(order: usize, unknowns: usize) -> usize {
    let affordable = (2.0 * SOLVE_BUDGET / unknowns.max(1) as f64).sqrt() as usize;
    order.min(affordable.max(16))
}

/// The band entries the solves of [`group_order`] need for up to `max_unknowns`
/// unknowns: `L·(p + 1) ≤ √(2·budget·L) + L` for every `L` up to the largest, or the
/// 16-order floor's `17·L`.
fn max_band_len(order: usize, max_unknowns: usize) -> usize {
    let budgeted = (2.0 * SOLVE_BUDGET * max_unknowns as f64).sqrt() as usize + max_unknowns;
    budgeted
        .max(17 * max_unknowns)
        .min(lsar::band_len(max_unknowns, order))
}

/// Finds and removes clicks in every channel (each independently), in place. Returns
/// the repaired spans, ordered by channel then time.
pub fn declick(
    channels: &mut [&mut [f32]],
    sample_rate: f64,
    settings: &DeclickSettings,
) -> Vec<RepairedSpan> {
    let config = detector_config(sample_rate, settings);
    let mut detector = Detector::new(config);
    let mut repairer = Repairer::new(sample_rate, config.max_span);
    let mut repaired = Vec::new();
    for (index, channel) in channels.iter_mut().enumerate() {
        let spans = detector.detect(channel);
        repairer.repair_spans(channel, index, &spans, settings.refine, &mut repaired);
    }
    repaired
}

/// The detector's configuration for a rate and settings.
pub(crate) fn detector_config(sample_rate: f64, settings: &DeclickSettings) -> DetectorConfig {
    // A 46 ms hop (2046 samples at 44.1 kHz), fitted with a sixteenth-hop overlap
    // either side; 6 ms sub-blocks (256 samples) for the robust scale.
    let hop = (sample_rate * 0.0464).round().max(256.0) as usize;
    DetectorConfig {
        order: ar_order(sample_rate),
        hop,
        fit_margin: hop / 16,
        sub_block: (sample_rate * 0.0058).round().max(64.0) as usize,
        threshold: settings.threshold.max(1.0),
        guard: settings.guard_samples,
        max_span: (settings.max_span_ms * 1e-3 * sample_rate).round().max(1.0) as usize,
    }
}

/// Repairs exactly `start..end` of `channel` (the pencil) by AR interpolation from the
/// good samples around it, whether or not anything was detected there. Every sample
/// outside the span stays bit-identical. The span is clamped to the channel; an empty
/// span repairs nothing. The result's `channel` is 0 (the caller knows which channel
/// it passed).
pub fn repair_region(
    channel: &mut [f32],
    sample_rate: f64,
    start: usize,
    end: usize,
) -> RepairedSpan {
    let span = start.min(channel.len())..end.min(channel.len());
    let mut repairer = Repairer::new(sample_rate, span.len());
    let mut repaired = Vec::with_capacity(1);
    repairer.repair_spans(channel, 0, std::slice::from_ref(&span), true, &mut repaired);
    repaired.pop().unwrap_or(RepairedSpan {
        channel: 0,
        start: span.start,
        end: span.end,
        peak_before: 0.0,
        peak_after: 0.0,
    })
}

/// Interpolates given spans of a channel, each from an AR model of the good samples
/// around it.
pub(crate) struct Repairer {
    order: usize,
    context: usize,
    burg: Burg,
    interpolator: Interpolator,
    coeffs: Vec<f64>,
    buffer: Vec<f64>,
    unknown: Vec<bool>,
    segments: Vec<Range<usize>>,
}

impl Repairer {
    /// Buffers for spans of up to `max_span` samples (longer ones reallocate).
    pub(crate) fn new(sample_rate: f64, max_span: usize) -> Self {
        let order = interpolation_order(sample_rate);
        let context = context_len(sample_rate);
        let len = max_span + 2 * context;
        Self {
            order,
            context,
            burg: Burg::new(64, order),
            interpolator: Interpolator::new(len, max_span, order, max_band_len(order, max_span)),
            coeffs: vec![0.0; order + 1],
            buffer: Vec::with_capacity(len),
            unknown: Vec::with_capacity(len),
            segments: Vec::with_capacity(64),
        }
    }

    /// Repairs `spans` (sorted, non-overlapping) of `x`, pushing a [`RepairedSpan`]
    /// for each span it changed (allocating nothing while `out` has room). Spans closer than the AR order are solved together,
    /// since each one's interpolation needs the samples next to the other.
    pub(crate) fn repair_spans(
        &mut self,
        x: &mut [f32],
        channel: usize,
        spans: &[Range<usize>],
        refine: bool,
        out: &mut Vec<RepairedSpan>,
    ) {
        let mut i = 0;
        while i < spans.len() {
            let mut j = i + 1;
            while j < spans.len() && spans[j].start < spans[j - 1].end + self.order {
                j += 1;
            }
            // Entries first (with the level before), completed or dropped after.
            let first_entry = out.len();
            for span in spans[i..j].iter().filter(|s| !s.is_empty()) {
                out.push(RepairedSpan {
                    channel,
                    start: span.start,
                    end: span.end,
                    peak_before: peak(&x[span.clone()]),
                    peak_after: 0.0,
                });
            }
            if self.repair_group(x, i..j, spans, refine) {
                for entry in &mut out[first_entry..] {
                    entry.peak_after = peak(&x[entry.start..entry.end]);
                }
            } else {
                out.truncate(first_entry);
            }
            i = j;
        }
    }

    /// Interpolates the spans `all[members]` jointly, with a model fitted on the
    /// context around them minus every span of `all`. Returns false if the solve failed (the
    /// channel is then unchanged).
    fn repair_group(
        &mut self,
        x: &mut [f32],
        members: Range<usize>,
        all: &[Range<usize>],
        refine: bool,
    ) -> bool {
        let group = &all[members.clone()];
        let first = group[0].start;
        let last = group[group.len() - 1].end;
        let window = first.saturating_sub(self.context)..(last + self.context).min(x.len());
        self.buffer.clear();
        self.buffer
            .extend(x[window.clone()].iter().map(|&v| v as f64));
        self.unknown.clear();
        self.unknown.resize(window.len(), false);
        for span in group {
            self.unknown[span.start - window.start..span.end - window.start].fill(true);
        }
        let unknowns = group.iter().map(|s| s.len()).sum();
        let order = group_order(self.order, unknowns);
        let coeffs = &mut self.coeffs[..=order];
        // The second pass (with `refine`) re-fits with the first estimate in place
        // (other spans still excluded) and solves again from the same known samples.
        for pass in 0..1 + refine as usize {
            let keep = (pass > 0).then(|| members.clone());
            good_segments(&window, all, keep, &mut self.segments);
            self.burg
                .fit(&self.buffer, self.segments.iter().cloned(), order, coeffs);
            if !self
                .interpolator
                .interpolate(&mut self.buffer, &self.unknown, coeffs)
            {
                return false;
            }
        }
        // A non-finite sample in the context (the input's own) would spread into the
        // span: leave the span as it was then.
        let solved = self.unknown.iter().zip(&self.buffer).filter(|(&u, _)| u);
        if !solved.clone().all(|(_, v)| v.is_finite()) {
            return false;
        }
        for (i, (&u, &v)) in self.unknown.iter().zip(&self.buffer).enumerate() {
            if u {
                x[window.start + i] = v as f32;
            }
        }
        true
    }
}

/// The parts of `window` outside every span of `spans` (sorted) except those indexed
/// by `keep`, relative to `window.start`.
fn good_segments(
    window: &Range<usize>,
    spans: &[Range<usize>],
    keep: Option<Range<usize>>,
    out: &mut Vec<Range<usize>>,
) {
    out.clear();
    let mut cursor = window.start;
    let from = spans.partition_point(|s| s.end <= window.start);
    for (index, span) in spans
        .iter()
        .enumerate()
        .skip(from)
        .take_while(|(_, s)| s.start < window.end)
    {
        if keep.as_ref().is_some_and(|k| k.contains(&index)) {
            continue;
        }
        if span.start > cursor {
            out.push(cursor - window.start..span.start - window.start);
        }
        cursor = cursor.max(span.end);
    }
    if cursor < window.end {
        out.push(cursor - window.start..window.end - window.start);
    }
}

/// Largest |sample|.
pub(crate) fn peak(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, &v| m.max(v.abs()))
}
