//! Reading and setting a plugin's parameters by id, the way a host does: a value goes in
//! as plain units, is checked against the parameter's range, converted to the normalized
//! value a host would send, and set through nice-plug's own path. The `oxide` command
//! and the tests use this, so an offline render sees exactly the values a plugin in a
//! host sees for the same settings.

use std::fmt;

use nice_plug::plugin::ParamValue;
use nice_plug::prelude::{Param, ParamPtr, Params, PluginState};

use crate::formatters::{leading_number, without_unit};

/// What kind of value a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Float,
    Int,
    Bool,
    Choice,
}

impl ParamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::Float => "float",
            ParamKind::Int => "int",
            ParamKind::Bool => "bool",
            ParamKind::Choice => "choice",
        }
    }
}

/// Everything a user needs to know to set a parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    pub id: String,
    pub name: String,
    /// The unit without its leading space (`dB`, `Hz`, `ms`, `%`), empty if none.
    pub unit: String,
    pub kind: ParamKind,
    /// The lowest and highest plain values (0/1 for switches, first/last index for choices).
    pub min: f64,
    pub max: f64,
    /// The default as a plain value.
    pub default: f64,
    /// The default as the plugin displays it.
    pub default_text: String,
    /// The choices' display names, in order (empty unless `kind` is `Choice`).
    pub choices: Vec<String>,
    /// The group the parameter belongs to (empty for the top level).
    pub group: String,
}

/// Why a parameter could not be set.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamError {
    UnknownId {
        id: String,
        known: Vec<String>,
    },
    BadValue {
        id: String,
        value: String,
        expected: String,
    },
    OutOfRange {
        id: String,
        value: f64,
        min: f64,
        max: f64,
        unit: String,
    },
    BadState(String),
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::UnknownId { id, known } => write!(
                f,
                "unknown parameter id '{id}' (known ids: {})",
                known.join(", ")
            ),
            ParamError::BadValue {
                id,
                value,
                expected,
            } => write!(f, "'{value}' is not a valid value for '{id}': expected {expected}"),
            ParamError::OutOfRange {
                id,
                value,
                min,
                max,
                unit,
            } => write!(
                f,
                "{value} {unit} is out of range for '{id}': it must lie between {min} and {max} {unit}"
            ),
            ParamError::BadState(why) => write!(f, "not a valid preset: {why}"),
        }
    }
}

impl std::error::Error for ParamError {}

fn find(params: &dyn Params, id: &str) -> Result<ParamPtr, ParamError> {
    let map = params.param_map();
    map.iter()
        .find(|(param_id, _, _)| param_id == id)
        .map(|(_, ptr, _)| *ptr)
        .ok_or_else(|| ParamError::UnknownId {
            id: id.to_owned(),
            known: map.iter().map(|(id, _, _)| id.clone()).collect(),
        })
}

/// Lowercase with spaces, dashes and underscores removed, for lenient choice matching.
fn fold_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The index of the choice `text` names, as a user types it: the displayed name in any
/// case (spaces, dashes and underscores ignored: `low shelf`, `Low-Shelf`), else the bare
/// number of a numbered choice (`16` for `16 bit`, `-3` for `-3 dB`; only when the
/// number is followed by a unit, not by more of a name such as the `/4` of `1/4`), else
/// the start of exactly one name (`noise` for `Noise-shaped`). `None` when nothing
/// matches or a start fits several names.
pub fn match_choice(choices: &[String], text: &str) -> Option<usize> {
    let wanted = fold_name(text);
    if wanted.is_empty() {
        return None;
    }
    let folded: Vec<String> = choices.iter().map(|c| fold_name(c)).collect();
    if let Some(index) = folded.iter().position(|c| *c == wanted) {
        return Some(index);
    }
    if let Ok(number) = text.trim().parse::<f64>() {
        // The number is the whole name or is followed by a space (and a unit).
        let numbered: Vec<usize> = (0..choices.len())
            .filter(|&i| {
                leading_number(&choices[i]).is_some_and(|(value, rest)| {
                    value == number && (rest.is_empty() || rest.starts_with(' '))
                })
            })
            .collect();
        if let [index] = numbered[..] {
            return Some(index);
        }
    }
    let starts: Vec<usize> = (0..folded.len())
        .filter(|&i| folded[i].starts_with(&wanted))
        .collect();
    match starts[..] {
        [index] => Some(index),
        _ => None,
    }
}

