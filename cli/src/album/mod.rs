//! `oxide album FILES… --out DIR`: an album (or EP) from a folder of mixes to release
//! files, every track through the mastering chain, as `oxide master` does one file.
//!
//! 1. **Plan** ([`plan`]): the tracks in order with their metadata, gaps, fades, trims,
//!    gain offsets and chain overrides, timed from the files' headers; the profile's
//!    refusals ([`cd::check`]) and the vinyl side lengths ([`vinyl::side_warnings`])
//!    come from the plan alone, before anything is decoded (`--dry-run` stops there).
//! 2. **Prepare**: every track decoded, trimmed, converted to the profile's rate,
//!    offset by its gain and faded, in parallel.
//! 3. **Loudness** (`--loudness album`, the default): one loudness gain for the whole
//!    album, found by [`crate::master::gain_search`] on the integrated loudness of all
//!    tracks measured as one programme (the meter's gating blocks of every track
//!    together), so the album lands on the target and the differences between the songs
//!    stay as mixed. `--loudness track`: the same search for each track on its own. A
//!    pass renders every track (in parallel) through the chain with its limiter and its
//!    dither, as delivered; the pass closest to the target is the result. The search
//!    starts from the input's loudness instead of `oxide master`'s unlimited first
//!    render: the secant corrects for what the chain itself adds, one render sooner.
//! 4. **Checks**: a track limited by more than [`crate::master::MAX_LIMITING_DB`] stops
//!    the album (unless `--allow-heavy-limiting`), as does missing the target by more
//!    than [`crate::master::ACCEPT_LU`].
//! 5. **Files**: everything is written into a hidden folder beside DIR and moved into
//!    place when every file is complete; a failure (or a kill) leaves DIR as it was.
//!
//! The output bytes do not depend on the number of threads: each track is rendered by
//! its own chain from the same inputs, and album figures are combined in track order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar};
use mastering_chain::MasterParams;
use oxide_cli::audio::{self, Container, Depth, DitherMode, OutputSpec, Tags};
use rayon::prelude::*;
use shared_dsp::loudness::{measured, ChannelLayout, LoudnessMeter};

use crate::master::{self, gain_search, ACCEPT_LU, MAX_LIMITING_DB, REPLAYGAIN_REFERENCE_LUFS};
use crate::plugins::PluginKind;

mod cd;
mod plan;
mod report;
mod vinyl;

pub use plan::Plan;

/// A release profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Per-track FLAC, 24-bit, 44.1 or 48 kHz, −14 LUFS, −1 dBTP, ReplayGain tags.
    Streaming,
    /// 44.1 kHz/16-bit WAV per track, one image WAV with a CUE sheet, Red Book rules.
    Cd,
    /// 24-bit WAV at the source rate, no loudness push (−3 dBTP), cutting warnings.
    Vinyl,
    /// 24-bit WAV at the source rate, EBU R 128 (−23 LUFS, −1 dBTP) or, with
    /// `--target atsc`, ATSC A/85 (−24 LKFS, −2 dBTP).
    Broadcast,
}

/// How the loudness gain is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LoudnessMode {
    /// One gain for the whole album, measured as one programme.
    Album,
    /// Every track on the target.
    Track,
}

/// What the user asked for.
pub struct AlbumArgs<'a> {
    pub files: &'a [PathBuf],
    pub out_dir: &'a Path,
    pub album_file: Option<&'a Path>,
    pub profile: Profile,
    pub target: Option<&'a str>,
    pub ceiling_dbtp: Option<f32>,
    pub loudness: LoudnessMode,
    pub assignments: &'a [String],
    /// `--preset NAME|FILE`: every track's chain starts from it (its tone and
    /// dynamics; target, ceiling and dither stay the profile's or the command line's).
    pub preset: Option<&'a str>,
    pub json: bool,
    pub report: Option<&'a Path>,
    pub force: bool,
    pub allow_heavy_limiting: bool,
    pub dry_run: bool,
    pub jobs: Option<usize>,
}

