//! The strip's real editor (shell and body, the code the plugin opens) driven headless
//! with `egui_kittest` through the kit's test host: what the EQ's handles, a typed value
//! and the module switches do to the parameters, that each drag is one host gesture,
//! and where the module panels lie at the default size and at 200 %.

use std::sync::Arc;

use channel_strip::editor::eq_view::{Axes, Q_NOTCHES_PER_OCTAVE};
use channel_strip::editor::layout::MODULES;
use channel_strip::editor::{self, StripEditor};
use channel_strip::params::{StripParams, DEFAULT_SIZE};
use channel_strip::Meters;
use egui::{Event, Modifiers, MouseWheelUnit, PointerButton, Pos2, Rect, Vec2};
use egui_kittest::kittest::{by, NodeT, Queryable};
use egui_kittest::Harness;
use nice_plug::prelude::{Param, Params};
use oxide_plugin_common::editor::fit::HOST_ANSWER_WAIT;
use oxide_plugin_common::editor::panel::panel_rects;
use oxide_plugin_common::editor::testing::{check_fitted_zoom, TestContext};
use oxide_plugin_common::editor::App;

struct Setup {
    params: Arc<StripParams>,
    context: Arc<TestContext>,
}

fn setup() -> Setup {
    let params = Arc::new(StripParams::default());
    let context = TestContext::new(params.clone());
    Setup { params, context }
}

/// The editor at `size` (logical points) and `scale` (egui's zoom, as the plugin sets it
/// from the saved scale when its window opens). The window is `size` × `scale` pixels,
/// as egui-baseview makes it (the layout's size times the zoom).
fn harness<'a>(
    app: &'a mut App<StripEditor>,
    context: &'a TestContext,
    size: Vec2,
    scale: f32,
) -> Harness<'a> {
    let mut harness = Harness::builder()
        .with_size(size * scale)
        // A display's frame time: the harness steps once per queued event, and a
        // double-click must fit in egui's 0.3 s.
        .with_step_dt(1.0 / 60.0)
        .with_max_steps(240)
        .build_ui(move |ui| {
            let setter = context.setter();
            app.frame(ui, &setter);
        });
    harness.ctx.set_zoom_factor(scale);
    harness.run();
    harness
}

fn default_size() -> Vec2 {
    Vec2::new(DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32)
}

fn press(harness: &mut Harness, pos: Pos2, button: PointerButton, pressed: bool) {
    harness.event(Event::PointerButton {
        pos,
        button,
        pressed,
        modifiers: Modifiers::NONE,
    });
}

/// A drag from `from` by `by`, in `steps` pointer moves.
fn drag(harness: &mut Harness, from: Pos2, by: Vec2, steps: usize) {
    harness.event(Event::PointerMoved(from));
    press(harness, from, PointerButton::Primary, true);
    harness.run();
    for step in 1..=steps {
        harness.event(Event::PointerMoved(
            from + by * (step as f32 / steps as f32),
        ));
        harness.run();
    }
    press(harness, from + by, PointerButton::Primary, false);
    harness.run();
}

fn wheel(harness: &mut Harness, at: Pos2, notches: f32) {
    harness.event(Event::PointerMoved(at));
    harness.run();
    harness.event(Event::MouseWheel {
        unit: MouseWheelUnit::Line,
        delta: Vec2::new(0.0, notches),
        phase: egui::TouchPhase::Move,
        modifiers: Modifiers::NONE,
        source: egui::MouseWheelSource::Wheel,
    });
    harness.run();
}

fn double_click(harness: &mut Harness, at: Pos2) {
    harness.event(Event::PointerMoved(at));
    for _ in 0..2 {
        press(harness, at, PointerButton::Primary, true);
        press(harness, at, PointerButton::Primary, false);
    }
    harness.run();
}

/// The EQ view's axes, from the plot's rectangle as laid out.
fn eq_axes(harness: &Harness) -> Axes {
    Axes::for_plot(harness.get_by_label("EQ curve").rect())
}

