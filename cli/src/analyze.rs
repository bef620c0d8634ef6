//! `oxide analyze`: loudness and peaks of audio files (ITU-R BS.1770-4 / EBU R 128),
//! measured by the same meter the mastering plugin runs.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use hound::{SampleFormat, WavReader};
use serde::Serialize;
use shared_dsp::loudness::streaming::Service;
use shared_dsp::loudness::{measured, ChannelLayout, LoudnessMeter, LoudnessReading};

/// Frames read and measured at a time: memory stays flat whatever the file's length.
const CHUNK_FRAMES: usize = 16_384;

/// One file's measurements, as the JSON interface names them. `None` (JSON `null`) is a
/// level that was never measured: silence, or a file shorter than the window.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: PathBuf,
    pub sample_rate_hz: u32,
    pub channels: usize,
    pub duration_s: f64,
    pub integrated_lufs: Option<f64>,
    pub momentary_max_lufs: Option<f64>,
    pub short_term_max_lufs: Option<f64>,
    pub lra_lu: f64,
    pub true_peak_dbtp: Option<f64>,
    pub sample_peak_dbfs: Option<f64>,
    pub plr_lu: Option<f64>,
    /// The gain each streaming service's loudness normalisation would apply at
    /// playback, dB, by service id (`None`: no measured loudness).
    pub streaming_gain_db: BTreeMap<&'static str, Option<f64>>,
}

impl FileReport {
    fn new(
        file: &Path,
        sample_rate_hz: u32,
        channels: usize,
        frames: u64,
        r: &LoudnessReading,
    ) -> Self {
        Self {
            file: file.to_path_buf(),
            sample_rate_hz,
            channels,
            duration_s: frames as f64 / sample_rate_hz as f64,
            integrated_lufs: measured(r.integrated_lufs),
            momentary_max_lufs: measured(r.momentary_max_lufs),
            short_term_max_lufs: measured(r.short_term_max_lufs),
            lra_lu: r.lra_lu,
            true_peak_dbtp: measured(r.true_peak_dbtp),
            sample_peak_dbfs: measured(r.sample_peak_dbfs),
            // PLR needs both a true peak and an integrated loudness.
            plr_lu: measured(r.integrated_lufs)
                .and(measured(r.true_peak_dbtp))
                .map(|_| r.plr_lu),
            streaming_gain_db: Service::ALL
                .iter()
                .map(|s| {
                    (
                        s.id(),
                        s.playback_gain_db(r.integrated_lufs, r.true_peak_dbtp),
                    )
                })
                .collect(),
        }
    }
}

/// A file's report together with the meter that made it (for the album loudness).
pub struct Measured {
    pub report: FileReport,
    pub meter: LoudnessMeter,
}

