//! Streaming declick: the offline detector and repair run over a sliding buffer, for a
//! repair stage at the head of the mastering chain.
//!
//! Each channel keeps the last `K = 5` hops (46 ms each at 44.1 kHz). New samples fill
//! the last hop while the first hop is played out; when the last hop is full, the
//! middle hop (index 2) is analysed, the clicks completed in it are repaired in the
//! buffer, and everything moves one hop to the left. The analysed hop has two hops of
//! history (the repair model's left context and the detector's) and two of lookahead
//! (the right context, and the last hop still filling is not needed), and a sample is
//! played out two hops after its hop was analysed, so a span closed one hop late is
//! still repaired in time. The latency is `(K − 1)` hops: 8184 samples at 44.1 kHz
//! (186 ms).
//!
//! All buffers are allocated in [`Declicker::new`]; `process` allocates nothing, takes
//! any block size, and its output does not depend on how the input is split.

use super::detect::Detector;
use super::{detector_config, DeclickSettings, RepairedSpan, Repairer};
use std::ops::Range;

/// Hops kept per channel.
const HOPS: usize = 5;
/// The hop analysed, counted from the oldest.
const ANALYSED: usize = 2;

/// One channel's buffer and processors.
struct Channel {
    buffer: Vec<f32>,
    detector: Detector,
    repairer: Repairer,
    spans: Vec<Range<usize>>,
    repaired: Vec<RepairedSpan>,
}

/// A streaming declicker with a fixed latency (see the module documentation).
pub struct Declicker {
    hop: usize,
    /// Samples written into the last hop so far.
    fill: usize,
    channels: Vec<Channel>,
    settings: DeclickSettings,
    /// Spans repaired since the last [`Declicker::take_repaired_count`].
    repaired_count: usize,
}

impl Declicker {
    /// A declicker for `channels` channels at `sample_rate`, with every buffer
    /// allocated.
    pub fn new(sample_rate: f64, channels: usize, settings: &DeclickSettings) -> Self {
        let config = detector_config(sample_rate, settings);
        let hop = config.hop;
        // Spans per hop are bounded by flags per hop; a hop's worth is the worst case.
        let channels = (0..channels.max(1))
            .map(|_| Channel {
                buffer: vec![0.0; HOPS * hop],
                detector: Detector::new(config),
                repairer: Repairer::new(sample_rate, hop),
                spans: Vec::with_capacity(hop),
                repaired: Vec::with_capacity(hop),
            })
            .collect();
        Self {
            hop,
            fill: 0,
            channels,
            settings: *settings,
            repaired_count: 0,
        }
    }

    /// The delay from input to output, in samples.
    pub fn latency(&self) -> usize {
        (HOPS - 1) * self.hop
    }

    /// Changes the detection threshold (the other settings are fixed at `new`); takes
    /// effect at the next hop. Allocates nothing.
    pub fn set_settings(&mut self, settings: &DeclickSettings) {
        self.settings.threshold = settings.threshold;
        for channel in &mut self.channels {
            channel.detector.set_threshold(settings.threshold);
        }
    }

    /// Clears the buffers and any open detection; keeps the settings.
    pub fn reset(&mut self) {
        self.fill = 0;
        self.repaired_count = 0;
        for channel in &mut self.channels {
            channel.buffer.iter_mut().for_each(|v| *v = 0.0);
            channel.detector.reset();
        }
    }

    /// The number of spans repaired since the last call (for a meter).
    pub fn take_repaired_count(&mut self) -> usize {
        std::mem::take(&mut self.repaired_count)
    }

    /// Declicks `channels` in place (up to the count given to `new`; extra channels
    /// are left alone), delaying them by [`latency`](Self::latency). Every channel
    /// must be as long as the first. Allocates nothing.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let frames = channels.first().map_or(0, |c| c.len());
        let used = channels.len().min(self.channels.len());
        let last = (HOPS - 1) * self.hop;
        let mut done = 0;
        while done < frames {
            let run = (self.hop - self.fill).min(frames - done);
            for (io, state) in channels[..used].iter_mut().zip(&mut self.channels) {
                // Play out the oldest hop while storing the input in the newest.
                let (head, tail) = state.buffer.split_at_mut(last);
                let oldest = &head[self.fill..self.fill + run];
                let newest = &mut tail[self.fill..self.fill + run];
                for ((sample, &old), new) in io[done..done + run].iter_mut().zip(oldest).zip(newest)
                {
                    *new = *sample;
                    *sample = old;
                }
            }
            self.fill += run;
            done += run;
            if self.fill == self.hop {
                self.fill = 0;
                self.advance(used);
            }
        }
    }

    /// Analyses the middle hop of each channel, repairs what it completes, and moves
    /// the buffers one hop on.
    fn advance(&mut self, used: usize) {
        let hop = self.hop;
        let analysed = ANALYSED * hop..(ANALYSED + 1) * hop;
        for (index, state) in self.channels[..used].iter_mut().enumerate() {
            state.spans.clear();
            state.repaired.clear();
            state
                .detector
                .hop(&state.buffer, analysed.clone(), &mut state.spans);
            state.repairer.repair_spans(
                &mut state.buffer,
                index,
                &state.spans,
                self.settings.refine,
                &mut state.repaired,
            );
            self.repaired_count += state.repaired.len();
            state.buffer.copy_within(hop.., 0);
            state.detector.shift(hop);
        }
    }
}
