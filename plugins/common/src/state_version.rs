//! Format versions of saved projects and preset files, and the migration table that
//! keeps an old one sounding the same after a parameter changes.
//!
//! A project's state carries [`STATE_VERSION`] in its `state-version` field (a field
//! each plugin persists; a state without it predates versioning and is version 1, this
//! one). A preset file carries `version = N` ([`crate::presets::FORMAT_VERSION`]).
//! When a later version changes a parameter, it adds a [`Migration`] to the plugin's
//! table and raises the version; loading an older state or preset then applies every
//! migration newer than it, in order:
//!
//! - [`Change::Renamed`]: the value saved under the old id moves to the new one.
//! - [`Change::Rescaled`]: the saved plain value is mapped into the new units or range
//!   (`new = map(old)`), for a change of unit or scale; a range that only widens needs
//!   no entry, since states and presets store plain values.
//! - [`Change::DefaultChanged`]: a preset that did not name the parameter meant the old
//!   default, which is written in. (A project's state names every parameter, so only
//!   presets need this.)
//!
//! Nothing here runs on the audio thread.

use nice_plug::plugin::ParamValue;
use nice_plug::prelude::PluginState;

/// The state format this version writes.
pub const STATE_VERSION: u32 = 1;

/// The persisted field a project's state carries its version in.
pub const STATE_VERSION_FIELD: &str = "state-version";

/// What changed about one parameter in one version.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// The parameter's id was `from` before this version.
    Renamed { from: &'static str },
    /// A saved plain value `v` of an earlier version is `map(v)` now.
    Rescaled { map: fn(f32) -> f32 },
    /// The default was `old` (plain value, as `--set` text) before this version.
    DefaultChanged { old: &'static str },
}

/// One entry of a plugin's migration table.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version that made the change: states and presets older than it migrate.
    pub version: u32,
    /// The parameter's id in that version.
    pub id: &'static str,
    pub change: Change,
}

/// The channel strip's migrations (none yet: this is version 1).
pub const CHANNEL_STRIP_MIGRATIONS: &[Migration] = &[];
/// The mastering chain's migrations (none yet).
pub const MASTERING_CHAIN_MIGRATIONS: &[Migration] = &[];

/// The migration table of `plugin` (a preset plugin id); empty for any other.
pub fn migrations(plugin: &str) -> &'static [Migration] {
    match plugin {
        crate::presets::CHANNEL_STRIP => CHANNEL_STRIP_MIGRATIONS,
        crate::presets::MASTERING_CHAIN => MASTERING_CHAIN_MIGRATIONS,
        _ => &[],
    }
}

/// The version a state was saved with (1 when it has no version field).
pub fn state_version(state: &PluginState) -> u32 {
    state
        .fields
        .get(STATE_VERSION_FIELD)
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or(1)
}

/// Brings a project's state saved by an older version up to `current` with `table`,
/// and marks it `current`. A state from a newer version is left as it is (its
/// parameters are still applied by id; unknown ones are skipped by nice-plug).
pub fn migrate_state(state: &mut PluginState, table: &[Migration], current: u32) {
    let saved = state_version(state);
    if saved >= current {
        return;
    }
    for m in table
        .iter()
        .filter(|m| m.version > saved && m.version <= current)
    {
        match m.change {
            Change::Renamed { from } => {
                if let Some(value) = state.params.remove(from) {
                    state.params.insert(m.id.to_owned(), value);
                }
            }
            Change::Rescaled { map } => {
                if let Some(ParamValue::F32(v)) = state.params.get_mut(m.id) {
                    *v = map(*v);
                }
            }
            // A state names every parameter: nothing to add.
            Change::DefaultChanged { .. } => {}
        }
    }
    state
        .fields
        .insert(STATE_VERSION_FIELD.to_owned(), current.to_string());
}

