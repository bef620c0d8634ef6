//! A stereo delay: time in ms or synced to the tempo, feedback through high-pass and
//! low-pass filters, ping-pong, dry/wet mix.
//!
//! - The read position follows the set time smoothly: a one-pole glide (time constant
//!   [`TIME_GLIDE_MS`]) whose speed is limited to [`MAX_TIME_SLEW`] samples of delay per
//!   sample, i.e. the echo's pitch moves at most ±25 % (about ±4 semitones) like a tape
//!   delay's, and never jumps. Reads are third-order Lagrange interpolated
//!   ([`DelayLine::read`]).
//! - Feedback 0–95 % passes a high-pass and a low-pass ([`crate::filter`]) on its way
//!   back into the line; the first echo is unfiltered and each repeat is filtered once
//!   more. The high-pass is a 12 dB/oct Butterworth (bilinear, never above unity). The
//!   low-pass is two matched first-order sections (12 dB/oct, −3 dB at the cutoff, each
//!   section at 1.5538 × the cutoff): the matched second-order low-pass overshoots by
//!   up to +0.8 dB near Nyquist, which at 95 % feedback would make the loop grow, while
//!   first-order sections are monotonic. With the interpolator also ≤ 1, the loop gain
//!   stays ≤ 0.95 and the repeats always die away.
//! - Ping-pong: the input (summed to mono) enters the left line only, and each line
//!   feeds the other, so the repeats alternate sides. Switching cross-fades the routing
//!   matrix `[[1 − p, p], [p, 1 − p]]`, whose norm is 1 for every `p`.

use crate::delay_line::DelayLine;
use crate::denormal::FlushDenormals;
use crate::filter::{BiquadCoeffs, SvfCoeffs, BUTTERWORTH_Q};
use crate::sanitize::replace_non_finite;
use crate::sanitize::setting_or;
use crate::smoother::{Smoother, SmoothingStyle};

/// A note length for tempo sync: straight, dotted (× 1.5) or triplet (× 2/3), from a
/// 64th to a whole note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum NoteValue {
    SixtyFourthTriplet,
    SixtyFourth,
    SixtyFourthDotted,
    ThirtySecondTriplet,
    ThirtySecond,
    ThirtySecondDotted,
    SixteenthTriplet,
    Sixteenth,
    SixteenthDotted,
    EighthTriplet,
    Eighth,
    EighthDotted,
    QuarterTriplet,
    Quarter,
    QuarterDotted,
    HalfTriplet,
    Half,
    HalfDotted,
    WholeTriplet,
    Whole,
    WholeDotted,
}

impl NoteValue {
    /// Every note value, shortest first (for parameter lists).
    pub const ALL: [NoteValue; 21] = [
        Self::SixtyFourthTriplet,
        Self::SixtyFourth,
        Self::SixtyFourthDotted,
        Self::ThirtySecondTriplet,
        Self::ThirtySecond,
        Self::ThirtySecondDotted,
        Self::SixteenthTriplet,
        Self::Sixteenth,
        Self::SixteenthDotted,
        Self::EighthTriplet,
        Self::Eighth,
        Self::EighthDotted,
        Self::QuarterTriplet,
        Self::Quarter,
        Self::QuarterDotted,
        Self::HalfTriplet,
        Self::Half,
        Self::HalfDotted,
        Self::WholeTriplet,
        Self::Whole,
        Self::WholeDotted,
    ];

    /// The length in quarter-note beats (a quarter is 1, a whole note 4).
    pub fn beats(self) -> f64 {
        let index = Self::ALL.iter().position(|&v| v == self).unwrap_or(13);
        // Straight values: 1/16, 1/8, 1/4, 1/2, 1, 2, 4 beats.
        let straight = 4.0 / 64.0 * (1u32 << (index / 3)) as f64;
        match index % 3 {
            0 => straight * 2.0 / 3.0,
            1 => straight,
            _ => straight * 1.5,
        }
    }

    /// A short label ("1/4", "1/8.", "1/16T").
    pub fn label(self) -> &'static str {
        const LABELS: [&str; 21] = [
            "1/64T", "1/64", "1/64.", "1/32T", "1/32", "1/32.", "1/16T", "1/16", "1/16.", "1/8T",
            "1/8", "1/8.", "1/4T", "1/4", "1/4.", "1/2T", "1/2", "1/2.", "1/1T", "1/1", "1/1.",
        ];
        let index = Self::ALL.iter().position(|&v| v == self).unwrap_or(13);
        LABELS[index]
    }

    /// The length in ms at `tempo_bpm` quarter notes per minute.
    pub fn ms_at(self, tempo_bpm: f64) -> f64 {
        self.beats() * 60_000.0 / tempo_bpm
    }
}

