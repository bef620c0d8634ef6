//! An algorithmic reverb: an 8-line feedback delay network (FDN).
//!
//! Structure after J.-M. Jot and A. Chaigne, "Digital delay networks for designing
//! artificial reverberators" (AES 90th Convention, 1991): eight delay lines whose
//! outputs are mixed by an orthogonal (lossless) matrix and fed back; losses come only
//! from a per-line absorption filter, which makes the decay time exact and independent
//! of the mixing.
//!
//! - Feedback matrix: the 8×8 Hadamard matrix / √8 (orthogonal, every line feeds every
//!   line equally), applied as a fast Walsh–Hadamard transform (24 additions).
//! - Decay: a line of `d` samples gets the DC gain `g = 10^(−3 d / (T60 · fs))`, so every
//!   path loses 60 dB per `T60` seconds whatever its length.
//! - Damping: the absorption filter is a one-pole low-pass `g (1 − b) / (1 − b z⁻¹)`
//!   whose Nyquist gain is the gain for the shorter high-frequency decay time
//!   `T60_hf = α · T60` (α = 10^(−1.3 · damping), from 1 down to 0.05):
//!   `b = (g − g_hf) / (g + g_hf)` makes both the DC and the Nyquist gains exact.
//! - Modulation: four of the lines wander by up to 0.25 ms along straight segments to
//!   random targets drawn from a seedable [`Pcg32`], read with third-order Lagrange
//!   interpolation; this breaks up the metallic modes without audible pitch wobble.
//! - Size scales all line lengths (0.4–1.6× of 23–64 ms); a size change glides the
//!   lengths at most one sample per 16 samples (less than a semitone of pitch shift).
//! - Pre-delay 0–200 ms (smoothed, fractional), width (mid/side on the wet signal,
//!   0 = mono, 1 = full), mix (linear dry/wet), on/off (the wet part fades out and the
//!   network is cleared when it is off).

use crate::delay_line::DelayLine;
use crate::denormal::FlushDenormals;
use crate::rng::Pcg32;
use crate::sanitize::replace_non_finite;
use crate::sanitize::setting_or;
use crate::smoother::{Smoother, SmoothingStyle};

/// Number of delay lines.
pub const LINES: usize = 8;

/// Settings for [`Reverb`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReverbSettings {
    /// Off fades the wet signal out and stops the network.
    pub on: bool,
    /// Room size 0–1: scales the delay lengths 0.4–1.6×.
    pub size: f32,
    /// Decay time (RT60 at low frequencies), 0.2–10 s.
    pub decay_s: f32,
    /// Pre-delay, 0–200 ms.
    pub predelay_ms: f32,
    /// High-frequency damping 0–1 (0: all frequencies decay alike).
    pub damping: f32,
    /// Stereo width of the wet signal, 0 (mono) – 1 (full).
    pub width: f32,
    /// Wet share, 0–1.
    pub mix: f32,
}

impl Default for ReverbSettings {
    fn default() -> Self {
        Self {
            on: true,
            size: 0.5,
            decay_s: 2.0,
            predelay_ms: 10.0,
            damping: 0.5,
            width: 1.0,
            mix: 0.25,
        }
    }
}

impl ReverbSettings {
    /// The decay-time range in seconds.
    pub const DECAY_S_RANGE: (f32, f32) = (0.2, 10.0);
    /// The longest pre-delay.
    pub const MAX_PREDELAY_MS: f32 = 200.0;
}

/// Line lengths in ms at size scale 1 (mutually incommensurate, spread over 23–64 ms).
const BASE_LENGTHS_MS: [f32; LINES] = [23.13, 29.37, 34.71, 39.13, 44.87, 51.73, 57.31, 63.71];
const MIN_SCALE: f32 = 0.4;
const MAX_SCALE: f32 = 1.6;
/// Largest modulation excursion.
const MOD_DEPTH_MS: f32 = 0.25;
/// Length of one modulation segment in frames at 48 kHz (scaled with the rate).
const MOD_SEGMENT_MS: f32 = 45.0;
/// Parameters (decay gains, line lengths) are updated every this many frames.
const UPDATE_FRAMES: usize = 32;
/// Most frames the network runs stage by stage (see `Reverb::network`).
const NETWORK_FRAMES: usize = UPDATE_FRAMES;
/// Line-length glide per update (2 samples per 32 frames = 1/16 sample per sample).
const GLIDE_PER_UPDATE: usize = 2;
/// 2^23: adding it to an f32 in [0, 2^22) rounds it to an integer (see `network`).
const ROUND_MAGIC: f32 = 8_388_608.0;
/// Seed of the modulation generator (fixed: renders are reproducible).
const MOD_SEED: u64 = 0x0c51_de5e_ed00_0001;

