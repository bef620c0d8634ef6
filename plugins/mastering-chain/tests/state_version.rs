//! A project state saved by this version, kept in the repository
//! (`tests/data/state-v1.json`: the mastering chain with "EBU R 128" loaded, as nice-plug
//! saves it), loads to the same parameter values. A later change to a parameter's id,
//! range or meaning fails this test until a migration (`state_version`) covers it.

use mastering_chain::MasterParams;
use nice_plug::prelude::PluginState;
use oxide_plugin_common::param_access;
use oxide_plugin_common::presets::{self, MASTERING_CHAIN};
use oxide_plugin_common::state_version::{self, STATE_VERSION};

const STORED: &str = include_str!("data/state-v1.json");

fn expected() -> String {
    let params = MasterParams::default();
    let factory = presets::factory(MASTERING_CHAIN, &params).unwrap();
    presets::find(&factory, "EBU R 128")
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
        state_version::MASTERING_CHAIN_MIGRATIONS,
        STATE_VERSION,
    );
    let params = MasterParams::default();
    let unknown =
        param_access::apply_state_json(&params, &serde_json::to_vec(&state).unwrap()).unwrap();
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(
        format!("{:?}", param_access::state_values(&params)),
        expected()
    );
}
