//! A peak meter with a falling hold, as a channel strip's input and output meters show
//! it: the block's sample peak in dBFS, and a held value that falls back at a fixed rate.
//! Plain functions on plain numbers: the plugin stores the results where its editor
//! reads them.

use crate::db::gain_to_db;

/// The meter floor, dBFS: silence and anything quieter read this.
pub const PEAK_FLOOR_DB: f32 = -100.0;

/// How fast a held peak falls back, dB per second.
pub const PEAK_FALL_DB_PER_S: f32 = 20.0;

/// The sample peak of a block of channels in dBFS, at least [`PEAK_FLOOR_DB`].
/// Non-finite samples are ignored.
pub fn peak_db(channels: &[&mut [f32]]) -> f32 {
    let peak = channels
        .iter()
        .flat_map(|c| c.iter())
        .filter(|s| s.is_finite())
        .fold(0.0f32, |m, s| m.max(s.abs()));
    if peak > 0.0 {
        gain_to_db(peak).max(PEAK_FLOOR_DB)
    } else {
        PEAK_FLOOR_DB
    }
}

/// The held peak after a block: the block's peak, or the previous hold fallen by
/// `fall_db`, whichever is higher (never below [`PEAK_FLOOR_DB`]).
pub fn held_peak_db(previous_db: f32, block_peak_db: f32, fall_db: f32) -> f32 {
    block_peak_db.max(previous_db - fall_db).max(PEAK_FLOOR_DB)
}

/// How far a held peak falls over `frames` samples at `sample_rate`, dB.
pub fn peak_fall_db(frames: usize, sample_rate: f32) -> f32 {
    PEAK_FALL_DB_PER_S * frames as f32 / sample_rate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_the_largest_sample_in_dbfs() {
        let (mut a, mut b) = (vec![0.1f32, -0.5, 0.25], vec![0.05f32, f32::NAN, -0.2]);
        // −6.02 dBFS for 0.5; 1e-4 dB is f32 rounding of log10.
        let peak = peak_db(&[&mut a, &mut b]);
        assert!((peak - (-6.0206)).abs() < 1e-4, "{peak}");
        assert_eq!(peak_db(&[&mut [0.0f32; 8][..]]), PEAK_FLOOR_DB);
        assert_eq!(peak_db(&[&mut [1e-9f32][..]]), PEAK_FLOOR_DB);
    }

    #[test]
    fn a_hold_falls_at_its_rate_and_jumps_up_at_once() {
        // One second of 512-frame blocks at 48 kHz falls 20 dB.
        let mut held = 0.0f32;
        let fall = peak_fall_db(512, 48_000.0);
        for _ in 0..(48_000 / 512) {
            held = held_peak_db(held, PEAK_FLOOR_DB, fall);
        }
        let blocks = (48_000 / 512) as f32;
        assert!((held + blocks * fall).abs() < 1e-3, "{held}");
        assert!((blocks * fall - 20.0).abs() < 0.25);
        assert_eq!(held_peak_db(held, -3.0, fall), -3.0);
        assert_eq!(held_peak_db(-99.9, -200.0, 1.0), PEAK_FLOOR_DB);
    }
}