/// The FDN reverb for one or two channels (mono input is fed to both sides).
#[derive(Debug, Clone)]
pub struct Reverb {
    sample_rate: f32,
    settings: ReverbSettings,
    fresh: bool,
    // Smoothed parameters.
    size: Smoother,
    decay_s: Smoother,
    damping: Smoother,
    predelay: Smoother,
    width: Smoother,
    mix: Smoother,
    on: Smoother,
    // Network state.
    /// One power-of-two ring buffer per line; an index is masked with `len − 1`, which
    /// the compiler sees is in bounds (no bounds checks in the loop).
    lines: [Vec<f32>; LINES],
    write: usize,
    lengths: [usize; LINES],
    /// `lengths` as `f32` (the modulated reads add a fractional offset).
    lengths_f32: [f32; LINES],
    target_lengths: [usize; LINES],
    gain: [f32; LINES],
    /// `gain · (1 − pole)`: the absorption filter's input weight.
    input_gain: [f32; LINES],
    pole: [f32; LINES],
    lowpass: [f32; LINES],
    predelay_lines: [DelayLine; 2],
    // Modulation (lines 0, 2, 4, 6).
    rng: Pcg32,
    mod_offset: [f32; LINES / 2],
    mod_step: [f32; LINES / 2],
    mod_left: usize,
    mod_segment: usize,
    mod_depth: f32,
    countdown: usize,
    running: bool,
}

impl Reverb {
    /// A reverb at `sample_rate`; allocates the lines for the largest size and the
    /// longest pre-delay.
    pub fn new(sample_rate: f32) -> Self {
        let fs = sample_rate.max(1.0);
        let mod_depth = MOD_DEPTH_MS * 1e-3 * fs;
        let longest = (BASE_LENGTHS_MS[LINES - 1] * MAX_SCALE * 1e-3 * fs).ceil() as usize;
        let stride = (longest + mod_depth.ceil() as usize + 8).next_power_of_two();
        let predelay_max = (ReverbSettings::MAX_PREDELAY_MS * 1e-3 * fs).ceil() as usize + 2;
        let defaults = ReverbSettings::default();
        let mut reverb = Self {
            sample_rate: fs,
            settings: defaults,
            fresh: true,
            size: Smoother::new(SmoothingStyle::Linear, 50.0, fs, defaults.size),
            decay_s: Smoother::new(SmoothingStyle::Logarithmic, 50.0, fs, defaults.decay_s),
            damping: Smoother::new(SmoothingStyle::Linear, 50.0, fs, defaults.damping),
            predelay: Smoother::new(SmoothingStyle::Linear, 100.0, fs, 0.0),
            width: Smoother::new(SmoothingStyle::Linear, 20.0, fs, defaults.width),
            mix: Smoother::new(SmoothingStyle::Linear, 20.0, fs, defaults.mix),
            on: Smoother::new(SmoothingStyle::Linear, 20.0, fs, 1.0),
            lines: std::array::from_fn(|_| vec![0.0; stride]),
            write: 0,
            lengths: [1; LINES],
            lengths_f32: [1.0; LINES],
            target_lengths: [1; LINES],
            gain: [0.0; LINES],
            input_gain: [0.0; LINES],
            pole: [0.0; LINES],
            lowpass: [0.0; LINES],
            predelay_lines: [DelayLine::new(predelay_max), DelayLine::new(predelay_max)],
            rng: Pcg32::new(MOD_SEED, 0),
            mod_offset: [0.0; LINES / 2],
            mod_step: [0.0; LINES / 2],
            mod_left: 0,
            mod_segment: ((MOD_SEGMENT_MS * 1e-3 * fs) as usize).max(1),
            mod_depth,
            countdown: 0,
            running: false,
        };
        reverb.set_settings(&defaults);
        // The caller's first settings still jump rather than ramp from the defaults.
        reverb.fresh = true;
        reverb
    }

    /// Applies settings; the first call after `new`/`reset` jumps without ramps.
    /// The same settings again cost one comparison.
    pub fn set_settings(&mut self, settings: &ReverbSettings) {
        if !self.fresh && *settings == self.settings {
            return;
        }
        let (dlo, dhi) = ReverbSettings::DECAY_S_RANGE;
        let size = setting_or(settings.size, 0.0, 1.0, 0.5);
        let decay = setting_or(settings.decay_s, dlo, dhi, 2.0);
        let damping = setting_or(settings.damping, 0.0, 1.0, 0.5);
        // Rounded to whole samples: once settled, the pre-delay reads need no interpolation.
        let predelay = (setting_or(
            settings.predelay_ms,
            0.0,
            ReverbSettings::MAX_PREDELAY_MS,
            0.0,
        ) * 1e-3
            * self.sample_rate)
            .round();
        let width = setting_or(settings.width, 0.0, 1.0, 1.0);
        let mix = setting_or(settings.mix, 0.0, 1.0, 0.0);
        let on = if settings.on { 1.0 } else { 0.0 };
        let targets = [
            (&mut self.size, size),
            (&mut self.decay_s, decay),
            (&mut self.damping, damping),
            (&mut self.predelay, predelay),
            (&mut self.width, width),
            (&mut self.mix, mix),
            (&mut self.on, on),
        ];
        for (smoother, value) in targets {
            if self.fresh {
                smoother.reset_to(value);
            } else {
                smoother.set_target(value);
            }
        }
        if self.fresh {
            self.lengths = self.lengths_for(size);
            self.target_lengths = self.lengths;
            self.update_coefficients();
            self.fresh = false;
        }
        self.settings = *settings;
    }

    /// Clears the network, the pre-delay and the modulation (re-seeded), keeping the
    /// settings; the next `set_settings` jumps.
    pub fn reset(&mut self) {
        self.clear_network();
        self.rng = Pcg32::new(MOD_SEED, 0);
        self.mod_offset = [0.0; LINES / 2];
        self.mod_step = [0.0; LINES / 2];
        self.mod_left = 0;
        self.countdown = 0;
        self.running = false;
        let settings = self.settings;
        self.fresh = true;
        self.set_settings(&settings);
    }

