//! `oxide`: Oxide's DSP offline on audio files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};

mod album;
mod analyze;
mod convert;
mod host;
mod master;
mod output;
mod plugins;
mod presets;
mod process;
mod progress;
mod repair;

use output::OutputArgs;
use oxide_plugin_common::param_access::{self, ParamInfo, ParamKind};
use plugins::PluginKind;

#[derive(Parser)]
#[command(
    name = "oxide",
    version,
    about = "Oxide's channel strip and mastering chain, offline on audio files"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List a plugin's parameters: id, name, unit, range and default.
    Params {
        /// The plugin: channel-strip, mastering-chain, a .clap file, or an LV2 plug-in's URI.
        #[arg(long, value_name = "PLUGIN|PATH|URI")]
        plugin: String,
        /// The plug-in's id inside a .clap file that holds several.
        #[arg(long, value_name = "CLAP-ID")]
        id: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List a plugin's presets, factory and user, by category: name and description.
    Presets {
        /// The plugin.
        #[arg(long, value_enum)]
        plugin: PluginKind,
        /// Print JSON instead of a list.
        #[arg(long)]
        json: bool,
        /// Write every preset (factory and user) as a VST3 preset file, so a VST3 host's
        /// preset browser lists them: into DIR, by default the folder VST3 hosts read
        /// (~/.vst3/presets/Oxide/PLUGIN on Linux), one folder per category.
        #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "")]
        vst3: Option<PathBuf>,
    },
    /// Measure loudness (BS.1770-4 / EBU R 128) and peaks of audio files: integrated,
    /// momentary and short-term maximum, loudness range, true peak, sample peak, PLR; for
    /// several files also the album's integrated loudness.
    Analyze {
        /// Audio files: WAV, FLAC, AIFF, CAF, Ogg Vorbis, MP3, M4A (AAC, ALAC); any rate;
        /// mono, stereo, 5.0 or 5.1.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON (a stable interface: field names carry their units).
        #[arg(long)]
        json: bool,
    },
    /// Master one file with the mastering chain: the loudness gain is found exactly
    /// (analysis passes), the true-peak limiter holds the ceiling, dither matches the bit
    /// depth. Prints loudness and true peak before and after, and the gain applied.
    Master {
        /// Input audio file (any format `analyze` reads; mono or stereo; any rate).
        input: PathBuf,
        /// Output file: .wav or .flac.
        output: PathBuf,
        /// Loudness target: spotify, apple, youtube, amazon, deezer, ebu, or LUFS (-14).
        #[arg(long, value_name = "PRESET|LUFS", allow_hyphen_values = true)]
        target: Option<String>,
        /// Limiter ceiling, dBTP (-3 … 0; default -1).
        #[arg(long, value_name = "dBTP", allow_hyphen_values = true)]
        ceiling: Option<f32>,
        /// Set a mastering-chain parameter in plain units (see `oxide params`).
        /// Applied after the preset.
        #[arg(long = "set", value_name = "ID=VALUE")]
        set: Vec<String>,
        /// A chain file whose stages (Oxide's, CLAP and LV2 plug-ins) run before the
        /// mastering chain's loudness and limiter stage.
        #[arg(long, value_name = "CHAIN.toml")]
        chain: Option<PathBuf>,
        /// Start from a preset: its name (see `oxide presets`), a preset file (.toml) or
        /// a saved plugin state (.json). `--set`, `--target` and `--ceiling` override it.
        #[arg(long, value_name = "NAME|FILE")]
        preset: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Write the file even if the target needs more than 6 dB of peak limiting.
        #[arg(long)]
        allow_heavy_limiting: bool,
        /// Write the file even if no loudness gain reaches the target within 0.1 LU (the
        /// report says by how much it is off); without it that is an error.
        #[arg(long)]
        accept_off_target: bool,
    },
    /// List the CLAP plug-ins (CLAP_PATH, ~/.clap, /usr/lib/clap) and LV2 plug-ins
    /// (LV2_PATH or lilv's default folders) installed, with the ids and URIs a chain file
    /// names them by.
    Plugins {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run a plugin's chain over a file, exactly as the plugin does in a host; or a chain
    /// file's stages (Oxide's, CLAP and LV2 plug-ins) with `--chain`.
    Process {
        /// The plugin.
        #[arg(
            long,
            value_enum,
            required_unless_present = "chain",
            conflicts_with = "chain"
        )]
        plugin: Option<PluginKind>,
        /// A chain file (TOML, see the README): its stages in order, latency compensated,
        /// tails rendered to their end.
        #[arg(long, value_name = "CHAIN.toml", conflicts_with_all = ["set", "preset"])]
        chain: Option<PathBuf>,
        /// Set a parameter in plain units: `out_gain=-6`, `phase_l=on`, `eq1_type="low shelf"`.
        /// Applied in order, after the preset.
        #[arg(long = "set", value_name = "ID=VALUE")]
        set: Vec<String>,
        /// Start from a preset: its name (see `oxide presets`), a preset file (.toml) or
        /// the plugin state JSON a host saves (.json, `{"params": {…}}`).
        #[arg(long, value_name = "NAME|FILE")]
        preset: Option<String>,
        /// Block size the chain is run in, frames (1 – 65536).
        #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=65_536))]
        block_size: u32,
        #[command(flatten)]
        out: OutputArgs,
        /// Input audio file (any format `analyze` reads; mono or stereo; any rate).
        input: PathBuf,
        /// Output file: .wav or .flac.
        output: PathBuf,
    },
    /// Convert a file's format, sample rate or bit depth, nothing else changed. The
    /// output's format comes from its extension (.wav or .flac).
    Convert {
        /// Input audio file.
        input: PathBuf,
        /// Output file: .wav or .flac.
        output: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Master an album (or EP): every track through the mastering chain, one loudness
    /// gain for the whole album (or one per track), release files for a profile, a flow
    /// preview of the whole sequence, and a report. Everything is written into a
    /// temporary folder beside DIR and moved in when every track has succeeded.
    Album {
        /// The tracks, in order (or give them in --album).
        files: Vec<PathBuf>,
        /// The folder to write (replaced as a whole with --force).
        #[arg(long, value_name = "DIR", required = true)]
        out: PathBuf,
        /// The album file (TOML, see the README): metadata, order, gaps, fades, trims,
        /// gain offsets, chain overrides, vinyl sides.
        #[arg(long = "album", value_name = "ALBUM.toml")]
        album_file: Option<PathBuf>,
        /// Release profile (see the README): streaming, cd, vinyl or broadcast.
        #[arg(long, value_enum, default_value_t = album::Profile::Streaming)]
        profile: album::Profile,
        /// Loudness target: spotify, apple, youtube, amazon, deezer, ebu, atsc (broadcast),
        /// or LUFS (-14). Default: the profile's.
        #[arg(long, value_name = "PRESET|LUFS", allow_hyphen_values = true)]
        target: Option<String>,
        /// Limiter ceiling, dBTP (-3 … 0). Default: the profile's.
        #[arg(long, value_name = "dBTP", allow_hyphen_values = true)]
        ceiling: Option<f32>,
        /// album: one gain for the whole album, measured as one programme (the songs'
        /// differences stay); track: every track on the target.
        #[arg(long, value_enum, default_value_t = album::LoudnessMode::Album)]
        loudness: album::LoudnessMode,
        /// Set a mastering-chain parameter for every track, in plain units. Applied after
        /// the preset.
        #[arg(long = "set", value_name = "ID=VALUE")]
        set: Vec<String>,
        /// Start every track's chain from a preset (see `oxide presets`): its tone and
        /// dynamics. The loudness target, ceiling and dither stay the profile's (or
        /// --target's and --ceiling's).
        #[arg(long, value_name = "NAME|FILE")]
        preset: Option<String>,
        /// Print JSON instead of a table (field names carry their units).
        #[arg(long)]
        json: bool,
        /// Write a self-contained HTML report (inline SVG plots).
        #[arg(long, value_name = "FILE.html")]
        report: Option<PathBuf>,
        /// Replace DIR if it holds files.
        #[arg(long)]
        force: bool,
        /// Write the album even if a track needs more than 6 dB of peak limiting.
        #[arg(long)]
        allow_heavy_limiting: bool,
        /// Print the plan (order, gaps, times, side lengths) and its checks; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Worker threads (default: one per core). The output does not depend on it.
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// Repair clicks, clipping and hand-picked regions by AR interpolation. Order:
    /// regions, then declip, then declick; with none of them named, declick at 50. The
    /// whole file is held in memory. Samples outside the repaired spans are unchanged.
    Repair {
        /// Input audio file (any format `analyze` reads; any channel count and rate).
        input: PathBuf,
        /// Output file: .wav or .flac.
        output: PathBuf,
        /// Remove clicks; sensitivity 0 (only loud clicks) … 100 (quiet ones too).
        #[arg(long, value_name = "SENSITIVITY")]
        declick: Option<f64>,
        /// Restore clipped peaks (the clip level is found per channel).
        #[arg(long)]
        declip: bool,
        /// Repair exactly this span, detected or not: START-END (END exclusive) in
        /// seconds (12.5-12.51) or input samples (441000smp-441020smp), optionally :L,
        /// :R or :N (1-based) for one channel. Repeatable.
        #[arg(long = "region", value_name = "START-END[:CH]")]
        regions: Vec<String>,
        /// Write every repaired span (stage, channel from 1, start in seconds and
        /// samples, length, peak before and after in dBFS) as JSON.
        #[arg(long, value_name = "FILE.json")]
        report: Option<PathBuf>,
        #[command(flatten)]
        out: OutputArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Params { plugin, id, json } => {
            match <PluginKind as clap::ValueEnum>::from_str(&plugin, true) {
                Ok(kind) if id.is_none() => list_params(kind, json),
                _ => host::list::params(&plugin, id.as_deref(), json),
            }
        }
        Command::Plugins { json } => host::list::plugins(json),
        Command::Presets {
            plugin,
            json: _,
            vst3: Some(dir),
        } => presets::export_vst3(plugin, &dir),
        Command::Presets { plugin, json, .. } => presets::list(plugin, json),
        Command::Analyze { files, json } => analyze::run(&files, json),
        Command::Album {
            files,
            out,
            album_file,
            profile,
            target,
            ceiling,
            loudness,
            set,
            preset,
            json,
            report,
            force,
            allow_heavy_limiting,
            dry_run,
            jobs,
        } => album::run(&album::AlbumArgs {
            files: &files,
            out_dir: &out,
            album_file: album_file.as_deref(),
            profile,
            target: target.as_deref(),
            ceiling_dbtp: ceiling,
            loudness,
            assignments: &set,
            preset: preset.as_deref(),
            json,
            report: report.as_deref(),
            force,
            allow_heavy_limiting,
            dry_run,
            jobs,
        }),
        Command::Master {
            input,
            output,
            target,
            ceiling,
            set,
            chain,
            preset,
            out,
            json,
            allow_heavy_limiting,
            accept_off_target,
        } => master::run(&master::MasterArgs {
            preset: preset.as_deref(),
            input: &input,
            output: &output,
            target: target.as_deref(),
            ceiling_dbtp: ceiling,
            assignments: &set,
            chain: chain.as_deref(),
            out: &out,
            json,
            allow_heavy_limiting,
            accept_off_target,
        }),
        Command::Process {
            plugin,
            chain,
            set,
            preset,
            block_size,
            out,
            input,
            output,
        } => process::run(&process::ProcessArgs {
            plugin,
            chain: chain.as_deref(),
            assignments: &set,
            preset: preset.as_deref(),
            block_size: block_size as usize,
            input: &input,
            output: &output,
            out: &out,
        }),
        Command::Convert { input, output, out } => convert::run(&input, &output, &out),
        Command::Repair {
            input,
            output,
            declick,
            declip,
            regions,
            report,
            out,
        } => repair::run(&repair::RepairArgs {
            input: &input,
            output: &output,
            declick,
            declip,
            regions: &regions,
            report: report.as_deref(),
            out: &out,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("oxide: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn range_text(info: &ParamInfo) -> String {
    match info.kind {
        ParamKind::Bool => String::from("off | on"),
        ParamKind::Choice => info.choices.join(" | "),
        ParamKind::Float | ParamKind::Int => format!("{} … {}", info.min, info.max),
    }
}

fn list_params(plugin: PluginKind, json: bool) -> Result<()> {
    let params = plugin.default_params();
    let list = param_access::list(params.as_params());
    if json {
        let entries: Vec<serde_json::Value> = list
            .iter()
            .map(|p| {
                serde_json::json!({
                    "id": p.id,
                    "name": p.name,
                    "unit": p.unit,
                    "kind": p.kind.as_str(),
                    "min": p.min,
                    "max": p.max,
                    "default": p.default,
                    "default_text": p.default_text,
                    "choices": p.choices,
                    "group": p.group,
                })
            })
            .collect();
        let document = serde_json::json!({
            "plugin": plugin.display_name(),
            "params": entries,
        });
        println!("{}", serde_json::to_string_pretty(&document)?);
        return Ok(());
    }
    let rows: Vec<[String; 5]> = list
        .iter()
        .map(|p| {
            [
                p.id.clone(),
                p.name.clone(),
                p.unit.clone(),
                range_text(p),
                p.default_text.clone(),
            ]
        })
        .collect();
    host::list::print_table(
        plugin.display_name(),
        ["id", "name", "unit", "range", "default"],
        &rows,
    );
    Ok(())
}

/// Splits `id=value`.
fn split_assignment(text: &str) -> Result<(&str, &str)> {
    match text.split_once('=') {
        Some((id, value)) if !id.trim().is_empty() => Ok((id.trim(), value)),
        _ => bail!("--set wants ID=VALUE, got '{text}'"),
    }
}
