//! The kit's controls driven headless (`egui_kittest`) through the test host: what a
//! drag, a double-click, the wheel and a typed value do to a parameter, and that each is
//! exactly one host gesture.

use std::sync::Arc;

use egui::{Event, Modifiers, MouseWheelUnit, Pos2, Vec2};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use nice_plug::prelude::*;
use oxide_plugin_common::editor::testing::{Gesture, TestContext};
use oxide_plugin_common::editor::widgets::{Fader, Knob, Toggle, DRAG_TRAVEL, FINE_FACTOR};
use oxide_plugin_common::param_builders::db_param;

#[derive(Params)]
struct TestParams {
    #[id = "gain"]
    gain: FloatParam,
    #[id = "level"]
    level: FloatParam,
    #[id = "on"]
    on: BoolParam,
}

fn setup() -> (Arc<TestParams>, Arc<TestContext>) {
    let params = Arc::new(TestParams {
        gain: db_param("Gain", 0.0, -24.0, 24.0),
        level: db_param("Level", 0.0, -48.0, 12.0),
        on: BoolParam::new("Power", false),
    });
    let context = TestContext::new(params.clone());
    (params, context)
}

fn harness<'a>(params: &'a TestParams, context: &'a TestContext) -> Harness<'a> {
    Harness::builder()
        .with_size(Vec2::new(400.0, 300.0))
        // A display's frame time: the harness steps once per queued event, and a
        // double-click must fit in egui's 0.3 s.
        .with_step_dt(1.0 / 60.0)
        .with_max_steps(120)
        .build_ui(move |ui| {
            let setter = context.setter();
            ui.horizontal(|ui| {
                Knob::new(&params.gain, &setter).show(ui);
                Fader::new(&params.level, &setter).show(ui);
                Toggle::new(&params.on, &setter).show(ui);
            });
        })
}

fn drag(harness: &mut Harness, from: Pos2, by: Vec2, modifiers: Modifiers) {
    harness.event(Event::PointerMoved(from));
    harness.event(Event::PointerButton {
        pos: from,
        button: PointerButton::Primary,
        pressed: true,
        modifiers,
    });
    harness.run();
    if modifiers.shift {
        harness.event(Event::ModifiersChanged(modifiers));
    }
    harness.event(Event::PointerMoved(from + by));
    harness.run();
    harness.event(Event::PointerButton {
        pos: from + by,
        button: PointerButton::Primary,
        pressed: false,
        modifiers,
    });
    harness.event(Event::ModifiersChanged(Modifiers::NONE));
    harness.run();
}

use egui::PointerButton;

#[test]
fn a_drag_moves_the_knob_by_its_travel_in_one_gesture() {
    let (params, context) = setup();
    let mut harness = harness(&params, &context);
    harness.run();
    let centre = harness.get_by_label("Gain").rect().center();
    // 50 px up: a quarter of the travel, so a quarter of the 48 dB range.
    drag(&mut harness, centre, Vec2::new(0.0, -50.0), Modifiers::NONE);
    let expected = 48.0 * 50.0 / DRAG_TRAVEL;
    assert!(
        (params.gain.value() - expected).abs() < 1e-3,
        "{}",
        params.gain.value()
    );
    assert_eq!(context.gesture_counts().get("gain"), Some(&1));
    context.check().expect("well-formed gestures");
    // Shift: ten times finer, down by 40 px = -0.96 dB.
    let before = params.gain.value();
    drag(&mut harness, centre, Vec2::new(0.0, 40.0), Modifiers::SHIFT);
    let expected = before - 48.0 * 40.0 / DRAG_TRAVEL * FINE_FACTOR;
    assert!(
        (params.gain.value() - expected).abs() < 1e-3,
        "{}",
        params.gain.value()
    );
    assert_eq!(context.gesture_counts().get("gain"), Some(&2));
    context.check().expect("well-formed gestures");
}

#[test]
fn double_click_resets_and_the_wheel_steps() {
    let (params, context) = setup();
    let mut harness = harness(&params, &context);
    harness.run();
    let centre = harness.get_by_label("Gain").rect().center();
    drag(
        &mut harness,
        centre,
        Vec2::new(0.0, -100.0),
        Modifiers::NONE,
    );
    assert!(params.gain.value() > 20.0);
    harness.get_by_label("Gain").click();
    harness.run();
    harness.get_by_label("Gain").click();
    harness.run();
    assert_eq!(params.gain.value(), 0.0);
    // One notch up: nice-plug's step, 2 % of the range (0.96 dB).
    harness.event(Event::PointerMoved(centre));
    harness.event(Event::MouseWheel {
        unit: MouseWheelUnit::Line,
        delta: Vec2::new(0.0, 1.0),
        phase: egui::TouchPhase::Move,
        modifiers: Modifiers::NONE,
        source: egui::MouseWheelSource::Wheel,
    });
    harness.run();
    assert!(
        (params.gain.value() - 0.96).abs() < 1e-3,
        "{}",
        params.gain.value()
    );
    // Ctrl-click (Cmd on a Mac): the default too. Half a second first, so this click
    // cannot count as a double-click with the ones before.
    harness.run_steps(30);
    harness
        .get_by_label("Gain")
        .click_modifiers(Modifiers::COMMAND);
    harness.run();
    assert_eq!(params.gain.value(), 0.0);
    context.check().expect("well-formed gestures");
}

#[test]
fn a_typed_value_is_parsed_in_the_parameters_units() {
    let (params, context) = setup();
    let mut harness = harness(&params, &context);
    harness.run();
    let rect = harness.get_by_label("Level").rect();
    // The value text sits under the fader's track.
    let value = Pos2::new(rect.center().x, rect.bottom() + 12.0);
    harness.event(Event::PointerMoved(value));
    harness.run();
    harness.event(Event::PointerButton {
        pos: value,
        button: PointerButton::Secondary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    harness.event(Event::PointerButton {
        pos: value,
        button: PointerButton::Secondary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    harness.event(Event::Text(String::from("-6 dB")));
    harness.key_press(egui::Key::Enter);
    harness.run();
    assert_eq!(params.level.value(), -6.0);
    assert_eq!(
        context.gestures(),
        vec![
            Gesture::Begin(String::from("level")),
            Gesture::Set(String::from("level"), params.level.preview_normalized(-6.0)),
            Gesture::End(String::from("level")),
        ]
    );
}

#[test]
fn a_click_switches_a_toggle_in_one_gesture() {
    let (params, context) = setup();
    let mut harness = harness(&params, &context);
    harness.run();
    harness.get_by_label("Power").click();
    harness.run();
    assert!(params.on.value());
    harness.get_by_label("Power").click();
    harness.run();
    assert!(!params.on.value());
    assert_eq!(context.gesture_counts().get("on"), Some(&2));
    context.check().expect("well-formed gestures");
}

#[test]
fn hovering_a_control_shows_what_it_is_and_how_to_use_it() {
    let (params, context) = setup();
    let mut harness = harness(&params, &context);
    harness.run();
    harness.get_by_label("Gain").hover();
    // egui waits a moment before showing a tooltip: a second of frames.
    harness.run_steps(60);
    assert!(harness
        .query_by_label_contains("Gain: -24.00 dB … 24.00 dB, default 0.00 dB")
        .is_some());
    assert!(harness.query_by_label_contains("Shift: fine").is_some());
}
