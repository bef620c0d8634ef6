//! Fast base-2 logarithm and exponential for per-sample level and gain conversions.
//!
//! A compressor converts a level to dB and a gain back to amplitude once per frame;
//! with `f32::ln`/`f32::exp` from libm those two calls cost more than everything else
//! in the loop. These versions use the float's exponent bits plus a short series:
//!
//! - [`fast_log2`]: `log2(m·2^e) = e + 2·atanh(t)/ln 2` with `t = (m − 1)/(m + 1)` and
//!   `m` folded into [√½, √2], so `|t| ≤ 0.1716`; the series to `t⁷` leaves a truncation
//!   error below 4e-8 (the `t⁹` term), so the result is within a few f32 ulps: the test
//!   checks 2e-6 absolute in log2, i.e. 1.2e-5 dB on an amplitude.
//! - [`fast_exp2`]: `2^x = 2^i · 2^f` with `i` the nearest integer and `|f| ≤ ½`, `2^f`
//!   by its Taylor series to `f⁶`; the first omitted term is `(½ ln 2)⁷/7! < 1.3e-7`
//!   relative; the test checks 5e-7 relative (4.3e-6 dB).
//!
//! Both are far below the 0.01 dB that any meter or test in this crate resolves.

use std::f32::consts::{LN_2, LOG2_E, SQRT_2};

/// `10·log10(2)`: dB per unit of log2 of a power (mean square).
pub const DB_PER_LOG2_POWER: f32 = 3.010_3; // f32 holds 3.0103 (the exact value rounds to it)

/// `log2(10)/20`: log2 of an amplitude gain per dB.
pub const LOG2_GAIN_PER_DB: f32 = 0.166_096_4; // f32 rounding of the exact value

/// The smallest power the fast conversions see: 1e-20 is −200 dB
/// ([`crate::db::MINUS_INFINITY_DB`]); smaller powers (and zero) are floored to it.
pub const MIN_POWER: f32 = 1e-20;

/// Base-2 logarithm of a positive, finite, normal `x` (see the module notes for the
/// accuracy). Zero, negative, denormal or non-finite inputs give meaningless results:
/// callers floor their input at [`MIN_POWER`].
#[inline]
pub fn fast_log2(x: f32) -> f32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    // The mantissa as a number in [1, 2).
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let fold = mantissa > SQRT_2;
    let m = if fold { mantissa * 0.5 } else { mantissa };
    let e = exponent as f32 + if fold { 1.0 } else { 0.0 };
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    // ln m = 2·atanh(t) = 2·(t + t³/3 + t⁵/5 + t⁷/7 + …)
    let ln_m = 2.0 * t * (1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0))));
    e + ln_m * LOG2_E
}

/// `2^x` for any finite `x`; `x` is clamped to ±126 so the result stays a normal float
/// (2^−126 is −758 dB, far below anything audible).
#[inline]
pub fn fast_exp2(x: f32) -> f32 {
    let x = x.clamp(-126.0, 126.0);
    // Round to the nearest integer by adding 1.5·2^23: the sum's low mantissa bits then
    // hold the integer (IEEE round-to-nearest), with no libm call.
    const MAGIC: f32 = 12_582_912.0;
    let shifted = x + MAGIC;
    let i = shifted.to_bits() as i32 - MAGIC.to_bits() as i32;
    let f = x - (shifted - MAGIC);
    let y = f * LN_2;
    // e^y to y⁶ (Horner form).
    let p = 1.0
        + y * (1.0
            + y * (0.5
                + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0 + y * (1.0 / 720.0))))));
    f32::from_bits(((i + 127) as u32) << 23) * p
}

/// A power (mean square, or a squared sample) to dB: `10·log10(power)`, floored at
/// −200 dB.
#[inline]
pub fn fast_power_to_db(power: f32) -> f32 {
    fast_log2(power.max(MIN_POWER)) * DB_PER_LOG2_POWER
}

/// dB to an amplitude gain: `10^(db/20)`.
#[inline]
pub fn fast_db_to_gain(db: f32) -> f32 {
    fast_exp2(db * LOG2_GAIN_PER_DB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_matches_std_over_the_whole_power_range() {
        // From 1e-20 (−200 dB) to 1e6 (+60 dB) in small ratio steps.
        let mut x = MIN_POWER;
        while x < 1e6 {
            let exact = (x as f64).log2();
            let err = (fast_log2(x) as f64 - exact).abs();
            // 2e-6 absolute (series truncation and the division, see the module notes)
            // plus two f32 ulps of the result (2.4e-7 relative) for large |log2 x|.
            assert!(err <= 2e-6 + 2.4e-7 * exact.abs(), "log2({x}) off by {err}");
            x *= 1.000_37;
        }
        // And near 1 (small results) the absolute error is tiny.
        for k in 1..1000 {
            let x = 0.5 + k as f32 / 1000.0;
            let err = (fast_log2(x) - (x as f64).log2() as f32).abs();
            assert!(err < 2e-6, "log2({x}) off by {err}");
        }
    }

    #[test]
    fn exp2_matches_std() {
        let mut worst = 0.0f64;
        for k in -120_000..=60_000 {
            let x = k as f32 / 1000.0;
            let exact = (x as f64).exp2();
            let rel = ((fast_exp2(x) as f64 - exact) / exact).abs();
            worst = worst.max(rel);
        }
        // 5e-7 relative: series truncation 1.3e-7 plus a few f32 roundings (6e-8 each).
        assert!(worst < 5e-7, "worst relative exp2 error {worst}");
    }

    #[test]
    fn db_helpers_agree_with_the_exact_ones() {
        for tenth in -1500..=240 {
            let db = tenth as f32 / 10.0;
            let gain = fast_db_to_gain(db);
            assert!((crate::db::gain_to_db(gain) - db).abs() < 1e-4, "{db} dB");
            let power = gain * gain;
            assert!((fast_power_to_db(power) - db).abs() < 1e-3, "{db} dB");
        }
        assert_eq!(fast_power_to_db(0.0), fast_power_to_db(MIN_POWER));
        assert!((fast_power_to_db(0.0) + 200.0).abs() < 1e-3);
        assert!(fast_db_to_gain(-2000.0) >= 0.0 && fast_db_to_gain(-2000.0) < 1e-37);
    }
}