#[test]
fn dragging_an_eq_handle_moves_its_band_by_the_plots_mapping_in_one_gesture() {
    let s = setup();
    let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
    let mut harness = harness(&mut app, &s.context, default_size(), 1.0);
    let axes = eq_axes(&harness);
    let band = &s.params.eq3;
    let start = axes.band_handle(band);
    // The handle is where the plot's mapping puts band 3 (1 kHz, 0 dB).
    let node = harness.get_by_label("EQ 3 handle").rect().center();
    assert!(node.distance(start) < 0.5, "{node:?} vs {start:?}");
    let by = Vec2::new(60.0, -40.0);
    drag(&mut harness, start, by, 5);
    // What the plot's mapping gives for the pointer, as the parameter stores it (snapped
    // to its step: 0.01 dB for the gain).
    let stored = |param: &nice_plug::prelude::FloatParam, value: f64| {
        param.preview_plain(param.preview_normalized(value as f32))
    };
    let expected_freq = stored(&band.freq, axes.freq_of(start.x + by.x));
    let expected_gain = stored(&band.gain, axes.db_of(start.y + by.y));
    // f32 rounding of the pixel mapping only: 1e-5 relative, 1e-4 dB.
    assert!(
        (band.freq.value() / expected_freq - 1.0).abs() < 1e-5,
        "{} Hz, expected {expected_freq}",
        band.freq.value()
    );
    assert!(
        (band.gain.value() - expected_gain).abs() < 1e-4,
        "{} dB, expected {expected_gain}",
        band.gain.value()
    );
    // 60 px right of 1 kHz and 40 px up: clearly moved (not a no-op that matches).
    assert!(expected_freq > 1500.0 && expected_gain > 5.0);
    // One gesture for each of the two parameters, five values in each, nothing else.
    let counts = s.context.gesture_counts();
    assert_eq!(counts.get("eq3_freq"), Some(&1));
    assert_eq!(counts.get("eq3_gain"), Some(&1));
    assert_eq!(counts.len(), 2, "{counts:?}");
    s.context.check().expect("well-formed gestures");
    // The band picked is the one the EQ's controls show.
    drop(harness);
    assert_eq!(app.body().selected_band(), 2);
}

#[test]
fn the_wheel_over_a_handle_changes_q_and_a_double_click_resets_the_band() {
    let s = setup();
    let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
    let mut harness = harness(&mut app, &s.context, default_size(), 1.0);
    let axes = eq_axes(&harness);
    let band = &s.params.eq4;
    let q0 = band.q.value();
    let centre = axes.band_handle(band);
    wheel(&mut harness, centre, 2.0);
    let expected = q0 * 2f32.powf(2.0 / Q_NOTCHES_PER_OCTAVE);
    // Q's step is 0.001: the value sent is snapped to it.
    assert!(
        (band.q.value() - expected).abs() <= 0.0005 + 1e-6,
        "Q {} expected {expected}",
        band.q.value()
    );
    assert_eq!(s.context.gesture_counts().get("eq4_q"), Some(&1));

    drag(&mut harness, centre, Vec2::new(-50.0, 30.0), 3);
    assert!(band.gain.value() < -3.0);
    let moved = axes.band_handle(band);
    double_click(&mut harness, moved);
    assert_eq!(band.freq.value(), band.freq.default_plain_value());
    assert_eq!(band.gain.value(), band.gain.default_plain_value());
    assert_eq!(band.q.value(), band.q.default_plain_value());
    s.context.check().expect("well-formed gestures");
}

#[test]
fn a_click_on_an_empty_spot_switches_on_the_nearest_unused_band_there() {
    let s = setup();
    s.context.setter().set_parameter(&s.params.eq5.on, false);
    let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
    let mut harness = harness(&mut app, &s.context, default_size(), 1.0);
    s.context.take_gestures();
    let axes = eq_axes(&harness);
    // 400 Hz, +9 dB: away from every handle.
    let spot = Pos2::new(axes.x_of(400.0), axes.y_of(9.0));
    harness.event(Event::PointerMoved(spot));
    press(&mut harness, spot, PointerButton::Primary, true);
    press(&mut harness, spot, PointerButton::Primary, false);
    harness.run();
    let band = &s.params.eq5;
    assert!(band.on.value());
    assert!(
        (band.freq.value() / 400.0 - 1.0).abs() < 1e-4,
        "{}",
        band.freq.value()
    );
    assert!(
        (band.gain.value() - 9.0).abs() < 1e-3,
        "{}",
        band.gain.value()
    );
    s.context.check().expect("well-formed gestures");
    drop(harness);
    assert_eq!(app.body().selected_band(), 4);
}

