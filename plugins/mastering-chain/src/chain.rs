//! The mastering chain's processing in plain Rust: built from `shared-dsp` types and
//! driven by a plain [`Settings`] struct. The plugin, the `oxide` command and the tests
//! all run exactly this code.
//!
//! ```text
//! input gain → repair (declick, off by default) → tonal EQ → multiband compressor
//!   → stereo imager → loudness gain → true-peak limiter → output gain → dither
//!   → (output meter) → bypass cross-fade
//! ```
//!
//! The output gain comes before the dither (the issue lists it last): the output gain is
//! never above 0 dB, so it cannot push the limiter's output past the ceiling, and
//! quantising last keeps every sample of a 16- or 24-bit render on the grid.
//!
//! **Latency** is the sum of the blocks' latencies (the limiter's detector, lookahead and
//! hold; the repair stage's analysis buffer, about 186 ms, only while it is on). The
//! bypass path is the input delayed by the same amount, so bypass cross-fades between
//! two aligned signals.
//!
//! **Meters**: a BS.1770 meter with true peak runs on the processed output (before the
//! bypass mix, so it always shows what the chain makes) and a loudness-only meter on the
//! input; both run whether or not an editor is open, because learn and the matched bypass
//! use them. Readings go out through [`ChainMeters`] (atomics and a seqlock). Both
//! measure each chunk at its end, together ([`LoudnessMeter::process_two`]: one pass of
//! K-weighting for the four channels); the input meter gets the chunk's input, kept.
//! The matched bypass reads the input meter after that and the output meter as it was
//! before the chunk, exactly as when the input was measured first. A correlation meter
//! ([`CorrelationMeter`]) follows the stereo output, and its samples go to the editor's
//! spectrum analyser ([`SpectrumTap`]) and goniometer ([`ScopeTap`]), and the limiter's
//! gain reduction to the editor's history ([`PeakHold`]): all only while an editor is
//! open ([`ChainMeters::editor_open`]), since nothing else reads them. The correlation
//! restarts from its reset state each time an editor opens.
//!
//! **Repair** (`rep_on`, `rep_sens`): a streaming declicker ([`Declicker`]) heads the
//! processing, right after the input gain. Its detection is relative to the programme's
//! own AR residual (scale-free), so the gain before it does not change what it finds;
//! and with the gain first, the input gain stays the one setting that acts before the
//! chain's delay, so its automation lands on the audio at the host's input time whether
//! the repair is on or not (the real-host tests rely on that). Off, it is skipped
//! entirely (bit-identical output, no latency); switching it on starts it from
//! silence (its first latency's worth of output is silent) and switching it off drops
//! what it holds, like changing the limiter's lookahead.
//!
//! **Matched bypass** (`match_bypass`): the bypassed signal is the delayed input scaled
//! by `processed integrated loudness − input integrated loudness` (both meters count
//! from the same reset, so they cover the same audio), ramped over 20 ms. Until both
//! meters have an integrated reading (400 ms of audio above the gates) the gain is 0 dB.
//!
//! **Learn**: while `learn` is on, three loudness meters (reset when learning starts)
//! measure the signal into the loudness gain (`L_pre`), into the limiter (`L_lim`) and
//! the output (`L_out`). The loudness gain becomes
//! `target − L_pre + (L_lim − L_out)`: the gain that puts the pre-limiter loudness on
//! the target, plus the loudness the limiter itself takes away (both sides measured over
//! the same audio with the same gain applied, so the difference is the limiter's loss).
//! The value is limited to the `loud_gain` parameter's range. When learning stops the
//! chain keeps applying the last learned gain ("held") until the `loud_gain` setting
//! changes; the editor writes the learned value into the `loud_gain` parameter (the audio
//! thread cannot set a host parameter), after which the parameter is in charge again.
//! The held gain survives [`Chain::reset`]; the plugin saves it with the project and
//! gives it back through [`Chain::restore_held_loud_gain`].

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use atomic_float::AtomicF32;
use shared_dsp::block::for_each_chunk;
use shared_dsp::correlation::CorrelationMeter;
use shared_dsp::delay_line::LatencyDelay;
use shared_dsp::denormal::FlushDenormals;
use shared_dsp::gain::{BypassFade, Gain};
use shared_dsp::loudness::{
    ChannelLayout, LoudnessMeter, LoudnessReading, MeterOptions, SharedLoudness, NO_LEVEL,
};
use shared_dsp::mastering::{
    Dither, DitherSettings, ImagerSettings, LimiterSettings, MultibandCompressor,
    MultibandSettings, StereoImager, TonalEq, TonalEqSettings, TruePeakLimiter,
};
use shared_dsp::repair::{DeclickSettings, Declicker};
use shared_dsp::sanitize::replace_non_finite;
use shared_dsp::spectrum_tap::SpectrumTap;

use crate::meters::{PeakHold, ScopeTap};

/// The channel counts the chain supports (mono and stereo).
pub const MAX_CHANNELS: usize = 2;
/// The loudness gain's range, dB (the `loud_gain` parameter's; learn stays inside it).
pub const LOUD_GAIN_MIN_DB: f32 = -24.0;
/// See [`LOUD_GAIN_MIN_DB`].
pub const LOUD_GAIN_MAX_DB: f32 = 30.0;

/// The repair stage's settings (`rep_*`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RepairSettings {
    /// Declick on (adds the declicker's latency).
    pub on: bool,
    /// Sensitivity, 0 (only the loudest clicks) to 100 % (quiet clicks too, with more
    /// risk of touching good transients); see [`DeclickSettings::from_sensitivity`].
    pub sensitivity: f32,
}

impl Default for RepairSettings {
    fn default() -> Self {
        Self {
            on: false,
            sensitivity: 50.0,
        }
    }
}

