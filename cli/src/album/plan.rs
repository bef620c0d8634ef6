//! The album's plan: the tracks in order with their metadata and edits, from the files
//! given on the command line or from an album file (TOML, see the README), checked and
//! timed from the files' headers before any audio is decoded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use oxide_cli::audio::Reader;
use serde::Deserialize;

/// The album file as written (every field optional but the tracks' files).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlbumFile {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub year: Option<u32>,
    pub genre: Option<String>,
    /// UPC (12 digits) or EAN (13 digits): the CUE sheet's CATALOG and the BARCODE tag.
    pub upc: Option<String>,
    #[serde(default, rename = "track")]
    pub tracks: Vec<TrackEntry>,
}

/// One `[[track]]` of the album file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackEntry {
    /// The mix, relative to the album file's folder.
    pub file: PathBuf,
    pub title: Option<String>,
    pub artist: Option<String>,
    /// ISO 3901: 12 characters, CC-XXX-YY-NNNNN (dashes allowed).
    pub isrc: Option<String>,
    /// Silence before the track, s.
    pub gap_s: Option<f64>,
    pub fade_in_s: Option<f64>,
    pub fade_out_s: Option<f64>,
    /// Cut from the start and the end of the mix, s.
    pub trim_start_s: Option<f64>,
    pub trim_end_s: Option<f64>,
    /// Gain before the chain, dB (on top of the album's loudness gain).
    pub gain_db: Option<f64>,
    /// Vinyl side (A, B, …).
    pub side: Option<String>,
    /// Mastering-chain parameters for this track (`oxide params --plugin mastering-chain`).
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
}

/// Silence before every track but the first unless the album file says otherwise, s.
pub const DEFAULT_GAP_S: f64 = 2.0;

/// A track as planned.
#[derive(Debug, Clone)]
pub struct Track {
    /// 1-based.
    pub number: usize,
    pub file: PathBuf,
    pub title: String,
    pub artist: Option<String>,
    pub isrc: Option<String>,
    pub gap_s: f64,
    pub fade_in_s: f64,
    pub fade_out_s: f64,
    pub trim_start_s: f64,
    pub trim_end_s: f64,
    pub gain_db: f64,
    pub side: Option<String>,
    /// `(id, value)` chain settings for this track, after the command line's.
    pub overrides: Vec<(String, String)>,
    pub source_rate: u32,
    pub channels: usize,
    /// The mix's length after the trims, s (from the header).
    pub seconds: f64,
}

impl Track {
    /// The name errors and reports use: the file as given.
    pub fn name(&self) -> String {
        self.file.display().to_string()
    }
}

/// The whole album as planned.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub year: Option<u32>,
    pub genre: Option<String>,
    pub upc: Option<String>,
    pub tracks: Vec<Track>,
}

/// A chain setting's value as `--set` takes it: a string, number or boolean.
fn value_text(track: &str, id: &str, value: &toml::Value) -> Result<String> {
    Ok(match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Boolean(b) => String::from(if *b { "on" } else { "off" }),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        _ => bail!("{track}: set.{id} wants a string, number or boolean"),
    })
}

fn non_negative(track: &str, what: &str, value: Option<f64>) -> Result<f64> {
    let v = value.unwrap_or(0.0);
    if !v.is_finite() || v < 0.0 {
        bail!("{track}: {what} must be a number of seconds ≥ 0, got {v}");
    }
    Ok(v)
}

/// Checks an ISRC (12 characters: 2 letters, 3 letters or digits, 7 digits; dashes are
/// dropped) and returns it as the CUE sheet writes it.
pub fn check_isrc(track: &str, text: &str) -> Result<String> {
    let isrc: String = text
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    let b = isrc.as_bytes();
    let ok = b.len() == 12
        && b[..2].iter().all(u8::is_ascii_alphabetic)
        && b[2..5].iter().all(u8::is_ascii_alphanumeric)
        && b[5..].iter().all(u8::is_ascii_digit);
    if !ok {
        bail!("{track}: '{text}' is not an ISRC (CC-XXX-YY-NNNNN: 12 letters and digits)");
    }
    Ok(isrc)
}

/// Checks a UPC (12 digits) or EAN (13 digits, check digit verified) and returns the
/// 13 digits of the CUE sheet's CATALOG.
pub fn check_upc(text: &str) -> Result<String> {
    let digits = text.trim();
    if !(digits.len() == 12 || digits.len() == 13) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        bail!("upc '{text}' is not a UPC (12 digits) or EAN (13 digits)");
    }
    let ean = format!("{digits:0>13}");
    let d: Vec<u32> = ean.bytes().map(|b| (b - b'0') as u32).collect();
    let sum: u32 = d[..12]
        .iter()
        .enumerate()
        .map(|(i, &x)| if i % 2 == 0 { x } else { 3 * x })
        .sum();
    if (10 - sum % 10) % 10 != d[12] {
        bail!("upc '{text}': the check digit is wrong");
    }
    Ok(ean)
}