#[test]
fn the_pass_filters_corners_are_handles_too() {
    let s = setup();
    let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
    let mut harness = harness(&mut app, &s.context, default_size(), 1.0);
    let axes = eq_axes(&harness);
    let start = axes.pass_handle(&s.params.lpf_freq);
    let node = harness.get_by_label("LPF handle").rect().center();
    assert!(node.distance(start) < 0.5, "{node:?} vs {start:?}");
    drag(&mut harness, start, Vec2::new(-80.0, 0.0), 4);
    let expected = axes.freq_of(start.x - 80.0) as f32;
    assert!((s.params.lpf_freq.value() / expected - 1.0).abs() < 1e-5);
    assert_eq!(s.context.gesture_counts().get("lpf_freq"), Some(&1));
    s.context.check().expect("well-formed gestures");
}

#[test]
fn a_typed_value_sets_the_parameter_in_its_units() {
    let s = setup();
    let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
    let mut harness = harness(&mut app, &s.context, default_size(), 1.0);
    harness
        .get_by_label("Comp Threshold value")
        .click_secondary();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    harness.event(Event::Text(String::from("-6 dB")));
    harness.key_press(egui::Key::Enter);
    harness.run();
    assert_eq!(s.params.comp_thresh.value(), -6.0);
    assert_eq!(s.context.gesture_counts().get("comp_thresh"), Some(&1));
    s.context.check().expect("well-formed gestures");
    // A value out of range is refused, with the field kept open and nothing sent.
    harness
        .get_by_label("Comp Threshold value")
        .click_secondary();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    harness.event(Event::Text(String::from("+30 dB")));
    harness.key_press(egui::Key::Enter);
    harness.run();
    assert_eq!(s.params.comp_thresh.value(), -6.0);
    assert_eq!(s.context.gesture_counts().get("comp_thresh"), Some(&1));
    assert!(harness.query_by_label("Comp Threshold value").is_some());
}

#[test]
fn a_knob_drag_in_many_moves_is_one_gesture() {
    let s = setup();
    let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
    let mut harness = harness(&mut app, &s.context, default_size(), 1.0);
    let centre = harness.get_by_label("Reverb Decay").rect().center();
    let before = s.params.rev_decay.value();
    drag(&mut harness, centre, Vec2::new(0.0, -60.0), 12);
    assert!(s.params.rev_decay.value() > before);
    let gestures = s.context.gestures();
    assert_eq!(s.context.gesture_counts().get("rev_decay"), Some(&1));
    let sets = gestures
        .iter()
        .filter(|g| matches!(g, oxide_plugin_common::editor::testing::Gesture::Set(..)))
        .count();
    assert!(sets >= 10, "{sets} values in the gesture");
    s.context.check().expect("well-formed gestures");
}

#[test]
fn a_modules_power_switch_follows_its_parameter() {
    let s = setup();
    let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
    let mut harness = harness(&mut app, &s.context, default_size(), 1.0);
    for (name, param) in [
        ("Gate On", &s.params.gate_on),
        ("Comp On", &s.params.comp_on),
        ("Sat On", &s.params.sat_on),
        ("Delay On", &s.params.dly_on),
        ("Reverb On", &s.params.rev_on),
        ("EQ On", &s.params.eq_on),
    ] {
        let before = param.value();
        harness.get_by_label(name).click();
        harness.run();
        assert_eq!(param.value(), !before, "{name}");
        // And the switch shows a change made elsewhere (automation, the host).
        s.context.setter().set_parameter(param, before);
        harness.run();
        let toggled = harness.get_by_label(name).accesskit_node().toggled();
        assert_eq!(
            toggled,
            Some(if before {
                egui::accesskit::Toggled::True
            } else {
                egui::accesskit::Toggled::False
            }),
            "{name}"
        );
    }
}