/// Every setting of the mastering chain, in plain units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Repair stage at the head of the chain (`rep_*`).
    pub repair: RepairSettings,
    /// Gain into the chain, dB.
    pub in_gain_db: f32,
    /// Tonal EQ (`eq_*`).
    pub eq: TonalEqSettings,
    /// Multiband compressor (`mb_*`).
    pub multiband: MultibandSettings,
    /// Stereo imager (`img_*`); its crossovers follow the multiband's.
    pub imager: ImagerSettings,
    /// Loudness target, LUFS (the preset's value, or `target_lufs` for custom).
    pub target_lufs: f32,
    /// Gain into the limiter, dB (`loud_gain`).
    pub loud_gain_db: f32,
    /// Learn the loudness gain (see the module docs).
    pub learn: bool,
    /// True-peak limiter (`lim_*`).
    pub limiter: LimiterSettings,
    /// Dither (`dither_bits`, `dither_shape`).
    pub dither: DitherSettings,
    /// Gain after the limiter, dB (never above 0 dB, so it cannot push the output past
    /// the limiter's ceiling).
    pub out_gain_db: f32,
    /// Host bypass: the output cross-fades to the (delayed) input.
    pub bypass: bool,
    /// Bypass plays the input at the processed loudness.
    pub match_bypass: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            repair: RepairSettings::default(),
            in_gain_db: 0.0,
            eq: TonalEqSettings::default(),
            multiband: MultibandSettings::default(),
            imager: ImagerSettings::default(),
            target_lufs: -14.0,
            loud_gain_db: 0.0,
            learn: false,
            limiter: LimiterSettings::default(),
            dither: DitherSettings::default(),
            out_gain_db: 0.0,
            bypass: false,
            match_bypass: false,
        }
    }
}

/// Meter values for the editor, written by the audio thread only.
#[derive(Debug, Default)]
pub struct ChainMeters {
    /// The output's loudness reading (momentary, short-term, integrated, LRA, true peak…).
    pub output: SharedLoudness,
    /// The input's integrated loudness, LUFS ([`NO_LEVEL`] until measured).
    pub input_integrated_lufs: AtomicF32,
    /// Gain reduction of the low, mid and high band, dB (positive).
    pub band_gain_reduction_db: [AtomicF32; 3],
    /// Limiter gain reduction over the last block, dB (positive).
    pub limiter_gain_reduction_db: AtomicF32,
    /// The loudness gain the chain applies now, dB (learned, held or the parameter's).
    pub applied_loud_gain_db: AtomicF32,
    /// True while a learned or held gain (not the parameter) drives the loudness gain:
    /// the editor then writes `applied_loud_gain_db` into `loud_gain` once learn is off.
    pub learned_gain_pending: AtomicBool,
    /// The chain's latency, samples.
    pub latency_samples: AtomicU32,
    /// Clicks the repair stage repaired since the last reset (per channel, each span).
    pub repaired_clicks: AtomicU32,
    /// The output's stereo correlation over about 300 ms, −1 … +1 (1 for mono).
    pub correlation: AtomicF32,
    /// The output's latest samples, for the editor's spectrum analyser.
    pub spectrum: SpectrumTap,
    /// The output's latest left/right pairs, for the editor's goniometer.
    pub scope: ScopeTap,
    /// The limiter's largest gain reduction since the editor last took it, dB
    /// (positive), raised once a chunk: the editor's gain-reduction history.
    pub limiter_gain_reduction_peak: PeakHold,
    /// Set while an editor is open (the plugin relays its editor's open state here):
    /// only then does the chain feed `correlation`, `spectrum`, `scope` and
    /// `limiter_gain_reduction_peak`.
    pub editor_open: AtomicBool,
}

/// A learned loudness gain held after learning stopped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeldGain {
    /// The gain applied, dB.
    pub gain_db: f32,
    /// The `loud_gain` setting when learning stopped: the hold ends when it changes.
    pub setting_db: f32,
}

/// Loudness meters that only run while learning.
struct LearnMeters {
    pre_gain: LoudnessMeter,
    into_limiter: LoudnessMeter,
    output: LoudnessMeter,
}

impl LearnMeters {
    fn reset(&mut self) {
        self.pre_gain.reset();
        self.into_limiter.reset();
        self.output.reset();
    }
}

fn loudness_only(sample_rate: f32, layout: ChannelLayout) -> LoudnessMeter {
    LoudnessMeter::with_options(
        sample_rate as f64,
        layout,
        MeterOptions { true_peak: false },
    )
}

/// The running chain: owns every processor's state, allocated for the worst case.
pub struct Chain {
    max_block: usize,
    channels: usize,
    /// Allocated for [`MAX_CHANNELS`] whether on or not, so switching it on allocates
    /// nothing.
    declicker: Declicker,
    /// Whether the repair stage runs (the setting last applied).
    repair_on: bool,
    /// The sensitivity last given to the declicker.
    repair_sensitivity: f32,
    /// Spans repaired since the last reset.
    repaired_clicks: u64,
    in_gain: Gain,
    eq: TonalEq,
    multiband: MultibandCompressor,
    imager: StereoImager,
    loud_gain: Gain,
    limiter: TruePeakLimiter,
    out_gain: Gain,
    dither: Dither,
    bypass: BypassFade,
    match_gain: Gain,
    dry_delay: LatencyDelay,
    dry: [Vec<f32>; MAX_CHANNELS],
    /// The chunk's input, kept for the input meter (which runs with the output meter).
    meter_input: [Vec<f32>; MAX_CHANNELS],
    input_meter: LoudnessMeter,
    output_meter: LoudnessMeter,
    correlation: CorrelationMeter,
    /// Whether the last `process` fed the correlation meter and the spectrum tap.
    analysing: bool,
    sample_rate: f32,
    learn_meters: LearnMeters,
    was_learning: bool,
    /// The learned gain kept after learning stopped, and the `loud_gain` setting at that
    /// moment: held until the setting moves.
    held: Option<(f32, f32)>,
    learned_gain_db: f32,
    applied_loud_gain_db: f32,
    meters: Arc<ChainMeters>,
}

impl Chain {
    /// A stereo chain for `sample_rate` and host blocks of up to `max_block` frames
    /// (longer blocks are processed in pieces), resting at `settings`.
    pub fn new(sample_rate: f32, max_block: usize, settings: &Settings) -> Self {
        Self::with_channels(sample_rate, 2, max_block, settings)
    }

