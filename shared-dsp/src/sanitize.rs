//! Input hygiene: a block from a host may hold NaN or ±Inf (a broken plugin before us,
//! a bad file). One non-finite sample would poison every recursive state after it, so
//! chains replace them with silence on the way in.

/// Replaces every non-finite sample with `0.0` and returns how many were replaced.
#[inline]
pub fn replace_non_finite(samples: &mut [f32]) -> usize {
    let mut replaced = 0;
    for sample in samples.iter_mut() {
        if !sample.is_finite() {
            *sample = 0.0;
            replaced += 1;
        }
    }
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_becomes_silence_and_the_rest_is_untouched() {
        let mut block = [0.5, f32::NAN, -1.0, f32::INFINITY, f32::NEG_INFINITY, 1e-40];
        assert_eq!(replace_non_finite(&mut block), 3);
        assert_eq!(block, [0.5, 0.0, -1.0, 0.0, 0.0, 1e-40]);
    }
}
