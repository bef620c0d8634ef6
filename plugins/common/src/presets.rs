//! Presets: small TOML files naming parameter ids with values in plain units, exactly as
//! `oxide process --set ID=VALUE` takes them, plus a name, a category and a one-line
//! description. The factory presets live in the repository's `presets/<plugin>/`
//! folders and are compiled in here; a user's preset is the same kind of file, loaded
//! from a path.
//!
//! ```toml
//! version = 1
//! plugin = "channel-strip"
//! name = "Lead vocal"
//! category = "Vocals"
//! description = "Clean, present, controlled"
//!
//! [params]
//! hpf_on = true
//! hpf_freq = 90        # Hz: below the voice's lowest fundamental
//! comp_ratio = 3
//! eq1_type = "Low Shelf"
//! ```
//!
//! Values are TOML numbers (plain units: dB, Hz, ms, %), booleans for switches, or
//! strings (a choice's displayed name, or a number with its unit). A preset sets the
//! parameters it names and leaves every other one at its default, so loading it always
//! gives the same sound whatever was set before. Nothing here runs on the audio thread.

use std::fmt;
use std::path::Path;

use nice_plug::prelude::Params;

use crate::param_access;

/// The preset file format this version writes and reads.
pub const FORMAT_VERSION: i64 = 1;

/// The plugin id the channel strip's presets carry (`plugin = "channel-strip"`).
pub const CHANNEL_STRIP: &str = "channel-strip";
/// The plugin id the mastering chain's presets carry.
pub const MASTERING_CHAIN: &str = "mastering-chain";

/// One compiled-in factory preset file.
#[derive(Debug, Clone, Copy)]
pub struct FactoryFile {
    /// The file's name in `presets/<plugin>/`, for error messages.
    pub file_name: &'static str,
    pub text: &'static str,
}

macro_rules! factory_files {
    ($plugin:literal: $($file:literal),* $(,)?) => {
        &[$(FactoryFile {
            file_name: $file,
            text: include_str!(concat!("../../../presets/", $plugin, "/", $file)),
        }),*]
    };
}

/// The channel strip's factory preset files, in the order a browser lists them.
pub const CHANNEL_STRIP_FILES: &[FactoryFile] = factory_files!("channel-strip":
    "lead-vocal.toml",
    "backing-vocal.toml",
    "spoken-voice.toml",
    "kick.toml",
    "snare.toml",
    "toms.toml",
    "overheads.toml",
    "room.toml",
    "bass-di.toml",
    "bass-amp.toml",
    "electric-guitar-rhythm.toml",
    "electric-guitar-lead.toml",
    "acoustic-guitar.toml",
    "piano.toml",
    "synth-pad.toml",
    "drum-bus.toml",
);

/// The mastering chain's factory preset files.
pub const MASTERING_CHAIN_FILES: &[FactoryFile] = factory_files!("mastering-chain":
    "streaming-pop-rock.toml",
    "streaming-acoustic-jazz.toml",
    "electronic-club.toml",
    "hip-hop.toml",
    "orchestral.toml",
    "podcast.toml",
    "ebu-r128.toml",
    "atsc-a85.toml",
    "cd-16-bit.toml",
    "vinyl-pre-master.toml",
);

/// The factory files of `plugin` ([`CHANNEL_STRIP`] or [`MASTERING_CHAIN`]); empty for
/// any other id.
pub fn factory_files(plugin: &str) -> &'static [FactoryFile] {
    match plugin {
        CHANNEL_STRIP => CHANNEL_STRIP_FILES,
        MASTERING_CHAIN => MASTERING_CHAIN_FILES,
        _ => &[],
    }
}

/// A parsed, validated preset.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub name: String,
    pub category: String,
    pub description: String,
    /// Parameter ids and their values as `--set` text (`90`, `on`, `Low Shelf`).
    pub params: Vec<(String, String)>,
    /// Where it came from (a factory file's name or a user file's path), for messages.
    pub source: String,
}