    /// A chain for `channels` (1 or 2; the meters measure that layout).
    pub fn with_channels(
        sample_rate: f32,
        channels: usize,
        max_block: usize,
        settings: &Settings,
    ) -> Self {
        let max_block = max_block.clamp(1, 8192);
        let channels = channels.clamp(1, MAX_CHANNELS);
        let layout = if channels == 1 {
            ChannelLayout::Mono
        } else {
            ChannelLayout::Stereo
        };
        // The longest latency: the limiter at its longest lookahead.
        let mut probe = TruePeakLimiter::new(sample_rate);
        probe.set_settings(&LimiterSettings {
            lookahead_ms: shared_dsp::mastering::limiter::MAX_LOOKAHEAD_MS,
            ..LimiterSettings::default()
        });
        let declicker = Declicker::new(
            sample_rate as f64,
            MAX_CHANNELS,
            &DeclickSettings::from_sensitivity(settings.repair.sensitivity as f64),
        );
        let max_latency = probe.latency() + declicker.latency();
        let mut chain = Self {
            max_block,
            channels,
            declicker,
            repair_on: settings.repair.on,
            repair_sensitivity: settings.repair.sensitivity,
            repaired_clicks: 0,
            in_gain: Gain::new(sample_rate, settings.in_gain_db),
            eq: TonalEq::new(sample_rate),
            multiband: MultibandCompressor::new(sample_rate),
            imager: StereoImager::new(sample_rate),
            loud_gain: Gain::new(sample_rate, settings.loud_gain_db),
            limiter: TruePeakLimiter::new(sample_rate),
            out_gain: Gain::new(sample_rate, settings.out_gain_db),
            dither: Dither::new(sample_rate),
            bypass: BypassFade::new(sample_rate, MAX_CHANNELS, max_block, settings.bypass),
            match_gain: Gain::new(sample_rate, 0.0),
            dry_delay: LatencyDelay::new(MAX_CHANNELS, max_latency),
            dry: std::array::from_fn(|_| vec![0.0; max_block]),
            meter_input: std::array::from_fn(|_| vec![0.0; max_block]),
            input_meter: loudness_only(sample_rate, layout),
            output_meter: LoudnessMeter::new(sample_rate as f64, layout),
            correlation: CorrelationMeter::new(sample_rate),
            analysing: false,
            sample_rate,
            learn_meters: LearnMeters {
                pre_gain: loudness_only(sample_rate, layout),
                into_limiter: loudness_only(sample_rate, layout),
                output: loudness_only(sample_rate, layout),
            },
            was_learning: false,
            held: None,
            learned_gain_db: settings.loud_gain_db,
            applied_loud_gain_db: settings.loud_gain_db,
            meters: Arc::new(ChainMeters::default()),
        };
        chain.meters.spectrum.set_sample_rate(sample_rate);
        chain.reset(settings);
        chain
    }

    /// The meters the audio thread publishes (share this with the editor).
    pub fn meters(&self) -> Arc<ChainMeters> {
        self.meters.clone()
    }

    /// Uses `meters` (kept across re-activations) for publishing.
    pub fn set_meters(&mut self, meters: Arc<ChainMeters>) {
        self.meters = meters;
        self.meters.spectrum.set_sample_rate(self.sample_rate);
        self.publish();
    }

    /// Clears all signal state and meters and jumps every smoothed value to `settings`.
    /// A held learned gain is kept (see the module documentation).
    pub fn reset(&mut self, settings: &Settings) {
        self.set_repair(&settings.repair);
        self.declicker.reset();
        self.repaired_clicks = 0;
        self.in_gain.reset_to_db(settings.in_gain_db);
        self.eq.set_settings_immediately(&settings.eq);
        self.eq.reset();
        self.multiband.set_settings_immediately(&settings.multiband);
        self.multiband.reset();
        self.imager.set_settings_immediately(&settings.imager);
        self.imager.reset();
        self.limiter.set_settings(&settings.limiter);
        self.limiter.reset();
        self.out_gain.reset_to_db(settings.out_gain_db);
        self.dither.reset();
        self.bypass.reset_to(settings.bypass);
        self.match_gain.reset_to_db(0.0);
        self.dry_delay.reset();
        self.input_meter.reset();
        self.output_meter.reset();
        self.correlation.reset();
        self.learn_meters.reset();
        self.was_learning = false;
        // A held learned gain is the user's result, not signal state: it survives a
        // reset (hosts reset on every transport start).
        self.learned_gain_db = settings.loud_gain_db;
        self.applied_loud_gain_db = self.loud_gain_db(settings);
        self.loud_gain.reset_to_db(self.applied_loud_gain_db);
        self.publish();
    }

    /// The learned gain held since learning stopped, with the `loud_gain` setting at
    /// that moment (the plugin saves both with the project).
    pub fn held_loud_gain(&self) -> Option<HeldGain> {
        self.held.map(|(gain_db, setting_db)| HeldGain {
            gain_db,
            setting_db,
        })
    }

    /// Holds a learned gain again (a reloaded project, a re-activation), as if learning
    /// had just stopped at `held.gain_db` with the setting at `held.setting_db`.
    /// Non-finite values are ignored; the gain stays in the parameter's range. Takes
    /// effect at once (no ramp): call it before processing.
    pub fn restore_held_loud_gain(&mut self, held: HeldGain, settings: &Settings) {
        if !(held.gain_db.is_finite() && held.setting_db.is_finite()) || settings.learn {
            return;
        }
        self.held = Some((
            held.gain_db.clamp(LOUD_GAIN_MIN_DB, LOUD_GAIN_MAX_DB),
            held.setting_db,
        ));
        self.applied_loud_gain_db = self.loud_gain_db(settings);
        self.loud_gain.reset_to_db(self.applied_loud_gain_db);
        self.publish();
    }

    /// The delay the chain adds, in samples, for the settings last processed (or given
    /// to `new`/`reset`).
    pub fn latency_samples(&self) -> u32 {
        let repair = if self.repair_on {
            self.declicker.latency()
        } else {
            0
        };
        (repair
            + self.eq.latency()
            + self.multiband.latency()
            + self.imager.latency()
            + self.limiter.latency()
            + self.dither.latency()) as u32
    }

    /// The latency `settings` would give (applies the limiter's and the repair stage's
    /// settings, which restarts either if its latency changed; call before processing,
    /// as the plugin does).
    pub fn update_latency(&mut self, settings: &Settings) -> u32 {
        self.limiter.set_settings(&settings.limiter);
        self.set_repair(&settings.repair);
        self.latency_samples()
    }

    /// Clicks the repair stage repaired since the last reset (each span on each channel).
    pub fn repaired_clicks(&self) -> u64 {
        self.repaired_clicks
    }

    /// Applies the repair settings: switching the stage on or off restarts it (from
    /// silence); a sensitivity change takes effect at its next analysis hop. Allocates
    /// nothing.
    fn set_repair(&mut self, repair: &RepairSettings) {
        if repair.on != self.repair_on {
            self.repair_on = repair.on;
            self.declicker.reset();
        }
        if repair.sensitivity != self.repair_sensitivity {
            self.repair_sensitivity = repair.sensitivity;
            self.declicker
                .set_settings(&DeclickSettings::from_sensitivity(
                    repair.sensitivity as f64,
                ));
        }
    }