    fn clear_network(&mut self) {
        self.lines.iter_mut().flatten().for_each(|s| *s = 0.0);
        self.lowpass = [0.0; LINES];
        for line in &mut self.predelay_lines {
            line.reset();
        }
    }

    /// How long the output keeps sounding after the input stops: pre-delay, the longest
    /// line, and the time to decay by 120 dB (2 × T60).
    pub fn tail_samples(&self) -> usize {
        let predelay = self.predelay.target().max(self.predelay.current());
        let decay = self.decay_s.target().max(self.decay_s.current());
        let longest = self
            .lengths
            .iter()
            .chain(self.target_lengths.iter())
            .copied()
            .max()
            .unwrap_or(0);
        (predelay + 2.0 * decay * self.sample_rate).ceil() as usize
            + longest
            + self.mod_depth.ceil() as usize
    }

    fn lengths_for(&self, size: f32) -> [usize; LINES] {
        let scale = MIN_SCALE + (MAX_SCALE - MIN_SCALE) * size;
        let mut lengths = [1; LINES];
        for (length, ms) in lengths.iter_mut().zip(BASE_LENGTHS_MS) {
            *length = ((ms * scale * 1e-3 * self.sample_rate).round() as usize).max(4);
        }
        lengths
    }

    /// Decay gains and absorption poles for the current lengths, decay and damping.
    fn update_coefficients(&mut self) {
        let t60 = self.decay_s.current() as f64;
        let alpha = 10f64.powf(-1.3 * self.damping.current() as f64);
        for i in 0..LINES {
            self.lengths_f32[i] = self.lengths[i] as f32;
            // Modulated lines are on average half the depth longer.
            let mut d = self.lengths[i] as f64;
            if i % 2 == 0 {
                d += 0.5 * self.mod_depth as f64;
            }
            let exponent = -3.0 * d / (t60 * self.sample_rate as f64);
            let g = 10f64.powf(exponent);
            let g_hf = 10f64.powf(exponent / alpha);
            self.gain[i] = g as f32;
            let b = (g - g_hf) / (g + g_hf);
            self.pole[i] = b as f32;
            self.input_gain[i] = self.gain[i] * (1.0 - self.pole[i]);
        }
    }

    /// The parameter work done every [`UPDATE_FRAMES`] frames: length glide,
    /// coefficient updates while something moves, new modulation segments.
    fn update(&mut self, frames: usize) {
        let size_moving = self.size.is_smoothing();
        let size = self.size.skip(frames);
        if size_moving {
            self.target_lengths = self.lengths_for(size);
        }
        let mut changed = size_moving || self.decay_s.is_smoothing() || self.damping.is_smoothing();
        self.decay_s.skip(frames);
        self.damping.skip(frames);
        for (length, target) in self.lengths.iter_mut().zip(self.target_lengths) {
            if *length != target {
                *length = if target > *length {
                    (*length + GLIDE_PER_UPDATE).min(target)
                } else {
                    length.saturating_sub(GLIDE_PER_UPDATE).max(target)
                };
                changed = true;
            }
        }
        if changed {
            self.update_coefficients();
        }
    }

    fn next_mod_segment(&mut self) {
        let n = self.mod_segment as f32;
        for (offset, step) in self.mod_offset.iter_mut().zip(self.mod_step.iter_mut()) {
            let target = self.rng.next_f32() * self.mod_depth;
            *step = (target - *offset) / n;
        }
        self.mod_left = self.mod_segment;
    }

    crate::cpu::wide_build! {
        /// Processes one or two equally long channels in place.
        pub fn process(
            &mut self,
            channels: &mut [&mut [f32]],
        ) => process_avx2, process_portable
    }

