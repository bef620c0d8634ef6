//! The vinyl profile's warnings: what cuts badly, with times.
//!
//! - **Side length**: from the plan (the tracks' lengths and gaps, known from the files'
//!   headers), before anything is decoded. A 12" side at 33⅓ rpm holds about
//!   [`SIDE_33_MIN`] minutes at a useful level, a side at 45 rpm about [`SIDE_45_MIN`].
//! - **Out-of-phase low end**: below [`LOW_HZ`] the stylus' vertical motion carries
//!   the side (L − R) signal; more side than mid there (a negative correlation between
//!   the low-passed channels) makes a groove the cutter lifts out of or cannot cut.
//! - **Sustained loud top end**: above [`HIGH_HZ`], a level over [`HIGH_LIMIT_DBFS`]
//!   RMS for [`HIGH_SUSTAIN_S`] or more overheats the cutter head and distorts on
//!   playback (the cutting engineer's HF limiter would take it down).

use shared_dsp::filter::{ButterworthFilter, PassKind, Slope};

use super::plan::{clock, Plan};

/// A 12" side at 33⅓ rpm, minutes.
pub const SIDE_33_MIN: f64 = 22.0;
/// A side at 45 rpm, minutes.
pub const SIDE_45_MIN: f64 = 15.0;
/// The low end checked for phase, Hz (below it, 4th-order Butterworth).
pub const LOW_HZ: f64 = 150.0;
/// Low end quieter than this (RMS of mid and side) is not judged, dBFS.
pub const LOW_FLOOR_DBFS: f64 = -40.0;
/// The top end checked, Hz (above it, 4th-order Butterworth).
pub const HIGH_HZ: f64 = 10_000.0;
/// Top end louder than this, RMS over a window, is loud, dBFS.
pub const HIGH_LIMIT_DBFS: f64 = -20.0;
/// Loud top end for this long is sustained, s.
pub const HIGH_SUSTAIN_S: f64 = 2.0;
/// Analysis window, s.
const WINDOW_S: f64 = 0.5;

/// One warning: what, where (track number, 0 for a side), from when to when (s in the
/// track, or in the side).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Warning {
    pub kind: &'static str,
    pub track: usize,
    pub side: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
    pub message: String,
}

/// Side lengths from the plan: tracks without a side continue the previous one's
/// (the first defaults to A).
pub fn side_warnings(plan: &Plan) -> Vec<Warning> {
    let mut sides: Vec<(String, f64)> = Vec::new();
    let mut current = String::from("A");
    for t in &plan.tracks {
        if let Some(side) = &t.side {
            current = side.clone();
        }
        match sides.iter_mut().find(|(s, _)| *s == current) {
            Some((_, len)) => *len += t.gap_s + t.seconds,
            None => sides.push((current.clone(), t.gap_s + t.seconds)),
        }
    }
    let mut out = Vec::new();
    for (side, seconds) in sides {
        let minutes = seconds / 60.0;
        let fits = if minutes > SIDE_33_MIN {
            Some(format!(
                "longer than a 12\" side at 33⅓ rpm holds (about {SIDE_33_MIN} min)"
            ))
        } else if minutes > SIDE_45_MIN {
            Some(format!(
                "longer than a side at 45 rpm holds (about {SIDE_45_MIN} min); fine at 33⅓"
            ))
        } else {
            None
        };
        if let Some(fits) = fits {
            out.push(Warning {
                kind: "side_length",
                track: 0,
                side: Some(side.clone()),
                start_s: 0.0,
                end_s: seconds,
                message: format!("side {side} lasts {}: {fits}", clock(seconds)),
            });
        }
    }
    out
}

/// Consecutive flagged windows as (start, end) seconds, those at least `min_s` long.
fn spans(flags: &[bool], min_s: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &f) in flags.iter().chain(std::iter::once(&false)).enumerate() {
        match (f, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let (a, b) = (s as f64 * WINDOW_S, i as f64 * WINDOW_S);
                if b - a >= min_s {
                    out.push((a, b));
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn db(power: f64) -> f64 {
    10.0 * power.max(1e-30).log10()
}

/// The signal checks on one rendered track (`number`, its `channels` at `rate`).
pub fn signal_warnings(number: usize, channels: &[Vec<f32>], rate: u32) -> Vec<Warning> {
    let mut out = Vec::new();
    let fs = rate as f64;
    let window = ((WINDOW_S * fs) as usize).max(1);
    let filtered = |kind, hz| -> Vec<Vec<f32>> {
        channels
            .iter()
            .map(|c| {
                let mut f = ButterworthFilter::new(kind, hz, Slope::Db24, fs);
                let mut v = c.clone();
                f.process(&mut v);
                v
            })
            .collect()
    };
    if channels.len() == 2 {
        let low = filtered(PassKind::Lowpass, LOW_HZ);
        let flags: Vec<bool> = low[0]
            .chunks(window)
            .zip(low[1].chunks(window))
            .map(|(l, r)| {
                let (mut mid, mut side) = (0.0f64, 0.0f64);
                for (&a, &b) in l.iter().zip(r) {
                    let (a, b) = (a as f64, b as f64);
                    mid += (0.5 * (a + b)).powi(2);
                    side += (0.5 * (a - b)).powi(2);
                }
                let n = l.len() as f64;
                db((mid + side) / n) > LOW_FLOOR_DBFS && side > mid
            })
            .collect();
        for (a, b) in spans(&flags, WINDOW_S) {
            out.push(Warning {
                kind: "low_end_out_of_phase",
                track: number,
                side: None,
                start_s: a,
                end_s: b,
                message: format!(
                    "track {number} {}–{}: more side than mid below {LOW_HZ} Hz (out-of-phase bass): the groove cuts badly; mono the low end",
                    clock(a),
                    clock(b)
                ),
            });
        }
    }
    let high = filtered(PassKind::Highpass, HIGH_HZ);
    let windows = high[0].len().div_ceil(window);
    let flags: Vec<bool> = (0..windows)
        .map(|w| {
            high.iter()
                .map(|c| {
                    let s = &c[w * window..((w + 1) * window).min(c.len())];
                    db(s.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / s.len().max(1) as f64)
                })
                .fold(f64::NEG_INFINITY, f64::max)
                > HIGH_LIMIT_DBFS
        })
        .collect();
    for (a, b) in spans(&flags, HIGH_SUSTAIN_S) {
        out.push(Warning {
            kind: "loud_top_end",
            track: number,
            side: None,
            start_s: a,
            end_s: b,
            message: format!(
                "track {number} {}–{}: the top end above {} kHz stays over {HIGH_LIMIT_DBFS} dBFS RMS: it overheats the cutter and distorts; de-ess or tame it",
                clock(a),
                clock(b),
                HIGH_HZ / 1000.0
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_merge_and_keep_the_long_ones() {
        let f = [false, true, true, true, true, false, true];
        assert_eq!(spans(&f, 2.0), vec![(0.5, 2.5)]);
        assert_eq!(spans(&f, 0.5), vec![(0.5, 2.5), (3.0, 3.5)]);
    }
}