/// Settings for [`StereoDelay`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DelaySettings {
    /// Off fades the echoes out and clears the lines.
    pub on: bool,
    /// Delay time when not synced, 1–2000 ms.
    pub time_ms: f32,
    /// Tempo sync: the note value that replaces `time_ms`.
    pub sync: Option<NoteValue>,
    /// The host tempo (quarter notes per minute); 120 when the host gives none.
    pub tempo_bpm: f32,
    /// Feedback 0–0.95.
    pub feedback: f32,
    /// High-pass cutoff in the feedback path, 20–2000 Hz.
    pub hpf_hz: f32,
    /// Low-pass cutoff in the feedback path, 500–20 000 Hz.
    pub lpf_hz: f32,
    /// Repeats alternate between the sides.
    pub ping_pong: bool,
    /// Wet share, 0–1.
    pub mix: f32,
}

impl Default for DelaySettings {
    fn default() -> Self {
        Self {
            on: true,
            time_ms: 375.0,
            sync: None,
            tempo_bpm: DEFAULT_TEMPO_BPM,
            feedback: 0.35,
            hpf_hz: 80.0,
            lpf_hz: 8000.0,
            ping_pong: false,
            mix: 0.25,
        }
    }
}

/// The tempo assumed when the host reports none.
pub const DEFAULT_TEMPO_BPM: f32 = 120.0;

impl DelaySettings {
    /// Time range in ms.
    pub const TIME_MS_RANGE: (f32, f32) = (1.0, 2000.0);
    /// Largest feedback.
    pub const MAX_FEEDBACK: f32 = 0.95;
    /// High-pass range.
    pub const HPF_HZ_RANGE: (f32, f32) = (20.0, 2000.0);
    /// Low-pass range.
    pub const LPF_HZ_RANGE: (f32, f32) = (500.0, 20_000.0);

    /// The delay time these settings ask for, in ms (tempo sync resolved), before
    /// clamping to the delay's range.
    pub fn effective_time_ms(&self) -> f32 {
        match self.sync {
            Some(note) => {
                let bpm = if self.tempo_bpm.is_finite() && self.tempo_bpm > 0.0 {
                    self.tempo_bpm
                } else {
                    DEFAULT_TEMPO_BPM
                };
                note.ms_at(bpm as f64) as f32
            }
            None => self.time_ms,
        }
    }
}

/// Time constant of the delay-time glide.
pub const TIME_GLIDE_MS: f32 = 60.0;
/// Largest change of the delay per sample (read speed 0.75–1.25).
pub const MAX_TIME_SLEW: f32 = 0.25;
/// Each first-order low-pass section sits this much above the cutoff so that the two
/// together are −3 dB there: each is −1.505 dB at `f`, `1/(1 + r²) = 10^(−0.1505)`,
/// `1/r = 1.5538`.
const LOWPASS_SECTION_RATIO: f64 = 1.553_774;
/// Filter coefficients are refreshed this often while a cutoff moves.
const FILTER_UPDATE_FRAMES: usize = 32;
/// Most frames the steady path runs stage by stage.
const STEADY_CHUNK: usize = 64;

/// A TPT state-variable filter section in state-space form, on the SVF's own states
/// `s = (ic1, ic2)`: `s' = A·s + B·x`, `y = C·s + D·x`.
///
/// The same section with the same states (so coefficient updates behave exactly as
/// the SVF's), but the recursion through the states is one multiply and two adds
/// instead of the SVF's chain of seven dependent operations; the feedback filters run
/// serially frame after frame, so that chain set the delay's speed. The matrices are
/// read off the SVF itself: running it once from each unit state with no input, and
/// once from rest with a unit input, gives the columns of `A` and `C`, then `B`, `D`.
#[derive(Debug, Clone, Copy)]
struct SvfStateSpace {
    a: [[f64; 2]; 2],
    b: [f64; 2],
    c: [f64; 2],
    d: f64,
}

impl SvfStateSpace {
    fn of(svf: &SvfCoeffs) -> Self {
        let run = |x: f64, ic1: f64, ic2: f64| {
            let (mut s1, mut s2) = ([ic1; 2], [ic2; 2]);
            let y = svf.run2([x; 2], &mut s1, &mut s2);
            (s1[0], s2[0], y[0])
        };
        let (a11, a21, c1) = run(0.0, 1.0, 0.0);
        let (a12, a22, c2) = run(0.0, 0.0, 1.0);
        let (b1, b2, d) = run(1.0, 0.0, 0.0);
        Self {
            a: [[a11, a12], [a21, a22]],
            b: [b1, b2],
            c: [c1, c2],
            d,
        }
    }

    /// Both channels (lanes) one frame: the output, and the states advanced.
    #[inline(always)]
    fn run2(&self, x: [f64; 2], s1: &mut [f64; 2], s2: &mut [f64; 2]) -> [f64; 2] {
        let mut y = [0.0; 2];
        for i in 0..2 {
            let (u1, u2) = (s1[i], s2[i]);
            y[i] = (self.d * x[i] + self.c[0] * u1) + self.c[1] * u2;
            s1[i] = (self.b[0] * x[i] + self.a[0][0] * u1) + self.a[0][1] * u2;
            s2[i] = (self.b[1] * x[i] + self.a[1][0] * u1) + self.a[1][1] * u2;
        }
        y
    }
}