    #[inline(always)]
    pub(crate) fn process_portable(&mut self, channels: &mut [&mut [f32]]) {
        let _ftz = FlushDenormals::new();
        for channel in channels.iter_mut() {
            replace_non_finite(channel);
        }
        let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        let (left, right) = match channels {
            [] => return,
            [left] => (&mut left[..frames], None),
            [left, right, ..] => (&mut left[..frames], Some(&mut right[..frames])),
        };
        let mut right = right;
        let mut frame = 0;
        while frame < frames {
            let steady = !(self.on.is_smoothing()
                || self.mix.is_smoothing()
                || self.width.is_smoothing()
                || self.predelay.is_smoothing());
            if steady && self.on.current() == 1.0 {
                // Fast path: nothing moves until the next parameter update, so the
                // per-frame values are constants (exactly what `next()` would return).
                self.running = true;
                if self.countdown == 0 {
                    self.update(UPDATE_FRAMES);
                    self.countdown = UPDATE_FRAMES;
                }
                let n = (frames - frame).min(self.countdown).min(self.chunk_limit());
                self.countdown -= n;
                let predelay = PredelayRead::new(self.predelay.current());
                let (mix, width) = (self.mix.current(), self.width.current());
                let end = frame + n;
                let mut input_l = [0.0f32; NETWORK_FRAMES];
                let mut input_r = [0.0f32; NETWORK_FRAMES];
                let (mut wet_l, mut wet_r) = ([0.0f32; NETWORK_FRAMES], [0.0f32; NETWORK_FRAMES]);
                match right.as_deref_mut() {
                    Some(right) => {
                        let right = &mut right[frame..end];
                        input_r[..n].copy_from_slice(right);
                    }
                    None => input_r[..n].copy_from_slice(&left[frame..end]),
                }
                input_l[..n].copy_from_slice(&left[frame..end]);
                let (dry_l, dry_r) = (input_l, input_r);
                self.predelay_block(&mut input_l[..n], &mut input_r[..n], predelay);
                self.network(&input_l[..n], &input_r[..n], &mut wet_l, &mut wet_r);
                let amount = mix;
                let mixed = |k: usize| {
                    let (wet_l, wet_r) = (wet_l[k], wet_r[k]);
                    let mid = 0.5 * (wet_l + wet_r);
                    let side = 0.5 * (wet_l - wet_r) * width;
                    (
                        dry_l[k] * (1.0 - amount) + (mid + side) * amount,
                        dry_r[k] * (1.0 - amount) + (mid - side) * amount,
                    )
                };
                match right.as_deref_mut() {
                    Some(right) => {
                        for (k, (l, r)) in left[frame..end]
                            .iter_mut()
                            .zip(&mut right[frame..end])
                            .enumerate()
                        {
                            (*l, *r) = mixed(k);
                        }
                    }
                    None => {
                        for (k, l) in left[frame..end].iter_mut().enumerate() {
                            *l = mixed(k).0;
                        }
                    }
                }
                frame = end;
                continue;
            }
            // General path, one frame at a time.
            let dry_l = left[frame];
            let dry_r = right.as_deref().map_or(dry_l, |r| r[frame]);
            let on = self.on.next();
            let mix = self.mix.next();
            let width = self.width.next();
            let predelay = self.predelay.next();
            if on == 0.0 && !self.on.is_smoothing() {
                if self.running {
                    self.clear_network();
                    self.running = false;
                }
                frame += 1;
                continue;
            }
            self.running = true;
            if self.countdown == 0 {
                self.update(UPDATE_FRAMES);
                self.countdown = UPDATE_FRAMES;
            }
            self.countdown -= 1;
            let predelay = PredelayRead::new(predelay);
            let (out_l, out_r) = self.frame(dry_l, dry_r, predelay, mix, width, on);
            left[frame] = out_l;
            if let Some(right) = right.as_deref_mut() {
                right[frame] = out_r;
            }
            frame += 1;
        }
        if !self.lowpass.iter().all(|v| v.is_finite())
            || !self
                .lines
                .iter()
                .all(|line| line.iter().step_by(61).all(|v| v.is_finite()))
        {
            self.clear_network();
        }
    }

    /// One frame through the network plus width and mix: returns the outputs.
    #[inline(always)]
    fn frame(
        &mut self,
        dry_l: f32,
        dry_r: f32,
        predelay: PredelayRead,
        mix: f32,
        width: f32,
        on: f32,
    ) -> (f32, f32) {
        let (mut input_l, mut input_r) = ([dry_l], [dry_r]);
        self.predelay_block(&mut input_l, &mut input_r, predelay);
        // Draws a new modulation segment if the current one has ended (one frame is
        // always within the limit).
        self.chunk_limit();
        let (mut wet_l, mut wet_r) = ([0.0f32; NETWORK_FRAMES], [0.0f32; NETWORK_FRAMES]);
        self.network(&input_l, &input_r, &mut wet_l, &mut wet_r);
        let (wet_l, wet_r) = (wet_l[0], wet_r[0]);
        // Width on the wet signal: mid/side with the side scaled.
        let mid = 0.5 * (wet_l + wet_r);
        let side = 0.5 * (wet_l - wet_r) * width;
        let amount = mix * on;
        // Written so that amount 0 is exactly dry and 1 exactly wet.
        let out_l = dry_l * (1.0 - amount) + (mid + side) * amount;
        let out_r = dry_r * (1.0 - amount) + (mid - side) * amount;
        (out_l, out_r)
    }

