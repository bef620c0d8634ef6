//! Value ↔ text conversions for parameters, as a DAW shows and accepts them.

use std::sync::Arc;

/// A value-to-text formatter, as nice-plug takes it.
pub type ValueToString = Arc<dyn Fn(f32) -> String + Send + Sync>;
/// A text-to-value parser, as nice-plug takes it.
pub type StringToValue = Arc<dyn Fn(&str) -> Option<f32> + Send + Sync>;

/// A switch-to-text formatter, as nice-plug takes it.
pub type BoolToString = Arc<dyn Fn(bool) -> String + Send + Sync>;
/// A text-to-switch parser, as nice-plug takes it.
pub type StringToBool = Arc<dyn Fn(&str) -> Option<bool> + Send + Sync>;

/// Shows a polarity switch as `Normal` / `Inverted`.
pub fn v2s_polarity() -> BoolToString {
    Arc::new(|inverted| String::from(if inverted { "Inverted" } else { "Normal" }))
}

/// Parses what [`v2s_polarity`] shows (and on/off, true/false), so the text round-trips.
pub fn s2v_polarity() -> StringToBool {
    Arc::new(|text| match text.trim().to_ascii_lowercase().as_str() {
        "inverted" | "invert" | "on" | "true" => Some(true),
        "normal" | "off" | "false" => Some(false),
        _ => None,
    })
}

/// Formats dB with two decimals; values at or below `minus_infinity_db` show as `-inf`.
pub fn v2s_db(minus_infinity_db: f32) -> ValueToString {
    Arc::new(move |value| {
        if value <= minus_infinity_db {
            String::from("-inf")
        } else {
            fixed(value, 2)
        }
    })
}

/// `value` with `decimals` decimals; a value that rounds to zero shows as `0.00`, never
/// `-0.00`.
fn fixed(value: f32, decimals: usize) -> String {
    let scale = 10f32.powi(decimals as i32);
    if (value * scale).round() == 0.0 {
        format!("{:.decimals$}", 0.0)
    } else {
        format!("{value:.decimals$}")
    }
}

/// Units a host may append to a displayed value (the parameter's own unit), longest
/// first so `dBTP` is not read as `dB` + `TP`.
const UNIT_SUFFIXES: [&str; 9] = ["dbtp", "lufs", "khz", "db", "hz", "ms", "lu", "%", "s"];

/// `text` lowercased and trimmed, without a trailing unit: hosts send a value back as
/// they show it, with the parameter's unit (`-3.00 dBTP`, `Off Hz`).
pub fn without_unit(text: &str) -> String {
    let lower = text.trim().to_lowercase();
    for unit in UNIT_SUFFIXES {
        if let Some(rest) = lower.strip_suffix(unit) {
            // Only a unit after a number or a word and a space: "-inf" keeps its "f".
            let rest_trimmed = rest.trim_end();
            if !rest_trimmed.is_empty() && (rest.len() != rest_trimmed.len() || unit.len() > 1) {
                return rest_trimmed.to_owned();
            }
        }
    }
    lower
}

/// Parses dB (`-6`, `-6 dB`, `+3.5db`, `-3 dBTP`, `-inf`); `-inf` maps to
/// `minus_infinity_db`.
pub fn s2v_db(minus_infinity_db: f32) -> StringToValue {
    Arc::new(move |text| {
        let number = without_unit(text);
        let number = number.as_str();
        if matches!(number, "-inf" | "-∞" | "inf" | "off") {
            return Some(minus_infinity_db);
        }
        number.parse::<f32>().ok().filter(|v| v.is_finite())
    })
}

/// Formats a plain number with `decimals` decimals (the unit is added by the host).
pub fn v2s_fixed(decimals: usize) -> ValueToString {
    Arc::new(move |value| fixed(value, decimals))
}

/// Parses a number followed by an optional unit (`150`, `150 Hz`, `1.5k`, `1.5 kHz`,
/// `4:1`, `50 %`, `10 ms`): the leading number, times 1000 with a `k` right after it.
pub fn s2v_number() -> StringToValue {
    Arc::new(|text| {
        let (value, rest) = leading_number(text)?;
        let value = value as f32;
        let rest = rest.trim_start();
        let scale = if rest.starts_with('k') || rest.starts_with('K') {
            1000.0
        } else {
            1.0
        };
        Some(value * scale)
    })
}

/// The finite number `text` starts with (after leading spaces) and the text right after
/// it, untrimmed: `("16", " bit")` for `16 bit`, `("1", "/4")` for `1/4`.
pub fn leading_number(text: &str) -> Option<(f64, &str)> {
    let text = text.trim_start();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0)))
        .map_or(text.len(), |(i, _)| i);
    let value: f64 = text[..end].parse().ok().filter(|v: &f64| v.is_finite())?;
    Some((value, &text[end..]))
}

/// Shows a switch with its own two words (`on_text` for true).
pub fn v2s_switch(on_text: &'static str, off_text: &'static str) -> BoolToString {
    Arc::new(move |on| String::from(if on { on_text } else { off_text }))
}

/// Parses what [`v2s_switch`] shows (case-insensitive), and on/off, true/false.
pub fn s2v_switch(on_text: &'static str, off_text: &'static str) -> StringToBool {
    Arc::new(move |text| {
        let text = text.trim();
        if text.eq_ignore_ascii_case(on_text) {
            return Some(true);
        }
        if text.eq_ignore_ascii_case(off_text) {
            return Some(false);
        }
        match text.to_ascii_lowercase().as_str() {
            "on" | "true" => Some(true),
            "off" | "false" => Some(false),
            _ => None,
        }
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
        assert_eq!(s2v("-3.00 dBTP"), Some(-3.0));
        assert_eq!(s2v("-inf dB"), Some(-80.0));
        assert_eq!(without_unit("Off Hz"), "off");
        assert_eq!(without_unit("12.5 ms"), "12.5");
        assert_eq!(without_unit("-inf"), "-inf");
        assert_eq!(without_unit("2.0 s"), "2.0");
        assert_eq!(s2v("+3.5db"), Some(3.5));
        assert_eq!(s2v("-inf"), Some(-80.0));
        assert_eq!(s2v("loud"), None);
        assert_eq!(s2v("NaN"), None);
    }

    #[test]
    fn numbers_with_units_parse() {
        let s2v = s2v_number();
        assert_eq!(s2v("150"), Some(150.0));
        assert_eq!(s2v("150.5 Hz"), Some(150.5));
        assert_eq!(s2v("1.5 kHz"), Some(1500.0));
        assert_eq!(s2v("4:1"), Some(4.0));
        assert_eq!(s2v("-3.25"), Some(-3.25));
        assert_eq!(s2v("loud"), None);
        assert_eq!(v2s_fixed(1)(12.345), "12.3");
        assert_eq!(v2s_fixed(2)(-0.001), "0.00");
        let (v2s, s2v) = (v2s_switch("Solo", "Off"), s2v_switch("Solo", "Off"));
        assert_eq!(s2v(&v2s(true)), Some(true));
        assert_eq!(s2v(&v2s(false)), Some(false));
    }
}