/// A first-order section `(b0 + b1 z⁻¹)/(1 − p z⁻¹)` with one state per lane:
/// `y = b0·x + s`, `s' = p·s + (b1 + p·b0)·x` (transposed direct form with the output
/// folded into the state update). Three multiplies a frame instead of the nine of a
/// two-state SVF section, and its recursion is one multiply and one add. A single
/// pole below 1 keeps it stable through any sequence of coefficient changes.
#[derive(Debug, Clone, Copy)]
struct FirstOrder {
    b0: f64,
    pole: f64,
    /// `b1 + pole · b0`: the input's weight in the state update.
    k: f64,
}

impl FirstOrder {
    /// The identity (passes the input, keeps no state).
    const IDENTITY: Self = Self {
        b0: 1.0,
        pole: 0.0,
        k: 0.0,
    };

    /// The section of a first-order biquad (`b2 = a2 = 0`).
    fn of(biquad: &BiquadCoeffs) -> Self {
        let pole = -biquad.a1;
        Self {
            b0: biquad.b0,
            pole,
            k: biquad.b1 + pole * biquad.b0,
        }
    }

    /// Both channels (lanes) one frame: the output, and the state advanced.
    #[inline(always)]
    fn run2(&self, x: [f64; 2], state: &mut [f64; 2]) -> [f64; 2] {
        let mut y = [0.0; 2];
        for i in 0..2 {
            y[i] = self.b0 * x[i] + state[i];
            state[i] = self.pole * state[i] + self.k * x[i];
        }
        y
    }
}

/// A stereo (or mono) feedback delay.
#[derive(Debug, Clone)]
pub struct StereoDelay {
    sample_rate: f32,
    settings: DelaySettings,
    fresh: bool,
    lines: [DelayLine; 2],
    max_delay: f32,
    /// Current and target delay in samples, in f64: the glide's last steps are far
    /// below the f32 resolution of a 2 s delay (0.002 sample at 96 000).
    delay: f64,
    target_delay: f64,
    glide: f64,
    feedback: Smoother,
    mix: Smoother,
    on: Smoother,
    ping_pong: Smoother,
    hpf_hz: Smoother,
    lpf_hz: Smoother,
    /// The feedback filters, both channels in one pair of lanes (one SIMD register
    /// of two f64): the high-pass, then two identical first-order low-pass sections.
    highpass_coeffs: SvfStateSpace,
    lowpass_coeffs: FirstOrder,
    /// The high-pass's TPT SVF integrator states `(ic1, ic2)`, lanes = channels.
    highpass_state: ([f64; 2], [f64; 2]),
    /// The two low-pass sections' states, lanes = channels.
    lowpass_state: [[f64; 2]; 2],
    filter_countdown: usize,
    running: bool,
}

impl StereoDelay {
    /// A delay at `sample_rate` whose lines hold `max_time_ms` (2000 for the strip).
    pub fn new(sample_rate: f32, max_time_ms: f32) -> Self {
        let fs = sample_rate.max(1.0);
        let max_samples = (max_time_ms.max(1.0) * 1e-3 * fs).ceil() as usize + 4;
        let defaults = DelaySettings::default();
        let mut delay = Self {
            sample_rate: fs,
            settings: defaults,
            fresh: true,
            lines: [DelayLine::new(max_samples), DelayLine::new(max_samples)],
            max_delay: max_samples as f32,
            delay: 1.0,
            target_delay: 1.0,
            glide: 1.0 - (-1.0 / (TIME_GLIDE_MS as f64 * 1e-3 * fs as f64)).exp(),
            feedback: Smoother::new(SmoothingStyle::Linear, 20.0, fs, 0.0),
            mix: Smoother::new(SmoothingStyle::Linear, 20.0, fs, 0.0),
            on: Smoother::new(SmoothingStyle::Linear, 20.0, fs, 1.0),
            ping_pong: Smoother::new(SmoothingStyle::Linear, 20.0, fs, 0.0),
            hpf_hz: Smoother::new(SmoothingStyle::Logarithmic, 50.0, fs, defaults.hpf_hz),
            lpf_hz: Smoother::new(SmoothingStyle::Logarithmic, 50.0, fs, defaults.lpf_hz),
            highpass_coeffs: SvfStateSpace::of(&SvfCoeffs::IDENTITY),
            lowpass_coeffs: FirstOrder::IDENTITY,
            highpass_state: ([0.0; 2], [0.0; 2]),
            lowpass_state: [[0.0; 2]; 2],
            filter_countdown: 0,
            running: false,
        };
        delay.set_settings(&defaults);
        delay.fresh = true;
        delay
    }