/// Reads a pointer's description. The pointer must come from `params.param_map()` of a
/// live `Params` object.
fn info_of(id: &str, ptr: ParamPtr, group: &str) -> ParamInfo {
    // SAFETY: `ptr` comes from `param_map()` of a `Params` object the caller holds a
    // reference to, so the parameter it points to is alive for the length of this call.
    unsafe {
        let kind = match ptr {
            ParamPtr::FloatParam(_) => ParamKind::Float,
            ParamPtr::IntParam(_) => ParamKind::Int,
            ParamPtr::BoolParam(_) => ParamKind::Bool,
            ParamPtr::EnumParam(_) => ParamKind::Choice,
        };
        let steps = ptr.step_count().unwrap_or(0);
        let choices = if kind == ParamKind::Choice {
            (0..=steps)
                .map(|i| ptr.normalized_value_to_string(i as f32 / steps.max(1) as f32, false))
                .collect()
        } else {
            Vec::new()
        };
        let (min, max, default) = match kind {
            ParamKind::Choice => {
                let default = (ptr.default_normalized_value() * steps as f32).round() as f64;
                (0.0, steps as f64, default)
            }
            _ => (
                ptr.preview_plain(0.0) as f64,
                ptr.preview_plain(1.0) as f64,
                ptr.default_plain_value() as f64,
            ),
        };
        ParamInfo {
            id: id.to_owned(),
            name: ptr.name().to_owned(),
            unit: ptr.unit().trim().to_owned(),
            kind,
            min,
            max,
            default,
            default_text: ptr.normalized_value_to_string(ptr.default_normalized_value(), true),
            choices,
            group: group.to_owned(),
        }
    }
}

/// Every parameter of `params`, in the plugin's order.
pub fn list(params: &dyn Params) -> Vec<ParamInfo> {
    params
        .param_map()
        .into_iter()
        .map(|(id, ptr, group)| info_of(&id, ptr, &group))
        .collect()
}

/// The normalized value a host sends for `plain` on parameter `id` (no range check).
pub fn normalized_for(params: &dyn Params, id: &str, plain: f32) -> Result<f32, ParamError> {
    let ptr = find(params, id)?;
    // SAFETY: see `info_of`.
    Ok(unsafe { ptr.preview_normalized(plain) })
}

/// The current plain value of parameter `id` (choices: their index).
pub fn plain_value(params: &dyn Params, id: &str) -> Result<f32, ParamError> {
    let ptr = find(params, id)?;
    // SAFETY: see `info_of`.
    Ok(unsafe { ptr.unmodulated_plain_value() })
}

/// Sets parameter `id` from a normalized value, as a host does.
pub fn set_normalized(params: &dyn Params, id: &str, normalized: f32) -> Result<(), ParamError> {
    let ptr = find(params, id)?;
    if !(0.0..=1.0).contains(&normalized) {
        return Err(ParamError::OutOfRange {
            id: id.to_owned(),
            value: normalized as f64,
            min: 0.0,
            max: 1.0,
            unit: String::from("(normalized)"),
        });
    }
    // SAFETY: see `info_of`; the value is a valid normalized value.
    unsafe {
        ptr._internal_set_normalized_value(normalized);
    }
    Ok(())
}

