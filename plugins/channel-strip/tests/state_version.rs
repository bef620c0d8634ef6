//! A project state saved by this version, kept in the repository
//! (`tests/data/state-v1.json`: the channel strip with "Lead Vocal" loaded, as nice-plug
//! saves it), loads to the same parameter values. A later change to a parameter's id,
//! range or meaning fails this test until a migration (`state_version`) covers it.

use channel_strip::StripParams;
use oxide_plugin_common::presets::CHANNEL_STRIP;
use oxide_plugin_common::state_version::assert_kept_state_loads;

#[test]
fn the_kept_state_loads_to_the_same_values() {
    assert_kept_state_loads(
        include_str!("data/state-v1.json"),
        CHANNEL_STRIP,
        "Lead Vocal",
        &|| Box::new(StripParams::default()),
    );
}