    /// Pushes `left`/`right` into the pre-delay lines and replaces them with the
    /// pre-delayed signal (0 samples is a direct pass; the interpolator needs ≥ 1).
    #[inline(always)]
    fn predelay_block(&mut self, left: &mut [f32], right: &mut [f32], predelay: PredelayRead) {
        let [line_l, line_r] = &mut self.predelay_lines;
        if let PredelayRead::Whole(d) = predelay {
            // The settled case, block-wise (bit for bit the same samples).
            let n = left.len().min(right.len()).min(NETWORK_FRAMES);
            let (mut input_l, mut input_r) = ([0.0f32; NETWORK_FRAMES], [0.0f32; NETWORK_FRAMES]);
            input_l[..n].copy_from_slice(&left[..n]);
            input_r[..n].copy_from_slice(&right[..n]);
            line_l.delay_block(&input_l[..n], left, d);
            line_r.delay_block(&input_r[..n], right, d);
            return;
        }
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            line_l.push(*l);
            line_r.push(*r);
            (*l, *r) = match predelay {
                PredelayRead::Direct => (*l, *r),
                PredelayRead::Whole(d) => (line_l.read_integer(d), line_r.read_integer(d)),
                PredelayRead::Fraction(d) => (line_l.read(d), line_r.read(d)),
            };
        }
    }

    /// Starts a new modulation segment if the current one has ended, and returns how
    /// many frames [`Self::network`] may run at once: up to [`NETWORK_FRAMES`], within the
    /// current modulation segment, and fewer than the shortest line minus the
    /// interpolator's reach, so no read in a chunk can see a sample written in it.
    #[inline(always)]
    fn chunk_limit(&mut self) -> usize {
        if self.mod_left == 0 {
            self.next_mod_segment();
        }
        let shortest = self.lengths.iter().copied().min().unwrap_or(0);
        // A modulated read reaches one sample newer than its whole delay, and the
        // offset may round a hair below zero: hence − 2.
        self.mod_left
            .min(NETWORK_FRAMES)
            .min(shortest.saturating_sub(2))
            .max(1)
    }

    /// Runs the network over the pre-delayed `input_l`/`input_r` (at most
    /// [`Self::chunk_limit`] frames) and writes the wet outputs to the start of
    /// `wet_l`/`wet_r`.
    ///
    /// Same arithmetic, in the same order, as one frame at a time, but stage by stage:
    /// all line reads of the chunk first (no read can see this chunk's writes, see
    /// `chunk_limit`), then the absorption filters and the Hadamard mix with the filter
    /// state in registers, then all writes, one line at a time.
    #[inline(always)]
    fn network(
        &mut self,
        input_l: &[f32],
        input_r: &[f32],
        wet_l: &mut [f32; NETWORK_FRAMES],
        wet_r: &mut [f32; NETWORK_FRAMES],
    ) {
        let n = input_l.len().min(input_r.len()).min(NETWORK_FRAMES);
        if n == 0 {
            return;
        }
        debug_assert!(n <= self.mod_left);
        let w0 = self.write;
        // Line outputs, line by line (the mixing stages run across frames).
        let mut y = [[0.0f32; NETWORK_FRAMES]; LINES];

        // The modulated lines (0, 2, 4, 6): third-order Lagrange between p0 and p1 (see
        // `delay_line`). The delays of the whole chunk come first (the offsets advance
        // frame by frame, exactly as one frame at a time would). The modulation moves
        // by at most 0.006 samples per frame, so the whole part of a delay rarely
        // changes within a chunk: then the four taps of every frame lie in one
        // contiguous run and the reads and weights vectorise across frames. Otherwise
        // (or where the run wraps) each frame gathers its own taps; both ways compute
        // the same weights from the same delays, bit for bit.
        {
            let step = self.mod_step;
            let mut offset = self.mod_offset;
            let lengths = [0, 2, 4, 6].map(|i| self.lengths_f32[i]);
            let mut delay = [[0.0f32; NETWORK_FRAMES]; LINES / 2];
            // `k` is a column across the four rows of `delay`.
            #[allow(clippy::needless_range_loop)]
            for k in 0..n {
                for m in 0..LINES / 2 {
                    offset[m] += step[m];
                    delay[m][k] = lengths[m] + offset[m];
                }
            }
            self.mod_offset = offset;
            self.mod_left -= n;
            for (m, delay) in delay.iter().enumerate() {
                let line: &[f32] = &self.lines[2 * m];
                let y = &mut y[2 * m][..n];
                let delay = &delay[..n];
                let mask = line.len().wrapping_sub(1);
                let (first, last) = (floor_split(delay[0]).0, floor_split(delay[n - 1]).0);
                // Oldest tap (p2) of the first frame.
                let start = w0.wrapping_sub(first).wrapping_sub(2) & mask;
                match line.get(start..start + n + 3) {
                    // `floor_split` is monotonic and the delays move one way within a
                    // chunk: equal ends mean one whole part for every frame.
                    Some(run) if first == last => {
                        for ((y, &d), p) in y.iter_mut().zip(delay).zip(run.windows(4)) {
                            *y = lagrange(floor_split(d).1, p[3], p[2], p[1], p[0]);
                        }
                    }
                    _ => {
                        for (k, (y, &d)) in y.iter_mut().zip(delay).enumerate() {
                            let (whole, f) = floor_split(d);
                            let base = w0.wrapping_add(k).wrapping_sub(whole);
                            let tap = |i: usize| line.get(i & mask).copied().unwrap_or(0.0);
                            *y = lagrange(
                                f,
                                tap(base.wrapping_add(1)),
                                tap(base),
                                tap(base.wrapping_sub(1)),
                                tap(base.wrapping_sub(2)),
                            );
                        }
                    }
                }
            }
        }
        // The plain lines (1, 3, 5, 7): a contiguous run unless it wraps.
        for i in (1..LINES).step_by(2) {
            let line: &[f32] = &self.lines[i];
            let mask = line.len().wrapping_sub(1);
            let start = w0.wrapping_sub(self.lengths[i]) & mask;
            let y = &mut y[i][..n];
            match line.get(start..start + n) {
                Some(run) => y.copy_from_slice(run),
                None => {
                    for (k, y) in y.iter_mut().enumerate() {
                        *y = line.get((start + k) & mask).copied().unwrap_or(0.0);
                    }
                }
            }
        }

        // Output sign patterns: two rows of the 8×8 Hadamard matrix, orthogonal to
        // each other and to the all-ones row, so left and right are decorrelated. The
        // output sums 8 lines of unit-gain input: scale to about unity loudness.
        // Over the whole chunk (the rows are zero past `n`): a fixed trip count without
        // bounds checks lets the compiler vectorise across frames.
        for k in 0..NETWORK_FRAMES {
            let out_l =
                y[0][k] - y[1][k] + y[2][k] - y[3][k] + y[4][k] - y[5][k] + y[6][k] - y[7][k];
            let out_r =
                y[0][k] + y[1][k] - y[2][k] - y[3][k] + y[4][k] + y[5][k] - y[6][k] - y[7][k];
            wet_l[k] = out_l * 0.35;
            wet_r[k] = out_r * 0.35;
        }

        // Absorption: one-pole low-pass with the line's decay gain (eight independent
        // recursions side by side).
        let mut lowpass = self.lowpass;
        let (input_gain, pole) = (self.input_gain, self.pole);
        // `k` is a column across the eight line rows of `y`.
        #[allow(clippy::needless_range_loop)]
        for k in 0..n {
            for i in 0..LINES {
                lowpass[i] = input_gain[i] * y[i][k] + pole[i] * lowpass[i];
                y[i][k] = lowpass[i];
            }
        }
        self.lowpass = lowpass;

        // Fast Walsh–Hadamard transform (adds only) across whole rows, normalised at
        // the write.
        let mut h = 1;
        while h < LINES {
            let mut i = 0;
            while i < LINES {
                for j in i..i + h {
                    let (top, bottom) = y.split_at_mut(j + h);
                    let (a, b) = (&mut top[j], &mut bottom[0]);
                    for k in 0..NETWORK_FRAMES {
                        let (x, z) = (a[k], b[k]);
                        a[k] = x + z;
                        b[k] = x - z;
                    }
                }
                i += 2 * h;
            }
            h *= 2;
        }

        // Input: left feeds the even lines, right the odd ones, with alternating signs.
        let norm = 1.0 / (LINES as f32).sqrt();
        let input_l = &input_l[..n];
        let input_r = &input_r[..n];
        for (i, (line, y)) in self.lines.iter_mut().zip(&y).enumerate() {
            let mask = line.len().wrapping_sub(1);
            let start = w0.wrapping_add(1) & mask;
            let (input, sign) = match i % 4 {
                0 => (input_l, 1.0),
                1 => (input_r, 1.0),
                2 => (input_l, -1.0),
                _ => (input_r, -1.0),
            };
            match line.get_mut(start..start + n) {
                Some(run) => {
                    for ((sample, y), input) in run.iter_mut().zip(y).zip(input) {
                        *sample = y * norm + sign * input;
                    }
                }
                None => {
                    for (k, (y, input)) in y.iter().zip(input).enumerate() {
                        if let Some(sample) = line.get_mut((start + k) & mask) {
                            *sample = y * norm + sign * input;
                        }
                    }
                }
            }
        }
        self.write = w0.wrapping_add(n);
    }
}

