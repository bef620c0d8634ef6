//! How the loudness panel colours its readings: green on target, amber near, red off
//! (true peak: red over the ceiling, amber above the services' −1 dBTP).

use egui::Color32;
use shared_dsp::loudness::measured;

/// Integrated loudness within this of the target is on target (green), LU: the
/// tolerance the services' own normalisation works to (they round to about 1 LU).
pub const INTEGRATED_ON_TARGET_LU: f64 = 1.0;
/// Integrated loudness within this is near (amber), LU.
pub const INTEGRATED_NEAR_LU: f64 = 3.0;
/// Momentary and short-term loudness move with the music: on target within this, LU
/// (a verse sits a few LU under the chorus in a well-mastered song).
pub const SHORT_ON_TARGET_LU: f64 = 3.0;
/// Momentary and short-term: near within this, LU.
pub const SHORT_NEAR_LU: f64 = 6.0;
/// The streaming services' recommended largest true peak, dBTP (Spotify, Apple, YouTube
/// ask for −1 dBTP so their lossy encoders do not clip).
pub const SERVICES_MAX_TRUE_PEAK_DBTP: f64 = -1.0;

/// A reading's colour class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Good,
    Near,
    Off,
    /// No reading yet, or nothing to compare with.
    Neutral,
}

impl Status {
    pub fn colour(self) -> Color32 {
        match self {
            Status::Good => Color32::from_rgb(110, 200, 120),
            Status::Near => Color32::from_rgb(235, 175, 60),
            Status::Off => Color32::from_rgb(230, 80, 70),
            Status::Neutral => Color32::from_gray(200),
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            Status::Good => "On target",
            Status::Near => "Near the target (or above the services' -1 dBTP)",
            Status::Off => "Off target (or over the ceiling)",
            Status::Neutral => "Not measured yet",
        }
    }
}

fn against(value: f64, target: f64, good: f64, near: f64) -> Status {
    match measured(value) {
        None => Status::Neutral,
        Some(v) if (v - target).abs() <= good => Status::Good,
        Some(v) if (v - target).abs() <= near => Status::Near,
        Some(_) => Status::Off,
    }
}

/// Integrated loudness against the target.
pub fn integrated_status(lufs: f64, target: f64) -> Status {
    against(lufs, target, INTEGRATED_ON_TARGET_LU, INTEGRATED_NEAR_LU)
}

/// Momentary or short-term loudness against the target.
pub fn short_status(lufs: f64, target: f64) -> Status {
    against(lufs, target, SHORT_ON_TARGET_LU, SHORT_NEAR_LU)
}

/// True peak against the limiter's ceiling: over it is red (something after the
/// limiter, or the limiter off), above −1 dBTP amber, else green.
pub fn true_peak_status(dbtp: f64, ceiling_dbtp: f64) -> Status {
    match measured(dbtp) {
        None => Status::Neutral,
        // 0.05 dB: the display shows one decimal; the chain holds the ceiling exactly.
        Some(tp) if tp > ceiling_dbtp + 0.05 => Status::Off,
        Some(tp) if tp > SERVICES_MAX_TRUE_PEAK_DBTP => Status::Near,
        Some(_) => Status::Good,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_dsp::loudness::NO_LEVEL;

    #[test]
    fn readings_are_coloured_against_target_and_ceiling() {
        assert_eq!(integrated_status(-14.4, -14.0), Status::Good);
        assert_eq!(integrated_status(-11.5, -14.0), Status::Near);
        assert_eq!(integrated_status(-9.0, -14.0), Status::Off);
        assert_eq!(integrated_status(-19.0, -14.0), Status::Off);
        assert_eq!(integrated_status(NO_LEVEL, -14.0), Status::Neutral);
        assert_eq!(short_status(-16.5, -14.0), Status::Good);
        assert_eq!(short_status(-19.0, -14.0), Status::Near);
        assert_eq!(short_status(-25.0, -14.0), Status::Off);
        assert_eq!(true_peak_status(-1.2, -1.0), Status::Good);
        assert_eq!(true_peak_status(-0.5, -0.3), Status::Near);
        assert_eq!(true_peak_status(-0.5, -1.0), Status::Off);
        assert_eq!(true_peak_status(NO_LEVEL, -1.0), Status::Neutral);
        assert_ne!(Status::Good.colour(), Status::Off.colour());
    }
}
