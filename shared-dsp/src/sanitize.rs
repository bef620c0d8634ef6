//! Input hygiene: a block from a host may hold NaN or ±Inf (a broken plugin before us,
//! a bad file). One non-finite sample would poison every recursive state after it, so
//! chains replace them with silence on the way in. Absurd finite values (1e30) are held
//! to ±[`MAX_SAMPLE`], so that no gain stage downstream can overflow to infinity.

/// The largest magnitude a chain accepts: 2^20, about +120 dBFS. Far above any real
/// signal, yet even +60 dB of gain on it stays finite in f32 (whose limit is 3.4e38).
pub const MAX_SAMPLE: f32 = 1_048_576.0;

/// The one rule for a sample: itself held to ±[`MAX_SAMPLE`], or silence (`0.0`) when
/// it is NaN or ±∞. Branch-free, so loops over it vectorise.
#[inline(always)]
pub fn finite_sample(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(-MAX_SAMPLE, MAX_SAMPLE)
    } else {
        0.0
    }
}

/// [`finite_sample`] over a block, in place; returns how many samples were non-finite.
#[inline]
pub fn replace_non_finite(samples: &mut [f32]) -> usize {
    let mut replaced = 0;
    for sample in samples.iter_mut() {
        replaced += usize::from(!sample.is_finite());
        *sample = finite_sample(*sample);
    }
    replaced
}

/// A setting from a host or a file, made usable: `value` held to `lo..=hi`, or
/// `default` when it is NaN or infinite.
#[inline]
pub fn setting_or(value: f32, lo: f32, hi: f32, default: f32) -> f32 {
    if value.is_finite() {
        value.clamp(lo, hi)
    } else {
        default
    }
}

/// [`setting_or`] for a setting whose range reaches +∞ (a ratio of ∞:1 makes a
/// compressor a limiter, an expander a gate): `value` held to `lo..=hi`, infinities
/// included, or `default` when it is NaN.
#[inline]
pub fn setting_or_infinite(value: f32, lo: f32, hi: f32, default: f32) -> f32 {
    if value.is_nan() {
        default
    } else {
        value.clamp(lo, hi)
    }
}

/// An optional setting (a filter that may be off): `None` stays off, NaN turns it off,
/// any other value (±∞ included) is held to `lo..=hi`.
#[inline]
pub fn setting_or_off(value: Option<f32>, lo: f32, hi: f32) -> Option<f32> {
    value.filter(|v| !v.is_nan()).map(|v| v.clamp(lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_held_to_their_range_or_fall_back() {
        assert_eq!(setting_or(5.0, 0.0, 1.0, 0.5), 1.0);
        assert_eq!(setting_or(-5.0, 0.0, 1.0, 0.5), 0.0);
        assert_eq!(setting_or(0.25, 0.0, 1.0, 0.5), 0.25);
        assert_eq!(setting_or(f32::NAN, 0.0, 1.0, 0.5), 0.5);
        assert_eq!(setting_or(f32::INFINITY, 0.0, 1.0, 0.5), 0.5);
        let inf = f32::INFINITY;
        assert_eq!(setting_or_infinite(inf, 1.0, inf, 4.0), inf, "∞:1 is kept");
        assert_eq!(setting_or_infinite(0.5, 1.0, inf, 4.0), 1.0);
        assert_eq!(setting_or_infinite(f32::NAN, 1.0, inf, 4.0), 4.0);
        assert_eq!(setting_or_infinite(-inf, 1.0, inf, 4.0), 1.0);
        assert_eq!(setting_or_off(Some(f32::NAN), 20.0, 500.0), None);
        assert_eq!(setting_or_off(Some(inf), 20.0, 500.0), Some(500.0));
        assert_eq!(setting_or_off(Some(100.0), 20.0, 500.0), Some(100.0));
        assert_eq!(setting_or_off(None, 20.0, 500.0), None);
    }

    #[test]
    fn non_finite_becomes_silence_and_the_rest_is_untouched() {
        let mut block = [0.5, f32::NAN, -1.0, f32::INFINITY, f32::NEG_INFINITY, 1e-40];
        assert_eq!(replace_non_finite(&mut block), 3);
        assert_eq!(block, [0.5, 0.0, -1.0, 0.0, 0.0, 1e-40]);
    }

    #[test]
    fn absurd_values_are_held_to_the_limit() {
        let mut block = [1e30, -f32::MAX, MAX_SAMPLE, 0.25];
        assert_eq!(replace_non_finite(&mut block), 0);
        assert_eq!(block, [MAX_SAMPLE, -MAX_SAMPLE, MAX_SAMPLE, 0.25]);
    }
}