/// A profile with the user's choices applied.
#[derive(Debug, Clone)]
struct Resolved {
    /// The chain's target (`None`: no loudness gain, as for vinyl without `--target`).
    target: Option<String>,
    ceiling_dbtp: f32,
    depth: Depth,
    container: Container,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Streaming => "streaming",
            Profile::Cd => "cd",
            Profile::Vinyl => "vinyl",
            Profile::Broadcast => "broadcast",
        }
    }

    fn resolve(self, target: Option<&str>, ceiling: Option<f32>) -> Resolved {
        let atsc = target.is_some_and(|t| {
            matches!(
                t.trim()
                    .to_ascii_lowercase()
                    .replace([' ', '/', '-', '_'], "")
                    .as_str(),
                "atsc" | "a85" | "atsca85"
            )
        });
        let (default_target, default_ceiling) = match self {
            Profile::Streaming | Profile::Cd => (Some("-14"), -1.0),
            Profile::Vinyl => (None, -3.0),
            Profile::Broadcast if atsc => (Some("-24"), -2.0),
            Profile::Broadcast => (Some("ebu"), -1.0),
        };
        let target = match target {
            Some(_) if atsc => default_target.map(str::to_string),
            Some(t) => Some(t.to_string()),
            None => default_target.map(str::to_string),
        };
        let (depth, container) = match self {
            Profile::Streaming => (Depth::Int24, Container::Flac),
            Profile::Cd => (Depth::Int16, Container::Wav),
            Profile::Vinyl | Profile::Broadcast => (Depth::Int24, Container::Wav),
        };
        Resolved {
            target,
            ceiling_dbtp: ceiling.unwrap_or(default_ceiling),
            depth,
            container,
        }
    }

    /// The album's output rate for a first track at `source` Hz.
    fn rate(self, source: u32) -> u32 {
        match self {
            Profile::Cd => cd::RATE,
            Profile::Streaming if source == 44_100 || source == 48_000 => source,
            Profile::Streaming if source.is_multiple_of(44_100) => 44_100,
            Profile::Streaming => 48_000,
            Profile::Vinyl | Profile::Broadcast => source,
        }
    }
}

/// One rendered track and its measurements.
pub(crate) struct Rendered {
    pub channels: Vec<Vec<f32>>,
    /// Frames rendered (before any CD padding).
    pub frames: usize,
    pub max_gr_db: f32,
    /// During the search, loudness only; for the kept render, everything (true peak
    /// included: see [`Rendered::measure_fully`]).
    pub meter: LoudnessMeter,
    /// Short-term loudness every [`report::SERIES_HOP_S`], LUFS (empty until
    /// [`Rendered::measure_fully`]).
    pub short_term: Vec<f64>,
    /// The loudness gain the chain applied, dB.
    pub gain_db: f64,
}

impl Rendered {
    /// A search pass's render: measured for its loudness only. The true peak (most of
    /// the meter's cost) and the series are measured once, on the render kept.
    fn searched(
        channels: Vec<Vec<f32>>,
        meter: LoudnessMeter,
        max_gr_db: f32,
        gain_db: f64,
    ) -> Self {
        Self {
            frames: channels.first().map_or(0, Vec::len),
            channels,
            max_gr_db,
            meter,
            short_term: Vec::new(),
            gain_db,
        }
    }

    /// Measures the kept render fully: true peak and the short-term series.
    fn measure_fully(&mut self, rate: u32) {
        (self.meter, self.short_term) = measure_series(&self.channels, rate);
    }
}

fn layout_of(channels: &[Vec<f32>]) -> ChannelLayout {
    if channels.len() == 1 {
        ChannelLayout::Mono
    } else {
        ChannelLayout::Stereo
    }
}

/// A meter over `channels` and the short-term loudness every hop.
fn measure_series(channels: &[Vec<f32>], rate: u32) -> (LoudnessMeter, Vec<f64>) {
    let hop = ((report::SERIES_HOP_S * rate as f64) as usize).max(1);
    let mut meter = LoudnessMeter::new(rate as f64, layout_of(channels));
    let frames = channels.first().map_or(0, Vec::len);
    let mut series = Vec::with_capacity(frames / hop + 1);
    let mut start = 0;
    while start < frames {
        let end = (start + hop).min(frames);
        let block: Vec<&[f32]> = channels.iter().map(|c| &c[start..end]).collect();
        meter.process(&block);
        series.push(meter.short_term_lufs());
        start = end;
    }
    (meter, series)
}