/// `(floor(d), d − floor(d))` for a delay `0 ≤ d < 2^22`, without a float-to-int
/// conversion (whose saturating semantics keep the compiler from vectorising):
/// adding 2^23 rounds `d − ½` to an integer held in the low mantissa bits. A tie
/// rounds to even, which may give a fraction of exactly 1; [`lagrange`] is exact there
/// too (it returns p1). Monotonic in `d`.
#[inline(always)]
fn floor_split(d: f32) -> (usize, f32) {
    let rounded = (d - 0.5) + ROUND_MAGIC;
    let whole = rounded.to_bits().wrapping_sub(ROUND_MAGIC.to_bits());
    (whole as usize, d - (rounded - ROUND_MAGIC))
}

/// Third-order Lagrange interpolation at the fraction `f` between `p0` (newer) and
/// `p1` (older), with the outer taps `pm1` (newest) and `p2` (oldest); the same weights
/// as [`DelayLine::read`].
#[inline(always)]
fn lagrange(f: f32, pm1: f32, p0: f32, p1: f32, p2: f32) -> f32 {
    let (fm1, fm2, fp1) = (f - 1.0, f - 2.0, f + 1.0);
    let c_m1 = -f * fm1 * fm2 * (1.0 / 6.0);
    let c_0 = fp1 * fm1 * fm2 * 0.5;
    let c_1 = fp1 * f * fm2 * 0.5;
    let c_2 = fp1 * f * fm1 * (1.0 / 6.0);
    c_m1 * pm1 + c_0 * p0 - c_1 * p1 + c_2 * p2
}

/// How the pre-delay is read for one frame.
#[derive(Debug, Clone, Copy)]
enum PredelayRead {
    /// Below one sample: the input passes directly.
    Direct,
    /// A whole number of samples: no interpolation.
    Whole(usize),
    /// A fractional delay (while the pre-delay glides).
    Fraction(f32),
}

