//! `oxide master IN OUT`: the mastering chain over one file, with the loudness gain found
//! exactly by analysis passes instead of the plugin's learn mode.
//!
//! 1. Render with `loud_gain` 0 dB and the limiter off, measure the integrated loudness
//!    `L0` of that output (the chain without the loudness stage): `gain = target − L0`.
//! 2. Render with the limiter on at that gain and measure; the limiter takes some
//!    loudness away, so search the gain (secant and bisection on the measured loudness,
//!    [`gain_search`]) until a render is within [`gain_search::TOLERANCE_LU`] of the
//!    target. If no gain in the chain's range gets within [`ACCEPT_LU`] of it, the
//!    command says by how much it falls short and fails, unless `--accept-off-target`.
//! 3. The final render dithers when the output format asks for it (16 or 24 bit: TPDF
//!    dither at that depth; 32-bit float: none), and is measured again for the report.
//!
//! The stages before the loudness gain (input gain, repair, EQ, multiband, imager) do
//! not depend on it, so they run once ([`render_front`]) and every pass runs only the
//! loudness gain, limiter, output gain and dither on what they gave ([`render_back`]):
//! exactly the whole chain's output, at a fraction of its cost per pass.
//!
//! If reaching the target needs more than [`MAX_LIMITING_DB`] of limiter gain reduction
//! (the largest over the file), the command says so and fails instead of writing a
//! crushed file; `--allow-heavy-limiting` writes it anyway. The output is latency
//! compensated: it lines up with the input sample for sample.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use mastering_chain::params::{Target, TARGET_LUFS_RANGE};
use mastering_chain::{Chain, MasterParams};
use oxide_plugin_common::param_access;
use shared_dsp::loudness::{measured, ChannelLayout, LoudnessMeter, MeterOptions};

use oxide_cli::audio::{self, resample, Depth, DitherMode};

use crate::output::OutputArgs;
use crate::plugins::PluginKind;

pub(crate) mod gain_search;

/// The farthest from the target a result may land without `--accept-off-target`, LU:
/// the ±0.1 LU a delivery is held to (EBU R 128 s1 allows ±0.2 LU for live; streaming
/// services normalise in 0.1 dB steps at best).
pub const ACCEPT_LU: f64 = 0.1;
/// ReplayGain 2.0's reference loudness, LUFS.
pub const REPLAYGAIN_REFERENCE_LUFS: f64 = -18.0;
/// The most limiter gain reduction the command accepts without
/// `--allow-heavy-limiting`, dB.
pub const MAX_LIMITING_DB: f32 = 6.0;

/// What the user asked for.
pub struct MasterArgs<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub target: Option<&'a str>,
    pub ceiling_dbtp: Option<f32>,
    /// `--preset NAME|FILE`, applied before the assignments.
    pub preset: Option<&'a str>,
    pub assignments: &'a [String],
    /// A chain file whose stages run before the mastering chain (`crate::host`).
    pub chain: Option<&'a Path>,
    pub out: &'a OutputArgs,
    pub json: bool,
    pub allow_heavy_limiting: bool,
    /// Write the file even when the target cannot be reached within [`ACCEPT_LU`].
    pub accept_off_target: bool,
}

/// A target given as a preset name or a number in LUFS.
pub(crate) fn parse_target(text: &str) -> Result<(Target, f32)> {
    let folded = text
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-', '_'], "");
    let preset = match folded.as_str() {
        "spotify" => Some(Target::Spotify),
        "apple" | "applemusic" => Some(Target::AppleMusic),
        "youtube" => Some(Target::YouTube),
        "amazon" | "amazonmusic" => Some(Target::AmazonMusic),
        "deezer" => Some(Target::Deezer),
        "ebu" | "ebur128" | "r128" => Some(Target::EbuR128),
        _ => None,
    };
    if let Some(p) = preset {
        return Ok((p, p.lufs().unwrap_or(-14.0)));
    }
    let number = text
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .trim();
    let value: f32 = number.parse().ok().filter(|v: &f32| v.is_finite()).with_context(|| {
        format!(
            "--target wants a preset (spotify, apple, youtube, amazon, deezer, ebu) or LUFS, got '{text}'"
        )
    })?;
    let (lo, hi) = TARGET_LUFS_RANGE;
    if !(lo..=hi).contains(&value) {
        bail!("--target {value} LUFS is outside {lo} … {hi} LUFS");
    }
    Ok((Target::Custom, value))
}

