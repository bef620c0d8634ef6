//! A project state saved by this version, kept in the repository
//! (`tests/data/state-v1.json`: the mastering chain with "EBU R 128" loaded, as nice-plug
//! saves it), loads to the same parameter values. A later change to a parameter's id,
//! range or meaning fails this test until a migration (`state_version`) covers it.

use mastering_chain::MasterParams;
use oxide_plugin_common::presets::MASTERING_CHAIN;
use oxide_plugin_common::state_version::assert_kept_state_loads;

#[test]
fn the_kept_state_loads_to_the_same_values() {
    assert_kept_state_loads(
        include_str!("data/state-v1.json"),
        MASTERING_CHAIN,
        "EBU R 128",
        &|| Box::new(MasterParams::default()),
    );
}
