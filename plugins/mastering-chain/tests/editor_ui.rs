//! The mastering editor driven headless (`egui_kittest`) through the kit's test host,
//! exactly as the plugin's window draws it (the kit's shell around [`MasterView`]):
//! crossover lines, knobs and power switches change their parameters by the expected
//! amounts in one host gesture each; at the default size and at 200 % UI scale every
//! module panel lies inside the window with no overlap and nothing overflowing; every
//! parameter has a control.

use std::sync::Arc;

use egui::accesskit::{Role, Toggled};
use egui::{Event, Modifiers, PointerButton, Pos2, Rect, Vec2};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use mastering_chain::editor::crossover_view::{dragged_hz, x_of};
use mastering_chain::editor::layout::PanelId;
use mastering_chain::editor::{self, view, MasterApp};
use mastering_chain::params::DEFAULT_SIZE;
use mastering_chain::{Chain, ChainMeters, MasterParams};
use nice_plug::prelude::*;
use oxide_plugin_common::editor::fit::HOST_ANSWER_WAIT;
use oxide_plugin_common::editor::panel::panel_rects;
use oxide_plugin_common::editor::testing::{
    check_fitted_zoom, check_row, TestContext, PRESET_BAR_ROW,
};
use oxide_plugin_common::editor::widgets::DRAG_TRAVEL;

struct Rig {
    params: Arc<MasterParams>,
    meters: Arc<ChainMeters>,
    context: Arc<TestContext>,
}

fn rig() -> Rig {
    let params = Arc::new(MasterParams::default());
    let chain = Chain::new(48_000.0, 512, &params.settings());
    let meters = chain.meters();
    let context = TestContext::new(params.clone());
    Rig {
        params,
        meters,
        context,
    }
}

fn default_size() -> Vec2 {
    Vec2::new(DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32)
}

/// The editor at `scale` (the kit's UI scale: egui's zoom). As under egui-baseview, the
/// screen egui lays out is the layout's size in points (the window's physical size
/// divided by the zoom), drawn at `scale` pixels per point.
fn harness(rig: &Rig, scale: f32) -> Harness<'static, MasterApp> {
    // The project's saved scale, which the window opens at (the plugin sets egui's zoom
    // from it).
    *rig.params.ui_scale.write().unwrap() = scale;
    let context = rig.context.clone();
    let app = editor::app(rig.params.clone(), rig.meters.clone());
    let mut harness = Harness::builder()
        .with_size(default_size())
        .with_step_dt(1.0 / 60.0)
        .with_context_setup(move |ctx| ctx.set_zoom_factor(scale))
        .build_ui_state(
            move |ui, app: &mut MasterApp| {
                let setter = context.setter();
                app.frame(ui, &setter);
            },
            app,
        );
    harness.run_steps(3);
    harness
}

fn report(harness: &Harness<'static, MasterApp>) -> view::FrameReport {
    harness.state().body().report().clone()
}

/// A press at `from`, moves in `steps` to `from + by`, a release: one drag.
fn drag(harness: &mut Harness<'static, MasterApp>, from: Pos2, by: Vec2, modifiers: Modifiers) {
    harness.event(Event::PointerMoved(from));
    harness.step();
    harness.event(Event::PointerButton {
        pos: from,
        button: PointerButton::Primary,
        pressed: true,
        modifiers,
    });
    harness.step();
    let steps = 5;
    for i in 1..=steps {
        harness.event(Event::PointerMoved(from + by * (i as f32 / steps as f32)));
        harness.step();
    }
    harness.event(Event::PointerButton {
        pos: from + by,
        button: PointerButton::Primary,
        pressed: false,
        modifiers,
    });
    harness.step();
    harness.step();
}