    /// The output meter's current reading.
    pub fn output_reading(&self) -> LoudnessReading {
        self.output_meter.reading()
    }

    /// The input meter's integrated loudness, LUFS.
    pub fn input_integrated_lufs(&self) -> f64 {
        self.input_meter.integrated_lufs()
    }

    /// The loudness gain applied now, dB.
    pub fn applied_loud_gain_db(&self) -> f32 {
        self.applied_loud_gain_db
    }

    /// Processes one block in place: one channel (mono) or two (stereo), equal lengths.
    /// Never allocates, locks or panics; non-finite input samples become silence.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &Settings) {
        let _flush = FlushDenormals::new();
        let channels = match channels.len() {
            0 => return,
            n if n > MAX_CHANNELS => &mut channels[..MAX_CHANNELS],
            _ => channels,
        };
        self.configure(settings);
        self.bypass.set_bypassed(settings.bypass);
        if settings.learn && !self.was_learning {
            self.learn_meters.reset();
            self.learned_gain_db = settings.loud_gain_db;
            self.held = None;
        }
        if !settings.learn && self.was_learning {
            self.held = Some((self.learned_gain_db, settings.loud_gain_db));
        }
        self.was_learning = settings.learn;
        let analyse = self.meters.editor_open.load(Ordering::Relaxed);
        if analyse && !self.analysing {
            self.correlation.reset();
        }
        self.analysing = analyse;

        let max_block = self.max_block;
        for_each_chunk(channels, max_block, |chunk| {
            self.process_chunk(chunk, settings)
        });
        self.publish();
    }

    /// The settings every processing path applies first: the gains, the limiter's and
    /// the repair stage's.
    fn configure(&mut self, settings: &Settings) {
        self.in_gain.set_gain_db(settings.in_gain_db);
        self.out_gain.set_gain_db(settings.out_gain_db);
        self.limiter.set_settings(&settings.limiter);
        self.set_repair(&settings.repair);
    }

    /// The chain's first half, for offline renders that try several loudness gains on
    /// the same audio (`oxide master` and `oxide album` search the gain that lands on a
    /// target): input gain, repair, tonal EQ, multiband and imager, which the loudness
    /// gain does not touch, run once with this, then [`Chain::process_back`] runs the
    /// rest for each gain tried, on a chain of its own. Fed the same blocks, the two
    /// halves compute exactly what [`Chain::process`] computes with bypass and learn
    /// off: the same stages in the same order (a test holds them to it bit for bit).
    /// Nothing is metered and there is no bypass path; `bypass` and `learn` are ignored.
    pub fn process_front(&mut self, channels: &mut [&mut [f32]], settings: &Settings) {
        let _flush = FlushDenormals::new();
        let n = channels.len().min(MAX_CHANNELS);
        self.configure(settings);
        let max_block = self.max_block;
        for_each_chunk(&mut channels[..n], max_block, |chunk| {
            for channel in chunk.iter_mut() {
                replace_non_finite(channel);
            }
            self.front_chunk(chunk, settings);
        });
    }

    /// The chain's second half (loudness gain, limiter, output gain, dither) on what
    /// [`Chain::process_front`] gave: see there.
    pub fn process_back(&mut self, channels: &mut [&mut [f32]], settings: &Settings) {
        let _flush = FlushDenormals::new();
        let n = channels.len().min(MAX_CHANNELS);
        self.configure(settings);
        let max_block = self.max_block;
        for_each_chunk(&mut channels[..n], max_block, |chunk| {
            self.back_chunk(chunk, settings, false);
        });
    }

    /// The limiter's largest gain reduction over the last block, dB (positive).
    pub fn limiter_gain_reduction_db(&self) -> f32 {
        self.limiter.gain_reduction_db()
    }

    /// The loudness gain to apply now: learned while learning, held after it until the
    /// setting moves, the setting otherwise.
    fn loud_gain_db(&mut self, settings: &Settings) -> f32 {
        if settings.learn {
            return self.learned_gain_db;
        }
        match self.held {
            Some((held, setting_at_stop)) if settings.loud_gain_db == setting_at_stop => held,
            _ => {
                self.held = None;
                settings.loud_gain_db
            }
        }
    }

    fn update_learned_gain(&mut self, settings: &Settings) {
        let pre = self.learn_meters.pre_gain.integrated_lufs();
        let into = self.learn_meters.into_limiter.integrated_lufs();
        let out = self.learn_meters.output.integrated_lufs();
        if pre <= NO_LEVEL {
            return;
        }
        let limiter_loss = if into > NO_LEVEL && out > NO_LEVEL {
            into - out
        } else {
            0.0
        };
        let gain = settings.target_lufs as f64 - pre + limiter_loss;
        self.learned_gain_db = (gain as f32).clamp(LOUD_GAIN_MIN_DB, LOUD_GAIN_MAX_DB);
    }

    /// Input gain, repair, tonal EQ, multiband, imager.
    fn front_chunk(&mut self, chunk: &mut [&mut [f32]], settings: &Settings) {
        self.in_gain.process(chunk);
        // Repair after the input gain, not before: see the module documentation.
        if self.repair_on {
            self.declicker.process(chunk);
            self.repaired_clicks += self.declicker.take_repaired_count() as u64;
        }
        self.eq.process(chunk, &settings.eq);
        self.multiband.process(chunk, &settings.multiband);
        self.imager.process(chunk, &settings.imager);
    }

    /// Loudness gain, limiter, output gain, dither; `learning` feeds the learn meters.
    fn back_chunk(&mut self, chunk: &mut [&mut [f32]], settings: &Settings, learning: bool) {
        if learning {
            measure(&mut self.learn_meters.pre_gain, chunk);
        }
        let loud = self.loud_gain_db(settings);
        self.applied_loud_gain_db = loud;
        self.loud_gain.set_gain_db(loud);
        self.loud_gain.process(chunk);
        if learning {
            measure(&mut self.learn_meters.into_limiter, chunk);
        }
        self.limiter.process(chunk, &settings.limiter);
        if self.analysing {
            self.meters
                .limiter_gain_reduction_peak
                .raise(self.limiter.gain_reduction_db());
        }
        if learning {
            measure(&mut self.learn_meters.output, chunk);
            self.update_learned_gain(settings);
        }
        self.out_gain.process(chunk);
        self.dither.process(chunk, &settings.dither);
    }

    fn process_chunk(&mut self, chunk: &mut [&mut [f32]], settings: &Settings) {
        let frames = chunk.first().map_or(0, |c| c.len());
        let meter_ok = chunk.len() == self.channels;
        for channel in chunk.iter_mut() {
            replace_non_finite(channel);
        }
        // The input meter measures this chunk together with the output meter at the end
        // (both meters' K-weighting in one pass); keep the input for it.
        if meter_ok {
            for (keep, channel) in self.meter_input.iter_mut().zip(chunk.iter()) {
                keep[..frames].copy_from_slice(channel);
            }
        }
        // The bypass path: the input, delayed by the latency (scaled for the match once
        // the input meter has measured this chunk, below).
        let latency = self.latency_samples() as usize;
        {
            let [d0, d1] = &mut self.dry;
            let mut dry: [&mut [f32]; MAX_CHANNELS] = [&mut d0[..frames], &mut d1[..frames]];
            self.dry_delay
                .process(chunk, &mut dry[..chunk.len()], latency);
        }
        // The processed loudness up to the previous chunk (as the match has always used).
        let processed_lufs = self.output_meter.integrated_lufs();

        self.front_chunk(chunk, settings);
        self.back_chunk(chunk, settings, settings.learn && meter_ok);
        if meter_ok {
            match (&self.meter_input, &*chunk) {
                ([in_l, in_r], [out_l, out_r]) => {
                    LoudnessMeter::process_two(
                        &mut self.input_meter,
                        &[&in_l[..frames], &in_r[..frames]],
                        &mut self.output_meter,
                        &[&**out_l, &**out_r],
                    );
                    if self.analysing {
                        self.correlation.process(out_l, out_r);
                        self.meters.spectrum.push(out_l, Some(out_r));
                        self.meters.scope.push(out_l, Some(out_r));
                    }
                }
                _ => {
                    if let (true, Some(mono)) = (self.analysing, chunk.first()) {
                        self.meters.spectrum.push(mono, None);
                        self.meters.scope.push(mono, None);
                    }
                    measure(&mut self.input_meter, &[&mut self.meter_input[0][..frames]]);
                    measure(&mut self.output_meter, chunk);
                }
            }
        }
        {
            let [d0, d1] = &mut self.dry;
            let mut dry: [&mut [f32]; MAX_CHANNELS] = [&mut d0[..frames], &mut d1[..frames]];
            let dry = &mut dry[..chunk.len()];
            let match_db = if settings.match_bypass {
                let input = self.input_meter.integrated_lufs();
                if processed_lufs > NO_LEVEL && input > NO_LEVEL {
                    (processed_lufs - input) as f32
                } else {
                    0.0
                }
            } else {
                0.0
            };
            self.match_gain.set_gain_db(match_db);
            self.match_gain.process(dry);
            self.bypass.capture_dry(dry);
        }
        self.bypass.apply(chunk);
    }

    fn publish(&self) {
        let m = &self.meters;
        m.output.publish(&self.output_meter.reading());
        m.input_integrated_lufs
            .store(self.input_meter.integrated_lufs() as f32, Ordering::Relaxed);
        for (band, gr) in m.band_gain_reduction_db.iter().enumerate() {
            gr.store(self.multiband.gain_reduction_db(band), Ordering::Relaxed);
        }
        m.limiter_gain_reduction_db
            .store(self.limiter.gain_reduction_db(), Ordering::Relaxed);
        m.applied_loud_gain_db
            .store(self.applied_loud_gain_db, Ordering::Relaxed);
        m.learned_gain_pending
            .store(self.was_learning || self.held.is_some(), Ordering::Relaxed);
        m.latency_samples
            .store(self.latency_samples(), Ordering::Relaxed);
        m.repaired_clicks.store(
            self.repaired_clicks.min(u32::MAX as u64) as u32,
            Ordering::Relaxed,
        );
        if self.analysing {
            let correlation = if self.channels == 1 {
                1.0
            } else {
                self.correlation.correlation()
            };
            m.correlation.store(correlation, Ordering::Relaxed);
        }
    }
}

