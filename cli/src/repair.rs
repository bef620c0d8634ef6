//! `oxide repair IN OUT`: clicks, clipping and hand-drawn regions (the "pencil")
//! repaired by AR interpolation (`shared_dsp::repair`). The whole file is held in
//! memory: detection and interpolation look at both sides of every span.
//!
//! Order: every `--region` first (exactly as given), then `--declip`, then
//! `--declick`; with none of the three, declick at sensitivity 50.

use std::path::Path;

use anyhow::{bail, Context, Result};
use oxide_cli::audio::{self, RateWriter};
use shared_dsp::repair::{self, DeclickSettings, DeclipSettings, RepairedSpan};

use crate::output::OutputArgs;

/// The default `--declick` sensitivity when no repair is named.
const DEFAULT_SENSITIVITY: f64 = 50.0;

/// Suffix that marks a region bound in samples (`441000smp`); a bare number is seconds.
const SAMPLES_SUFFIX: &str = "smp";

/// What the user asked for.
pub struct RepairArgs<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub declick: Option<f64>,
    pub declip: bool,
    pub regions: &'a [String],
    pub report: Option<&'a Path>,
    pub out: &'a OutputArgs,
}

/// A region bound as written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bound {
    Seconds(f64),
    Samples(u64),
}

impl Bound {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Some(n) = text.strip_suffix(SAMPLES_SUFFIX) {
            return n.trim().parse().ok().map(Bound::Samples);
        }
        let t = text.strip_suffix('s').unwrap_or(text).trim();
        t.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(Bound::Seconds)
    }

    /// The sample index at `sample_rate` (seconds rounded to the nearest sample).
    fn sample(self, sample_rate: u32) -> u64 {
        match self {
            Bound::Seconds(s) => (s * sample_rate as f64).round() as u64,
            Bound::Samples(n) => n,
        }
    }
}

/// A parsed `--region`: `START-END[:CHANNEL]`.
#[derive(Debug, Clone, PartialEq)]
struct Region {
    text: String,
    start: Bound,
    end: Bound,
    /// 0-based channel, or `None` for every channel.
    channel: Option<usize>,
}

impl Region {
    fn parse(text: &str) -> Result<Self> {
        let syntax = || {
            format!(
                "--region '{text}' is not START-END[:CHANNEL] (seconds like 12.5-12.51, \
                 samples like 441000{SAMPLES_SUFFIX}-441020{SAMPLES_SUFFIX}; channel L, R or 1, 2, …)"
            )
        };
        let (range, channel) = match text.rsplit_once(':') {
            Some((range, ch)) => (range, Some(ch.trim())),
            None => (text, None),
        };
        let channel = match channel {
            None => None,
            Some(c) if c.eq_ignore_ascii_case("l") => Some(0),
            Some(c) if c.eq_ignore_ascii_case("r") => Some(1),
            Some(c) => match c.parse::<usize>() {
                Ok(n) if n >= 1 => Some(n - 1),
                _ => bail!("{}", syntax()),
            },
        };
        let Some((start, end)) = range.split_once('-') else {
            bail!("{}", syntax());
        };
        let (Some(start), Some(end)) = (Bound::parse(start), Bound::parse(end)) else {
            bail!("{}", syntax());
        };
        Ok(Self {
            text: text.to_string(),
            start,
            end,
            channel,
        })
    }

    /// The sample span and channels, checked against the file.
    fn resolve(&self, frames: usize, channels: usize, sample_rate: u32) -> Result<Resolved> {
        let start = self.start.sample(sample_rate);
        let end = self.end.sample(sample_rate);
        if start >= end {
            bail!(
                "--region '{}': START must be before END (samples {start} … {end})",
                self.text
            );
        }
        if end > frames as u64 {
            bail!(
                "--region '{}' ends past the end of the file ({frames} samples, {:.3} s)",
                self.text,
                frames as f64 / sample_rate as f64
            );
        }
        let channels = match self.channel {
            Some(c) if c >= channels => bail!(
                "--region '{}': channel {} does not exist (the file has {channels})",
                self.text,
                c + 1
            ),
            Some(c) => c..c + 1,
            None => 0..channels,
        };
        Ok(Resolved {
            start: start as usize,
            end: end as usize,
            channels,
        })
    }
}