/// The chain's parameters for one track: the preset, the command line's settings, then
/// the track's own, then target, ceiling, limiter and dither as the profile asks.
fn track_params(
    args: &AlbumArgs,
    resolved: &Resolved,
    track: &plan::Track,
) -> Result<Arc<MasterParams>> {
    let params = Arc::new(MasterParams::default());
    if let Some(preset) = args.preset {
        crate::presets::apply(PluginKind::MasteringChain, params.as_ref(), preset)?;
    }
    for assignment in args.assignments {
        let (id, value) = crate::split_assignment(assignment)?;
        master::set(&params, id, value)?;
    }
    for (id, value) in &track.overrides {
        master::set(&params, id, value)
            .with_context(|| format!("{} (track {}): set {id}", track.name(), track.number))?;
    }
    if let Some(target) = &resolved.target {
        master::set_target(&params, target)?;
    }
    master::set_ceiling(&params, resolved.ceiling_dbtp)?;
    master::set(&params, "learn", "off")?;
    master::set(&params, "lim_on", "on")?;
    master::set(&params, "loud_gain", "0")?;
    let dither = match resolved.depth {
        Depth::Int16 => "16 bit",
        Depth::Int24 => "24 bit",
        Depth::Float32 => "off",
    };
    master::set(&params, "dither_bits", dither)?;
    master::set(&params, "dither_shape", "TPDF flat")?;
    Ok(params)
}

/// A track decoded, trimmed, converted to `rate`, on `channels` channels, offset by its
/// gain and faded (sin² ramps).
fn prepare(track: &plan::Track, rate: u32, channels: usize) -> Result<Vec<Vec<f32>>> {
    let name = || format!("{} (track {})", track.name(), track.number);
    let audio = audio::read::<f32>(&track.file).with_context(name)?;
    let source_rate = audio.info.sample_rate;
    let sr = source_rate as f64;
    let frames = audio.frames();
    let a = ((track.trim_start_s * sr).round() as usize).min(frames);
    let b = frames
        .saturating_sub((track.trim_end_s * sr).round() as usize)
        .max(a);
    let mut ch = audio.channels;
    for c in ch.iter_mut() {
        c.truncate(b);
        c.drain(..a);
    }
    if ch.len() == 1 && channels == 2 {
        ch.push(ch[0].clone());
    }
    if source_rate != rate {
        ch = audio::resample::convert(&ch, source_rate, rate).with_context(name)?;
    }
    let gain = 10f64.powf(track.gain_db / 20.0) as f32;
    let n = ch.first().map_or(0, Vec::len);
    let fade_in = ((track.fade_in_s * rate as f64) as usize).min(n);
    let fade_out = ((track.fade_out_s * rate as f64) as usize).min(n);
    let ramp = |i: usize, len: usize| -> f32 {
        let x = (i as f64 + 0.5) / len as f64 * std::f64::consts::FRAC_PI_2;
        x.sin().powi(2) as f32
    };
    for c in ch.iter_mut() {
        for x in c.iter_mut() {
            *x *= gain;
        }
        for (i, x) in c.iter_mut().take(fade_in).enumerate() {
            *x *= ramp(i, fade_in);
        }
        for (i, x) in c.iter_mut().rev().take(fade_out).enumerate() {
            *x *= ramp(i, fade_out);
        }
    }
    Ok(ch)
}

/// Removes the temporary folder unless it was moved into place.
struct Staging {
    path: PathBuf,
    done: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn sibling(dir: &Path, what: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| String::from("album"));
    dir.with_file_name(format!(".{name}.oxide-{}.{what}", std::process::id()))
}

/// Checks DIR before any work: a folder (or nothing) in a folder that exists; not a
/// folder with files in it unless `force`.
fn check_out_dir(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!("--out '{}' is a file, not a folder", dir.display());
        }
        let occupied = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read '{}'", dir.display()))?
            .next()
            .is_some();
        if occupied && !force {
            bail!(
                "the folder '{}' is not empty: pass --force to replace it",
                dir.display()
            );
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        bail!(
            "the folder '{}' (where --out goes) does not exist",
            parent.display()
        );
    }
    Ok(())
}

