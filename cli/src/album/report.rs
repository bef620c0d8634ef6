//! The album's report: a table on the terminal, `--json` (a stable interface: units in
//! the field names) and `--report FILE.html` (one self-contained page, inline SVG, no
//! scripts), and the plan that `--dry-run` prints.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use shared_dsp::loudness::measured;
use shared_dsp::loudness::streaming::Service;

use super::plan::{clock, Plan};
use super::vinyl::Warning;
use super::{AlbumResult, LoudnessMode, Profile, TrackResult};
use crate::master::{text, value};

/// The short-term loudness series' step, s (the plots' resolution).
pub const SERIES_HOP_S: f64 = 0.5;

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn plr(t: &TrackResult) -> Option<f64> {
    Some(measured(t.after.true_peak_dbtp)? - measured(t.after.integrated_lufs)?)
}

fn seconds(t: &TrackResult, rate: u32) -> f64 {
    t.rendered.frames as f64 / rate as f64
}

/// Prints the plan (`--dry-run`).
pub fn print_plan(
    plan: &Plan,
    profile: Profile,
    target: Option<f64>,
    ceiling: f32,
    warnings: &[Warning],
) {
    println!(
        "{} profile, target {}, ceiling {ceiling} dBTP",
        profile.name(),
        target.map_or_else(
            || String::from("none (no loudness push)"),
            |t| format!("{t} LUFS")
        )
    );
    let mut at = 0.0;
    let header = ["#", "title", "file", "side", "gap", "start", "length"];
    let rows: Vec<Vec<String>> = plan
        .tracks
        .iter()
        .map(|t| {
            at += t.gap_s;
            let row = vec![
                t.number.to_string(),
                t.title.clone(),
                t.name(),
                t.side.clone().unwrap_or_default(),
                format!("{:.2} s", t.gap_s),
                clock(at),
                clock(t.seconds),
            ];
            at += t.seconds;
            row
        })
        .collect();
    crate::analyze::print_rows(&header, &rows);
    println!("total {}", clock(at));
    for w in warnings {
        println!("warning: {}", w.message);
    }
}

/// Checks the report's path before any work.
pub fn check_path(path: &Path) -> Result<()> {
    if path.is_dir() {
        bail!("--report '{}' is a folder", path.display());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        bail!("the folder of --report '{}' does not exist", path.display());
    }
    Ok(())
}

fn gains(t: &TrackResult) -> serde_json::Map<String, serde_json::Value> {
    Service::ALL
        .iter()
        .map(|s| {
            (
                s.id().to_string(),
                s.playback_gain_db(t.after.integrated_lufs, t.after.true_peak_dbtp)
                    .map_or(serde_json::Value::Null, |g| serde_json::json!(round2(g))),
            )
        })
        .collect()
}