pub(crate) fn set(params: &MasterParams, id: &str, text: &str) -> Result<()> {
    param_access::set_from_text(params, id, text).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Sets the chain's loudness target from `--target` (a preset name or LUFS).
pub(crate) fn set_target(params: &MasterParams, text: &str) -> Result<()> {
    let (preset, lufs) = parse_target(text)?;
    let choice = param_access::list(params)
        .into_iter()
        .find(|p| p.id == "target")
        .map(|p| p.choices[preset as usize].clone())
        .unwrap_or_default();
    set(params, "target", &choice)?;
    if preset == Target::Custom {
        set(params, "target_lufs", &lufs.to_string())?;
    }
    Ok(())
}

/// Sets the limiter's ceiling from `--ceiling`, dBTP (−3 … 0).
pub(crate) fn set_ceiling(params: &MasterParams, ceiling: f32) -> Result<()> {
    if !(-3.0..=0.0).contains(&ceiling) {
        bail!("--ceiling {ceiling} dBTP is outside -3 … 0 dBTP");
    }
    set(params, "lim_ceiling", &ceiling.to_string())
}

/// Loudness and peaks of a rendered or input file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Measurement {
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
    pub lra_lu: f64,
}

fn layout(channels: usize) -> ChannelLayout {
    if channels == 1 {
        ChannelLayout::Mono
    } else {
        ChannelLayout::Stereo
    }
}

/// A meter of loudness only (no true peak: most of a meter's cost) for `channels`.
pub(crate) fn loudness_meter(channels: usize, sample_rate: u32) -> LoudnessMeter {
    LoudnessMeter::with_options(
        sample_rate as f64,
        layout(channels),
        MeterOptions { true_peak: false },
    )
}

/// A meter that has measured `channels` (mono or stereo) whole.
pub(crate) fn meter(channels: &[Vec<f32>], sample_rate: u32) -> LoudnessMeter {
    let mut meter = LoudnessMeter::new(sample_rate as f64, layout(channels.len()));
    let slices: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
    meter.process(&slices);
    meter
}

pub(crate) fn measure(channels: &[Vec<f32>], sample_rate: u32) -> Measurement {
    let meter = meter(channels, sample_rate);
    Measurement {
        integrated_lufs: meter.integrated_lufs(),
        true_peak_dbtp: meter.true_peak_dbtp(),
        lra_lu: meter.lra_lu(),
    }
}

/// The block every offline render feeds the chain, frames.
const BLOCK: usize = 512;

/// A file through the chain's first half ([`Chain::process_front`]: everything before
/// the loudness gain), with the chain's latency in silence after it: every render at any
/// loudness gain, limiter or dither setting ([`render_back`]) starts from this, so a
/// search for the gain runs the first half once.
pub(crate) struct Front {
    /// The first half's output over the file and `latency` frames of silence after it.
    channels: Vec<Vec<f32>>,
    /// The file's frames.
    frames: usize,
    /// The whole chain's latency, frames.
    latency: usize,
    sample_rate: u32,
}

impl Front {
    pub(crate) fn latency(&self) -> u32 {
        self.latency as u32
    }

    pub(crate) fn channels(&self) -> usize {
        self.channels.len()
    }
}

/// Runs the first half of the chain set by `params` over `channels` (taken, and grown
/// in place by the latency). `bar` shows how far it is.
pub(crate) fn render_front(
    params: &MasterParams,
    mut channels: Vec<Vec<f32>>,
    sample_rate: u32,
    bar: Option<&ProgressBar>,
) -> Front {
    let settings = params.settings();
    let mut chain = Chain::with_channels(sample_rate as f32, channels.len(), BLOCK, &settings);
    let latency = chain.latency_samples() as usize;
    let frames = channels.first().map_or(0, Vec::len);
    let total = frames + latency;
    for c in channels.iter_mut() {
        c.resize(total, 0.0);
    }
    let mut start = 0;
    while start < total {
        let end = (start + BLOCK).min(total);
        let mut block: Vec<&mut [f32]> = channels.iter_mut().map(|c| &mut c[start..end]).collect();
        chain.process_front(&mut block, &settings);
        start = end;
        if let Some(bar) = bar {
            bar.set_position(start.min(frames) as u64);
        }
    }
    Front {
        channels,
        frames,
        latency,
        sample_rate,
    }
}