/// Feeds one or two channels to a meter (no allocation).
fn measure(meter: &mut LoudnessMeter, chunk: &[&mut [f32]]) {
    match chunk {
        [mono] => meter.process(&[&**mono]),
        [left, right, ..] => meter.process(&[&**left, &**right]),
        [] => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_dsp::db::{db_to_gain, gain_to_db};
    use shared_dsp::mastering::BandCompressorSettings;

    const FS: f32 = 48_000.0;

    /// Uniform noise in ±1 from a fixed-seed LCG (reproducible).
    fn noise(frames: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..frames)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 23) as f32) - 1.0
            })
            .collect()
    }

    fn sine(frames: usize, freq_hz: f32, amp: f32, phase: f32) -> Vec<f32> {
        (0..frames)
            .map(|i| amp * (std::f32::consts::TAU * freq_hz * i as f32 / FS + phase).sin())
            .collect()
    }

    fn run(chain: &mut Chain, settings: &Settings, left: &mut [f32], right: &mut [f32]) {
        for (l, r) in left.chunks_mut(512).zip(right.chunks_mut(512)) {
            chain.process(&mut [l, r], settings);
        }
    }

    /// Ratios 1, no makeup, widths 100 %, EQ flat, limiter off (its delay stays).
    fn transparent() -> Settings {
        let mut s = Settings::default();
        s.limiter.on = false;
        s.multiband.bands = [BandCompressorSettings {
            ratio: 1.0,
            makeup_db: 0.0,
            ..BandCompressorSettings::default()
        }; 3];
        s
    }

    /// |Σ h[n]·e^(−jωn)| in dB.
    fn magnitude_db(h: &[f32], freq_hz: f64) -> f64 {
        let w = std::f64::consts::TAU * freq_hz / FS as f64;
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (n, &x) in h.iter().enumerate() {
            re += x as f64 * (w * n as f64).cos();
            im -= x as f64 * (w * n as f64).sin();
        }
        10.0 * (re * re + im * im).log10()
    }

    #[test]
    fn ratio_one_and_full_width_is_flat_within_a_hundredth_of_a_db() {
        let settings = transparent();
        let mut chain = Chain::new(FS, 512, &settings);
        let n = 32_768;
        let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
        // An impulse of 0.1: far under every threshold and the ceiling.
        l[0] = 0.1;
        r[0] = 0.1;
        run(&mut chain, &settings, &mut l, &mut r);
        // 10 Hz – 22 kHz; the crossovers' allpasses have decayed far below 1e-7 within
        // 0.68 s (the slowest pole, 150 Hz LR4, has a time constant of about 1 ms).
        let mut f = 10.0f64;
        while f < 22_000.0 {
            for h in [&l, &r] {
                let db = magnitude_db(h, f) - gain_to_db(0.1) as f64;
                // 0.01 dB is the issue's figure; f32 processing of the IIR sections is
                // good to about 1e-5 dB.
                assert!(db.abs() < 0.01, "{f} Hz: {db} dB");
            }
            f *= 1.25;
        }
    }

    #[test]
    fn mono_below_makes_the_lows_mono_and_leaves_the_highs() {
        let mut settings = transparent();
        settings.imager.mono_below_hz = Some(120.0);
        // Low: an out-of-phase 25 Hz tone (pure side). The imager's LR8 high-pass on the
        // side is documented 100 dB down at 0.237·f = 28 Hz; 25 Hz is under that.
        let mut chain = Chain::new(FS, 512, &settings);
        let n = 96_000;
        let mut l = sine(n, 25.0, 0.5, 0.0);
        let mut r: Vec<f32> = l.iter().map(|x| -x).collect();
        run(&mut chain, &settings, &mut l, &mut r);
        let tail = n / 2..n;
        let side: f64 = tail
            .clone()
            .map(|i| ((l[i] - r[i]) as f64 / 2.0).powi(2))
            .sum();
        let input: f64 = tail.len() as f64 * 0.125; // 0.5² / 2 per sample
        let side_db = 10.0 * (side / input).log10();
        assert!(side_db < -100.0, "side at 25 Hz: {side_db} dB");
        // Mid/side level differences at 25 Hz: with L == R, |L − R| is the side above.

        // High: a left-only 2 kHz tone stays left-only (100 % width: image untouched).
        let mut chain = Chain::new(FS, 512, &settings);
        let mut l = sine(n, 2000.0, 0.5, 0.0);
        let mut r = vec![0.0f32; n];
        run(&mut chain, &settings, &mut l, &mut r);
        let (pl, pr): (f64, f64) = tail.clone().fold((0.0, 0.0), |(a, b), i| {
            (a + (l[i] as f64).powi(2), b + (r[i] as f64).powi(2))
        });
        let leak_db = 10.0 * (pr / pl).log10();
        // The LR8 low-pass at 2 kHz from 120 Hz is ≫ 100 dB down; what is left is
        // rounding: the mid goes through an allpass, the side through three bands summed
        // (f32 at the block edges), which cancel to about −87 dB. −80 dB is that with a
        // margin, far below audibility for an image "untouched".
        assert!(leak_db < -80.0, "right leak at 2 kHz: {leak_db} dB");
        let level_db = 10.0 * (pl / (tail.len() as f64 * 0.125)).log10();
        assert!(level_db.abs() < 0.01, "left level {level_db} dB");
    }

    #[test]
    fn the_correlation_meter_reads_the_output() {
        // 1 s of a 1 kHz tone: the same on both sides reads +1, one side inverted −1
        // (the chain at its defaults keeps the image at 1 kHz), two unrelated noises
        // about 0 (their window holds ~14 000 effective samples: spread ≈ 0.01).
        let cases: [(Vec<f32>, Vec<f32>, f32); 3] = [
            (
                sine(48_000, 1000.0, 0.3, 0.0),
                sine(48_000, 1000.0, 0.3, 0.0),
                1.0,
            ),
            (
                sine(48_000, 1000.0, 0.3, 0.0),
                sine(48_000, 1000.0, -0.3, 0.0),
                -1.0,
            ),
            (noise(48_000, 1), noise(48_000, 2), 0.0),
        ];
        for (mut left, mut right, expected) in cases {
            let settings = Settings::default();
            let mut chain = Chain::new(FS, 512, &settings);
            chain.meters().editor_open.store(true, Ordering::Relaxed);
            run(&mut chain, &settings, &mut left, &mut right);
            let read = chain.meters().correlation.load(Ordering::Relaxed);
            assert!((read - expected).abs() < 0.05, "{read} vs {expected}");
        }
        // A mono chain reads +1: one signal on both speakers.
        let settings = Settings::default();
        let mut chain = Chain::with_channels(FS, 1, 512, &settings);
        chain.meters().editor_open.store(true, Ordering::Relaxed);
        let mut mono = sine(4800, 1000.0, 0.3, 0.0);
        chain.process(&mut [&mut mono], &settings);
        assert_eq!(chain.meters().correlation.load(Ordering::Relaxed), 1.0);
    }

    #[test]
    fn no_analysis_without_an_editor_and_the_same_audio() {
        // With no editor open the spectrum tap, the goniometer and the limiter's GR history
        // get nothing and the correlation stays at
        // its reset value (0, the meters' default), while the loudness meters, which
        // learn and the matched bypass use, still run; the audio is bit-identical either
        // way. Then an editor opens: both start.
        let settings = Settings::default();
        let input_l = sine(24_000, 1000.0, 0.3, 0.0);
        let input_r = sine(24_000, 1000.0, -0.3, 0.0);
        let mut outputs = Vec::new();
        for open in [false, true] {
            let mut chain = Chain::new(FS, 512, &settings);
            let meters = chain.meters();
            meters.editor_open.store(open, Ordering::Relaxed);
            let (mut left, mut right) = (input_l.clone(), input_r.clone());
            run(&mut chain, &settings, &mut left, &mut right);
            let fed = meters.spectrum.written();
            let correlation = meters.correlation.load(Ordering::Relaxed);
            let scope = meters.scope.written();
            let gr_raises = meters.limiter_gain_reduction_peak.raises();
            if open {
                assert_eq!(fed, 24_000);
                assert_eq!(scope, 24_000);
                // One raise per chunk: 24 000 frames in 512-frame chunks.
                assert_eq!(gr_raises, 24_000usize.div_ceil(512));
                assert!((correlation + 1.0).abs() < 0.05, "{correlation}");
            } else {
                assert_eq!(fed, 0, "the spectrum tap was fed with no editor open");
                assert_eq!(scope, 0, "the goniometer was fed with no editor open");
                assert_eq!(gr_raises, 0, "the GR history was fed with no editor open");
                assert_eq!(correlation, 0.0);
            }
            assert!(chain.output_reading().momentary_lufs > -20.0);
            outputs.push((left, right));
        }
        assert!(outputs[0] == outputs[1], "the audio depends on the editor");
    }

    #[test]
    fn an_impulse_lands_at_the_reported_latency() {
        for lookahead_ms in [0.5f32, 1.5, 5.0] {
            // Multiband and imager off: their crossover allpasses are phase, not delay
            // (an LR4 allpass at 3 kHz has its impulse peak one sample after its start),
            // so they would move the peak without the chain being late.
            let mut settings = Settings::default();
            settings.multiband.on = false;
            settings.imager.on = false;
            settings.limiter.lookahead_ms = lookahead_ms;
            let mut chain = Chain::new(FS, 512, &settings);
            let latency = chain.latency_samples() as usize;
            assert!(latency > 0);
            let n = 4096;
            let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
            l[100] = 0.1;
            r[100] = 0.1;
            run(&mut chain, &settings, &mut l, &mut r);
            let peak = l
                .iter()
                .enumerate()
                .fold(
                    (0, 0.0f32),
                    |m, (i, &x)| if x.abs() > m.1 { (i, x.abs()) } else { m },
                )
                .0;
            assert_eq!(peak, 100 + latency, "lookahead {lookahead_ms} ms");
            // The bypass path lines up with it: bypassed, the impulse comes out at the
            // same place.
            let bypassed = Settings {
                bypass: true,
                ..settings
            };
            let mut chain = Chain::new(FS, 512, &bypassed);
            let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
            l[100] = 0.1;
            run(&mut chain, &bypassed, &mut l, &mut r);
            assert_eq!(l[100 + latency], 0.1);
        }
    }

    #[test]
    fn lookahead_change_changes_the_latency() {
        let mut settings = Settings::default();
        let mut chain = Chain::new(FS, 512, &settings);
        let before = chain.latency_samples();
        settings.limiter.lookahead_ms = 5.0;
        let after = chain.update_latency(&settings);
        // 3.5 ms more lookahead at 48 kHz is 168 samples.
        assert_eq!(after, before + 168);
    }

    /// A music-like stereo programme: noise in two bands with a slow level movement.
    fn programme(frames: usize, level: f32) -> (Vec<f32>, Vec<f32>) {
        let a = noise(frames, 1);
        let b = noise(frames, 2);
        let (mut lp_l, mut lp_r) = (0.0f32, 0.0f32);
        let mut l = Vec::with_capacity(frames);
        let mut r = Vec::with_capacity(frames);
        for i in 0..frames {
            lp_l += 0.05 * (a[i] - lp_l);
            lp_r += 0.05 * (b[i] - lp_r);
            let env = 0.6 + 0.4 * (std::f32::consts::TAU * 0.5 * i as f32 / FS).sin();
            l.push(level * env * (2.0 * lp_l + 0.3 * a[i]));
            r.push(level * env * (2.0 * lp_r + 0.3 * b[i]));
        }
        (l, r)
    }

    fn integrated(l: &[f32], r: &[f32]) -> f64 {
        let mut m = LoudnessMeter::new(FS as f64, ChannelLayout::Stereo);
        m.process(&[l, r]);
        m.integrated_lufs()
    }

    #[test]
    fn matched_bypass_plays_at_the_processed_loudness() {
        let mut settings = Settings {
            loud_gain_db: 10.0,
            match_bypass: true,
            ..Settings::default()
        };
        let seconds = 6;
        let n = seconds * FS as usize;
        let (mut l, mut r) = programme(2 * n, 0.05);
        let mut chain = Chain::new(FS, 512, &settings);
        run(&mut chain, &settings, &mut l[..n], &mut r[..n]);
        settings.bypass = true;
        let (l2, r2) = (&mut l[n..], &mut r[n..]);
        run(&mut chain, &settings, l2, r2);
        let processed = integrated(&l[n / 2..n], &r[n / 2..n]);
        // Skip the 10 ms fade and the meters' windows.
        let matched = integrated(&l[n + n / 2..], &r[n + n / 2..]);
        assert!(
            (processed - matched).abs() < 0.5,
            "processed {processed:.2} LUFS, matched bypass {matched:.2} LUFS"
        );
        // And the gain was really applied (the input is about 10 LU quieter).
        assert!(processed - chain.input_integrated_lufs() > 5.0);
    }

    #[test]
    fn the_ceiling_holds_through_the_whole_chain_for_hostile_inputs() {
        let n = FS as usize;
        let square = |f: f32| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    if (i as f32 * f / FS).fract() < 0.5 {
                        1.0
                    } else {
                        -1.0
                    }
                })
                .collect()
        };
        let signals: Vec<(&str, Vec<f32>, Vec<f32>)> = vec![
            ("square 1 kHz", square(1000.0), square(1000.0)),
            ("square 5 kHz", square(5000.0), square(5000.0)),
            // EBU Tech 3341 case 15–19 style: fs/4 at 45° phase, full scale.
            (
                "fs/4 at 45°",
                sine(n, FS / 4.0, 1.0, std::f32::consts::FRAC_PI_4),
                sine(n, FS / 4.0, 1.0, std::f32::consts::FRAC_PI_4),
            ),
            (
                "noise +20 dB",
                noise(n, 7).iter().map(|x| x * 10.0).collect(),
                noise(n, 8).iter().map(|x| x * 10.0).collect(),
            ),
            (
                "clipped programme",
                programme(n, 2.0)
                    .0
                    .iter()
                    .map(|x| x.clamp(-1.0, 1.0))
                    .collect(),
                programme(n, 2.0)
                    .1
                    .iter()
                    .map(|x| x.clamp(-1.0, 1.0))
                    .collect(),
            ),
        ];
        for ceiling_db in [-1.0f32, -3.0] {
            for (name, l0, r0) in &signals {
                let mut settings = Settings {
                    loud_gain_db: 12.0,
                    ..Settings::default()
                };
                settings.limiter.ceiling_db = ceiling_db;
                settings.eq.high_gain_db = 6.0;
                settings.multiband.bands[2].makeup_db = 6.0;
                let mut chain = Chain::new(FS, 512, &settings);
                let (mut l, mut r) = (l0.clone(), r0.clone());
                run(&mut chain, &settings, &mut l, &mut r);
                let mut meter = LoudnessMeter::new(FS as f64, ChannelLayout::Stereo);
                meter.process(&[&l, &r]);
                let tp = meter.true_peak_dbtp();
                // The project's BS.1770 meter: never above the ceiling.
                assert!(
                    tp <= ceiling_db as f64,
                    "{name}, ceiling {ceiling_db}: {tp:.3} dBTP"
                );
            }
        }
    }

    #[test]
    fn learn_lands_on_the_target_and_holds_when_it_stops() {
        let mut settings = Settings {
            learn: true,
            target_lufs: -14.0,
            ..Settings::default()
        };
        let n = 20 * FS as usize;
        let (mut l, mut r) = programme(n, 0.03);
        let input_lufs = integrated(&l, &r);
        assert!(input_lufs < -20.0, "{input_lufs}");
        let mut chain = Chain::new(FS, 512, &settings);
        let split = 12 * FS as usize;
        run(&mut chain, &settings, &mut l[..split], &mut r[..split]);
        settings.learn = false;
        let first = split + 512;
        run(
            &mut chain,
            &settings,
            &mut l[split..first],
            &mut r[split..first],
        );
        let held = chain.applied_loud_gain_db();
        run(&mut chain, &settings, &mut l[first..], &mut r[first..]);
        assert_eq!(chain.applied_loud_gain_db(), held, "the gain stays fixed");
        assert!(chain.meters().learned_gain_pending.load(Ordering::Relaxed));
        // A host's reset (transport start) keeps it; so does a new chain (re-activation,
        // a reloaded project) given the held gain the plugin saved.
        let saved = chain.held_loud_gain().expect("held");
        assert_eq!(saved.gain_db, held);
        chain.reset(&settings);
        assert_eq!(chain.applied_loud_gain_db(), held, "kept across reset");
        let mut reloaded = Chain::new(FS, 512, &settings);
        reloaded.restore_held_loud_gain(saved, &settings);
        assert_eq!(reloaded.applied_loud_gain_db(), held, "restored");
        assert_eq!(reloaded.held_loud_gain(), Some(saved));
        // A damaged saved value is ignored.
        let mut damaged = Chain::new(FS, 512, &settings);
        let nan = HeldGain {
            gain_db: f32::NAN,
            setting_db: 0.0,
        };
        damaged.restore_held_loud_gain(nan, &settings);
        assert_eq!(damaged.held_loud_gain(), None);
        let after = integrated(&l[split..], &r[split..]);
        // 0.5 LU: learn integrates a programme whose level moves; the offline command
        // is the exact path (±0.1 LU).
        assert!(
            (after + 14.0).abs() < 0.5,
            "{after:.2} LUFS, gain {held:.2} dB"
        );
        // Once the parameter takes the learned value (the editor's job), it rules again.
        settings.loud_gain_db = held;
        let (mut a, mut b) = (vec![0.0f32; 64], vec![0.0f32; 64]);
        chain.process(&mut [&mut a, &mut b], &settings);
        settings.loud_gain_db = 0.0;
        chain.process(&mut [&mut a, &mut b], &settings);
        assert_eq!(chain.applied_loud_gain_db(), 0.0);
        assert!(db_to_gain(held) > 1.0);
    }

    #[test]
    fn hostile_input_stays_finite_and_mono_works() {
        let settings = Settings::default();
        let mut chain = Chain::with_channels(44_100.0, 1, 7, &settings);
        let mut block = vec![f32::NAN, f32::INFINITY, -f32::INFINITY, 1e-40, 1.0, -1.0];
        chain.process(&mut [&mut block], &settings);
        assert!(block.iter().all(|s| s.is_finite()));
        let mut silence = vec![0.0f32; 20_000];
        chain.process(&mut [&mut silence], &settings);
        assert!(silence.iter().all(|s| s.is_finite()));
        chain.process(&mut [], &settings);
    }

    #[test]
    fn the_two_halves_compute_exactly_the_whole_chain() {
        // Every stage working (repair on, EQ tilted, the multiband and limiter working
        // hard, dither on), mono and stereo, two block sizes: process_front then
        // process_back on a second chain gives the same bits as process.
        let mut settings = Settings::default();
        settings.repair.on = true;
        settings.in_gain_db = 3.0;
        settings.eq.low_gain_db = 2.0;
        settings.eq.tilt_db = -1.5;
        settings.loud_gain_db = 9.0;
        settings.out_gain_db = -0.5;
        settings.dither.bits = shared_dsp::mastering::DitherBits::Bits16;
        let (l, r) = programme(60_000, 0.5);
        for block in [512, 300] {
            for channels in [1, 2] {
                let input: Vec<Vec<f32>> =
                    [&l, &r][..channels].iter().map(|c| c.to_vec()).collect();
                let blocks = |audio: &mut Vec<Vec<f32>>, f: &mut dyn FnMut(&mut [&mut [f32]])| {
                    let mut start = 0;
                    while start < l.len() {
                        let end = (start + block).min(l.len());
                        let mut b: Vec<&mut [f32]> =
                            audio.iter_mut().map(|c| &mut c[start..end]).collect();
                        f(&mut b);
                        start = end;
                    }
                };
                let mut whole = input.clone();
                let mut chain = Chain::with_channels(FS, channels, block, &settings);
                blocks(&mut whole, &mut |b| chain.process(b, &settings));
                let mut halves = input.clone();
                let mut front = Chain::with_channels(FS, channels, block, &settings);
                blocks(&mut halves, &mut |b| front.process_front(b, &settings));
                let mut back = Chain::with_channels(FS, channels, block, &settings);
                blocks(&mut halves, &mut |b| back.process_back(b, &settings));
                assert!(back.limiter_gain_reduction_db() > 1.0, "the limiter works");
                for (w, h) in whole.iter().zip(&halves) {
                    let same = w.iter().zip(h).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "block {block}, {channels} channel(s)");
                }
            }
        }
    }

    #[test]
    fn dithered_output_lies_on_the_16_bit_grid() {
        let mut settings = Settings::default();
        settings.dither.bits = shared_dsp::mastering::DitherBits::Bits16;
        settings.out_gain_db = -3.0;
        let mut chain = Chain::new(FS, 512, &settings);
        let (mut l, mut r) = programme(24_000, 0.2);
        run(&mut chain, &settings, &mut l, &mut r);
        for x in l.iter().chain(&r) {
            let q = x * 32_768.0;
            assert_eq!(q, q.round(), "{x}");
        }
    }
}
