//! The preset bar in the strip's real editor (the shell's top bar, the code the plugin
//! opens), driven headless with `egui_kittest` through the kit's test host: next preset,
//! undo, saving a user preset by typing its name, A/B, each change sent as proper host
//! gestures; and the top bar's items side by side, none over another, at the smallest
//! window. One test in this binary: it points the user preset folder at a temporary one.

use std::sync::Arc;

use channel_strip::editor;
use channel_strip::params::{StripParams, DEFAULT_SIZE};
use channel_strip::Meters;
use egui::{Key, Modifiers, Rect, Vec2};
use egui_kittest::kittest::{by, NodeT, Queryable};
use egui_kittest::Harness;
use oxide_plugin_common::editor::testing::{check_row, TestContext, PRESET_BAR_ROW};
use oxide_plugin_common::history::Snapshot;
use oxide_plugin_common::param_access;
use oxide_plugin_common::presets::CHANNEL_STRIP;
use oxide_plugin_common::user_presets::{Library, DIR_ENV};

fn rect(harness: &Harness, label: &str) -> Rect {
    harness.get_by_label(label).rect()
}

#[test]
fn the_top_bars_presets_load_undo_save_and_compare() {
    let temp = tempfile::tempdir().unwrap();
    // SAFETY: the only test in this binary; set before any library reads it.
    unsafe { std::env::set_var(DIR_ENV, temp.path()) };

    // A corrupt user preset beside the good ones: the editor names it and skips it.
    let user = temp.path().join("channel-strip");
    std::fs::create_dir_all(&user).unwrap();
    let corrupt = user.join("broken.toml");
    let corrupt_bytes = b"name = \"Broken\"\n[params\nout_gain = ".to_vec();
    std::fs::write(&corrupt, &corrupt_bytes).unwrap();

    let params = Arc::new(StripParams::default());
    let context = TestContext::new(params.clone());
    let defaults = Snapshot::take(params.as_ref());
    let mut app = editor::app(params.clone(), Arc::new(Meters::default()));

    // The smallest window: title, preset bar, the strip's switches and the scale menu
    // in one row, left to right, none over the next, all inside the window.
    {
        let size = Vec2::new(editor::MIN_SIZE.0, editor::MIN_SIZE.1);
        let mut harness = Harness::builder()
            .with_size(size)
            .build_ui(|ui| app.frame(ui, &context.setter()));
        harness.run();
        let row: Vec<(&str, Rect)> = PRESET_BAR_ROW
            .iter()
            .chain(&["Bypass", "Dynamics Pre EQ", "UI scale"])
            .map(|&label| (label, rect(&harness, label)))
            .collect();
        check_row(&row, size.x).unwrap();
    }

    let size = Vec2::new(DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32);
    let mut harness = Harness::builder()
        .with_size(size)
        .with_step_dt(1.0 / 60.0)
        .with_max_steps(240)
        .build_ui(|ui| app.frame(ui, &context.setter()));
    harness.run();
    context.take_gestures();
    let skipped = harness.get(by().label_contains("Skipped:")).rect();
    assert!(
        skipped.top() > rect(&harness, "Preset").bottom(),
        "the warning is under the bar"
    );
    assert!(harness.query_by_label_contains("broken.toml").is_some());

    // A knob dragged in many moves, then Undo: every parameter exactly as before.
    let before_drag = Snapshot::take(params.as_ref());
    let centre = rect(&harness, "Reverb Decay").center();
    harness.drag_at(centre);
    for step in 1..=12 {
        harness.hover_at(centre - Vec2::new(0.0, 5.0 * step as f32));
        harness.run();
    }
    harness.drop_at(centre - Vec2::new(0.0, 60.0));
    harness.run();
    assert_ne!(
        Snapshot::take(params.as_ref()),
        before_drag,
        "the drag did nothing"
    );
    harness.get_by_label("Undo").click();
    harness.run();
    assert_eq!(Snapshot::take(params.as_ref()), before_drag);
    harness.get_by_label("Redo").click();
    harness.run();
    assert_ne!(
        Snapshot::take(params.as_ref()),
        before_drag,
        "redo did nothing"
    );
    harness.get_by_label("Undo").click();
    harness.run();
    context.check().unwrap();
    context.take_gestures();

    // Next preset: with none loaded, the library's first; the parameters become exactly
    // what the preset gives fresh parameters, each sent as begin / set / end.
    let library = Library::load(CHANNEL_STRIP, &StripParams::default()).unwrap();
    let first = &library.entries[0].preset;
    let expected = StripParams::default();
    first.apply(&expected).unwrap();
    harness.get_by_label("Next preset").click();
    harness.run();
    assert_eq!(Snapshot::take(params.as_ref()), Snapshot::take(&expected));
    assert!(!context.gestures().is_empty(), "the host heard of nothing");
    context.check().unwrap();
    assert_eq!(app_loaded_name(&harness).as_deref(), Some(&*first.name));

    // Undo brings back the settings from before the load, as one step.
    harness.get_by_label("Undo").click();
    harness.run();
    assert_eq!(Snapshot::take(params.as_ref()), defaults);
    context.check().unwrap();

    // Save: type a name and press Enter; the preset file is in the user folder and
    // the menu shows it as loaded.
    param_access::set_from_text(params.as_ref(), "out_gain", "-3").unwrap();
    harness.run();
    harness.get_by_label("Save").click();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness.run();
    harness.event(egui::Event::Text("Quiet Vocal".into()));
    harness.run();
    harness.key_press(Key::Enter);
    harness.run();
    let saved = temp.path().join("channel-strip/quiet-vocal.toml");
    assert!(saved.is_file(), "no {}", saved.display());
    assert_eq!(
        app_loaded_name(&harness).as_deref(),
        Some("Quiet Vocal"),
        "the saved preset is not the loaded one"
    );

    // A/B: to B (a copy of A), change it, back to A's exact values.
    let a = Snapshot::take(params.as_ref());
    harness.get_by_label("Settings B").click();
    harness.run();
    assert_eq!(
        Snapshot::take(params.as_ref()),
        a,
        "B starts as a copy of A"
    );
    param_access::set_from_text(params.as_ref(), "in_gain", "6").unwrap();
    harness.run();
    harness.get_by_label("Settings A").click();
    harness.run();
    assert_eq!(Snapshot::take(params.as_ref()), a);
    context.check().unwrap();

    // The corrupt file is as it was.
    assert_eq!(std::fs::read(&corrupt).unwrap(), corrupt_bytes);
}

/// The preset menu's text: the loaded preset's name, `*` when changed since.
fn app_loaded_name(harness: &Harness) -> Option<String> {
    let value = harness.get_by_label("Preset").accesskit_node().value()?;
    Some(value.trim_end_matches(" *").to_owned())
}