/// The rest of the chain set by `params` (loudness gain, limiter, output gain, dither)
/// over `front`, latency compensated, into `out` (its memory reused: a search renders
/// many times). Each block goes to `meter` as it is made, if one is given (while it is
/// still in the cache). Returns the largest limiter gain reduction seen, dB. Together
/// with [`render_front`] this is exactly the whole chain's render (a test holds the
/// halves to [`Chain::process`] bit for bit).
pub(crate) fn render_back(
    params: &MasterParams,
    front: &Front,
    out: &mut Vec<Vec<f32>>,
    mut meter: Option<&mut LoudnessMeter>,
    bar: Option<&ProgressBar>,
) -> f32 {
    let settings = params.settings();
    let n_ch = front.channels.len();
    let mut chain = Chain::with_channels(front.sample_rate as f32, n_ch, BLOCK, &settings);
    assert_eq!(
        chain.latency_samples() as usize,
        front.latency,
        "the second half's settings changed the chain's latency"
    );
    out.resize_with(n_ch, Vec::new);
    for o in out.iter_mut() {
        o.clear();
        o.reserve(front.frames);
    }
    let mut scratch = vec![[0.0f32; BLOCK]; n_ch];
    let total = front.frames + front.latency;
    let mut max_gr = 0.0f32;
    let mut start = 0;
    while start < total {
        let end = (start + BLOCK).min(total);
        let len = end - start;
        let mut block: Vec<&mut [f32]> = scratch
            .iter_mut()
            .zip(&front.channels)
            .map(|(s, c)| {
                s[..len].copy_from_slice(&c[start..end]);
                &mut s[..len]
            })
            .collect();
        chain.process_back(&mut block, &settings);
        max_gr = max_gr.max(chain.limiter_gain_reduction_db());
        // Output frame `i` is block frame `i + latency`.
        let skip = front.latency.saturating_sub(start).min(len);
        let kept: Vec<&[f32]> = block.iter().map(|b| &b[skip..]).collect();
        for (o, k) in out.iter_mut().zip(&kept) {
            o.extend_from_slice(k);
        }
        if let Some(meter) = meter.as_deref_mut() {
            if !kept[0].is_empty() {
                meter.process(&kept);
            }
        }
        start = end;
        if let Some(bar) = bar {
            bar.set_position(start.saturating_sub(front.latency) as u64);
        }
    }
    max_gr
}

pub(crate) fn value(v: f64) -> serde_json::Value {
    measured(v).map_or(serde_json::Value::Null, |x| {
        serde_json::json!((x * 100.0).round() / 100.0)
    })
}

pub(crate) fn text(v: f64) -> String {
    measured(v).map_or_else(|| String::from("-inf"), |x| format!("{x:.2}"))
}