#[test]
fn dragging_a_crossover_line_sets_it_in_one_gesture() {
    let rig = rig();
    let mut harness = harness(&rig, 1.0);
    let rect = report(&harness).crossover_rect;
    assert!(rect.width() > 300.0, "{rect:?}");
    for (param, id, dx) in [
        (&rig.params.mb_xover_low, "mb_xover_low", 40.0),
        (&rig.params.mb_xover_high, "mb_xover_high", -60.0),
    ] {
        let start = param.value();
        let line = Pos2::new(x_of(rect, start), rect.center().y);
        drag(&mut harness, line, Vec2::new(dx, 0.0), Modifiers::NONE);
        let range = (param.preview_plain(0.0), param.preview_plain(1.0));
        let expected = dragged_hz(rect, start, dx, range);
        // The parameter keeps the value as its normalized f32: 1e-4 relative is that
        // rounding on a log range, far below the 0.1 Hz the display shows.
        assert!(
            (param.value() / expected - 1.0).abs() < 1e-4,
            "{id}: {} Hz, expected {expected} Hz (from {start} Hz)",
            param.value()
        );
        assert!((param.value() - start).abs() > 10.0, "{id} did not move");
        assert_eq!(rig.context.gesture_counts().get(id), Some(&1), "{id}");
    }
    rig.context.check().expect("well-formed gestures");
    // Dragged past its range's end, a crossover stops there.
    let start = rig.params.mb_xover_low.value();
    let line = Pos2::new(x_of(rect, start), rect.center().y);
    drag(&mut harness, line, Vec2::new(400.0, 0.0), Modifiers::NONE);
    assert_eq!(rig.params.mb_xover_low.value(), 1000.0);
    rig.context.check().expect("well-formed gestures");
    // A double-click on a line puts it back to its default, in one gesture.
    let line = Pos2::new(x_of(rect, 1000.0), rect.center().y);
    rig.context.take_gestures();
    for _ in 0..2 {
        harness.event(Event::PointerMoved(line));
        for pressed in [true, false] {
            harness.event(Event::PointerButton {
                pos: line,
                button: PointerButton::Primary,
                pressed,
                modifiers: Modifiers::NONE,
            });
            harness.step();
        }
    }
    harness.step();
    let default = rig.params.mb_xover_low.default_plain_value();
    assert!((rig.params.mb_xover_low.value() - default).abs() < 1e-3);
    assert_eq!(
        rig.context.gesture_counts().get("mb_xover_low"),
        Some(&1),
        "{:?}",
        rig.context.gestures()
    );
    rig.context.check().expect("well-formed gestures");
}

#[test]
fn knobs_drive_their_parameters_one_gesture_per_drag() {
    let rig = rig();
    let mut harness = harness(&rig, 1.0);
    let p = &rig.params;
    // One knob from each panel with knobs: 40 px is a fifth of the travel.
    let knobs: [(&FloatParam, &str); 6] = [
        (&p.in_gain, "in_gain"),
        (&p.eq_tilt, "eq_tilt"),
        (&p.mb_mid.thresh, "mb_mid_thresh"),
        (&p.img_high_width, "img_high_width"),
        (&p.lim_release, "lim_release"),
        (&p.rep_sens, "rep_sens"),
    ];
    for (param, id) in knobs {
        let start = param.unmodulated_normalized_value();
        let centre = harness.get_by_label(param.name()).rect().center();
        let up = if start > 0.5 { 1.0 } else { -1.0 };
        drag(
            &mut harness,
            centre,
            Vec2::new(0.0, 40.0 * up),
            Modifiers::NONE,
        );
        let expected = (start - up * 40.0 / DRAG_TRAVEL).clamp(0.0, 1.0);
        let got = param.unmodulated_normalized_value();
        // 1e-4: the normalized value's f32 rounding through plain and back.
        assert!(
            (got - expected).abs() < 1e-4,
            "{id}: normalized {got}, expected {expected}"
        );
        assert_eq!(rig.context.gesture_counts().get(id), Some(&1), "{id}");
    }
    rig.context.check().expect("well-formed gestures");
}

/// The switch named `name` (the module's title text has that name too).
fn switch<'h>(harness: &'h Harness<'static, MasterApp>, name: &str) -> egui_kittest::Node<'h> {
    let mut found = harness
        .query_all_by_role(Role::CheckBox)
        .filter(|node| node.accesskit_node().label().as_deref() == Some(name));
    let node = found.next().unwrap_or_else(|| panic!("no switch {name}"));
    assert!(found.next().is_none(), "two switches {name}");
    node
}

