//! Value ↔ text conversions for parameters, as a DAW shows and accepts them.

use std::sync::Arc;

/// A value-to-text formatter, as nice-plug takes it.
pub type ValueToString = Arc<dyn Fn(f32) -> String + Send + Sync>;
/// A text-to-value parser, as nice-plug takes it.
pub type StringToValue = Arc<dyn Fn(&str) -> Option<f32> + Send + Sync>;

/// Formats dB with two decimals; values at or below `minus_infinity_db` show as `-inf`.
pub fn v2s_db(minus_infinity_db: f32) -> ValueToString {
    Arc::new(move |value| {
        if value <= minus_infinity_db {
            String::from("-inf")
        } else {
            format!("{value:.2}")
        }
    })
}

/// Parses dB (`-6`, `-6 dB`, `+3.5db`, `-inf`); `-inf` maps to `minus_infinity_db`.
pub fn s2v_db(minus_infinity_db: f32) -> StringToValue {
    Arc::new(move |text| {
        let text = text.trim().to_ascii_lowercase();
        let number = text.trim_end_matches("db").trim();
        if matches!(number, "-inf" | "-∞" | "inf" | "off") {
            return Some(minus_infinity_db);
        }
        number.parse::<f32>().ok().filter(|v| v.is_finite())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_text_round_trips() {
        let v2s = v2s_db(-80.0);
        let s2v = s2v_db(-80.0);
        assert_eq!(v2s(-6.0), "-6.00");
        assert_eq!(v2s(-80.0), "-inf");
        assert_eq!(s2v("-6 dB"), Some(-6.0));
        assert_eq!(s2v("+3.5db"), Some(3.5));
        assert_eq!(s2v("-inf"), Some(-80.0));
        assert_eq!(s2v("loud"), None);
        assert_eq!(s2v("NaN"), None);
    }
}