/// Parses a switch: on/off, true/false, yes/no, 1/0.
fn parse_switch(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Sets parameter `id` from text in plain units: a number for continuous parameters
/// (a trailing unit is accepted, `-inf` where the parameter shows it), on/off/true/false
/// for switches, the displayed name for choices (case-insensitive; `low shelf`,
/// `low_shelf` and `Low-Shelf` alike). Checks the range and reports a clear error.
pub fn set_from_text(params: &dyn Params, id: &str, text: &str) -> Result<(), ParamError> {
    let ptr = find(params, id)?;
    let normalized = parse_normalized(id, ptr, text)?;
    set_normalized(params, id, normalized)
}

/// The normalized value `text` stands for on `param`, by the rules of
/// [`set_from_text`] (the editors' typed values go through here, so they read exactly as
/// `oxide --set` does); errors name the parameter by its display name.
pub fn normalized_from_text<P: Param>(param: &P, text: &str) -> Result<f32, ParamError> {
    parse_normalized(param.name(), param.as_ptr(), text)
}

/// [`set_from_text`]'s parser. `ptr` must point to a live parameter.
fn parse_normalized(id: &str, ptr: ParamPtr, text: &str) -> Result<f32, ParamError> {
    let info = info_of(id, ptr, "");
    let bad = |expected: String| ParamError::BadValue {
        id: id.to_owned(),
        value: text.to_owned(),
        expected,
    };
    let normalized = match info.kind {
        ParamKind::Bool => {
            let on = parse_switch(text).ok_or_else(|| bad(String::from("on or off")))?;
            if on {
                1.0
            } else {
                0.0
            }
        }
        ParamKind::Choice => {
            let index = match_choice(&info.choices, text).ok_or_else(|| {
                bad(format!(
                    "one of: {} (any case, an unambiguous start of a name, or the bare \
                     number of a numbered choice)",
                    info.choices.join(", ")
                ))
            })?;
            index as f32 / info.max.max(1.0) as f32
        }
        ParamKind::Float | ParamKind::Int => {
            let trimmed = text.trim();
            let unit = info.unit.to_ascii_lowercase();
            let lower = trimmed.to_ascii_lowercase();
            let number = lower
                .strip_suffix(unit.as_str())
                .filter(|_| !unit.is_empty())
                .unwrap_or(&lower)
                .trim();
            // A parameter whose formatter writes the unit itself (an "Off" end) has no
            // unit of its own: strip whatever unit follows the number.
            let parsed = number
                .parse::<f64>()
                .or_else(|_| without_unit(number).parse::<f64>());
            let value: f64 = match parsed {
                Ok(v) if v.is_finite() => v,
                _ => {
                    // The parameter's own parser knows words like `-inf`.
                    // SAFETY: see `info_of`.
                    let parsed = unsafe { ptr.string_to_normalized_value(trimmed) };
                    match parsed {
                        Some(n) if matches!(number, "-inf" | "-∞" | "inf" | "off") => {
                            // SAFETY: see `info_of`.
                            unsafe { ptr.preview_plain(n) as f64 }
                        }
                        _ => {
                            return Err(bad(format!(
                                "a number in {}{}",
                                info.unit,
                                if info.unit.is_empty() { "" } else { " " }
                            )
                            .trim_end()
                            .to_owned()))
                        }
                    }
                }
            };
            if info.kind == ParamKind::Int && value.fract() != 0.0 {
                return Err(bad(String::from("a whole number")));
            }
            // A relative tolerance of 1e-6 accepts the range ends written in full
            // (f32 ranges stored as f64 differ in the last digits).
            let slack = 1e-6 * info.max.abs().max(info.min.abs()).max(1.0);
            if value < info.min - slack || value > info.max + slack {
                return Err(ParamError::OutOfRange {
                    id: id.to_owned(),
                    value,
                    min: info.min,
                    max: info.max,
                    unit: info.unit,
                });
            }
            let clamped = value.clamp(info.min, info.max) as f32;
            // SAFETY: see `info_of`.
            unsafe { ptr.preview_normalized(clamped) }
        }
    };
    Ok(normalized)
}

/// Applies a saved plugin state (the JSON nice-plug writes for a host, `{"params": {…}}`)
/// to `params`. Every value is checked before any is set, so a bad preset changes
/// nothing. Ids this version does not know are skipped and returned, so the caller can
/// warn.
pub fn apply_state_json(params: &dyn Params, json: &[u8]) -> Result<Vec<String>, ParamError> {
    let state: PluginState =
        serde_json::from_slice(json).map_err(|e| ParamError::BadState(e.to_string()))?;
    let mut unknown = Vec::new();
    let mut updates: Vec<(ParamPtr, f32, Option<String>)> = Vec::new();
    for (id, value) in &state.params {
        let ptr = match find(params, id) {
            Ok(ptr) => ptr,
            Err(_) => {
                unknown.push(id.clone());
                continue;
            }
        };
        let info = info_of(id, ptr, "");
        let out_of_range = |v: f64| ParamError::OutOfRange {
            id: id.clone(),
            value: v,
            min: info.min,
            max: info.max,
            unit: info.unit.clone(),
        };
        // SAFETY (all the unsafe calls below): see `info_of`.
        let update = match (ptr, value) {
            (ParamPtr::FloatParam(_), ParamValue::F32(v)) => {
                let v = *v as f64;
                if !v.is_finite() || v < info.min || v > info.max {
                    return Err(out_of_range(v));
                }
                (unsafe { ptr.preview_normalized(v as f32) }, None)
            }
            (ParamPtr::IntParam(_), ParamValue::I32(v)) => {
                let v = *v as f64;
                if v < info.min || v > info.max {
                    return Err(out_of_range(v));
                }
                (unsafe { ptr.preview_normalized(v as f32) }, None)
            }
            (ParamPtr::BoolParam(_), ParamValue::Bool(on)) => (if *on { 1.0 } else { 0.0 }, None),
            (ParamPtr::EnumParam(_), ParamValue::I32(index)) => {
                let index = *index as f64;
                if index < 0.0 || index > info.max {
                    return Err(out_of_range(index));
                }
                ((index / info.max.max(1.0)) as f32, None)
            }
            (ParamPtr::EnumParam(p), ParamValue::String(variant)) => {
                // Check the id exists without changing the parameter yet.
                let known = unsafe { (*p).unmodulated_plain_id() }.is_some();
                if !known {
                    return Err(ParamError::BadState(format!(
                        "'{id}' has no stable choice ids"
                    )));
                }
                (0.0, Some(variant.clone()))
            }
            (_, value) => {
                return Err(ParamError::BadState(format!(
                    "'{id}' has a value of the wrong type: {value:?}"
                )))
            }
        };
        updates.push((ptr, update.0, update.1));
    }
    // Check enum ids by setting them on the real parameter, remembering the old value so
    // a failure can be rolled back.
    let mut applied: Vec<(ParamPtr, f32)> = Vec::new();
    for (ptr, normalized, variant) in updates {
        // SAFETY: see `info_of`.
        unsafe {
            let previous = ptr.unmodulated_normalized_value();
            match (ptr, variant) {
                (ParamPtr::EnumParam(p), Some(variant)) => {
                    if !(*p).set_from_id(&variant) {
                        for (ptr, previous) in applied.into_iter().rev() {
                            ptr._internal_set_normalized_value(previous);
                        }
                        return Err(ParamError::BadState(format!("unknown choice '{variant}'")));
                    }
                }
                _ => {
                    ptr._internal_set_normalized_value(normalized);
                }
            }
            applied.push((ptr, previous));
        }
    }
    Ok(unknown)
}

/// The value of one parameter as nice-plug saves it in a state (plain value; a choice
/// by its stable id where it has one, else by index).
///
/// # Safety
/// `ptr` points to a live parameter.
pub unsafe fn state_value(ptr: ParamPtr) -> ParamValue {
    // SAFETY: see the function's contract.
    unsafe {
        match ptr {
            ParamPtr::FloatParam(p) => ParamValue::F32((*p).unmodulated_plain_value()),
            ParamPtr::IntParam(p) => ParamValue::I32((*p).unmodulated_plain_value()),
            ParamPtr::BoolParam(p) => ParamValue::Bool((*p).unmodulated_plain_value()),
            ParamPtr::EnumParam(p) => match (*p).unmodulated_plain_id() {
                Some(variant) => ParamValue::String(variant.to_owned()),
                None => ParamValue::I32((*p).unmodulated_plain_value()),
            },
        }
    }
}

/// Every parameter's value as nice-plug saves it in a state, by id.
pub fn state_values(params: &dyn Params) -> std::collections::BTreeMap<String, ParamValue> {
    params
        .param_map()
        .into_iter()
        // SAFETY: the pointer comes from `param_map()` of `params`, alive for this call.
        .map(|(id, ptr, _)| (id, unsafe { state_value(ptr) }))
        .collect()
}

/// Makes a saved state safe before nice-plug applies it (`Plugin::filter_state`): a
/// value outside its parameter's range is clamped into it, a non-finite one replaced by
/// the default, a choice index outside the list replaced by the default. nice-plug
/// stores state values as they are, so without this a hand-edited or corrupt project
/// could set a gain of 1e39 dB. Values of the wrong type and unknown ids are left for
/// nice-plug, which skips them.
pub fn sanitize_state(state: &mut PluginState, params: &dyn Params) {
    for (id, value) in state.params.iter_mut() {
        let Ok(ptr) = find(params, id) else {
            continue;
        };
        let info = info_of(id, ptr, "");
        match (ptr, value) {
            (ParamPtr::FloatParam(_), ParamValue::F32(v)) => {
                *v = if v.is_finite() {
                    v.clamp(info.min as f32, info.max as f32)
                } else {
                    info.default as f32
                };
            }
            (ParamPtr::IntParam(_), ParamValue::I32(v)) => {
                *v = (*v).clamp(info.min as i32, info.max as i32);
            }
            (ParamPtr::EnumParam(_), ParamValue::I32(v)) if *v < 0 || *v as f64 > info.max => {
                *v = info.default as i32;
            }
            _ => {}
        }
    }
}

/// Every parameter whose displayed text does not read back to the same text (what
/// clap-validator's `param-conversions` test checks, and what a user typing a value the
/// DAW showed expects): value → text → value → text, over the whole range. Empty when
/// all round-trip. For tests.
pub fn text_round_trip_failures(params: &dyn Params) -> Vec<String> {
    let mut failures = Vec::new();
    for (id, ptr, _) in params.param_map() {
        // Hosts send a value back as they show it: with the unit (clap-validator's
        // `param-conversions`) and without it (a user typing a number).
        'values: for step in 0..=100 {
            let normalized = step as f32 / 100.0;
            for include_unit in [true, false] {
                // SAFETY: see `info_of`.
                let (text, back) = unsafe {
                    let text = ptr.normalized_value_to_string(normalized, include_unit);
                    let back = ptr
                        .string_to_normalized_value(&text)
                        .map(|n| ptr.normalized_value_to_string(n, include_unit));
                    (text, back)
                };
                if back.as_deref() != Some(text.as_str()) {
                    failures.push(format!("{id}: '{text}' reads back as {back:?}"));
                    break 'values;
                }
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::match_choice;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn choices_accept_what_a_user_types() {
        let bits = names(&["Off", "16 bit", "24 bit"]);
        // `--set dither_bits=16` failed with "expected one of: Off, 16 bit, 24 bit".
        assert_eq!(match_choice(&bits, "16"), Some(1));
        assert_eq!(match_choice(&bits, "24"), Some(2));
        assert_eq!(match_choice(&bits, "24.0"), Some(2));
        assert_eq!(match_choice(&bits, "16 BIT"), Some(1));
        assert_eq!(match_choice(&bits, "OFF"), Some(0));
        assert_eq!(match_choice(&bits, "o"), Some(0));
        assert_eq!(match_choice(&bits, "8"), None);
        assert_eq!(match_choice(&bits, ""), None);

        let shapes = names(&["TPDF flat", "Noise-shaped"]);
        assert_eq!(match_choice(&shapes, "noise"), Some(1));
        assert_eq!(match_choice(&shapes, "noise shaped"), Some(1));
        assert_eq!(match_choice(&shapes, "tpdf"), Some(0));

        let laws = names(&["0 dB", "-3 dB", "-4.5 dB", "-6 dB"]);
        assert_eq!(match_choice(&laws, "-3"), Some(1));
        assert_eq!(match_choice(&laws, "-4.5"), Some(2));
        assert_eq!(match_choice(&laws, "0"), Some(0));

        let targets = names(&["Spotify (-14 LUFS)", "Apple Music (-16 LUFS)", "Amazon"]);
        assert_eq!(match_choice(&targets, "spot"), Some(0));
        assert_eq!(match_choice(&targets, "apple music"), Some(1));
        // A start that fits two names is ambiguous.
        assert_eq!(match_choice(&targets, "a"), None);

        // Note values: "1/4" is exact; a bare "1" is a start of many names and matches
        // none of them as a number (the name goes on after the number).
        let notes = names(&["Off", "1/4T", "1/4", "1/4.", "1/1"]);
        assert_eq!(match_choice(&notes, "1/4"), Some(2));
        assert_eq!(match_choice(&notes, "1/4t"), Some(1));
        assert_eq!(match_choice(&notes, "1"), None);
    }
}