pub fn run(args: &MasterArgs) -> Result<()> {
    let container = args.out.check(args.input, args.output)?;
    let params = Arc::new(MasterParams::default());
    if let Some(preset) = args.preset {
        crate::presets::apply(PluginKind::MasteringChain, params.as_ref(), preset)?;
    }
    for assignment in args.assignments {
        let (id, value) = crate::split_assignment(assignment)?;
        set(&params, id, value)?;
    }
    if let Some(target) = args.target {
        set_target(&params, target)?;
    }
    if let Some(ceiling) = args.ceiling_dbtp {
        set_ceiling(&params, ceiling)?;
    }
    // Learn is the plugin's way; here the passes find the gain.
    set(&params, "learn", "off")?;
    let target_lufs = params.target_lufs() as f64;
    let ceiling_dbtp = params.lim_ceiling.value();
    // Every hosted plug-in, parameter and state file is checked before the audio is read.
    let mut hosted = args.chain.map(crate::host::Chain::load).transpose()?;

    let mut audio = audio::read::<f32>(args.input)?;
    if audio.channels.len() > 2 {
        bail!("the mastering chain takes mono or stereo files");
    }
    let spec = args.out.spec(container, &audio.info, true)?;
    let format = spec.depth;
    // The conversion comes first, so that the limiter's ceiling and the dither hold on
    // the file that is delivered.
    if spec.sample_rate != audio.info.sample_rate {
        audio.channels =
            resample::convert(&audio.channels, audio.info.sample_rate, spec.sample_rate)?;
        audio.info.sample_rate = spec.sample_rate;
    }
    let before = measure(&audio.channels, audio.info.sample_rate);
    if measured(before.integrated_lufs).is_none() {
        bail!(
            "'{}' is silent (no integrated loudness): nothing to master",
            args.input.display()
        );
    }
    // The hosted stages come first, once: the passes below search the loudness gain on
    // what they give (latency compensated, tails rendered).
    if let Some(hosted) = hosted.as_mut() {
        hosted.activate(audio.info.sample_rate, audio.channels.len(), 512)?;
        audio.channels = hosted.render(&audio.channels)?;
    }

    // One bar for the whole job, restarted for each render ("pass 2", …).
    let name = args.input.display().to_string();
    let bar = crate::progress::bar(
        audio.frames() as u64,
        audio.info.sample_rate,
        format!("{name}: pass 1"),
        !args.json,
    );
    let pass = |n: usize| {
        if let Some(bar) = &bar {
            bar.reset();
            bar.set_message(format!("{name}: pass {n}"));
        }
        bar.as_ref()
    };

    // The chain's first half, once; every pass below runs the second half on it.
    let rate = audio.info.sample_rate;
    let front = render_front(&params, std::mem::take(&mut audio.channels), rate, pass(1));
    let mut out = Vec::new();
    // One pass: the second half rendered into `out` and its loudness measured.
    let render_pass = |bar: Option<&ProgressBar>, out: &mut Vec<Vec<f32>>| {
        let mut meter = loudness_meter(front.channels.len(), rate);
        let gr = render_back(&params, &front, out, Some(&mut meter), bar);
        (meter.integrated_lufs(), gr)
    };

    // Pass 1: no loudness gain, no limiter, no dither.
    set(&params, "dither_bits", "off")?;
    set(&params, "loud_gain", "0")?;
    set(&params, "lim_on", "off")?;
    let (unlimited_lufs, _) = render_pass(pass(1), &mut out);
    let Some(l0) = measured(unlimited_lufs) else {
        bail!("the chain's output is silent: nothing to master");
    };
    set(&params, "lim_on", "on")?;
    let gain_range = (
        mastering_chain::chain::LOUD_GAIN_MIN_DB as f64,
        mastering_chain::chain::LOUD_GAIN_MAX_DB as f64,
    );
    let first_gain = target_lufs - l0;
    if !(gain_range.0..=gain_range.1).contains(&first_gain) {
        bail!(
            "reaching {target_lufs} LUFS needs {first_gain:+.2} dB of loudness gain, outside {} … {} dB",
            gain_range.0,
            gain_range.1
        );
    }
    let mut rendered = 1;
    let search = gain_search::find(target_lufs, first_gain, gain_range, |gain| {
        // The parameter's 0.01 dB step is the resolution (≤ 0.005 LU).
        set(&params, "loud_gain", &format!("{gain:.2}"))?;
        rendered += 1;
        let (lufs, gr) = render_pass(pass(rendered), &mut out);
        Ok(gain_search::Pass {
            gain_db: params.loud_gain.value() as f64,
            lufs,
            max_gain_reduction_db: gr,
        })
    })?;
    let passes = 1 + search.passes.len();
    let best = search.best;
    let max_gr = best.max_gain_reduction_db;
    let missed_by_lu = target_lufs - best.lufs;
    set(&params, "loud_gain", &format!("{:.2}", best.gain_db))?;
    if max_gr > MAX_LIMITING_DB && !args.allow_heavy_limiting {
        bail!(
            "reaching {target_lufs} LUFS with a {ceiling_dbtp} dBTP ceiling needs {max_gr:.1} dB of peak limiting \
             (more than {MAX_LIMITING_DB} dB; the result would be audibly crushed). Choose a lower target, or pass \
             --allow-heavy-limiting to write it anyway"
        );
    }
    if missed_by_lu.abs() > ACCEPT_LU && !args.accept_off_target {
        bail!(
            "{}: the output would be {} the {target_lufs} LUFS target by {:.2} LU ({:.2} LUFS{}, limiter up to \
             {max_gr:.1} dB). Choose {} target, or pass --accept-off-target to write it anyway",
            args.input.display(),
            if missed_by_lu > 0.0 { "short of" } else { "over" },
            missed_by_lu.abs(),
            best.lufs,
            if search.unreachable { ", the most the chain can give with this ceiling" } else { "" },
            if missed_by_lu > 0.0 { "a lower" } else { "a higher" },
        );
    }

    // The final render, dithered for the output's word length.
    let dither = match format {
        _ if args.out.dither == DitherMode::Off => "off",
        Depth::Int16 => "16 bit",
        Depth::Int24 => "24 bit",
        Depth::Float32 => "off",
    };
    set(&params, "dither_bits", dither)?;
    let shape = if args.out.dither == DitherMode::Shaped {
        "Noise-shaped"
    } else {
        "TPDF flat"
    };
    set(&params, "dither_shape", shape)?;
    let mut channels = out;
    render_back(&params, &front, &mut channels, None, pass(passes + 1));
    let latency = front.latency();
    drop(front);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let after = measure(&channels, audio.info.sample_rate);
    let applied = params.loud_gain.value();
    // ReplayGain 2.0 track tags: the gain to −18 LUFS and the (true) peak, linear.
    let track_gain_db = REPLAYGAIN_REFERENCE_LUFS - after.integrated_lufs;
    let mut spec = spec;
    spec.sample_rate = audio.info.sample_rate;
    // The chain dithered to the output's grid itself; the writer only packs the samples
    // (or, with --dither off, rounds them).
    spec.exact = dither != "off";
    spec.tags
        .set("REPLAYGAIN_TRACK_GAIN", &format!("{track_gain_db:+.2} dB"));
    spec.tags.set(
        "REPLAYGAIN_TRACK_PEAK",
        &format!("{:.6}", 10f64.powf(after.true_peak_dbtp / 20.0)),
    );
    spec.tags.set(
        "REPLAYGAIN_REFERENCE_LOUDNESS",
        &format!("{REPLAYGAIN_REFERENCE_LUFS:.2} LUFS"),
    );
    audio::write(args.output, spec, &channels)?;

    if args.json {
        let doc = serde_json::json!({
            "input": args.input.display().to_string(),
            "output": args.output.display().to_string(),
            "target_lufs": target_lufs,
            "ceiling_dbtp": ceiling_dbtp,
            "loud_gain_db": applied,
            "passes": passes,
            "latency_samples": latency,
            "limiter_max_gain_reduction_db": (max_gr * 100.0).round() / 100.0,
            "target_missed_by_lu": (missed_by_lu * 100.0).round() / 100.0,
            "target_reachable": !search.unreachable,
            "before": {
                "integrated_lufs": value(before.integrated_lufs),
                "true_peak_dbtp": value(before.true_peak_dbtp),
                "lra_lu": (before.lra_lu * 100.0).round() / 100.0,
            },
            "after": {
                "integrated_lufs": value(after.integrated_lufs),
                "true_peak_dbtp": value(after.true_peak_dbtp),
                "lra_lu": (after.lra_lu * 100.0).round() / 100.0,
            },
            "bits": format.label(),
            "sample_rate_hz": audio.info.sample_rate,
            "replaygain_track_gain_db": (track_gain_db * 100.0).round() / 100.0,
            "dither": dither,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!("{}", args.input.display());
        println!(
            "  before  {:>7} LUFS  {:>7} dBTP  LRA {:.1} LU",
            text(before.integrated_lufs),
            text(before.true_peak_dbtp),
            before.lra_lu
        );
        println!(
            "  after   {:>7} LUFS  {:>7} dBTP  LRA {:.1} LU",
            text(after.integrated_lufs),
            text(after.true_peak_dbtp),
            after.lra_lu
        );
        println!(
            "  target {target_lufs:.1} LUFS, ceiling {ceiling_dbtp:.1} dBTP: loudness gain {applied:+.2} dB, \
             limiter up to {max_gr:.1} dB, {passes} passes, dither {dither}"
        );
        if missed_by_lu.abs() > ACCEPT_LU {
            println!(
                "  OFF TARGET: {:.2} LU {} the target{}",
                missed_by_lu.abs(),
                if missed_by_lu > 0.0 {
                    "short of"
                } else {
                    "over"
                },
                if search.unreachable {
                    " (the most this chain gives with this ceiling)"
                } else {
                    ""
                }
            );
        }
        eprintln!("oxide: wrote '{}'", args.output.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(parse_target("spotify").unwrap().0, Target::Spotify);
        assert_eq!(parse_target("Apple Music").unwrap().1, -16.0);
        assert_eq!(parse_target("-14").unwrap(), (Target::Custom, -14.0));
        assert_eq!(parse_target("-9.5 LUFS").unwrap(), (Target::Custom, -9.5));
        assert!(parse_target("loud").is_err());
        assert!(parse_target("+3").is_err());
    }
}
