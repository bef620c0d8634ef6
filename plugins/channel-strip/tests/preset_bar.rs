//! The preset bar's logic on the channel strip's real parameters, headless: loading a
//! preset by index, previous/next, the "modified" mark, saving a user preset, undo of
//! a change, A/B swap, and one drawn frame of the bar.

use std::sync::RwLock;

use channel_strip::StripParams;
use oxide_plugin_common::history::{AbState, Direct, Snapshot};
use oxide_plugin_common::param_access;
use oxide_plugin_common::preset_bar::PresetBar;
use oxide_plugin_common::presets::CHANNEL_STRIP;
use oxide_plugin_common::user_presets::DIR_ENV;

#[test]
fn the_bar_loads_steps_marks_saves_undoes_and_swaps() {
    let temp = tempfile::tempdir().unwrap();
    // SAFETY: the only test in this binary; set before the library reads it.
    unsafe { std::env::set_var(DIR_ENV, temp.path()) };
    let live = StripParams::default();
    let mut bar = PresetBar::new(CHANNEL_STRIP, &live, Box::new(StripParams::default()));
    assert!(bar.message().is_none());
    assert_eq!(bar.loaded_name(), None);

    // Loading gives exactly the preset's values (as applying it to fresh params does).
    let kick = bar.library().position("Kick").unwrap();
    bar.load(kick, &live, &Direct);
    let expected = StripParams::default();
    bar.library().entries[kick].preset.apply(&expected).unwrap();
    assert_eq!(Snapshot::take(&live), Snapshot::take(&expected));
    assert_eq!(bar.loaded_name(), Some("Kick"));
    assert!(!bar.modified(&live));

    // Next, then previous, comes back to it.
    bar.step(1, &live, &Direct);
    assert_ne!(bar.loaded_name(), Some("Kick"));
    bar.step(-1, &live, &Direct);
    assert_eq!(bar.loaded_name(), Some("Kick"));

    // A change marks it modified; saving makes it the loaded user preset, unmodified.
    param_access::set_from_text(&live, "out_gain", "-5").unwrap();
    assert!(bar.modified(&live));
    bar.save("Kick, quieter", &live);
    assert!(bar.message().is_none(), "{:?}", bar.message());
    assert_eq!(bar.loaded_name(), Some("Kick, quieter"));
    assert!(!bar.modified(&live));
    assert!(temp
        .path()
        .join("channel-strip/kick--quieter.toml")
        .is_file());

    // A/B: swap to B (a copy), change it, swap back to A's exact values.
    let a = Snapshot::take(&live);
    let ab = RwLock::new(AbState::default());
    ab.write()
        .unwrap()
        .swap(&live, &StripParams::default(), &Direct);
    param_access::set_from_text(&live, "in_gain", "6").unwrap();
    ab.write()
        .unwrap()
        .swap(&live, &StripParams::default(), &Direct);
    assert_eq!(Snapshot::take(&live), a);

    // One drawn frame (no gesture under way) records the change since the last
    // snapshot as one undo step.
    let ctx = egui::Context::default();
    let frame = |bar: &mut PresetBar| {
        let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
            bar.ui(ui, &live, &ab, &Direct);
        });
        // No renderer here: the font texture is not uploaded anywhere.
        output.textures_delta.clear();
    };
    frame(&mut bar);
    let before = Snapshot::take(&live);
    param_access::set_from_text(&live, "eq3_gain", "4").unwrap();
    frame(&mut bar);
    assert!(bar.history().can_undo());
    assert!(bar.undo(&live, &Direct));
    assert_eq!(Snapshot::take(&live), before);
    frame(&mut bar);
    assert!(
        bar.history().can_redo(),
        "undo is not recorded as a new step"
    );
    assert!(bar.redo(&live, &Direct));
    assert_eq!(param_access::plain_value(&live, "eq3_gain").unwrap(), 4.0);
}
