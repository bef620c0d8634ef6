//! `oxide analyze`: loudness and peaks of audio files (ITU-R BS.1770-4 / EBU R 128),
//! measured by the same meter the mastering plugin runs.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use oxide_cli::audio::Reader;
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

/// Measures any file the reader decodes: mono, stereo, 5.0 or 5.1, streamed in blocks.
pub fn measure_file(path: &Path, show_progress: bool) -> Result<Measured> {
    let mut reader = Reader::<f32>::open(path)?;
    let info = reader.info().clone();
    let channels = info.channels;
    let layout = ChannelLayout::for_channel_count(channels).with_context(|| {
        format!(
            "'{}' has {channels} channels: mono, stereo, 5.0 and 5.1 are measured",
            path.display()
        )
    })?;
    let progress = crate::progress::bar(
        info.frames.unwrap_or(0),
        info.sample_rate,
        path.display().to_string(),
        show_progress,
    );
    let mut meter = LoudnessMeter::new(info.sample_rate as f64, layout);
    let mut block = vec![Vec::with_capacity(CHUNK_FRAMES); channels];
    while reader.read(&mut block, CHUNK_FRAMES)? > 0 {
        let views: Vec<&[f32]> = block.iter().map(Vec::as_slice).collect();
        meter.process(&views);
        if let Some(bar) = &progress {
            bar.set_position(reader.position());
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let report = FileReport::new(
        path,
        info.sample_rate,
        channels,
        reader.position(),
        &meter.reading(),
    );
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
pub(crate) fn print_rows(header: &[&str], rows: &[Vec<String>]) {
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
        match measure_file(file, show_progress) {
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