    /// Applies settings (call once per block, e.g. with the host tempo); the first
    /// call after `new`/`reset` jumps without ramps. The same settings again cost one
    /// comparison.
    pub fn set_settings(&mut self, settings: &DelaySettings) {
        if !self.fresh && *settings == self.settings {
            return;
        }
        let (tlo, thi) = DelaySettings::TIME_MS_RANGE;
        let time_ms = setting_or(settings.effective_time_ms(), tlo, thi, 500.0);
        let delay = (time_ms * 1e-3 * self.sample_rate).clamp(2.0, self.max_delay);
        let feedback = setting_or(settings.feedback, 0.0, DelaySettings::MAX_FEEDBACK, 0.0);
        let (hlo, hhi) = DelaySettings::HPF_HZ_RANGE;
        let (llo, lhi) = DelaySettings::LPF_HZ_RANGE;
        let nyquist_guard = 0.45 * self.sample_rate;
        let hpf = setting_or(settings.hpf_hz, hlo, hhi, hlo).min(nyquist_guard);
        let lpf = setting_or(settings.lpf_hz, llo, lhi, lhi).min(nyquist_guard);
        let mix = setting_or(settings.mix, 0.0, 1.0, 0.0);
        let on = if settings.on { 1.0 } else { 0.0 };
        let ping_pong = if settings.ping_pong { 1.0 } else { 0.0 };
        self.target_delay = delay as f64;
        let targets = [
            (&mut self.feedback, feedback),
            (&mut self.mix, mix),
            (&mut self.on, on),
            (&mut self.ping_pong, ping_pong),
            (&mut self.hpf_hz, hpf),
            (&mut self.lpf_hz, lpf),
        ];
        for (smoother, value) in targets {
            if self.fresh {
                smoother.reset_to(value);
            } else {
                smoother.set_target(value);
            }
        }
        if self.fresh {
            self.delay = delay as f64;
            self.update_filters();
            self.fresh = false;
        }
        self.settings = *settings;
    }

    /// Clears the lines and filters; the next `set_settings` jumps.
    pub fn reset(&mut self) {
        self.clear();
        self.filter_countdown = 0;
        self.running = false;
        let settings = self.settings;
        self.fresh = true;
        self.set_settings(&settings);
    }

    fn clear(&mut self) {
        for line in &mut self.lines {
            line.reset();
        }
        self.highpass_state = ([0.0; 2], [0.0; 2]);
        self.lowpass_state = [[0.0; 2]; 2];
    }

    /// The current delay in samples (gliding towards the set time).
    pub fn delay_samples(&self) -> f64 {
        self.delay
    }

    /// How long the echoes last after the input stops: until the repeats are 120 dB
    /// down (`time · (1 + 120 dB / per-repeat loss)`).
    pub fn tail_samples(&self) -> usize {
        let delay = self.delay.max(self.target_delay);
        let feedback = self.feedback.target().max(self.feedback.current()) as f64;
        let repeats = if feedback > 1e-6 {
            6.0 / -feedback.log10()
        } else {
            0.0
        };
        (delay * (1.0 + repeats)).ceil() as usize
    }

    fn update_filters(&mut self) {
        let fs = self.sample_rate as f64;
        let hp = BiquadCoeffs::highpass(self.hpf_hz.current() as f64, BUTTERWORTH_Q, fs);
        let lp = BiquadCoeffs::lowpass_first_order(
            self.lpf_hz.current() as f64 * LOWPASS_SECTION_RATIO,
            fs,
        );
        self.highpass_coeffs = SvfStateSpace::of(&SvfCoeffs::from_biquad(&hp));
        self.lowpass_coeffs = FirstOrder::of(&lp);
    }

    /// Both channels through high-pass, low-pass, low-pass (f64 states, as in
    /// [`crate::filter::Biquad`]). The inputs are finite: the block was sanitised and
    /// the lines only hold finite sums of it.
    #[inline(always)]
    fn feedback_filter(&mut self, x: [f32; 2]) -> [f32; 2] {
        let hp = &mut self.highpass_state;
        let [lp1, lp2] = &mut self.lowpass_state;
        let y = self
            .highpass_coeffs
            .run2([x[0] as f64, x[1] as f64], &mut hp.0, &mut hp.1);
        let y = self.lowpass_coeffs.run2(y, lp1);
        let y = self.lowpass_coeffs.run2(y, lp2);
        [y[0] as f32, y[1] as f32]
    }

    /// How many of the next `remaining` frames can run as one steady chunk: 0 unless
    /// the delay is on and nothing moves (no smoother ramps, the time glide has
    /// settled to where its next step changes nothing), then up to [`STEADY_CHUNK`]
    /// frames and no more than the delay, so every echo read in the chunk was written
    /// before it.
    #[inline(always)]
    fn steady_frames(&self, remaining: usize, stereo: bool) -> usize {
        let slew = MAX_TIME_SLEW as f64;
        let glide_step = ((self.target_delay - self.delay) * self.glide).clamp(-slew, slew);
        let moving = self.on.is_smoothing()
            || self.mix.is_smoothing()
            || self.feedback.is_smoothing()
            || (stereo && self.ping_pong.is_smoothing())
            || self.hpf_hz.is_smoothing()
            || self.lpf_hz.is_smoothing()
            || self.delay + glide_step != self.delay;
        if moving || self.on.current() != 1.0 {
            return 0;
        }
        let read_at = (self.delay - 1.0) as f32;
        remaining
            .min(STEADY_CHUNK)
            .min(self.lines[0].block_limit(read_at))
    }

