//! Decibel conversions.
//!
//! Gains are amplitude ratios: `gain = 10^(dB / 20)`. Levels at or below
//! [`MINUS_INFINITY_DB`] are treated as silence, so a fader can reach −∞ and a meter
//! never shows `-inf` arithmetic.

/// The level treated as silence (−∞ dB). Anything at or below it maps to a gain of zero,
/// and a gain of zero maps back to it. −200 dB is far below the 32-bit float noise floor
/// (about −758 dB for denormals, −140 dB for a 24-bit converter).
pub const MINUS_INFINITY_DB: f32 = -200.0;

/// dB to an amplitude gain. At or below [`MINUS_INFINITY_DB`] this is exactly `0.0`.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    if db <= MINUS_INFINITY_DB {
        0.0
    } else {
        // 10^(db/20) = e^(db · ln10/20); `exp` is cheaper than `powf` and as accurate.
        (db * (std::f32::consts::LN_10 / 20.0)).exp()
    }
}

/// An amplitude gain (its magnitude) to dB, floored at [`MINUS_INFINITY_DB`].
#[inline]
pub fn gain_to_db(gain: f32) -> f32 {
    let magnitude = gain.abs();
    if magnitude > 0.0 {
        (20.0 * magnitude.log10()).max(MINUS_INFINITY_DB)
    } else {
        MINUS_INFINITY_DB
    }
}

/// dB to an amplitude gain in double precision (analysis and long sums).
#[inline]
pub fn db_to_gain_f64(db: f64) -> f64 {
    if db <= MINUS_INFINITY_DB as f64 {
        0.0
    } else {
        10f64.powf(db / 20.0)
    }
}

/// An amplitude gain to dB in double precision, floored at [`MINUS_INFINITY_DB`].
#[inline]
pub fn gain_to_db_f64(gain: f64) -> f64 {
    let magnitude = gain.abs();
    if magnitude > 0.0 {
        (20.0 * magnitude.log10()).max(MINUS_INFINITY_DB as f64)
    } else {
        MINUS_INFINITY_DB as f64
    }
}

/// A power ratio (mean square) to dB: `10 · log10(power)`, floored at [`MINUS_INFINITY_DB`].
#[inline]
pub fn power_to_db_f64(power: f64) -> f64 {
    if power > 0.0 {
        (10.0 * power.log10()).max(MINUS_INFINITY_DB as f64)
    } else {
        MINUS_INFINITY_DB as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_points() {
        // Tolerance: f32 has a 24-bit mantissa, so 1e-6 relative is a few ulps.
        assert!((db_to_gain(0.0) - 1.0).abs() < 1e-6);
        assert!((db_to_gain(-6.0) - 0.501_187_2).abs() < 1e-6);
        assert!((db_to_gain(20.0) - 10.0).abs() < 1e-5);
        assert!((gain_to_db(0.5) - (-6.020_6)).abs() < 1e-4);
        assert!((gain_to_db(-2.0) - 6.020_6).abs() < 1e-4, "sign is ignored");
        assert!((db_to_gain_f64(-3.0) - 0.707_945_784_384_137_9).abs() < 1e-15);
        assert!((power_to_db_f64(0.5) - (-3.010_299_956_639_812)).abs() < 1e-12);
    }

    #[test]
    fn silence_is_minus_infinity_and_back() {
        assert_eq!(db_to_gain(MINUS_INFINITY_DB), 0.0);
        assert_eq!(db_to_gain(f32::NEG_INFINITY), 0.0);
        assert_eq!(gain_to_db(0.0), MINUS_INFINITY_DB);
        assert_eq!(gain_to_db_f64(0.0), MINUS_INFINITY_DB as f64);
        assert_eq!(power_to_db_f64(0.0), MINUS_INFINITY_DB as f64);
    }

    #[test]
    fn round_trip_over_the_useful_range() {
        // Every 0.1 dB from −150 to +40 dB survives a round trip within 1e-3 dB, which is
        // f32 precision on the logarithm (no meter or fader shows more than 0.01 dB).
        for tenth in -1500..=400 {
            let db = tenth as f32 / 10.0;
            let back = gain_to_db(db_to_gain(db));
            assert!((back - db).abs() < 1e-3, "{db} dB came back as {back} dB");
        }
    }
}