struct Resolved {
    start: usize,
    end: usize,
    channels: std::ops::Range<usize>,
}

/// Which stage repaired a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Region,
    Declip,
    Declick,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Region => "region",
            Stage::Declip => "declip",
            Stage::Declick => "declick",
        }
    }
}

/// Checks a report path like an audio output: not over an existing file without
/// `--force`, in a folder that exists.
fn check_report(report: &Path, force: bool) -> Result<()> {
    if report.is_dir() {
        bail!("the report '{}' is a folder", report.display());
    }
    if report.exists() && !force {
        bail!(
            "'{}' already exists: pass --force to overwrite it",
            report.display()
        );
    }
    match report.parent() {
        Some(p) if !p.as_os_str().is_empty() && !p.is_dir() => {
            bail!("the report folder '{}' does not exist", p.display())
        }
        _ => Ok(()),
    }
}

/// Linear peak as dBFS (`None`, JSON `null`, for silence).
fn dbfs(peak: f32) -> Option<f64> {
    (peak > 0.0).then(|| 20.0 * (peak as f64).log10())
}

fn report_json(
    args: &RepairArgs,
    sample_rate: u32,
    frames: usize,
    spans: &[(Stage, RepairedSpan)],
) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = spans
        .iter()
        .map(|(stage, s)| {
            serde_json::json!({
                "stage": stage.name(),
                "channel": s.channel + 1,
                "start_s": s.start as f64 / sample_rate as f64,
                "start_sample": s.start,
                "length_samples": s.end - s.start,
                "peak_before_dbfs": dbfs(s.peak_before),
                "peak_after_dbfs": dbfs(s.peak_after),
            })
        })
        .collect();
    serde_json::json!({
        "input": args.input.display().to_string(),
        "output": args.output.display().to_string(),
        "sample_rate_hz": sample_rate,
        "frames": frames,
        "spans": entries,
    })
}

/// Writes `text` to `path` through a temporary file in the same folder, renamed.
fn write_safely(path: &Path, text: &str) -> Result<()> {
    let temp = audio::write::temporary_for(path);
    let result = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.with_context(|| format!("could not write the report '{}'", path.display()))
}

pub fn run(args: &RepairArgs) -> Result<()> {
    // Everything that can be checked before reading audio is checked first.
    let regions = args
        .regions
        .iter()
        .map(|r| Region::parse(r))
        .collect::<Result<Vec<_>>>()?;
    if let Some(s) = args.declick {
        if !(0.0..=100.0).contains(&s) {
            bail!("--declick {s} is outside 0 … 100");
        }
    }
    let container = args.out.check(args.input, args.output)?;
    if let Some(report) = args.report {
        check_report(report, args.out.force)?;
    }

    let mut audio = audio::read::<f32>(args.input)?;
    let info = audio.info.clone();
    let frames = audio.frames();
    let rate = info.sample_rate as f64;
    let resolved = regions
        .iter()
        .map(|r| r.resolve(frames, info.channels, info.sample_rate))
        .collect::<Result<Vec<_>>>()?;
    let spec = args.out.spec(container, &info, true)?;
    let depth = spec.depth;
    let declick = match (args.declick, args.declip, regions.is_empty()) {
        (None, false, true) => Some(DEFAULT_SENSITIVITY),
        (d, _, _) => d,
    };

    // One bar step per channel per stage run.
    let stages = usize::from(!resolved.is_empty())
        + usize::from(args.declip)
        + usize::from(declick.is_some());
    let bar = crate::progress::bar(
        frames as u64,
        info.sample_rate,
        args.input.display().to_string(),
        true,
    );
    if let Some(bar) = &bar {
        bar.set_length((stages * info.channels) as u64);
    }
    let step = || {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    };

    let mut spans: Vec<(Stage, RepairedSpan)> = Vec::new();
    if !resolved.is_empty() {
        for (index, channel) in audio.channels.iter_mut().enumerate() {
            for region in resolved.iter().filter(|r| r.channels.contains(&index)) {
                let mut span = repair::repair_region(channel, rate, region.start, region.end);
                span.channel = index;
                spans.push((Stage::Region, span));
            }
            step();
        }
    }
    // The library's stages work on all channels at once; run them one channel at a
    // time so the bar moves, and set each span's real channel.
    let mut per_channel = |stage: Stage, f: &dyn Fn(&mut [&mut [f32]]) -> Vec<RepairedSpan>| {
        for (index, channel) in audio.channels.iter_mut().enumerate() {
            let found = f(&mut [channel.as_mut_slice()]);
            spans.extend(found.into_iter().map(|mut s| {
                s.channel = index;
                (stage, s)
            }));
            step();
        }
    };
    if args.declip {
        let settings = DeclipSettings::default();
        per_channel(Stage::Declip, &|c| repair::declip(c, rate, &settings));
    }
    if let Some(sensitivity) = declick {
        let settings = DeclickSettings::from_sensitivity(sensitivity);
        per_channel(Stage::Declick, &|c| repair::declick(c, rate, &settings));
    }
    drop(bar);

    let mut writer = RateWriter::create(args.output, spec, info.sample_rate)?;
    let views: Vec<&[f32]> = audio.channels.iter().map(Vec::as_slice).collect();
    writer.push_f32(&views)?;
    crate::output::finish(writer, depth, args.output)?;
    if let Some(report) = args.report {
        let json = report_json(args, info.sample_rate, frames, &spans);
        write_safely(report, &serde_json::to_string_pretty(&json)?)?;
        eprintln!("oxide: wrote '{}'", report.display());
    }
    print_summary(&spans, info.sample_rate);
    Ok(())
}