    /// `n` frames from `start` with every parameter constant: the same arithmetic, in
    /// the same order, as the per-frame path, but stage by stage (echo reads, the
    /// feedback filters with their state in registers, routing and writes, mix).
    #[inline(always)]
    fn steady_chunk(&mut self, channels: &mut [&mut [f32]], start: usize, n: usize, stereo: bool) {
        let n = n.min(STEADY_CHUNK);
        let end = start + n;
        let mut dry = [[0.0f32; STEADY_CHUNK]; 2];
        if let Some(c) = channels.first() {
            dry[0][..n].copy_from_slice(&c[start..end]);
        }
        if stereo {
            dry[1][..n].copy_from_slice(&channels[1][start..end]);
        } else {
            dry[1] = dry[0];
        }
        // Constants of the chunk (`next()` returns these while nothing ramps).
        let (mix, feedback) = (self.mix.current(), self.feedback.current());
        let ping_pong = if stereo {
            self.ping_pong.current()
        } else {
            0.0
        };
        let on = 1.0f32;
        let read_at = (self.delay - 1.0) as f32;
        // The filter countdown advances as frame by frame (no update: nothing ramps).
        self.filter_countdown = (self.filter_countdown as isize - n as isize)
            .rem_euclid(FILTER_UPDATE_FRAMES as isize) as usize;
        self.running = true;

        let mut wet = [[0.0f32; STEADY_CHUNK]; 2];
        self.lines[0].read_block(read_at, &mut wet[0][..n]);
        if stereo {
            self.lines[1].read_block(read_at, &mut wet[1][..n]);
        }

        // Feedback filters, f64 states kept in locals across the chunk.
        let mut back = [[0.0f32; STEADY_CHUNK]; 2];
        {
            let (hp_c, lp_c) = (self.highpass_coeffs, self.lowpass_coeffs);
            let mut hp = self.highpass_state;
            let [mut lp1, mut lp2] = self.lowpass_state;
            for k in 0..n {
                let y = hp_c.run2([wet[0][k] as f64, wet[1][k] as f64], &mut hp.0, &mut hp.1);
                let y = lp_c.run2(y, &mut lp1);
                let y = lp_c.run2(y, &mut lp2);
                back[0][k] = y[0] as f32 * feedback;
                back[1][k] = y[1] as f32 * feedback;
            }
            self.highpass_state = hp;
            self.lowpass_state = [lp1, lp2];
        }

        // Straight and ping-pong routings, cross-faded (as in the per-frame path).
        let in_gain = on;
        let mut write = [[0.0f32; STEADY_CHUNK]; 2];
        for k in 0..n {
            let (dry_l, dry_r) = (dry[0][k], dry[1][k]);
            let (back_l, back_r) = (back[0][k], back[1][k]);
            let mono_in = 0.5 * (dry_l + dry_r);
            let straight = (dry_l + back_l, dry_r + back_r);
            let crossed = (mono_in + back_r, back_l);
            write[0][k] = (straight.0 + (crossed.0 - straight.0) * ping_pong) * in_gain
                + (back_l + (back_r - back_l) * ping_pong) * (1.0 - in_gain);
            write[1][k] = (straight.1 + (crossed.1 - straight.1) * ping_pong) * in_gain
                + (back_r + (back_l - back_r) * ping_pong) * (1.0 - in_gain);
        }
        self.lines[0].push_block(&write[0][..n]);
        if stereo {
            self.lines[1].push_block(&write[1][..n]);
        }

        let amount = mix * on;
        for (c, (dry, wet)) in channels.iter_mut().take(2).zip(dry.iter().zip(&wet)) {
            for ((y, dry), wet) in c[start..end].iter_mut().zip(dry).zip(wet) {
                *y = dry * (1.0 - amount) + wet * amount;
            }
        }
    }