/// The `--json` document.
pub fn json(r: &AlbumResult, out_dir: &Path) -> serde_json::Value {
    let tracks: Vec<serde_json::Value> = r
        .tracks
        .iter()
        .map(|t| {
            serde_json::json!({
                "number": t.track.number,
                "title": t.track.title,
                "artist": t.track.artist,
                "isrc": t.track.isrc,
                "source": t.track.name(),
                "file": t.file,
                "start_s": round2(t.start_s),
                "duration_s": round2(seconds(t, r.rate)),
                "gap_s": round2(t.track.gap_s),
                "offset_gain_db": t.track.gain_db,
                "loudness_gain_db": t.rendered.gain_db,
                "limiter_max_gain_reduction_db": round2(t.rendered.max_gr_db as f64),
                "before": {
                    "integrated_lufs": value(t.before.integrated_lufs),
                    "true_peak_dbtp": value(t.before.true_peak_dbtp),
                    "lra_lu": round2(t.before.lra_lu),
                },
                "after": {
                    "integrated_lufs": value(t.after.integrated_lufs),
                    "true_peak_dbtp": value(t.after.true_peak_dbtp),
                    "lra_lu": round2(t.after.lra_lu),
                    "plr_lu": plr(t).map(round2),
                    "short_term_max_lufs": value(t.rendered.meter.short_term_max_lufs()),
                },
                "replaygain_track_gain_db": round2(crate::master::REPLAYGAIN_REFERENCE_LUFS - t.after.integrated_lufs),
                "playback_gain_db": gains(t),
            })
        })
        .collect();
    serde_json::json!({
        "profile": r.profile.name(),
        "loudness": match r.loudness { LoudnessMode::Album => "album", LoudnessMode::Track => "track" },
        "target_lufs": r.target_lufs,
        "ceiling_dbtp": r.ceiling_dbtp,
        "sample_rate_hz": r.rate,
        "bits": r.depth.label(),
        "out_dir": out_dir.display().to_string(),
        "album": {
            "title": r.plan.title,
            "artist": r.plan.artist,
            "upc": r.plan.upc,
            "before_integrated_lufs": value(r.before_lufs),
            "integrated_lufs": value(r.after_lufs),
            "lra_lu": round2(r.after_lra_lu),
            "true_peak_dbtp": value(r.true_peak_dbtp),
            "loudness_gain_db": r.album_gain_db,
            "replaygain_album_gain_db": round2(crate::master::REPLAYGAIN_REFERENCE_LUFS - r.after_lufs),
            "duration_s": round2(r.duration_s),
            "passes": r.passes,
        },
        "tracks": tracks,
        "files": r.files,
        "warnings": r.warnings,
    })
}

/// The terminal table.
pub fn print_table(r: &AlbumResult, out_dir: &Path) {
    let header = [
        "#",
        "title",
        "before",
        "after",
        "true peak",
        "LRA",
        "PLR",
        "gain",
        "limiting",
    ];
    let mut rows: Vec<Vec<String>> = r
        .tracks
        .iter()
        .map(|t| {
            vec![
                t.track.number.to_string(),
                t.track.title.clone(),
                format!("{} LUFS", text(t.before.integrated_lufs)),
                format!("{} LUFS", text(t.after.integrated_lufs)),
                format!("{} dBTP", text(t.after.true_peak_dbtp)),
                format!("{:.1} LU", t.after.lra_lu),
                plr(t).map_or_else(|| String::from("-"), |v| format!("{v:.1} LU")),
                format!("{:+.2} dB", t.rendered.gain_db + t.track.gain_db),
                format!("{:.1} dB", t.rendered.max_gr_db),
            ]
        })
        .collect();
    rows.push(vec![
        String::new(),
        String::from("album"),
        format!("{} LUFS", text(r.before_lufs)),
        format!("{} LUFS", text(r.after_lufs)),
        format!("{} dBTP", text(r.true_peak_dbtp)),
        format!("{:.1} LU", r.after_lra_lu),
        String::new(),
        r.album_gain_db
            .map_or_else(String::new, |g| format!("{g:+.2} dB")),
        String::new(),
    ]);
    crate::analyze::print_rows(&header, &rows);
    println!();
    let mut header = vec!["#", "playback gain"];
    header.extend(Service::ALL.iter().map(|s| s.name()));
    let rows: Vec<Vec<String>> = r
        .tracks
        .iter()
        .map(|t| {
            let mut row = vec![t.track.number.to_string(), t.track.title.clone()];
            row.extend(Service::ALL.iter().map(|s| {
                s.playback_gain_db(t.after.integrated_lufs, t.after.true_peak_dbtp)
                    .map_or_else(|| String::from("-"), |g| format!("{g:+.1} dB"))
            }));
            row
        })
        .collect();
    crate::analyze::print_rows(&header, &rows);
    println!(
        "\n{} profile, {} loudness, target {}, ceiling {} dBTP, {} passes, {} in '{}'",
        r.profile.name(),
        match r.loudness {
            LoudnessMode::Album => "album",
            LoudnessMode::Track => "track",
        },
        r.target_lufs
            .map_or_else(|| String::from("none"), |t| format!("{t} LUFS")),
        r.ceiling_dbtp,
        r.passes,
        clock(r.duration_s),
        out_dir.display()
    );
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The plots' loudness axis, LUFS.
const Y_TOP: f64 = 0.0;
const Y_BOTTOM: f64 = -40.0;

fn y_of(lufs: f64, top: f64, height: f64) -> f64 {
    let v = if lufs.is_finite() {
        lufs.clamp(Y_BOTTOM, Y_TOP)
    } else {
        Y_BOTTOM
    };
    top + (Y_TOP - v) / (Y_TOP - Y_BOTTOM) * height
}

/// An SVG plot of short-term loudness `series` (one per segment, each starting at a time
/// in s) over `span_s`, against `target`.
fn loudness_svg(
    class: &str,
    segments: &[(f64, &[f64])],
    span_s: f64,
    target: Option<f64>,
    title: &str,
) -> String {
    let (w, h, left, top, pw, ph) = (900.0, 240.0, 50.0, 10.0, 830.0, 200.0);
    let x_of = |t: f64| left + t / span_s.max(1e-9) * pw;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="{class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>{}</title>"#,
        escape(title)
    );
    let _ = write!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>"##
    );
    let mut lufs = Y_TOP;
    while lufs >= Y_BOTTOM {
        let y = y_of(lufs, top, ph);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{lufs}</text>"##,
            left + pw,
            left - 4.0,
            y + 3.0
        );
        lufs -= 10.0;
    }
    if let Some(t) = target {
        let y = y_of(t, top, ph);
        let _ = write!(
            s,
            r##"<line class="target" x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#c00" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#c00" text-anchor="end">target {t} LUFS</text>"##,
            left + pw,
            left + pw - 4.0,
            y - 4.0
        );
    }
    for (start, series) in segments {
        let points: Vec<String> = series
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                format!(
                    "{:.1},{:.1}",
                    x_of(start + (i + 1) as f64 * SERIES_HOP_S),
                    y_of(v, top, ph)
                )
            })
            .collect();
        let _ = write!(
            s,
            r##"<polyline fill="none" stroke="#1565c0" stroke-width="1.2" points="{}"/>"##,
            points.join(" ")
        );
        if segments.len() > 1 {
            let x = x_of(*start);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{}" stroke="#888" stroke-dasharray="2 3"/>"##,
                top + ph
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="10" text-anchor="middle">time ({} total), short-term loudness (LUFS)</text></svg>"#,
        left + pw / 2.0,
        h - 8.0,
        clock(span_s)
    );
    s
}