/// Moves the finished `staging` folder to `dir` (replacing it).
fn commit(staging: &mut Staging, dir: &Path) -> Result<()> {
    if dir.exists() {
        let old = sibling(dir, "old");
        std::fs::rename(dir, &old)
            .with_context(|| format!("could not move the old '{}' aside", dir.display()))?;
        if let Err(e) = std::fs::rename(&staging.path, dir) {
            let _ = std::fs::rename(&old, dir);
            return Err(e)
                .with_context(|| format!("could not move the album to '{}'", dir.display()));
        }
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&staging.path, dir)
            .with_context(|| format!("could not move the album to '{}'", dir.display()))?;
    }
    staging.done = true;
    Ok(())
}

/// A file name from a title: no path separators or characters Windows refuses.
fn file_name(number: usize, title: &str, ext: &str) -> String {
    let clean: String = title
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim();
    format!("{number:02} - {clean}.{ext}")
}

/// The album as one programme: each track's gap of silence, then the track. Returns the
/// samples and each track's (gap start, track start).
/// Where each track's gap and audio begin in the album's sequence, and its length.
fn sequence(outputs: &[Vec<Vec<f32>>], gaps: &[usize]) -> (Vec<(usize, usize)>, usize) {
    let mut at = 0;
    let starts = outputs
        .iter()
        .zip(gaps)
        .map(|(o, &g)| {
            let gap_start = at;
            at += g + o.first().map_or(0, Vec::len);
            (gap_start, gap_start + g)
        })
        .collect();
    (starts, at)
}

/// Writes the album as one continuous file: each track after its gap of silence.
fn write_sequence(
    path: &Path,
    spec: OutputSpec,
    outputs: &[Vec<Vec<f32>>],
    gaps: &[usize],
) -> Result<()> {
    const SILENCE: [f32; 4096] = [0.0; 4096];
    let mut writer = audio::Writer::create(path, spec)?;
    for (o, &g) in outputs.iter().zip(gaps) {
        let mut left = g;
        while left > 0 {
            let n = left.min(SILENCE.len());
            let block: Vec<&[f32]> = o.iter().map(|_| &SILENCE[..n]).collect();
            writer.write(&block)?;
            left -= n;
        }
        let views: Vec<&[f32]> = o.iter().map(Vec::as_slice).collect();
        writer.write(&views)?;
    }
    writer.finish()?;
    Ok(())
}

/// Everything the report needs about one track.
pub(crate) struct TrackResult {
    pub track: plan::Track,
    pub file: String,
    pub before: master::Measurement,
    pub after: master::Measurement,
    pub rendered: Rendered,
    pub start_s: f64,
}

/// Everything the report needs about the album.
pub(crate) struct AlbumResult {
    pub profile: Profile,
    pub loudness: LoudnessMode,
    pub target_lufs: Option<f64>,
    pub ceiling_dbtp: f32,
    pub rate: u32,
    pub depth: Depth,
    pub before_lufs: f64,
    pub after_lufs: f64,
    pub after_lra_lu: f64,
    pub true_peak_dbtp: f64,
    pub album_gain_db: Option<f64>,
    pub passes: usize,
    pub duration_s: f64,
    pub tracks: Vec<TrackResult>,
    pub files: Vec<String>,
    pub warnings: Vec<vinyl::Warning>,
    pub plan: Plan,
}

pub fn run(args: &AlbumArgs) -> Result<()> {
    let pool = {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(jobs) = args.jobs {
            if jobs == 0 {
                bail!("--jobs wants 1 or more");
            }
            b = b.num_threads(jobs);
        }
        b.build().context("could not start the worker threads")?
    };
    pool.install(|| run_in_pool(args))
}