impl PredelayRead {
    #[inline(always)]
    fn new(predelay: f32) -> Self {
        if predelay < 1.0 {
            return Self::Direct;
        }
        // The pre-delay is at most 200 ms (below 2^24 samples at any rate): exact in i32.
        let whole = predelay as i32;
        if whole as f32 == predelay {
            Self::Whole(whole as usize)
        } else {
            Self::Fraction(predelay)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{assert_block_size_independent, assert_reset_reproduces};

    fn impulse_response(
        rate: f32,
        settings: &ReverbSettings,
        seconds: f32,
    ) -> (Vec<f32>, Vec<f32>) {
        let mut reverb = Reverb::new(rate);
        reverb.set_settings(settings);
        let frames = (seconds * rate) as usize;
        let mut left = vec![0.0f32; frames];
        let mut right = vec![0.0f32; frames];
        left[0] = 1.0;
        right[0] = 1.0;
        for (l, r) in left.chunks_mut(4096).zip(right.chunks_mut(4096)) {
            reverb.process(&mut [l, r]);
        }
        (left, right)
    }

    /// T30 by Schroeder backward integration (ISO 3382): fit a line to the energy
    /// decay curve between −5 and −35 dB, extrapolate to 60 dB.
    fn t30(left: &[f32], right: &[f32], rate: f32) -> f64 {
        let energy: Vec<f64> = left
            .iter()
            .zip(right)
            .map(|(l, r)| (*l as f64).powi(2) + (*r as f64).powi(2))
            .collect();
        let mut edc = vec![0.0f64; energy.len()];
        let mut acc = 0.0;
        for i in (0..energy.len()).rev() {
            acc += energy[i];
            edc[i] = acc;
        }
        let total = edc[0];
        let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (i, e) in edc.iter().enumerate() {
            let db = 10.0 * (e / total).log10();
            if (-35.0..=-5.0).contains(&db) {
                let t = i as f64 / rate as f64;
                n += 1.0;
                sx += t;
                sy += db;
                sxx += t * t;
                sxy += t * db;
            }
        }
        let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        -60.0 / slope
    }

    fn decay_settings(decay_s: f32) -> ReverbSettings {
        ReverbSettings {
            on: true,
            size: 0.5,
            decay_s,
            predelay_ms: 0.0,
            damping: 0.0,
            width: 1.0,
            mix: 1.0,
        }
    }

    #[test]
    fn measured_rt60_follows_the_decay_setting() {
        // 0.5, 2 and 8 s (the ends and the middle of the decay range) at
        // both 44.1 and 96 kHz: the decay gain depends on the line lengths in samples,
        // which scale with the rate, so each rate is checked over the whole range.
        // The IR runs for 0.9 × T60 + 0.3 s: the truncated Schroeder integral then
        // bends by less than 0.1 dB at −35 dB. Tolerance 10 %: twice the 5 %
        // just-noticeable difference ISO 3382-1 (Annex A) gives for the early decay
        // time, while a decay gain computed for the wrong rate is off by 2× between
        // 44.1 and 96 kHz.
        for (rate, decay) in [
            (44_100.0, 0.5),
            (44_100.0, 2.0),
            (44_100.0, 8.0),
            (96_000.0, 0.5),
            (96_000.0, 2.0),
            (96_000.0, 8.0),
        ] {
            let (l, r) = impulse_response(rate, &decay_settings(decay), 0.9 * decay + 0.3);
            let measured = t30(&l, &r, rate);
            let error = (measured / decay as f64 - 1.0).abs();
            assert!(
                error < 0.10,
                "{rate} Hz, {decay} s: measured {measured:.3} s"
            );
        }
    }

    #[test]
    fn damping_shortens_the_high_frequency_decay() {
        let rate = 48_000.0;
        let settings = ReverbSettings {
            damping: 0.8,
            ..decay_settings(2.0)
        };
        let (l, r) = impulse_response(rate, &settings, 2.0);
        // High band: first difference (+6 dB/oct); low band: 8-sample moving sum
        // (first null at 6 kHz). Crude but independent of the reverb's own filters.
        let high: (Vec<f32>, Vec<f32>) = (
            l.windows(2).map(|w| w[1] - w[0]).collect(),
            r.windows(2).map(|w| w[1] - w[0]).collect(),
        );
        let low: (Vec<f32>, Vec<f32>) = (
            l.windows(8).map(|w| w.iter().sum()).collect(),
            r.windows(8).map(|w| w.iter().sum()).collect(),
        );
        let t_high = t30(&high.0, &high.1, rate);
        let t_low = t30(&low.0, &low.1, rate);
        // Damping 0.8 gives α = 0.09 at Nyquist; the difference band is centred lower,
        // so ask only for a clearly shorter high-frequency decay: under 60 %.
        assert!(t_high < 0.6 * t_low, "high {t_high:.2} s, low {t_low:.2} s");
        // The low band still follows the setting within 15 % (it is not pure DC).
        assert!((t_low / 2.0 - 1.0).abs() < 0.15, "low {t_low:.2} s");
    }

    #[test]
    fn tail_decays_to_silence_without_dc() {
        let rate = 48_000.0;
        let settings = ReverbSettings {
            decay_s: 0.2,
            size: 0.2,
            ..decay_settings(0.2)
        };
        let mut reverb = Reverb::new(rate);
        reverb.set_settings(&settings);
        let tail = reverb.tail_samples();
        // Excite with a DC step for 0.1 s (the worst case for DC build-up), then silence.
        let frames = 4800 + 3 * rate as usize;
        let mut left: Vec<f32> = (0..frames)
            .map(|n| if n < 4800 { 0.5 } else { 0.0 })
            .collect();
        let mut right = left.clone();
        for (l, r) in left.chunks_mut(512).zip(right.chunks_mut(512)) {
            reverb.process(&mut [l, r]);
        }
        let peak = left.iter().map(|v| v.abs()).fold(0.0, f32::max);
        // After the reported tail the output is 120 dB below its peak.
        let after_tail = left[4800 + tail..]
            .iter()
            .map(|v| v.abs())
            .fold(0.0, f32::max);
        assert!(after_tail <= peak * 1e-6, "{after_tail} vs {peak}");
        // And it reaches exact zero, so no DC offset is left standing and no denormal
        // tail lingers (flushed to zero): 3 s of a 0.2 s decay is 900 dB.
        assert!(left[frames - 4800..].iter().all(|&v| v == 0.0));
    }

    fn noise(frames: usize, seed: u64) -> Vec<f32> {
        let mut rng = Pcg32::new(seed, 3);
        (0..frames).map(|_| rng.next_bipolar() * 0.5).collect()
    }

    fn run(reverb: &mut Reverb, input: &[f32], chunk: usize) -> Vec<f32> {
        let mut left = input.to_vec();
        let mut right: Vec<f32> = input.iter().rev().copied().collect();
        for (l, r) in left.chunks_mut(chunk).zip(right.chunks_mut(chunk)) {
            reverb.process(&mut [l, r]);
        }
        left.extend_from_slice(&right);
        left
    }

    /// Index of the first difference, for short failure messages.
    fn first_difference(a: &[f32], b: &[f32]) -> Option<usize> {
        if a.len() != b.len() {
            return Some(a.len().min(b.len()));
        }
        a.iter().zip(b).position(|(x, y)| x != y)
    }

    #[test]
    fn block_size_and_reset_reproduce_exactly() {
        let left = noise(6000, 1);
        let input = vec![left.clone(), left.iter().rev().copied().collect()];
        let settings = ReverbSettings {
            predelay_ms: 13.3,
            ..ReverbSettings::default()
        };
        let fresh = || {
            let mut r = Reverb::new(48_000.0);
            r.set_settings(&settings);
            r
        };
        let process = |r: &mut Reverb, block: &mut [&mut [f32]], _| r.process(block);
        // Bit-identical: smoothers and updates advance per frame, never per block.
        assert_block_size_independent(fresh, &input, &[], process);
        assert_reset_reproduces(&mut fresh(), &input, &[], process, Reverb::reset);
    }

    #[test]
    fn chunked_network_matches_single_frames_with_the_shortest_lines() {
        // The network runs up to 32 frames stage by stage; that is exact only while
        // every line is longer than the chunk. The shortest lines are at the lowest
        // rate and size (about 204 samples at 22.05 kHz), and a rate of 1 kHz makes
        // them shorter than a chunk (about 9 samples): both must still match one frame
        // at a time bit for bit, also while the size glides the lengths.
        for rate in [22_050.0, 1_000.0] {
            let input = noise(3000, 5);
            let settings = ReverbSettings {
                size: 0.0,
                ..ReverbSettings::default()
            };
            let outputs: Vec<Vec<f32>> = [512, 1]
                .into_iter()
                .map(|chunk| {
                    let mut reverb = Reverb::new(rate);
                    reverb.set_settings(&settings);
                    let mut out = run(&mut reverb, &input[..1500], chunk);
                    reverb.set_settings(&ReverbSettings {
                        size: 1.0,
                        ..settings
                    });
                    out.extend(run(&mut reverb, &input[1500..], chunk));
                    out
                })
                .collect();
            assert_eq!(
                first_difference(&outputs[0], &outputs[1]),
                None,
                "{rate} Hz"
            );
        }
    }

    #[test]
    fn width_zero_is_mono_and_mix_zero_is_dry() {
        let input = noise(4000, 2);
        let mut reverb = Reverb::new(44_100.0);
        reverb.set_settings(&ReverbSettings {
            width: 0.0,
            mix: 1.0,
            ..ReverbSettings::default()
        });
        let out = run(&mut reverb, &input, 256);
        assert_eq!(first_difference(&out[..4000], &out[4000..]), None);
        let mut reverb = Reverb::new(44_100.0);
        reverb.set_settings(&ReverbSettings {
            mix: 0.0,
            ..ReverbSettings::default()
        });
        let out = run(&mut reverb, &input, 256);
        assert_eq!(first_difference(&out[..4000], &input), None);
    }

    #[test]
    fn parameter_sweeps_stay_bounded_and_non_finite_input_recovers() {
        let mut reverb = Reverb::new(48_000.0);
        let mut input = noise(48_000, 4);
        input[100] = f32::NAN;
        input[200] = f32::INFINITY;
        let mut right = input.clone();
        for (i, (l, r)) in input.chunks_mut(480).zip(right.chunks_mut(480)).enumerate() {
            let t = i as f32 / 100.0;
            reverb.set_settings(&ReverbSettings {
                on: i % 40 != 39,
                size: t,
                decay_s: 0.2 + 9.8 * t,
                predelay_ms: 200.0 * (1.0 - t),
                damping: t,
                width: 1.0 - t,
                mix: 1.0,
            });
            reverb.process(&mut [l, r]);
        }
        // A lossless-or-lossy network driven by noise of peak 0.5 stays bounded: its
        // steady-state gain at 10 s decay is about √(T60·fs/mean length) · 0.35 ≈ 30;
        // 60 would mean energy is being created by the moving parameters.
        assert!(input
            .iter()
            .chain(&right)
            .all(|v| v.is_finite() && v.abs() < 60.0));
    }
}