/// The plan from `files` (in order) or from the album file at `album` (not both).
/// `first_gap_s` is the silence before track 1 unless the album file sets it.
pub fn load(files: &[PathBuf], album: Option<&Path>, first_gap_s: f64) -> Result<Plan> {
    let (doc, base) = match album {
        Some(path) => {
            if !files.is_empty() {
                bail!("give the tracks either as files or in the album file, not both");
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the album file '{}'", path.display()))?;
            let doc: AlbumFile = toml::from_str(&text)
                .with_context(|| format!("the album file '{}'", path.display()))?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (doc, base)
        }
        None => {
            let doc = AlbumFile {
                tracks: files
                    .iter()
                    .map(|f| TrackEntry {
                        file: f.clone(),
                        ..TrackEntry::default()
                    })
                    .collect(),
                ..AlbumFile::default()
            };
            (doc, PathBuf::new())
        }
    };
    if doc.tracks.is_empty() {
        bail!("the album has no tracks: name the files, or [[track]] entries in the album file");
    }
    let upc = doc.upc.as_deref().map(check_upc).transpose()?;
    let mut tracks = Vec::with_capacity(doc.tracks.len());
    for (i, entry) in doc.tracks.into_iter().enumerate() {
        let file = if entry.file.is_absolute() || base.as_os_str().is_empty() {
            entry.file.clone()
        } else {
            base.join(&entry.file)
        };
        let name = file.display().to_string();
        let reader = Reader::<f32>::open(&file).with_context(|| format!("track {}", i + 1))?;
        let info = reader.info().clone();
        if info.channels > 2 {
            bail!(
                "{name}: the mastering chain takes mono or stereo tracks, this has {} channels",
                info.channels
            );
        }
        let frames = info
            .frames
            .with_context(|| format!("{name}: the file does not say its length"))?;
        let trim_start_s = non_negative(&name, "trim_start_s", entry.trim_start_s)?;
        let trim_end_s = non_negative(&name, "trim_end_s", entry.trim_end_s)?;
        let seconds = frames as f64 / info.sample_rate as f64 - trim_start_s - trim_end_s;
        if seconds <= 0.0 {
            bail!("{name}: the trims leave nothing of the track");
        }
        let fade_in_s = non_negative(&name, "fade_in_s", entry.fade_in_s)?;
        let fade_out_s = non_negative(&name, "fade_out_s", entry.fade_out_s)?;
        if fade_in_s + fade_out_s > seconds {
            bail!("{name}: the fades ({fade_in_s} s + {fade_out_s} s) are longer than the track ({seconds:.2} s)");
        }
        let default_gap = if i == 0 { first_gap_s } else { DEFAULT_GAP_S };
        let gap_s = non_negative(&name, "gap_s", entry.gap_s.or(Some(default_gap)))?;
        let gain_db = entry.gain_db.unwrap_or(0.0);
        if !gain_db.is_finite() || gain_db.abs() > 24.0 {
            bail!("{name}: gain_db {gain_db} is outside -24 … 24 dB");
        }
        let title = entry
            .title
            .or_else(|| info.tags.get("TITLE").map(str::to_string))
            .unwrap_or_else(|| {
                file.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| format!("Track {}", i + 1))
            });
        let isrc = entry
            .isrc
            .as_deref()
            .map(|t| check_isrc(&name, t))
            .transpose()?;
        tracks.push(Track {
            number: i + 1,
            file,
            title,
            artist: entry.artist.or_else(|| doc.artist.clone()),
            isrc,
            gap_s,
            fade_in_s,
            fade_out_s,
            trim_start_s,
            trim_end_s,
            gain_db,
            side: entry.side.map(|s| s.trim().to_ascii_uppercase()),
            overrides: entry
                .set
                .iter()
                .map(|(k, v)| Ok((k.clone(), value_text(&name, k, v)?)))
                .collect::<Result<_>>()?,
            source_rate: info.sample_rate,
            channels: info.channels,
            seconds,
        });
    }
    Ok(Plan {
        title: doc.title,
        artist: doc.artist,
        year: doc.year,
        genre: doc.genre,
        upc,
        tracks,
    })
}

/// `seconds` as m:ss.s.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    let m = (s / 60.0).floor();
    format!("{}:{:04.1}", m as u64, s - m * 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked() {
        assert_eq!(check_isrc("t", "us-abc-24-00001").unwrap(), "USABC2400001");
        assert!(check_isrc("t", "USABC24000").is_err());
        assert!(check_isrc("t", "1SABC2400001").is_err());
        // A real EAN-13 check digit (4006381333931) and its UPC-A form padded.
        assert_eq!(check_upc("4006381333931").unwrap(), "4006381333931");
        assert_eq!(check_upc("036000291452").unwrap(), "0036000291452");
        assert!(check_upc("4006381333932").is_err());
        assert!(check_upc("12345").is_err());
        assert_eq!(clock(83.25), "1:23.2");
    }
}