/// A few lines on the terminal: spans and samples per stage, the loudest repairs.
fn print_summary(spans: &[(Stage, RepairedSpan)], sample_rate: u32) {
    if spans.is_empty() {
        println!("nothing repaired");
        return;
    }
    for stage in [Stage::Region, Stage::Declip, Stage::Declick] {
        let of_stage: Vec<&RepairedSpan> = spans
            .iter()
            .filter(|(s, _)| *s == stage)
            .map(|(_, s)| s)
            .collect();
        if of_stage.is_empty() {
            continue;
        }
        let samples: usize = of_stage.iter().map(|s| s.end - s.start).sum();
        println!(
            "{:<8} {:>5} spans, {:>7} samples",
            stage.name(),
            of_stage.len(),
            samples
        );
    }
    let mut loudest: Vec<&(Stage, RepairedSpan)> = spans.iter().collect();
    loudest.sort_by(|a, b| b.1.peak_before.total_cmp(&a.1.peak_before));
    for (stage, s) in loudest.iter().take(5) {
        let level = |p: f32| dbfs(p).map_or(String::from("-inf"), |d| format!("{d:.1}"));
        println!(
            "  {:>10.4} s  ch {}  {:>4} samples  {} → {} dBFS  ({})",
            s.start as f64 / sample_rate as f64,
            s.channel + 1,
            s.end - s.start,
            level(s.peak_before),
            level(s.peak_after),
            stage.name()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_parse_seconds_samples_and_channels() {
        let r = Region::parse("12.5-12.51").unwrap();
        assert_eq!(r.start, Bound::Seconds(12.5));
        assert_eq!(r.end, Bound::Seconds(12.51));
        assert_eq!(r.channel, None);
        let r = Region::parse("441000smp-441020smp:R").unwrap();
        assert_eq!(r.start, Bound::Samples(441_000));
        assert_eq!(r.end, Bound::Samples(441_020));
        assert_eq!(r.channel, Some(1));
        assert_eq!(Region::parse("1s-2s:1").unwrap().channel, Some(0));
        for bad in ["", "12", "a-b", "1-2:0", "1-2:X", "-1-2", "1-2-3"] {
            assert!(Region::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_round_to_the_nearest_sample() {
        assert_eq!(Bound::Seconds(0.5).sample(44_100), 22_050);
        assert_eq!(Bound::Seconds(12.51).sample(44_100), 551_691);
    }
}