fn run_in_pool(args: &AlbumArgs) -> Result<()> {
    let resolved = args.profile.resolve(args.target, args.ceiling_dbtp);
    let first_gap = if args.profile == Profile::Cd {
        cd::MIN_FIRST_GAP_S
    } else {
        0.0
    };
    let mut plan = plan::load(args.files, args.album_file, first_gap)?;
    if args.profile == Profile::Cd {
        for t in plan.tracks.iter_mut() {
            t.gap_s = cd::gap_s(t);
        }
        cd::check(&plan)?;
    }
    let mut warnings = Vec::new();
    if args.profile == Profile::Vinyl {
        warnings.extend(vinyl::side_warnings(&plan));
    }
    // Every track's chain settings are checked before any decoding.
    let params: Vec<Arc<MasterParams>> = plan
        .tracks
        .iter()
        .map(|t| track_params(args, &resolved, t))
        .collect::<Result<_>>()?;
    let target_lufs = resolved
        .target
        .as_ref()
        .map(|_| params[0].target_lufs() as f64);
    if args.dry_run {
        report::print_plan(
            &plan,
            args.profile,
            target_lufs,
            resolved.ceiling_dbtp,
            &warnings,
        );
        return Ok(());
    }
    check_out_dir(args.out_dir, args.force)?;
    if let Some(path) = args.report {
        report::check_path(path)?;
    }
    let rate = args.profile.rate(plan.tracks[0].source_rate);
    let channels = if args.profile == Profile::Cd {
        2
    } else {
        plan.tracks.iter().map(|t| t.channels).max().unwrap_or(2)
    };
    let mut staging = Staging {
        path: sibling(args.out_dir, "tmp"),
        done: false,
    };
    let _ = std::fs::remove_dir_all(&staging.path);
    std::fs::create_dir(&staging.path)
        .with_context(|| format!("could not create '{}'", staging.path.display()))?;

    // Decode and prepare every track.
    let inputs: Vec<Vec<Vec<f32>>> = plan
        .tracks
        .par_iter()
        .map(|t| prepare(t, rate, channels))
        .collect::<Result<_>>()?;
    let before_meters: Vec<LoudnessMeter> =
        inputs.par_iter().map(|c| master::meter(c, rate)).collect();
    for (t, m) in plan.tracks.iter().zip(&before_meters) {
        if measured(m.integrated_lufs()).is_none() {
            bail!(
                "{} (track {}) is silent (no integrated loudness): nothing to master",
                t.name(),
                t.number
            );
        }
    }
    let before_refs: Vec<&LoudnessMeter> = before_meters.iter().collect();
    let before_lufs = LoudnessMeter::combined_integrated_lufs(&before_refs);

    // One progress bar per track, on a terminal only.
    let multi = MultiProgress::new();
    let bars: Vec<Option<ProgressBar>> = plan
        .tracks
        .iter()
        .zip(&inputs)
        .map(|(t, c)| {
            crate::progress::bar(
                c.first().map_or(0, Vec::len) as u64,
                rate,
                format!("{:02} {}", t.number, t.title),
                !args.json,
            )
            .map(|b| multi.add(b))
        })
        .collect();
    let label = |i: usize, what: &str| {
        if let Some(bar) = &bars[i] {
            bar.reset();
            bar.set_message(format!(
                "{:02} {}: {what}",
                plan.tracks[i].number, plan.tracks[i].title
            ));
        }
        bars[i].as_ref()
    };
    // The chain's first half (all before the loudness gain), once per track: every pass
    // of the search runs the second half on it.
    let fronts: Vec<master::Front> = inputs
        .into_par_iter()
        .enumerate()
        .map(|(i, c)| master::render_front(&params[i], c, rate, label(i, "EQ and dynamics")))
        .collect();
    // One pass over track `i` at `gain`, rendered into `out`'s memory.
    let render_one =
        |i: usize, gain: f64, pass: usize, mut out: Vec<Vec<f32>>| -> Result<Rendered> {
            master::set(&params[i], "loud_gain", &format!("{gain:.2}"))?;
            let mut meter = master::loudness_meter(fronts[i].channels(), rate);
            let bar = label(i, &format!("limiter pass {pass}"));
            let gr = master::render_back(&params[i], &fronts[i], &mut out, Some(&mut meter), bar);
            let gain_db = params[i].loud_gain.value() as f64;
            Ok(Rendered::searched(out, meter, gr, gain_db))
        };
    // The buffers of a render no longer needed, for the next.
    let buffers =
        |r: Vec<Rendered>| -> Vec<Vec<Vec<f32>>> { r.into_iter().map(|x| x.channels).collect() };
    let range = (
        mastering_chain::chain::LOUD_GAIN_MIN_DB as f64,
        mastering_chain::chain::LOUD_GAIN_MAX_DB as f64,
    );
    let check_range = |what: &str, gain: f64, target: f64| -> Result<()> {
        if !(range.0..=range.1).contains(&gain) {
            bail!(
                "{what}: reaching {target} LUFS needs {gain:+.2} dB of loudness gain, outside {} … {} dB",
                range.0,
                range.1
            );
        }
        Ok(())
    };
    let n = plan.tracks.len();
    let (mut rendered, album_gain_db, passes): (Vec<Rendered>, Option<f64>, usize) =
        match (target_lufs, args.loudness) {
            (None, _) => {
                let r = (0..n)
                    .into_par_iter()
                    .map(|i| render_one(i, 0.0, 1, Vec::new()))
                    .collect::<Result<_>>()?;
                (r, Some(0.0), 1)
            }
            (Some(target), LoudnessMode::Album) => {
                let first = target - before_lufs;
                check_range("the album", first, target)?;
                let mut best: Option<(f64, Vec<Rendered>)> = None;
                let mut spare: Vec<Vec<Vec<f32>>> = vec![Vec::new(); n];
                let mut pass = 0;
                let search = gain_search::find(target, first, range, |gain| {
                    pass += 1;
                    let r: Vec<Rendered> = std::mem::take(&mut spare)
                        .into_par_iter()
                        .enumerate()
                        .map(|(i, out)| render_one(i, gain, pass, out))
                        .collect::<Result<_>>()?;
                    let refs: Vec<&LoudnessMeter> = r.iter().map(|x| &x.meter).collect();
                    let lufs = LoudnessMeter::combined_integrated_lufs(&refs);
                    let gr = r.iter().map(|x| x.max_gr_db).fold(0.0, f32::max);
                    let gain_db = r[0].gain_db;
                    let error = (target - lufs).abs();
                    if best.as_ref().is_none_or(|(e, _)| error < *e) {
                        if let Some((_, old)) = best.replace((error, r)) {
                            spare = buffers(old);
                        }
                    } else {
                        spare = buffers(r);
                    }
                    if spare.is_empty() {
                        spare = vec![Vec::new(); n];
                    }
                    Ok(gain_search::Pass {
                        gain_db,
                        lufs,
                        max_gain_reduction_db: gr,
                    })
                })?;
                let (_, r) = best.expect("at least one pass");
                if (r[0].gain_db - search.best.gain_db).abs() > 1e-9 {
                    bail!("internal: the kept render is not the search's best");
                }
                (r, Some(search.best.gain_db), search.passes.len())
            }
            (Some(target), LoudnessMode::Track) => {
                let results: Vec<(Rendered, usize)> = (0..n)
                    .into_par_iter()
                    .map(|i| {
                        let t = &plan.tracks[i];
                        let first = target - before_meters[i].integrated_lufs();
                        check_range(&format!("{} (track {})", t.name(), t.number), first, target)?;
                        let mut best: Option<(f64, Rendered)> = None;
                        let mut spare = Vec::new();
                        let mut pass = 0;
                        let search = gain_search::find(target, first, range, |gain| {
                            pass += 1;
                            let r = render_one(i, gain, pass, std::mem::take(&mut spare))?;
                            let lufs = r.meter.integrated_lufs();
                            let p = gain_search::Pass {
                                gain_db: r.gain_db,
                                lufs,
                                max_gain_reduction_db: r.max_gr_db,
                            };
                            let error = (target - lufs).abs();
                            if best.as_ref().is_none_or(|(e, _)| error < *e) {
                                if let Some((_, old)) = best.replace((error, r)) {
                                    spare = old.channels;
                                }
                            } else {
                                spare = r.channels;
                            }
                            Ok(p)
                        })?;
                        Ok((best.expect("at least one pass").1, search.passes.len()))
                    })
                    .collect::<Result<_>>()?;
                let passes = results.iter().map(|r| r.1).max().unwrap_or(0);
                (results.into_iter().map(|r| r.0).collect(), None, passes)
            }
        };
    for bar in bars.iter().flatten() {
        bar.finish_and_clear();
    }
    drop(fronts);
    rendered.par_iter_mut().for_each(|r| r.measure_fully(rate));

    // Refusals, as `oxide master` makes them.
    for (t, r) in plan.tracks.iter().zip(&rendered) {
        if r.max_gr_db > MAX_LIMITING_DB && !args.allow_heavy_limiting {
            bail!(
                "{} (track {}) needs {:.1} dB of peak limiting at the album's gain (more than {MAX_LIMITING_DB} dB; \
                 it would be audibly crushed). Choose a lower target, lower its gain_db in the album file, or pass \
                 --allow-heavy-limiting",
                t.name(),
                t.number,
                r.max_gr_db
            );
        }
    }
    let refs: Vec<&LoudnessMeter> = rendered.iter().map(|r| &r.meter).collect();
    let after_lufs = LoudnessMeter::combined_integrated_lufs(&refs);
    if let Some(target) = target_lufs {
        let misses: Vec<(String, f64)> = match args.loudness {
            LoudnessMode::Album => vec![(String::from("the album"), after_lufs)],
            LoudnessMode::Track => plan
                .tracks
                .iter()
                .zip(&rendered)
                .map(|(t, r)| {
                    (
                        format!("{} (track {})", t.name(), t.number),
                        r.meter.integrated_lufs(),
                    )
                })
                .collect(),
        };
        for (what, lufs) in misses {
            if (target - lufs).abs() > ACCEPT_LU {
                bail!(
                    "{what} would be {:.2} LUFS, {:.2} LU {} the {target} LUFS target (the most the chain gives with a \
                     {} dBTP ceiling): choose {} target",
                    lufs,
                    (target - lufs).abs(),
                    if lufs < target { "short of" } else { "over" },
                    resolved.ceiling_dbtp,
                    if lufs < target { "a lower" } else { "a higher" }
                );
            }
        }
    }

    // The files.
    let cd = args.profile == Profile::Cd;
    let mut outputs: Vec<Vec<Vec<f32>>> = rendered
        .iter_mut()
        .map(|r| std::mem::take(&mut r.channels))
        .collect();
    if cd {
        for o in outputs.iter_mut() {
            let len = cd::padded(o[0].len());
            o.iter_mut().for_each(|c| c.resize(len, 0.0));
        }
    }
    let gaps: Vec<usize> = plan
        .tracks
        .iter()
        .map(|t| {
            if cd {
                cd::gap_samples(t)
            } else {
                (t.gap_s * rate as f64).round() as usize
            }
        })
        .collect();
    let ext = match resolved.container {
        Container::Flac => "flac",
        Container::Wav => "wav",
    };
    let names: Vec<String> = plan
        .tracks
        .iter()
        .map(|t| file_name(t.number, &t.title, ext))
        .collect();
    let album_peak_dbtp = rendered
        .iter()
        .map(|r| r.meter.true_peak_dbtp())
        .fold(f64::NEG_INFINITY, f64::max);
    let album_rg_db = REPLAYGAIN_REFERENCE_LUFS - after_lufs;
    let spec = |tags: Tags| OutputSpec {
        container: resolved.container,
        depth: resolved.depth,
        sample_rate: rate,
        channels,
        dither: DitherMode::Tpdf,
        // The chain dithered to the output's grid itself.
        exact: true,
        tags,
    };
    let album_tags = |tags: &mut Tags| {
        if let Some(v) = &plan.title {
            tags.set("ALBUM", v);
        }
        if let Some(v) = &plan.artist {
            tags.set("ALBUMARTIST", v);
        }
        if let Some(v) = plan.year {
            tags.set("DATE", &v.to_string());
        }
        if let Some(v) = &plan.genre {
            tags.set("GENRE", v);
        }
    };
    let flac = resolved.container == Container::Flac;
    let write_tracks = || -> Result<()> {
        (0..n).into_par_iter().try_for_each(|i| {
            let t = &plan.tracks[i];
            let r = &rendered[i];
            let mut tags = Tags::default();
            tags.set("TITLE", &t.title);
            if let Some(a) = &t.artist {
                tags.set("ARTIST", a);
            }
            album_tags(&mut tags);
            tags.set("TRACKNUMBER", &t.number.to_string());
            if let Some(isrc) = &t.isrc {
                tags.set("ISRC", isrc);
            }
            if flac {
                tags.set("TRACKTOTAL", &n.to_string());
                if let Some(upc) = &plan.upc {
                    tags.set("BARCODE", upc);
                }
                let track_rg = REPLAYGAIN_REFERENCE_LUFS - r.meter.integrated_lufs();
                tags.set("REPLAYGAIN_TRACK_GAIN", &format!("{track_rg:+.2} dB"));
                tags.set(
                    "REPLAYGAIN_TRACK_PEAK",
                    &format!("{:.6}", 10f64.powf(r.meter.true_peak_dbtp() / 20.0)),
                );
                tags.set("REPLAYGAIN_ALBUM_GAIN", &format!("{album_rg_db:+.2} dB"));
                tags.set(
                    "REPLAYGAIN_ALBUM_PEAK",
                    &format!("{:.6}", 10f64.powf(album_peak_dbtp / 20.0)),
                );
                tags.set(
                    "REPLAYGAIN_REFERENCE_LOUDNESS",
                    &format!("{REPLAYGAIN_REFERENCE_LUFS:.2} LUFS"),
                );
            }
            audio::write(&staging.path.join(&names[i]), spec(tags), &outputs[i])
                .with_context(|| format!("{} (track {})", t.name(), t.number))?;
            Ok(())
        })
    };
    let (starts, album_frames) = sequence(&outputs, &gaps);
    let flow_name = if cd {
        String::from("album.wav")
    } else {
        format!("flow-preview.{ext}")
    };
    let write_flow = || -> Result<()> {
        let mut tags = Tags::default();
        album_tags(&mut tags);
        if let Some(v) = &plan.title {
            tags.set("TITLE", v);
        }
        write_sequence(&staging.path.join(&flow_name), spec(tags), &outputs, &gaps)?;
        if cd {
            let cue = cd::cue_sheet(&plan, &flow_name, &starts);
            std::fs::write(staging.path.join("album.cue"), cue)
                .context("could not write the CUE sheet")?;
        }
        Ok(())
    };
    let (a, b) = rayon::join(write_tracks, write_flow);
    a?;
    b?;
    let mut files = names.clone();
    files.push(flow_name);
    if cd {
        files.push(String::from("album.cue"));
    }
    if args.profile == Profile::Vinyl {
        let signal: Vec<Vec<vinyl::Warning>> = (0..n)
            .into_par_iter()
            .map(|i| vinyl::signal_warnings(plan.tracks[i].number, &outputs[i], rate))
            .collect();
        warnings.extend(signal.into_iter().flatten());
    }
    commit(&mut staging, args.out_dir)?;

    let tracks: Vec<TrackResult> = plan
        .tracks
        .iter()
        .cloned()
        .zip(rendered)
        .zip(before_meters)
        .zip(names)
        .zip(starts)
        .map(|((((track, r), before), file), (_, start))| TrackResult {
            before: master::Measurement {
                integrated_lufs: before.integrated_lufs(),
                true_peak_dbtp: before.true_peak_dbtp(),
                lra_lu: before.lra_lu(),
            },
            after: master::Measurement {
                integrated_lufs: r.meter.integrated_lufs(),
                true_peak_dbtp: r.meter.true_peak_dbtp(),
                lra_lu: r.meter.lra_lu(),
            },
            rendered: r,
            file,
            start_s: start as f64 / rate as f64,
            track,
        })
        .collect();
    let result = AlbumResult {
        profile: args.profile,
        loudness: args.loudness,
        target_lufs,
        ceiling_dbtp: resolved.ceiling_dbtp,
        rate,
        depth: resolved.depth,
        before_lufs,
        after_lufs,
        after_lra_lu: album_lra(&tracks),
        true_peak_dbtp: album_peak_dbtp,
        album_gain_db,
        passes,
        duration_s: album_frames as f64 / rate as f64,
        tracks,
        files,
        warnings,
        plan,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report::json(&result, args.out_dir))?
        );
    } else {
        report::print_table(&result, args.out_dir);
    }
    for w in &result.warnings {
        eprintln!("oxide: warning: {}", w.message);
    }
    if let Some(path) = args.report {
        report::write_html(&result, path)?;
        if !args.json {
            eprintln!("oxide: wrote the report '{}'", path.display());
        }
    }
    Ok(())
}

/// The album's loudness range: the short-term values of all tracks, gated as EBU Tech
/// 3342 gates them (absolute −70, relative −20 LU), 10th to 95th percentile.
fn album_lra(tracks: &[TrackResult]) -> f64 {
    let mut values: Vec<f64> = tracks
        .iter()
        .flat_map(|t| t.rendered.short_term.iter().copied())
        .filter(|v| *v > -70.0)
        .collect();
    if values.is_empty() {
        return 0.0;
    }
    let mean_power = values.iter().map(|v| 10f64.powf(v / 10.0)).sum::<f64>() / values.len() as f64;
    let gate = 10.0 * mean_power.log10() - 20.0;
    values.retain(|v| *v >= gate);
    values.sort_by(f64::total_cmp);
    let at = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
    at(0.95) - at(0.10)
}