    crate::cpu::wide_build! {
        /// Processes one or two equally long channels in place (mono: one line, no
        /// ping-pong).
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
        let stereo = channels.len() >= 2;
        let mut frame = 0;
        while frame < frames {
            let n = self.steady_frames(frames - frame, stereo);
            if n > 0 {
                self.steady_chunk(channels, frame, n, stereo);
                frame += n;
                continue;
            }
            let dry_l = channels.first().map_or(0.0, |c| c[frame]);
            let dry_r = if stereo { channels[1][frame] } else { dry_l };
            let on = self.on.next();
            let mix = self.mix.next();
            let feedback = self.feedback.next();
            let ping_pong = if stereo { self.ping_pong.next() } else { 0.0 };
            // The glide: one-pole towards the target, speed-limited.
            let slew = MAX_TIME_SLEW as f64;
            self.delay += ((self.target_delay - self.delay) * self.glide).clamp(-slew, slew);
            let read_at = (self.delay - 1.0) as f32;
            if on == 0.0 && !self.on.is_smoothing() {
                if self.running {
                    self.clear();
                    self.running = false;
                }
                frame += 1;
                continue;
            }
            self.running = true;
            if self.filter_countdown == 0 {
                if self.hpf_hz.is_smoothing() || self.lpf_hz.is_smoothing() {
                    self.hpf_hz.skip(FILTER_UPDATE_FRAMES);
                    self.lpf_hz.skip(FILTER_UPDATE_FRAMES);
                    self.update_filters();
                }
                self.filter_countdown = FILTER_UPDATE_FRAMES;
            }
            self.filter_countdown -= 1;

            // Read the echoes. The lines hold frames up to the previous one, so a delay
            // of `d` frames is `d − 1` behind the newest (hence the 2-sample minimum).
            let wet_l = self.lines[0].read(read_at);
            let wet_r = if stereo {
                self.lines[1].read(read_at)
            } else {
                0.0
            };
            let [back_l, back_r] = self.feedback_filter([wet_l, wet_r]);
            let back_l = back_l * feedback;
            let back_r = back_r * feedback; // 0 in mono: the lane's input is always 0
                                            // Straight and ping-pong routings, cross-faded.
            let mono_in = 0.5 * (dry_l + dry_r);
            let straight = (dry_l + back_l, dry_r + back_r);
            let crossed = (mono_in + back_r, back_l);
            let in_gain = on; // the input fades with the on switch, the tail keeps going
            let write_l = (straight.0 + (crossed.0 - straight.0) * ping_pong) * in_gain
                + (back_l + (back_r - back_l) * ping_pong) * (1.0 - in_gain);
            self.lines[0].push(write_l);
            if stereo {
                let write_r = (straight.1 + (crossed.1 - straight.1) * ping_pong) * in_gain
                    + (back_r + (back_l - back_r) * ping_pong) * (1.0 - in_gain);
                self.lines[1].push(write_r);
            }
            let amount = mix * on;
            if let Some(c) = channels.first_mut() {
                c[frame] = dry_l * (1.0 - amount) + wet_l * amount;
            }
            if stereo {
                channels[1][frame] = dry_r * (1.0 - amount) + wet_r * amount;
            }
            frame += 1;
        }
        let finite = |line: &DelayLine| {
            let d = line.max_delay() as usize;
            line.read_integer(0).is_finite() && line.read_integer(d / 2).is_finite()
        };
        if !finite(&self.lines[0]) || !finite(&self.lines[1]) {
            self.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{assert_block_size_independent, assert_reset_reproduces, run_blocks};

    const FS: f32 = 48_000.0;

    fn settings(time_ms: f32, feedback: f32) -> DelaySettings {
        DelaySettings {
            on: true,
            time_ms,
            sync: None,
            tempo_bpm: 120.0,
            feedback,
            hpf_hz: 20.0,
            lpf_hz: 20_000.0,
            ping_pong: false,
            mix: 1.0,
        }
    }

    #[test]
    fn feedback_sections_match_their_reference_forms() {
        // The high-pass's state-space form against the SVF it is read from, on the same
        // states, and the low-pass's one-state section against the biquad's direct
        // form, over 2000 frames of noise: f64 rounding only (1e-12 of a signal of
        // peak 1).
        let fs = 48_000.0;
        let svf = SvfCoeffs::from_biquad(&BiquadCoeffs::highpass(80.0, BUTTERWORTH_Q, fs));
        let state_space = SvfStateSpace::of(&svf);
        let lowpass = BiquadCoeffs::lowpass_first_order(8000.0 * LOWPASS_SECTION_RATIO, fs);
        let section = FirstOrder::of(&lowpass);
        let (mut a1, mut a2, mut b1, mut b2) = ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
        let mut state = [0.0; 2];
        let (mut x1, mut y1) = ([0.0f64; 2], [0.0f64; 2]);
        let mut rng = crate::rng::Pcg32::new(9, 1);
        for _ in 0..2000 {
            let x = [rng.next_bipolar() as f64, rng.next_bipolar() as f64];
            let ya = svf.run2(x, &mut a1, &mut a2);
            let yb = state_space.run2(x, &mut b1, &mut b2);
            let yc = section.run2(x, &mut state);
            for l in 0..2 {
                assert!((ya[l] - yb[l]).abs() < 1e-12, "{} vs {}", ya[l], yb[l]);
                assert!((a1[l] - b1[l]).abs() < 1e-12 && (a2[l] - b2[l]).abs() < 1e-12);
                let direct = lowpass.b0 * x[l] + lowpass.b1 * x1[l] - lowpass.a1 * y1[l];
                assert!((direct - yc[l]).abs() < 1e-12, "{direct} vs {}", yc[l]);
                (x1[l], y1[l]) = (x[l], direct);
            }
        }
    }

    #[test]
    fn note_values_have_the_right_lengths() {
        assert_eq!(NoteValue::Quarter.beats(), 1.0);
        assert_eq!(NoteValue::Whole.beats(), 4.0);
        assert_eq!(NoteValue::SixtyFourth.beats(), 1.0 / 16.0);
        assert_eq!(NoteValue::EighthDotted.beats(), 0.75);
        assert!((NoteValue::QuarterTriplet.beats() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(NoteValue::Quarter.ms_at(120.0), 500.0);
        assert_eq!(NoteValue::Quarter.label(), "1/4");
        // Strictly increasing in ALL order except where triplet/dotted interleave
        // (1/16. = 0.375 beats > 1/8T = 0.333).
        for pair in NoteValue::ALL.windows(2) {
            assert!(pair[0].beats() != pair[1].beats());
        }
    }

    #[test]
    fn synced_quarter_at_120_bpm_echoes_at_500_ms() {
        for rate in [44_100.0, 48_000.0, 96_000.0] {
            let mut delay = StereoDelay::new(rate, 2000.0);
            let s = DelaySettings {
                sync: Some(NoteValue::Quarter),
                time_ms: 10.0,
                ..settings(10.0, 0.0)
            };
            delay.set_settings(&s);
            let frames = (0.6 * rate) as usize;
            let mut left = vec![0.0f32; frames];
            let mut right = vec![0.0f32; frames];
            left[0] = 1.0;
            right[0] = 1.0;
            for (l, r) in left.chunks_mut(512).zip(right.chunks_mut(512)) {
                delay.process(&mut [l, r]);
            }
            let peak = (0..frames)
                .max_by(|&a, &b| left[a].abs().total_cmp(&left[b].abs()))
                .unwrap_or(0);
            let expected = 0.5 * rate as f64;
            // ±1 sample would be inaudible, but 500 ms is a whole number of samples at these
            // rates and an integer Lagrange read is exact, so the peak is exactly there.
            assert_eq!(peak as f64, expected, "{rate}");
            assert_eq!(left[peak], 1.0);
            assert_eq!(left, right);
        }
    }

    #[test]
    fn sweeping_the_time_is_click_free() {
        // 1 kHz sine of amplitude 1: at most 2π·1000/48000 = 0.131 change per sample.
        // Reading at speed s multiplies that by s ≤ 1 + MAX_TIME_SLEW; the Lagrange
        // interpolator's error adds under 1 %. A click (a jump of the read position)
        // would show as a step of up to 2.
        let w = 2.0 * std::f64::consts::PI * 1000.0 / FS as f64;
        let frames = 96_000;
        let mut out: Vec<f32> = (0..frames).map(|n| (w * n as f64).sin() as f32).collect();
        let mut delay = StereoDelay::new(FS, 2000.0);
        delay.set_settings(&settings(50.0, 0.0));
        for (i, block) in out.chunks_mut(64).enumerate() {
            // Sweep 50 → 250 ms over the first second (a knob turned steadily), then
            // jump to 400 ms (faster than the slew limit allows).
            let t = (i * 64) as f32 / FS;
            let time_ms = if t < 1.0 { 50.0 + 200.0 * t } else { 400.0 };
            delay.set_settings(&settings(time_ms, 0.0));
            delay.process(&mut [block]);
        }
        let bound = (1.0 + MAX_TIME_SLEW) * 0.1309 * 1.01;
        let start = 2400; // after the first echo arrives (50 ms)
        let steepest = out[start..]
            .windows(2)
            .map(|p| (p[1] - p[0]).abs())
            .fold(0.0, f32::max);
        assert!(steepest <= bound, "{steepest} > {bound}");
        // And the time really moved: it ends at 400 ms (the slew-limited glide needs
        // 0.6 s for the 150 ms jump, then settles exponentially).
        assert!(
            (delay.delay_samples() - 0.4 * FS as f64).abs() < 1.0,
            "{}",
            delay.delay_samples()
        );
    }

    #[test]
    fn maximum_feedback_decays_with_any_filters_and_routing() {
        let mut rng = crate::rng::Pcg32::new(5, 5);
        for (ping_pong, hpf_hz, lpf_hz, time_ms) in [
            (false, 20.0, 20_000.0, 10.0),
            (true, 20.0, 20_000.0, 10.0),
            (true, 500.0, 2000.0, 3.0),
            (false, 2000.0, 500.0, 1.0),
        ] {
            let mut delay = StereoDelay::new(FS, 2000.0);
            let s = DelaySettings {
                ping_pong,
                hpf_hz,
                lpf_hz,
                feedback: 0.95,
                ..settings(time_ms, 0.95)
            };
            delay.set_settings(&s);
            let frames = 48_000;
            let mut left: Vec<f32> = (0..frames)
                .map(|n| if n < 4800 { rng.next_bipolar() } else { 0.0 })
                .collect();
            let mut right: Vec<f32> = left.iter().map(|v| 0.3 * v).collect();
            for (i, (l, r)) in left.chunks_mut(480).zip(right.chunks_mut(480)).enumerate() {
                // Wobble the time while it rings: moving reads must not add energy.
                let wobble = if i % 2 == 0 { 1.0 } else { 1.2 };
                delay.set_settings(&DelaySettings {
                    time_ms: time_ms * wobble,
                    ..s
                });
                delay.process(&mut [l, r]);
            }
            let peak = left
                .iter()
                .chain(&right)
                .map(|v| v.abs())
                .fold(0.0, f32::max);
            // Loop gain ≤ 0.95: the steady-state sum of repeats of a full-scale input
            // is at most 1/(1 − 0.95) = 20.
            assert!(peak <= 20.0, "{ping_pong} {hpf_hz} {lpf_hz}: peak {peak}");
            let rms = |x: &[f32]| {
                (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
            };
            let early = rms(&left[4800..9600]);
            let late = rms(&left[43_200..]);
            assert!(
                late < early * 0.5,
                "{ping_pong} {hpf_hz} {lpf_hz}: {late} vs {early}"
            );
        }
    }

    #[test]
    fn ping_pong_alternates_sides() {
        let mut delay = StereoDelay::new(FS, 2000.0);
        delay.set_settings(&DelaySettings {
            ping_pong: true,
            ..settings(100.0, 0.5)
        });
        let mut left = vec![0.0f32; 20_000];
        let mut right = vec![0.0f32; 20_000];
        left[0] = 1.0;
        delay.process(&mut [&mut left, &mut right]);
        // Echo 1 (4800) on the left at half the input (mono sum, unfiltered), echo 2
        // (9600) on the right, echo 3 on the left: the later ones pass the feedback
        // filters, so compare the energy of ±16-sample windows.
        assert!((left[4800] - 0.5).abs() < 1e-6 && right[4800] == 0.0);
        let energy = |x: &[f32], at: usize| x[at - 16..at + 16].iter().map(|v| v * v).sum::<f32>();
        // (The feedback filters' own decaying tails leave a trace on the other side, far
        // below the echo: 40 dB.)
        assert!(energy(&right, 9600) > 1e4 * energy(&left, 9600));
        assert!(energy(&left, 14_400) > 1e4 * energy(&right, 14_400));
    }

    fn run(delay: &mut StereoDelay, input: &[f32], chunk: usize) -> Vec<f32> {
        let mut left = input.to_vec();
        let mut right: Vec<f32> = input.iter().map(|v| v * -0.7).collect();
        for (l, r) in left.chunks_mut(chunk).zip(right.chunks_mut(chunk)) {
            delay.process(&mut [l, r]);
        }
        left.extend_from_slice(&right);
        left
    }

    #[test]
    fn block_size_reset_and_nan_recovery() {
        let mut rng = crate::rng::Pcg32::new(9, 9);
        let left: Vec<f32> = (0..6000).map(|_| rng.next_bipolar()).collect();
        let input = vec![left.clone(), left.iter().map(|v| v * -0.7).collect()];
        let s = DelaySettings {
            hpf_hz: 300.0,
            lpf_hz: 3000.0,
            ping_pong: true,
            mix: 0.6,
            ..settings(23.7, 0.8)
        };
        let fresh = || {
            let mut d = StereoDelay::new(FS, 100.0);
            d.set_settings(&s);
            d
        };
        let process = |d: &mut StereoDelay, block: &mut [&mut [f32]], _| d.process(block);
        // Bit-identical: all smoothing and filter updates advance per frame.
        assert_block_size_independent(fresh, &input, &[], process);
        let mut a = fresh();
        assert_reset_reproduces(&mut a, &input, &[], process, StereoDelay::reset);
        let mut bad = input.clone();
        bad[0][10] = f32::NAN;
        bad[1][20] = f32::INFINITY;
        let out = run_blocks(&mut a, &bad, &[512], &[], process);
        assert!(out.concat().iter().all(|v| v.is_finite()));
    }

    #[test]
    fn delays_shorter_than_a_steady_chunk_match_single_frames() {
        // The steady path runs up to 64 frames stage by stage, which is exact only if
        // no echo read in a chunk was written in it: the chunk is cut at the delay.
        // 1 ms at 48 kHz (47 samples back) and the 2-sample minimum at 22.05 kHz (the
        // time is clamped), stereo ping-pong and mono, 512-frame blocks == 1-frame ones.
        let mut rng = crate::rng::Pcg32::new(3, 9);
        let input: Vec<f32> = (0..3000).map(|_| rng.next_bipolar()).collect();
        for (rate, time_ms) in [(FS, 1.0), (22_050.0, 0.01)] {
            let s = DelaySettings {
                ping_pong: true,
                mix: 0.5,
                ..settings(time_ms, 0.9)
            };
            let outputs: Vec<(Vec<f32>, Vec<f32>)> = [512, 1]
                .into_iter()
                .map(|chunk| {
                    let mut stereo = StereoDelay::new(rate, 100.0);
                    stereo.set_settings(&s);
                    let mut mono = StereoDelay::new(rate, 100.0);
                    mono.set_settings(&s);
                    let mut mono_out = input.clone();
                    for c in mono_out.chunks_mut(chunk) {
                        mono.process(&mut [c]);
                    }
                    (run(&mut stereo, &input, chunk), mono_out)
                })
                .collect();
            assert!(outputs[0].0 == outputs[1].0, "stereo at {rate} Hz");
            assert!(outputs[0].1 == outputs[1].1, "mono at {rate} Hz");
        }
    }

    #[test]
    fn tail_covers_the_repeats() {
        let mut delay = StereoDelay::new(FS, 2000.0);
        delay.set_settings(&settings(100.0, 0.5));
        // 0.5 per repeat = 6.02 dB: 120 dB takes 19.9 repeats, plus the first echo.
        let expected = 4800.0 * (1.0 + 120.0 / 6.0206);
        assert!((delay.tail_samples() as f64 - expected).abs() < 2.0);
    }
}