/// Brings a preset's values (id, `--set` text) of format `saved` up to `current`.
pub fn migrate_preset(
    params: &mut Vec<(String, String)>,
    saved: u32,
    table: &[Migration],
    current: u32,
) {
    for m in table
        .iter()
        .filter(|m| m.version > saved && m.version <= current)
    {
        match m.change {
            Change::Renamed { from } => {
                for (id, _) in params.iter_mut().filter(|(id, _)| id == from) {
                    *id = m.id.to_owned();
                }
            }
            Change::Rescaled { map } => {
                for (_, text) in params.iter_mut().filter(|(id, _)| id == m.id) {
                    if let Ok(v) = text.trim().parse::<f32>() {
                        *text = map(v).to_string();
                    }
                }
            }
            Change::DefaultChanged { old } => {
                if !params.iter().any(|(id, _)| id == m.id) {
                    params.push((m.id.to_owned(), old.to_owned()));
                }
            }
        }
    }
}

/// For each plugin's test of its kept project state: `stored` (a state JSON saved by a
/// released version with the factory preset `preset` of `plugin` loaded) migrates, loads
/// into a fresh `params` with every parameter known, and gives exactly the values the
/// preset gives to another fresh set (`fresh`). Panics, with what differs, otherwise.
pub fn assert_kept_state_loads(
    stored: &str,
    plugin: &str,
    preset: &str,
    fresh: &dyn Fn() -> Box<dyn nice_plug::prelude::Params>,
) {
    use crate::{param_access, presets};
    let expected = {
        let params = fresh();
        let factory = presets::factory(plugin, params.as_ref()).unwrap();
        let found = presets::find(&factory, preset).expect("the factory preset");
        found.apply(params.as_ref()).unwrap();
        format!("{:?}", param_access::state_values(params.as_ref()))
    };
    let mut state: PluginState = serde_json::from_str(stored).unwrap();
    assert_eq!(state_version(&state), 1);
    migrate_state(&mut state, migrations(plugin), STATE_VERSION);
    let params = fresh();
    let json = serde_json::to_vec(&state).unwrap();
    let unknown = param_access::apply_state_json(params.as_ref(), &json).unwrap();
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(
        format!("{:?}", param_access::state_values(params.as_ref())),
        expected
    );
}

#[cfg(test)]
mod tests {
    //! A simulated change: version 1 of a small plugin saves a state and a preset
    //! (kept in `tests/data/`); version 2 renames `gain` to `level`, widens its range,
    //! moves `freq`'s default and rescales `mix` from percent to a 0–1 amount. With the
    //! table, both load into version 2 to the same values.

    use super::*;
    use crate::param_access;
    use nice_plug::prelude::*;

    #[derive(Params)]
    struct V1 {
        #[id = "gain"]
        gain: FloatParam,
        #[id = "freq"]
        freq: FloatParam,
        #[id = "mix"]
        mix: FloatParam,
        #[id = "on"]
        on: BoolParam,
    }

    impl Default for V1 {
        fn default() -> Self {
            Self {
                gain: FloatParam::new(
                    "Gain",
                    0.0,
                    FloatRange::Linear {
                        min: -24.0,
                        max: 24.0,
                    },
                ),
                freq: FloatParam::new(
                    "Freq",
                    1000.0,
                    FloatRange::Skewed {
                        min: 20.0,
                        max: 20_000.0,
                        factor: FloatRange::skew_factor(-2.0),
                    },
                ),
                mix: FloatParam::new(
                    "Mix",
                    100.0,
                    FloatRange::Linear {
                        min: 0.0,
                        max: 100.0,
                    },
                ),
                on: BoolParam::new("On", false),
            }
        }
    }

    #[derive(Params)]
    struct V2 {
        #[id = "level"]
        level: FloatParam,
        #[id = "freq"]
        freq: FloatParam,
        #[id = "mix"]
        mix: FloatParam,
        #[id = "on"]
        on: BoolParam,
    }

