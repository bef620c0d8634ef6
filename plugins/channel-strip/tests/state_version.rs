//! A project state saved by this version, kept in the repository
//! (`tests/data/state-v1.json`: the channel strip with "Lead Vocal" loaded, as nice-plug
//! saves it), loads to the same parameter values. A later change to a parameter's id,
//! range or meaning fails this test until a migration (`state_version`) covers it.

use channel_strip::StripParams;
use nice_plug::prelude::PluginState;
use oxide_plugin_common::param_access;
use oxide_plugin_common::presets::{self, CHANNEL_STRIP};
use oxide_plugin_common::state_version::{self, STATE_VERSION};

const STORED: &str = include_str!("data/state-v1.json");

fn expected() -> String {
    let params = StripParams::default();
    let factory = presets::factory(CHANNEL_STRIP, &params).unwrap();
    presets::find(&factory, "Lead Vocal")
        .unwrap()
        .apply(&params)
        .unwrap();
    format!("{:?}", param_access::state_values(&params))
}

#[test]
fn the_kept_state_loads_to_the_same_values() {
    let mut state: PluginState = serde_json::from_str(STORED).unwrap();
    assert_eq!(state_version::state_version(&state), 1);
    state_version::migrate_state(
        &mut state,
        state_version::CHANNEL_STRIP_MIGRATIONS,
        STATE_VERSION,
    );
    let params = StripParams::default();
    let unknown =
        param_access::apply_state_json(&params, &serde_json::to_vec(&state).unwrap()).unwrap();
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(
        format!("{:?}", param_access::state_values(&params)),
        expected()
    );
}