/// Why a preset could not be read or applied: the file, the key if one is at fault,
/// and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetError {
    pub file: String,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for PresetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "preset '{}', key '{key}': {}", self.file, self.message),
            None => write!(f, "preset '{}': {}", self.file, self.message),
        }
    }
}

impl std::error::Error for PresetError {}

fn error(file: &str, key: Option<&str>, message: impl Into<String>) -> PresetError {
    PresetError {
        file: file.to_owned(),
        key: key.map(str::to_owned),
        message: message.into(),
    }
}

/// A required top-level string.
fn text_field(table: &toml::Table, file: &str, key: &str) -> Result<String, PresetError> {
    match table.get(key) {
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(toml::Value::String(_)) => Err(error(file, Some(key), "is empty")),
        Some(other) => Err(error(
            file,
            Some(key),
            format!("must be a string, not a {}", other.type_str()),
        )),
        None => Err(error(file, Some(key), "is missing")),
    }
}

/// A TOML value as the text `--set` takes.
fn value_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(x) => Some(x.to_string()),
        toml::Value::Boolean(on) => Some(String::from(if *on { "on" } else { "off" })),
        _ => None,
    }
}

/// Parses preset `text` (from `file`, named in errors) for `plugin`, checking every id
/// and value against `params`. `params` is left exactly as it was, but the check sets
/// each value on it for a moment: pass a scratch `Params::default()`, not the params a
/// running plugin is reading.
pub fn parse(
    text: &str,
    file: &str,
    plugin: &str,
    params: &dyn Params,
) -> Result<Preset, PresetError> {
    if text.trim().is_empty() {
        return Err(error(file, None, "the file is empty"));
    }
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        error(
            file,
            None,
            format!("not a valid TOML file: {}", e.message()),
        )
    })?;
    let version = match table.get("version") {
        Some(toml::Value::Integer(v)) if (1..=FORMAT_VERSION).contains(v) => *v as u32,
        Some(toml::Value::Integer(v)) => {
            return Err(error(
                file,
                Some("version"),
                format!(
                    "format version {v} is not supported (this version reads 1 to {FORMAT_VERSION})"
                ),
            ))
        }
        Some(_) => return Err(error(file, Some("version"), "must be a whole number")),
        None => {
            return Err(error(
                file,
                Some("version"),
                "is missing (is this an Oxide preset file?)",
            ))
        }
    };
    let for_plugin = text_field(&table, file, "plugin")?;
    if for_plugin != plugin {
        return Err(error(
            file,
            Some("plugin"),
            format!("this preset is for '{for_plugin}', not '{plugin}'"),
        ));
    }
    let name = text_field(&table, file, "name")?;
    let category = text_field(&table, file, "category")?;
    let description = text_field(&table, file, "description")?;
    let known = [
        "version",
        "plugin",
        "name",
        "category",
        "description",
        "params",
    ];
    if let Some(key) = table.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(error(file, Some(key), "is not a preset field"));
    }
    let Some(toml::Value::Table(values)) = table.get("params") else {
        return Err(error(file, Some("params"), "a [params] table is missing"));
    };
    let mut list = Vec::with_capacity(values.len());
    for (id, value) in values {
        let key = format!("params.{id}");
        let text = value_text(value).ok_or_else(|| {
            error(
                file,
                Some(&key),
                format!(
                    "must be a number, a switch or a name, not a {}",
                    value.type_str()
                ),
            )
        })?;
        list.push((id.clone(), text));
    }
    // An older file is brought up to this version's parameters first.
    crate::state_version::migrate_preset(
        &mut list,
        version,
        crate::state_version::migrations(plugin),
        FORMAT_VERSION as u32,
    );
    let preset = Preset {
        name,
        category,
        description,
        params: list,
        source: file.to_owned(),
    };
    // Setting every value checks it exactly as `--set` would; the snapshot puts the
    // parameters back.
    let before = Snapshot::take(params);
    let checked = preset.set_values(params);
    before.restore(params);
    checked.map(|()| preset)
}

