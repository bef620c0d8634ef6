//! The cd profile's Red Book rules and its CUE sheet.
//!
//! The image is one continuous 44.1 kHz/16-bit stereo WAV: for each track its gap of
//! digital silence (the pre-gap, CUE `INDEX 00`), then the track (`INDEX 01`). Gaps and
//! tracks are whole CD frames (588 samples, 1/75 s): gaps are rounded to the nearest
//! frame and each track is padded with silence to its next frame, so every track starts
//! exactly on a frame and the per-track files with their gaps are the image.

use anyhow::{bail, Result};

use super::plan::{Plan, Track};

/// Samples per CD frame (sector) at 44.1 kHz.
pub const FRAME: usize = 588;
/// CD frames per second.
pub const FRAMES_PER_SECOND: usize = 75;
pub const RATE: u32 = 44_100;
/// Red Book: at most 99 tracks.
pub const MAX_TRACKS: usize = 99;
/// Red Book: a track lasts at least 4 s.
pub const MIN_TRACK_S: f64 = 4.0;
/// The longest programme a CD holds, 79:57 (the usual limit of 80-minute media).
pub const MAX_ALBUM_S: f64 = 79.0 * 60.0 + 57.0;
/// Red Book: at least 2 s of pre-gap before track 1.
pub const MIN_FIRST_GAP_S: f64 = 2.0;

/// Refuses an album a CD cannot hold, from the plan (before decoding anything).
pub fn check(plan: &Plan) -> Result<()> {
    let n = plan.tracks.len();
    if n > MAX_TRACKS {
        bail!("a CD holds at most {MAX_TRACKS} tracks; this album has {n}");
    }
    for t in &plan.tracks {
        if t.seconds < MIN_TRACK_S {
            bail!(
                "{} (track {}) lasts {:.2} s: a CD track lasts at least {MIN_TRACK_S} s",
                t.name(),
                t.number,
                t.seconds
            );
        }
    }
    let total: f64 = plan.tracks.iter().map(|t| t.seconds + gap_s(t)).sum();
    if total > MAX_ALBUM_S {
        bail!(
            "the album with its gaps lasts {}, more than a CD's 79:57",
            cue_time(((total * FRAMES_PER_SECOND as f64).round()) as usize * FRAME)
        );
    }
    Ok(())
}

/// The gap before `t` on the CD: at least 2 s before track 1.
pub fn gap_s(t: &Track) -> f64 {
    if t.number == 1 {
        t.gap_s.max(MIN_FIRST_GAP_S)
    } else {
        t.gap_s
    }
}

/// The gap before `t` in samples, whole frames.
pub fn gap_samples(t: &Track) -> usize {
    (gap_s(t) * FRAMES_PER_SECOND as f64).round() as usize * FRAME
}

/// `samples` padded up to whole frames.
pub fn padded(samples: usize) -> usize {
    samples.div_ceil(FRAME) * FRAME
}

/// MM:SS:FF of a sample position on the frame grid.
pub fn cue_time(samples: usize) -> String {
    let frames = samples / FRAME;
    let ff = frames % FRAMES_PER_SECOND;
    let s = frames / FRAMES_PER_SECOND;
    format!("{:02}:{:02}:{:02}", s / 60, s % 60, ff)
}

fn quoted(text: &str) -> String {
    // CUE strings cannot hold a double quote; a typographic one keeps the meaning.
    format!("\"{}\"", text.replace('"', "”").replace(['\r', '\n'], " "))
}

/// The CUE sheet for `image_name`, with each track's `(gap start, track start)` in
/// samples of the image.
pub fn cue_sheet(plan: &Plan, image_name: &str, starts: &[(usize, usize)]) -> String {
    let mut s = String::from("REM COMMENT \"oxide album\"\n");
    if let Some(upc) = &plan.upc {
        s += &format!("CATALOG {upc}\n");
    }
    if let Some(genre) = &plan.genre {
        s += &format!("REM GENRE {}\n", quoted(genre));
    }
    if let Some(year) = plan.year {
        s += &format!("REM DATE {year}\n");
    }
    if let Some(artist) = &plan.artist {
        s += &format!("PERFORMER {}\n", quoted(artist));
    }
    if let Some(title) = &plan.title {
        s += &format!("TITLE {}\n", quoted(title));
    }
    s += &format!("FILE {} WAVE\n", quoted(image_name));
    for (t, &(gap, start)) in plan.tracks.iter().zip(starts) {
        s += &format!("  TRACK {:02} AUDIO\n", t.number);
        s += &format!("    TITLE {}\n", quoted(&t.title));
        if let Some(artist) = &t.artist {
            s += &format!("    PERFORMER {}\n", quoted(artist));
        }
        if let Some(isrc) = &t.isrc {
            s += &format!("    ISRC {isrc}\n");
        }
        if start > gap {
            s += &format!("    INDEX 00 {}\n", cue_time(gap));
        }
        s += &format!("    INDEX 01 {}\n", cue_time(start));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_minutes_seconds_frames() {
        assert_eq!(cue_time(0), "00:00:00");
        assert_eq!(cue_time(2 * RATE as usize), "00:02:00");
        assert_eq!(cue_time(61 * RATE as usize + 74 * FRAME), "01:01:74");
        assert_eq!(padded(1), FRAME);
        assert_eq!(padded(FRAME), FRAME);
    }
}