/// Per-track loudness bars (before as outlines, after filled) and true peaks.
fn bars_svg(r: &AlbumResult) -> String {
    let n = r.tracks.len().max(1) as f64;
    let (w, h, left, top, pw, ph) = (900.0, 260.0, 50.0, 10.0, 830.0, 200.0);
    let slot = pw / n;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg class="bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>Loudness and true peak per track</title><rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>"##
    );
    let bottom = top + ph;
    for (i, t) in r.tracks.iter().enumerate() {
        let x = left + i as f64 * slot + slot * 0.2;
        let bw = slot * 0.6;
        let after = y_of(t.after.integrated_lufs, top, ph);
        let before = y_of(t.before.integrated_lufs, top, ph);
        let peak = y_of(t.after.true_peak_dbtp, top, ph);
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{after:.1}" width="{bw:.1}" height="{:.1}" fill="#64b5f6"><title>{}: {} LUFS after, {} LUFS before</title></rect><rect x="{x:.1}" y="{before:.1}" width="{bw:.1}" height="{:.1}" fill="none" stroke="#333" stroke-dasharray="3 2"/><line x1="{x:.1}" y1="{peak:.1}" x2="{:.1}" y2="{peak:.1}" stroke="#c00" stroke-width="2"><title>true peak {} dBTP</title></line><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{:02}</text>"##,
            bottom - after,
            escape(&t.track.title),
            text(t.after.integrated_lufs),
            text(t.before.integrated_lufs),
            bottom - before,
            x + bw,
            text(t.after.true_peak_dbtp),
            x + bw / 2.0,
            bottom + 14.0,
            t.track.number
        );
    }
    if let Some(target) = r.target_lufs {
        let y = y_of(target, top, ph);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#c00" stroke-dasharray="6 4"/>"##,
            left + pw
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="10" text-anchor="middle">integrated loudness after (filled) and before (dashed), true peak (red), scale {Y_BOTTOM} … {Y_TOP}</text></svg>"#,
        left + pw / 2.0,
        h - 8.0
    );
    s
}