/// Every module panel lies inside the window, none overlaps another, all ten are there,
/// and every control lies inside its window (nothing scrolled or clipped away).
fn check_layout(harness: &Harness, size: Vec2) {
    let window = Rect::from_min_size(Pos2::ZERO, size);
    let panels = panel_rects(&harness.ctx);
    let titles: Vec<&str> = panels.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles, MODULES, "panels in signal order");
    for (i, (title, rect)) in panels.iter().enumerate() {
        assert!(
            window.contains_rect(*rect),
            "{title} {rect:?} outside {window:?}"
        );
        for (other, rect_b) in panels.iter().skip(i + 1) {
            let overlap = rect.intersect(*rect_b);
            assert!(
                overlap.width() <= 0.0 || overlap.height() <= 0.0,
                "{title} {rect:?} overlaps {other} {rect_b:?}"
            );
        }
    }
    for node in harness.query_all(by()) {
        let Some(bounds) = node.accesskit_node().bounding_box() else {
            continue; // the window itself
        };
        let rect = Rect::from_min_max(
            Pos2::new(bounds.x0 as f32, bounds.y0 as f32),
            Pos2::new(bounds.x1 as f32, bounds.y1 as f32),
        ) / harness.ctx.pixels_per_point();
        if rect.is_positive() {
            assert!(
                window.expand(0.5).contains_rect(rect),
                "{:?} {rect:?} outside the window",
                node.accesskit_node().label()
            );
        }
    }
}

#[test]
fn every_module_fits_the_window_at_the_default_size_and_scale_and_at_200_percent() {
    let s = setup();
    for (size, scale) in [
        (default_size(), 1.0),
        (default_size(), 2.0),
        (Vec2::new(editor::MIN_SIZE.0, editor::MIN_SIZE.1), 1.0),
        (Vec2::new(1600.0, 1000.0), 1.0),
    ] {
        // The project's saved scale, which the window opens at.
        *s.params.ui_scale.write().unwrap() = scale;
        let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
        let harness = harness(&mut app, &s.context, size, scale);
        // The scale is egui's zoom: points stay the layout's unit, pixels scale.
        assert_eq!(harness.ctx.pixels_per_point(), scale);
        check_layout(&harness, size);
        drop(harness);
        // The window holds the layout at the saved scale: that is the scale shown.
        assert_eq!(*s.params.ui_scale.read().unwrap(), scale);
    }
}

#[test]
fn the_scale_menu_sets_and_saves_the_ui_scale() {
    let s = setup();
    let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
    let mut harness = harness(&mut app, &s.context, default_size(), 1.0);
    harness.get_by_label("UI scale").click();
    harness.run();
    harness.get_by_label("150 %").click();
    harness.run();
    assert_eq!(harness.ctx.zoom_factor(), 1.5);
    assert_eq!(*s.params.ui_scale.read().unwrap(), 1.5);
}

/// Runs the editor past the time it gives the host to answer a resize
/// ([`HOST_ANSWER_WAIT`]): the harness's window changes size only when the test says,
/// so here it is a host that refused, or granted what the test set.
fn wait_for_the_host(harness: &mut Harness) {
    let steps = (HOST_ANSWER_WAIT * 60.0).ceil() as usize + 10;
    harness.run_steps(steps);
}

/// The editor in a window of `window` logical pixels, with `chosen` picked: drawn at the
/// largest scale up to `chosen` at which its minimum size fits the window, the window
/// kept as the host made it, the layout at least its minimum size in points (never
/// squeezed), every panel inside the window with no overlap, and the scale menu showing
/// the scale drawn at.
fn check_fitted(harness: &Harness, params: &StripParams, window: Vec2, chosen: f32) {
    let (zoom, points) = check_fitted_zoom(&harness.ctx, window, chosen, editor::MIN_SIZE)
        .unwrap_or_else(|e| panic!("{e}"));
    check_layout(harness, points);
    // The user's choice is kept (and saved with the project), the menu shows what is drawn.
    assert_eq!(*params.ui_scale.read().unwrap(), chosen);
    let shown = format!("{:.0} %", zoom * 100.0);
    assert_eq!(
        harness
            .get_by_label("UI scale")
            .accesskit_node()
            .value()
            .as_deref(),
        Some(shown.as_str())
    );
}

