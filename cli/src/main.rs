//! `oxide`: Oxide's DSP offline on audio files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

mod analyze;
mod audio;
mod master;
mod output;
mod plugins;
mod progress;

use audio::Format;
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
        /// The plugin.
        #[arg(long, value_enum)]
        plugin: PluginKind,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Measure loudness (BS.1770-4 / EBU R 128) and peaks of WAV files: integrated,
    /// momentary and short-term maximum, loudness range, true peak, sample peak, PLR; for
    /// several files also the album's integrated loudness.
    Analyze {
        /// WAV files (any rate; mono, stereo, 5.0 or 5.1).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON (a stable interface: field names carry their units).
        #[arg(long)]
        json: bool,
    },
    /// Master one WAV file with the mastering chain: the loudness gain is found exactly
    /// (analysis passes), the true-peak limiter holds the ceiling, dither matches the bit
    /// depth. Prints loudness and true peak before and after, and the gain applied.
    Master {
        /// Input WAV (16/24-bit integer or 32-bit float; mono or stereo; any rate).
        input: PathBuf,
        /// Output WAV.
        output: PathBuf,
        /// Loudness target: spotify, apple, youtube, amazon, deezer, ebu, or LUFS (-14).
        #[arg(long, value_name = "PRESET|LUFS", allow_hyphen_values = true)]
        target: Option<String>,
        /// Limiter ceiling, dBTP (-3 … 0; default -1).
        #[arg(long, value_name = "dBTP", allow_hyphen_values = true)]
        ceiling: Option<f32>,
        /// Set a mastering-chain parameter in plain units (see `oxide params`).
        #[arg(long = "set", value_name = "ID=VALUE")]
        set: Vec<String>,
        /// Output bit depth: 16, 24 (dithered) or 32f (default: the input's).
        #[arg(long, value_name = "16|24|32f", value_parser = Format::parse)]
        bits: Option<Format>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
        /// Write the file even if the target needs more than 6 dB of peak limiting.
        #[arg(long)]
        allow_heavy_limiting: bool,
        /// Write the file even if no loudness gain reaches the target within 0.1 LU (the
        /// report says by how much it is off); without it that is an error.
        #[arg(long)]
        accept_off_target: bool,
    },
    /// Run a plugin's chain over a WAV file, exactly as the plugin does in a host.
    Process {
        /// The plugin.
        #[arg(long, value_enum)]
        plugin: PluginKind,
        /// Set a parameter in plain units: `out_gain=-6`, `phase_l=on`, `eq1_type="low shelf"`.
        /// Applied in order, after the preset.
        #[arg(long = "set", value_name = "ID=VALUE")]
        set: Vec<String>,
        /// A preset: the plugin state JSON a host saves (`{"params": {…}}`).
        #[arg(long, value_name = "STATE.json")]
        preset: Option<PathBuf>,
        /// Block size the chain is run in, frames (1 – 65536).
        #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=65_536))]
        block_size: u32,
        /// Output bit depth: 16, 24 or 32f (default: the input's).
        #[arg(long, value_name = "16|24|32f", value_parser = Format::parse)]
        bits: Option<Format>,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
        /// Input WAV (16/24-bit integer or 32-bit float; mono or stereo; any rate).
        input: PathBuf,
        /// Output WAV.
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Params { plugin, json } => list_params(plugin, json),
        Command::Analyze { files, json } => analyze::run(&files, json),
        Command::Master {
            input,
            output,
            target,
            ceiling,
            set,
            bits,
            json,
            force,
            allow_heavy_limiting,
            accept_off_target,
        } => master::run(&master::MasterArgs {
            input: &input,
            output: &output,
            target: target.as_deref(),
            ceiling_dbtp: ceiling,
            assignments: &set,
            bits,
            json,
            force,
            allow_heavy_limiting,
            accept_off_target,
        }),
        Command::Process {
            plugin,
            set,
            preset,
            block_size,
            bits,
            force,
            input,
            output,
        } => process(
            plugin,
            &set,
            preset.as_deref(),
            block_size as usize,
            bits,
            force,
            &input,
            &output,
        ),
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
    let header = ["id", "name", "unit", "range", "default"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    println!("{}", plugin.display_name());
    let print_row = |cells: [&str; 5]| {
        let line: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    };
    print_row(header);
    for row in &rows {
        print_row([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    Ok(())
}

/// Splits `id=value`.
fn split_assignment(text: &str) -> Result<(&str, &str)> {
    match text.split_once('=') {
        Some((id, value)) if !id.trim().is_empty() => Ok((id.trim(), value)),
        _ => bail!("--set wants ID=VALUE, got '{text}'"),
    }
}

#[allow(clippy::too_many_arguments)]
fn process(
    plugin: PluginKind,
    assignments: &[String],
    preset: Option<&Path>,
    block_size: usize,
    bits: Option<Format>,
    force: bool,
    input: &Path,
    output_path: &Path,
) -> Result<()> {
    // Everything that can be checked before reading audio is checked first.
    let destination = output::Destination::check(input, output_path, force)?;
    let params = plugin.default_params();
    if let Some(preset) = preset {
        let json = std::fs::read(preset)
            .with_context(|| format!("could not read the preset '{}'", preset.display()))?;
        let unknown = param_access::apply_state_json(params.as_params(), &json)
            .with_context(|| format!("the preset '{}' was not applied", preset.display()))?;
        for id in unknown {
            eprintln!(
                "oxide: warning: the preset sets '{id}', which this version does not know; skipped"
            );
        }
    }
    for assignment in assignments {
        let (id, value) = split_assignment(assignment)?;
        param_access::set_from_text(params.as_params(), id, value)?;
    }

    let mut audio = audio::read_wav(input)?;
    let format = bits.unwrap_or(audio.format);
    let mut runner = params.runner(audio.sample_rate as f32, block_size);

    // Run the input, then the latency and tail in silence, and drop the latency from the
    // front: the file lines up with the input, as in a host with delay compensation.
    let latency = runner.latency as usize;
    let frames = audio.frames();
    let total = frames + latency + runner.tail as usize;
    for channel in audio.channels.iter_mut() {
        channel.resize(total, 0.0);
    }
    let bar = progress::bar(
        total as u64,
        audio.sample_rate,
        input.display().to_string(),
        true,
    );
    let mut start = 0;
    while start < total {
        let end = (start + block_size).min(total);
        let mut block: Vec<&mut [f32]> = audio
            .channels
            .iter_mut()
            .map(|c| &mut c[start..end])
            .collect();
        runner.process(&mut block);
        start = end;
        if let Some(bar) = &bar {
            bar.set_position(start as u64);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for channel in audio.channels.iter_mut() {
        channel.drain(..latency);
        channel.truncate(frames + runner.tail as usize);
    }

    let clipped = destination.write(&audio, format)?;
    if clipped > 0 {
        eprintln!(
            "oxide: warning: {clipped} samples were above full scale and clipped in the {}-bit output",
            if format == Format::Int16 { 16 } else { 24 }
        );
    }
    eprintln!("oxide: wrote '{}'", output_path.display());
    Ok(())
}