#[test]
fn power_switches_follow_their_parameters() {
    let rig = rig();
    let mut harness = harness(&rig, 1.0);
    let p = &rig.params;
    for (param, id) in [
        (&p.eq_on, "eq_on"),
        (&p.mb_on, "mb_on"),
        (&p.img_on, "img_on"),
        (&p.lim_on, "lim_on"),
    ] {
        let before = param.value();
        switch(&harness, param.name()).click();
        harness.step();
        harness.step();
        assert_eq!(param.value(), !before, "{id}: a click switches it");
        assert_eq!(rig.context.gesture_counts().get(id), Some(&1), "{id}");
        // The host switches it back (automation): the switch shows it.
        rig.context.setter().begin_set_parameter(param);
        rig.context.setter().set_parameter(param, before);
        rig.context.setter().end_set_parameter(param);
        harness.step();
        let shown = switch(&harness, param.name()).accesskit_node().toggled();
        assert_eq!(
            shown.map(|t| t == Toggled::True),
            Some(before),
            "{id}: the switch shows the host's value"
        );
    }
    rig.context.check().expect("well-formed gestures");
}

/// Every module panel inside the window, none overlapping another, each within the
/// rectangle the layout gave it (nothing overflows, so nothing needs a scroll bar).
fn check_layout(harness: &Harness<'static, MasterApp>, what: &str) {
    let window = harness.ctx.content_rect();
    let report = report(harness);
    let layout = report.layout.as_ref().expect("laid out");
    let panels = panel_rects(&harness.ctx);
    assert_eq!(panels.len(), PanelId::ALL.len(), "{what}: {panels:?}");
    // 0.5 px: egui rounds a frame's edges to the pixel grid.
    const GRID: f32 = 0.5;
    for (i, (title, rect)) in panels.iter().enumerate() {
        assert!(
            window.expand(GRID).contains_rect(*rect),
            "{what}: {title} {rect:?} outside the window {window:?}"
        );
        for (other, other_rect) in &panels[i + 1..] {
            assert!(
                !rect.shrink(GRID).intersects(other_rect.shrink(GRID)),
                "{what}: {title} {rect:?} overlaps {other} {other_rect:?}"
            );
        }
    }
    for (id, given) in &layout.panels {
        let drawn = report
            .contents
            .iter()
            .find(|(panel, _)| panel == id)
            .map(|(_, rect)| *rect)
            .expect("drawn");
        assert!(
            given.expand(GRID).contains_rect(drawn),
            "{what}: {id:?} needs {drawn:?}, has {given:?}"
        );
    }
    assert!(window.width() > 0.0 && report.window.height() > 0.0);
}

#[test]
fn every_panel_fits_at_the_default_size_and_at_200_percent() {
    let rig = rig();
    let harness_100 = harness(&rig, 1.0);
    let window = harness_100.ctx.content_rect();
    assert_eq!(window.size(), default_size(), "the layout's size at 100 %");
    check_layout(&harness_100, "100 %");
    let at_100: Vec<(String, Rect)> = panel_rects(&harness_100.ctx);
    drop(harness_100);
    let harness_200 = harness(&rig, 2.0);
    // At 200 % the window is twice as large (two pixels a point) and the layout in
    // points the same.
    assert_eq!(harness_200.ctx.zoom_factor(), 2.0);
    assert_eq!(harness_200.ctx.pixels_per_point(), 2.0);
    assert_eq!(harness_200.ctx.content_rect().size(), default_size());
    check_layout(&harness_200, "200 %");
    let at_200 = panel_rects(&harness_200.ctx);
    assert_eq!(at_200.len(), at_100.len());
    for ((title, a), (_, b)) in at_200.iter().zip(&at_100) {
        // Within the pixel grid's rounding at either scale (half a point at 100 %).
        assert!(
            (a.min - b.min).length() <= 0.75 && (a.max - b.max).length() <= 0.75,
            "{title}: {a:?} at 200 %, {b:?} at 100 %"
        );
    }
}