/// A host that refuses the window a new scale asks for (twice: the user picks it again),
/// then grants a smaller one, then the whole: the editor lays out for the window it really has, drawn smaller where the
/// window is too small for the chosen scale, never squeezed or overlapping, and at the
/// chosen scale once the window holds it.
#[test]
fn a_window_too_small_for_the_chosen_scale_shows_the_editor_smaller_never_squeezed() {
    let s = setup();
    let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
    let mut harness = harness(&mut app, &s.context, default_size(), 1.0);
    harness.get_by_label("UI scale").click();
    harness.run();
    harness.get_by_label("200 %").click();
    // Refused: the window stays at the default size, 1000 × 620.
    wait_for_the_host(&mut harness);
    check_fitted(&harness, &s.params, default_size(), 2.0);
    assert!(
        harness.ctx.zoom_factor() < 1.2,
        "{}",
        harness.ctx.zoom_factor()
    );
    // Picking 200 % again asks again, for the editor's own size at 100 % times two
    // (not the fitted layout's: the window a first pick asks for). The harness grants
    // what the editor asks for ...
    harness.get_by_label("UI scale").click();
    harness.run();
    harness.get_by_label("200 %").click();
    harness.run();
    assert_eq!(harness.ctx.zoom_factor(), 2.0);
    let asked = harness.ctx.content_rect().size() * harness.ctx.zoom_factor();
    assert!(
        (asked - default_size() * 2.0).abs().max_elem() <= 1.0,
        "asked for {asked:?}"
    );
    // ... and the host puts its window back: the editor fits it again.
    harness.set_size(default_size() / 2.0);
    wait_for_the_host(&mut harness);
    check_fitted(&harness, &s.params, default_size(), 2.0);
    // A host that grants less than asked (1500 × 930 of 2000 × 1240), then all of it.
    // The harness's size is in points at the zoom it has now.
    for window in [Vec2::new(1500.0, 930.0), default_size() * 2.0] {
        let zoom = harness.ctx.zoom_factor();
        harness.set_size(window / zoom);
        wait_for_the_host(&mut harness);
        check_fitted(&harness, &s.params, window, 2.0);
    }
    assert_eq!(harness.ctx.zoom_factor(), 2.0);
    // And a window made smaller by the host (its own resize handle): drawn smaller again.
    let window = Vec2::new(900.0, 700.0);
    harness.set_size(window / 2.0);
    wait_for_the_host(&mut harness);
    check_fitted(&harness, &s.params, window, 2.0);
}

#[test]
fn every_parameter_has_a_control_in_the_editor() {
    let s = setup();
    let mut app = editor::app(s.params.clone(), Arc::new(Meters::default()));
    let mut seen = std::collections::BTreeSet::new();
    for band in 0..6 {
        app.body_mut().select_band(band);
        let harness = harness(&mut app, &s.context, default_size(), 1.0);
        for node in harness.query_all(by()) {
            if let Some(label) = node.accesskit_node().label() {
                seen.insert(label);
            }
        }
    }
    let missing: Vec<String> = s
        .params
        .param_map()
        .into_iter()
        // SAFETY: the pointers come from `param_map()` of the params held above.
        .filter(|(_, ptr, _)| !seen.contains(unsafe { ptr.name() }))
        .map(|(id, _, _)| id)
        .collect();
    assert!(missing.is_empty(), "no control for {missing:?}");
}

/// How long the editor's last frame asked egui to wait before the next (`MAX`: until
/// input or a request from outside).
fn repaint_delay(harness: &Harness) -> std::time::Duration {
    harness.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay
}

#[test]
fn the_editor_redraws_only_while_something_moves() {
    let s = setup();
    let meters = Arc::new(Meters::default());
    let mut app = editor::app(s.params.clone(), meters.clone());
    let mut harness = harness(&mut app, &s.context, default_size(), 1.0);
    // Idle: no frame until something happens.
    assert_eq!(repaint_delay(&harness), std::time::Duration::MAX);
    // Audio arrives in the spectrum's tap: the editor animates at the frame rate…
    let tone: Vec<f32> = (0..4096)
        .map(|n| (std::f32::consts::TAU * 1000.0 * n as f32 / 48_000.0).sin())
        .collect();
    meters.spectrum.push(&tone, None);
    harness.step();
    assert!(repaint_delay(&harness) <= oxide_plugin_common::editor::ANIMATION_FRAME);
    // …until the display has fallen to rest: from the tone's 0 dBFS to the −96 dB floor
    // at 40 dB/s is 2.4 s of frames (one frame each way for where the fall starts and
    // stops).
    let mut frames = 1;
    while repaint_delay(&harness) != std::time::Duration::MAX && frames < 600 {
        harness.step();
        frames += 1;
    }
    let seconds = frames as f32 / 60.0;
    assert!(
        (2.35..=2.45).contains(&seconds),
        "settled after {seconds} s"
    );
}