/// Reads and parses a preset file.
pub fn load_file(path: &Path, plugin: &str, params: &dyn Params) -> Result<Preset, PresetError> {
    let file = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| error(&file, None, format!("cannot read it: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| error(&file, None, "not a text file (not valid UTF-8)"))?;
    parse(&text, &file, plugin, params)
}

/// Every factory preset of `plugin`, parsed and checked against `params`; two presets
/// with one name (in any case) are an error, since presets are looked up by name.
pub fn factory(plugin: &str, params: &dyn Params) -> Result<Vec<Preset>, PresetError> {
    let mut presets: Vec<Preset> = Vec::new();
    for f in factory_files(plugin) {
        let preset = parse(f.text, f.file_name, plugin, params)?;
        if let Some(other) = find(&presets, &preset.name) {
            return Err(error(
                f.file_name,
                Some("name"),
                format!("'{}' is also the name of {}", preset.name, other.source),
            ));
        }
        presets.push(preset);
    }
    Ok(presets)
}

/// The preset called `name` (any case, surrounding spaces ignored).
pub fn find<'a>(presets: &'a [Preset], name: &str) -> Option<&'a Preset> {
    let wanted = name.trim().to_lowercase();
    presets.iter().find(|p| p.name.to_lowercase() == wanted)
}

/// Every parameter's normalized value, to put back.
struct Snapshot(Vec<(String, f32)>);

impl Snapshot {
    fn take(params: &dyn Params) -> Self {
        let values = params
            .param_map()
            .into_iter()
            // SAFETY: the pointer comes from `param_map()` of `params`, which the caller
            // holds a reference to, so the parameter is alive for this call.
            .map(|(id, ptr, _)| (id, unsafe { ptr.unmodulated_normalized_value() }))
            .collect();
        Snapshot(values)
    }

    fn restore(&self, params: &dyn Params) {
        for (id, normalized) in &self.0 {
            // The ids and values come from the same `params`: this cannot fail.
            let _ = param_access::set_normalized(params, id, *normalized);
        }
    }
}

/// Every parameter back to its default.
fn reset_to_defaults(params: &dyn Params) {
    for (_, ptr, _) in params.param_map() {
        // SAFETY: as in `Snapshot::take`; a default is a valid normalized value.
        unsafe {
            let default = ptr.default_normalized_value();
            ptr._internal_set_normalized_value(default);
        }
    }
}

impl Preset {
    fn set_values(&self, params: &dyn Params) -> Result<(), PresetError> {
        for (id, text) in &self.params {
            param_access::set_from_text(params, id, text)
                .map_err(|e| error(&self.source, Some(&format!("params.{id}")), e.to_string()))?;
        }
        Ok(())
    }

    /// Loads the preset into `params`: every parameter to its default, then the
    /// preset's values, each set as `--set` sets it. On an error nothing changes.
    /// This sets the values directly, as the `oxide` command and the tests do; a
    /// plugin's editor must go through its `ParamSetter` so the host hears of it.
    pub fn apply(&self, params: &dyn Params) -> Result<(), PresetError> {
        let before = Snapshot::take(params);
        reset_to_defaults(params);
        let result = self.set_values(params);
        if result.is_err() {
            before.restore(params);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.toml` file in `presets/<plugin>/` is in the compiled-in table and every
    /// table entry is a file there: a preset added to the folder but not to the table
    /// (or the reverse) fails here.
    #[test]
    fn compiled_in_tables_list_exactly_the_preset_folders() {
        for plugin in [CHANNEL_STRIP, MASTERING_CHAIN] {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../presets")
                .join(plugin);
            let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".toml"))
                .collect();
            on_disk.sort();
            let mut listed: Vec<String> = factory_files(plugin)
                .iter()
                .map(|f| f.file_name.to_owned())
                .collect();
            listed.sort();
            assert_eq!(on_disk, listed, "{plugin}");
        }
    }

    #[test]
    fn unknown_plugins_have_no_factory_files() {
        assert!(factory_files("reverb").is_empty());
    }
}