    impl Default for V2 {
        fn default() -> Self {
            Self {
                level: FloatParam::new(
                    "Level",
                    0.0,
                    FloatRange::Linear {
                        min: -48.0,
                        max: 24.0,
                    },
                ),
                freq: FloatParam::new(
                    "Freq",
                    2000.0,
                    FloatRange::Skewed {
                        min: 20.0,
                        max: 20_000.0,
                        factor: FloatRange::skew_factor(-2.0),
                    },
                ),
                mix: FloatParam::new("Mix", 1.0, FloatRange::Linear { min: 0.0, max: 1.0 }),
                on: BoolParam::new("On", false),
            }
        }
    }

    const TABLE: &[Migration] = &[
        Migration {
            version: 2,
            id: "level",
            change: Change::Renamed { from: "gain" },
        },
        Migration {
            version: 2,
            id: "freq",
            change: Change::DefaultChanged { old: "1000" },
        },
        Migration {
            version: 2,
            id: "mix",
            change: Change::Rescaled {
                map: |percent| percent / 100.0,
            },
        },
    ];

    const STATE_V1: &str = include_str!("../tests/data/state-v1.json");
    const PRESET_V1: &str = include_str!("../tests/data/preset-v1.toml");

    /// The values version 1 saved: gain −7.5 dB, freq 440 Hz (440.0001 after its skewed
    /// range's round trip, as the stored file has it), mix 40 %, on.
    fn check_v2(params: &V2, freq: f32) {
        assert_eq!(params.level.value(), -7.5);
        assert_eq!(params.freq.value(), freq);
        assert_eq!(params.mix.value(), 0.4);
        assert!(params.on.value());
    }

    #[test]
    fn the_stored_state_is_what_version_1_saves() {
        // Guards the kept file: version 1's parameters, set as it says, save to it.
        let v1 = V1::default();
        for (id, text) in [
            ("gain", "-7.5"),
            ("freq", "440"),
            ("mix", "40"),
            ("on", "on"),
        ] {
            param_access::set_from_text(&v1, id, text).unwrap();
        }
        let stored: PluginState = serde_json::from_str(STATE_V1).unwrap();
        assert_eq!(
            format!("{:?}", param_access::state_values(&v1)),
            format!("{:?}", stored.params)
        );
    }

    #[test]
    fn a_version_1_state_loads_into_version_2_with_the_same_values() {
        let mut state: PluginState = serde_json::from_str(STATE_V1).unwrap();
        assert_eq!(state_version(&state), 1);
        migrate_state(&mut state, TABLE, 2);
        assert_eq!(state_version(&state), 2);
        let json = serde_json::to_vec(&state).unwrap();
        let v2 = V2::default();
        let unknown = param_access::apply_state_json(&v2, &json).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        check_v2(&v2, 440.0001);

        // Without the table the renamed value is lost and mix is out of range: the test
        // can fail.
        let state: PluginState = serde_json::from_str(STATE_V1).unwrap();
        let v2 = V2::default();
        assert!(param_access::apply_state_json(&v2, &serde_json::to_vec(&state).unwrap()).is_err());
    }

    #[test]
    fn a_version_1_preset_keeps_the_old_default_it_relied_on() {
        let table: toml::Table = PRESET_V1.parse().unwrap();
        let saved = table["version"].as_integer().unwrap() as u32;
        let mut values: Vec<(String, String)> = table["params"]
            .as_table()
            .unwrap()
            .iter()
            .map(|(id, v)| {
                let text = match v {
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(x) => x.to_string(),
                    toml::Value::Boolean(on) => on.to_string(),
                    other => panic!("{id}: {other:?}"),
                };
                (id.clone(), text)
            })
            .collect();
        assert!(
            !values.iter().any(|(id, _)| id == "freq"),
            "the preset leaves freq at its default"
        );
        migrate_preset(&mut values, saved, TABLE, 2);
        let v2 = V2::default();
        for (id, text) in &values {
            param_access::set_from_text(&v2, id, text).unwrap();
        }
        assert_eq!(
            v2.freq.value(),
            1000.0,
            "version 1's default, not version 2's"
        );
        assert_eq!(v2.level.value(), -7.5);
        assert_eq!(v2.mix.value(), 0.4);
    }
}