/// Runs the editor past the time it gives the host to answer a resize
/// ([`HOST_ANSWER_WAIT`]): the harness's window changes size only when the test says,
/// so here it is a host that refused, or granted what the test set.
fn wait_for_the_host(harness: &mut Harness<'static, MasterApp>) {
    let steps = (HOST_ANSWER_WAIT * 60.0).ceil() as usize + 10;
    harness.run_steps(steps);
}

/// The editor in a window of `window` logical pixels with `chosen` picked: drawn at the
/// largest scale up to `chosen` at which its minimum size fits, in the window the host
/// made, laid out in at least its minimum size (never squeezed: every panel's contents
/// inside the panel), and the scale menu showing the scale drawn at.
fn check_fitted(harness: &Harness<'static, MasterApp>, rig: &Rig, window: Vec2, chosen: f32) {
    let (zoom, _) = check_fitted_zoom(&harness.ctx, window, chosen, editor::MIN_SIZE)
        .unwrap_or_else(|e| panic!("{e}"));
    check_layout(harness, &format!("{window:?} at {chosen}"));
    assert_eq!(*rig.params.ui_scale.read().unwrap(), chosen);
    assert_eq!(harness.state().fit().map(|fit| fit.shown), Some(zoom));
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

/// A host that refuses the window 150 % asks for, grants a smaller one, then the whole:
/// the editor lays out for the window it has, drawn smaller while the window is too
/// small for the chosen scale, never squeezed, and at 150 % once the window holds it.
#[test]
fn a_window_too_small_for_the_chosen_scale_shows_the_editor_smaller_never_squeezed() {
    let rig = rig();
    let mut harness = harness(&rig, 1.0);
    harness.get_by_label("UI scale").click();
    harness.run_steps(2);
    harness.get_by_label("150 %").click();
    wait_for_the_host(&mut harness);
    // Refused: the default size holds the layout at 100 % and no more.
    check_fitted(&harness, &rig, default_size(), 1.5);
    assert!((harness.ctx.zoom_factor() - 1.0).abs() < 1e-3);
    for window in [Vec2::new(1400.0, 900.0), default_size() * 1.5] {
        let zoom = harness.ctx.zoom_factor();
        harness.set_size(window / zoom);
        wait_for_the_host(&mut harness);
        check_fitted(&harness, &rig, window, 1.5);
    }
    assert_eq!(harness.ctx.zoom_factor(), 1.5);
    // A window the host makes smaller than the layout's minimum at 100 %.
    let window = Vec2::new(900.0, 500.0);
    harness.set_size(window / 1.5);
    wait_for_the_host(&mut harness);
    check_fitted(&harness, &rig, window, 1.5);
}

/// The top bar at the default size: the preset bar, the chain's readings (latency,
/// loudness gain, input loudness) and the scale menu in one row, none over the next.
#[test]
fn the_top_bar_fits_in_one_row() {
    let rig = rig();
    let harness = harness(&rig, 1.0);
    let rect = |by: egui_kittest::kittest::By| harness.get(by).rect();
    let mut row: Vec<(&str, Rect)> = PRESET_BAR_ROW
        .iter()
        .map(|&name| (name, rect(egui_kittest::kittest::by().label(name))))
        .collect();
    for reading in ["latency", "loudness gain", "input I"] {
        row.push((
            reading,
            rect(egui_kittest::kittest::by().label_contains(reading)),
        ));
    }
    row.push((
        "UI scale",
        rect(egui_kittest::kittest::by().label("UI scale")),
    ));
    check_row(&row, default_size().x).unwrap();
}

#[test]
fn every_parameter_has_a_control() {
    let rig = rig();
    let harness = harness(&rig, 1.0);
    let missing = view::unreached(&rig.params, &report(&harness).reached);
    assert!(missing.is_empty(), "no control for {missing:?}");
}