/// Measures a 16/24/32-bit integer or 32-bit float WAV file: mono, stereo, 5.0 or 5.1.
pub fn measure_wav(path: &Path, show_progress: bool) -> Result<Measured> {
    let mut reader = WavReader::open(path)
        .with_context(|| format!("could not read '{}' as a WAV file", path.display()))?;
    let spec = reader.spec();
    let channels = spec.channels as usize;
    let layout = ChannelLayout::for_channel_count(channels).with_context(|| {
        format!(
            "'{}' has {channels} channels: mono, stereo, 5.0 and 5.1 are measured",
            path.display()
        )
    })?;
    if spec.sample_rate < 8_000 || spec.sample_rate > 768_000 {
        bail!(
            "'{}' has a sample rate of {} Hz, outside 8 kHz – 768 kHz",
            path.display(),
            spec.sample_rate
        );
    }
    let scale = match (spec.sample_format, spec.bits_per_sample) {
        (SampleFormat::Float, 32) => None,
        (SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => Some(1.0 / (1u64 << (bits - 1)) as f64),
        (_, bits) => bail!("'{}': {bits}-bit samples are not supported", path.display()),
    };
    let total_frames = reader.duration() as u64;
    let progress = crate::progress::bar(
        total_frames,
        spec.sample_rate,
        path.display().to_string(),
        show_progress,
    );

    let mut meter = LoudnessMeter::new(spec.sample_rate as f64, layout);
    let mut planar = vec![Vec::with_capacity(CHUNK_FRAMES); channels];
    let mut frames: u64 = 0;
    let mut channel = 0;
    let flush = |planar: &mut Vec<Vec<f32>>, meter: &mut LoudnessMeter| {
        let views: Vec<&[f32]> = planar.iter().map(Vec::as_slice).collect();
        meter.process(&views);
        let count = planar[0].len() as u64;
        planar.iter_mut().for_each(Vec::clear);
        count
    };
    let damaged = || format!("'{}' is damaged or truncated", path.display());
    match scale {
        None => {
            for sample in reader.samples::<f32>() {
                planar[channel].push(sample.with_context(damaged)?);
                channel += 1;
                if channel == channels {
                    channel = 0;
                    if planar[0].len() == CHUNK_FRAMES {
                        frames += flush(&mut planar, &mut meter);
                        if let Some(bar) = &progress {
                            bar.set_position(frames);
                        }
                    }
                }
            }
        }
        Some(scale) => {
            for sample in reader.samples::<i32>() {
                planar[channel].push((sample.with_context(damaged)? as f64 * scale) as f32);
                channel += 1;
                if channel == channels {
                    channel = 0;
                    if planar[0].len() == CHUNK_FRAMES {
                        frames += flush(&mut planar, &mut meter);
                        if let Some(bar) = &progress {
                            bar.set_position(frames);
                        }
                    }
                }
            }
        }
    }
    // A partial last frame (a truncated file) is dropped with the rest of the channels.
    let complete = planar.iter().map(Vec::len).min().unwrap_or(0);
    planar.iter_mut().for_each(|c| c.truncate(complete));
    if complete > 0 {
        frames += flush(&mut planar, &mut meter);
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let report = FileReport::new(path, spec.sample_rate, channels, frames, &meter.reading());
    Ok(Measured { report, meter })
}

fn level(value: Option<f64>) -> String {
    value.map_or_else(|| String::from("-inf"), |v| format!("{v:.1}"))
}

/// Prints the reports as a table; `album` is the album's integrated loudness when
/// several files were measured.
pub fn print_table(reports: &[FileReport], album: Option<Option<f64>>) {
    let header = [
        "file",
        "integrated",
        "M max",
        "S max",
        "LRA",
        "true peak",
        "sample peak",
        "PLR",
    ];
    let mut rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            vec![
                r.file.display().to_string(),
                format!("{} LUFS", level(r.integrated_lufs)),
                format!("{} LUFS", level(r.momentary_max_lufs)),
                format!("{} LUFS", level(r.short_term_max_lufs)),
                format!("{:.1} LU", r.lra_lu),
                format!("{} dBTP", level(r.true_peak_dbtp)),
                format!("{} dBFS", level(r.sample_peak_dbfs)),
                r.plr_lu
                    .map_or_else(|| String::from("-"), |v| format!("{v:.1} LU")),
            ]
        })
        .collect();
    if let Some(album) = album {
        let mut row = vec![String::new(); header.len()];
        row[0] = String::from("album");
        row[1] = format!("{} LUFS", level(album));
        rows.push(row);
    }
    print_rows(&header, &rows);

    // What each service's loudness normalisation would do at playback.
    println!();
    let mut header = vec!["playback gain"];
    header.extend(Service::ALL.iter().map(|s| s.name()));
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let mut row = vec![r.file.display().to_string()];
            row.extend(Service::ALL.iter().map(|s| {
                r.streaming_gain_db
                    .get(s.id())
                    .copied()
                    .flatten()
                    .map_or_else(|| String::from("-"), |g| format!("{g:+.1} dB"))
            }));
            row
        })
        .collect();
    print_rows(&header, &rows);
}

/// Prints `rows` under `header`, the first column left-aligned, the others right.
fn print_rows(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, &width))| {
                if i == 0 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// `oxide analyze`: every file is measured even when one fails; the command fails if
/// any did.
pub fn run(files: &[PathBuf], json: bool) -> Result<()> {
    if files.is_empty() {
        bail!("name at least one file to analyze");
    }
    let show_progress = !json && std::io::stderr().is_terminal();
    let mut measured_files = Vec::new();
    let mut failures = 0;
    for file in files {
        match measure_wav(file, show_progress) {
            Ok(m) => measured_files.push(m),
            Err(error) => {
                failures += 1;
                eprintln!("oxide: error: {error:#}");
            }
        }
    }
    let album = (measured_files.len() > 1).then(|| {
        let meters: Vec<&LoudnessMeter> = measured_files.iter().map(|m| &m.meter).collect();
        measured(LoudnessMeter::combined_integrated_lufs(&meters))
    });
    let reports: Vec<FileReport> = measured_files.into_iter().map(|m| m.report).collect();
    if json {
        #[derive(Serialize)]
        struct Album {
            integrated_lufs: Option<f64>,
        }
        #[derive(Serialize)]
        struct Document {
            files: Vec<FileReport>,
            #[serde(skip_serializing_if = "Option::is_none")]
            album: Option<Album>,
        }
        let document = Document {
            files: reports,
            album: album.map(|integrated_lufs| Album { integrated_lufs }),
        };
        println!("{}", serde_json::to_string_pretty(&document)?);
    } else if !reports.is_empty() {
        print_table(&reports, album);
    }
    if failures > 0 {
        bail!("{failures} of {} files could not be analyzed", files.len());
    }
    Ok(())
}
