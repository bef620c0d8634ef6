//! Opens the strip's editor in a window of its own, with the editor kit's test host in
//! place of a DAW and still meter readings, to look at the layout (and take screenshots
//! under Xvfb). `cargo run -p channel-strip --example editor_window -- [SCALE]`, SCALE a
//! factor such as 1.5 (the saved UI scale the window opens at).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use channel_strip::editor;
use channel_strip::params::{StripParams, DEFAULT_SIZE};
use channel_strip::Meters;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::{Editor, EditorHandle};
use oxide_plugin_common::editor::testing::TestContext;

fn main() {
    let scale: f32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let params = Arc::new(StripParams::default());
    *params.ui_scale.write().expect("scale") = scale;
    let meters = Arc::new(Meters::default());
    // Readings as a vocal through a working strip would give.
    meters.input_peak_db.store(-9.5, Ordering::Relaxed);
    meters.output_peak_db.store(-6.0, Ordering::Relaxed);
    meters.gate_gr_db.store(0.0, Ordering::Relaxed);
    meters.gate_open.store(true, Ordering::Relaxed);
    meters.comp_gr_db.store(4.5, Ordering::Relaxed);
    meters.comp_level_db.store(-8.0, Ordering::Relaxed);
    let noise: Vec<f32> = (0..8192u32)
        .map(|n| {
            let x = n.wrapping_mul(2_654_435_761) as f32 / u32::MAX as f32 - 0.5;
            0.3 * x + 0.2 * (n as f32 * 0.05).sin()
        })
        .collect();
    meters.spectrum.push(&noise, None);
    let state = oxide_plugin_common::editor::state_with_scale(
        &params.editor_size,
        &params.ui_scale,
        DEFAULT_SIZE,
    );
    let editor = editor::create(params.clone(), state, meters).expect("editor");
    let host = TestContext::new(params);
    let spawned = editor
        .spawn(None, false, None, GuiContext::new(host), None)
        .expect("window");
    nice_plug_egui::EguiEditorHandle::run_until_closed(spawned.window).ok();
    drop(spawned.handle);
}