/// The `--report` page: well-formed XHTML (it parses as XML), no external resources.
pub fn html(r: &AlbumResult) -> String {
    let title = r
        .plan
        .title
        .clone()
        .unwrap_or_else(|| String::from("Album"));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/><title>{} — oxide album report</title>
<style>body{{font-family:sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}td.l,th.l{{text-align:left}}svg{{display:block;margin:0.5em 0}}</style></head><body>
<h1>{}</h1><p>{} profile, {} loudness, target {}, ceiling {} dBTP, {} Hz / {} bit. Album: {} LUFS (before {} LUFS), LRA {:.1} LU, true peak {} dBTP, {}.</p>
"#,
        escape(&title),
        escape(&title),
        r.profile.name(),
        match r.loudness {
            LoudnessMode::Album => "album",
            LoudnessMode::Track => "track",
        },
        r.target_lufs
            .map_or_else(|| String::from("none"), |t| format!("{t} LUFS")),
        r.ceiling_dbtp,
        r.rate,
        r.depth.label(),
        text(r.after_lufs),
        text(r.before_lufs),
        r.after_lra_lu,
        text(r.true_peak_dbtp),
        clock(r.duration_s)
    );
    s += "<h2>The album's short-term loudness</h2>\n";
    let segments: Vec<(f64, &[f64])> = r
        .tracks
        .iter()
        .map(|t| (t.start_s, t.rendered.short_term.as_slice()))
        .collect();
    s += &loudness_svg(
        "album-plot",
        &segments,
        r.duration_s,
        r.target_lufs,
        "Short-term loudness over the album",
    );
    s += "\n<h2>Tracks</h2>\n";
    s += &bars_svg(r);
    s += "\n<table><tr><th>#</th><th class=\"l\">title</th><th>before (LUFS)</th><th>after (LUFS)</th><th>true peak (dBTP)</th><th>LRA (LU)</th><th>PLR (LU)</th><th>gain (dB)</th><th>limiting (dB)</th></tr>\n";
    for t in &r.tracks {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{:+.2}</td><td>{:.1}</td></tr>",
            t.track.number,
            escape(&t.track.title),
            text(t.before.integrated_lufs),
            text(t.after.integrated_lufs),
            text(t.after.true_peak_dbtp),
            t.after.lra_lu,
            plr(t).map_or_else(|| String::from("-"), |v| format!("{v:.1}")),
            t.rendered.gain_db + t.track.gain_db,
            t.rendered.max_gr_db
        );
    }
    s += "</table>\n";
    if !r.warnings.is_empty() {
        s += "<h2>Warnings</h2><ul>\n";
        for w in &r.warnings {
            let _ = writeln!(s, "<li>{}</li>", escape(&w.message));
        }
        s += "</ul>\n";
    }
    s += "<h2>Each track</h2>\n";
    for t in &r.tracks {
        let _ = writeln!(
            s,
            "<h3>{:02} {}</h3>",
            t.track.number,
            escape(&t.track.title)
        );
        s += &loudness_svg(
            "track-plot",
            &[(0.0, t.rendered.short_term.as_slice())],
            seconds(t, r.rate),
            r.target_lufs,
            &t.track.title,
        );
        s += "\n";
    }
    s += "</body></html>\n";
    s
}

/// Writes the page safely (temporary file beside it, then renamed).
pub fn write_html(r: &AlbumResult, path: &Path) -> Result<()> {
    let temporary = oxide_cli::audio::write::temporary_for(path);
    std::fs::write(&temporary, html(r))
        .with_context(|| format!("could not write '{}'", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("could not write '{}'", path.display()))
}
