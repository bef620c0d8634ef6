//! Editor scaffolding and the editors' kit.
//!
//! - [`App`]: the editor's shell, a resizable window with a top bar (title, the preset
//!   bar of [`crate::preset_bar`] when the plugin gives it one, the plugin's own items,
//!   the UI scale menu) over the plugin's [`Body`]; its size and UI scale are saved with
//!   the project ([`SavedSize`], [`SavedScale`]).
//! - [`widgets`]: knobs, faders, switches and choice boxes bound to parameters, each drag
//!   one host gesture; [`panel`]: a module's framed panel with its power switch;
//!   [`meter`]: vertical level and gain-reduction bars.
//! - [`testing`]: a host stand-in for driving an editor headless in tests.
//!
//! The UI scale is egui's zoom factor: under `nice-plug-egui` (egui-baseview 0.9) it
//! scales the rendering and resizes the window to the layout's logical size times the
//! zoom, so the layout in logical points is the same at every scale and text stays
//! sharp (it is rasterized at the scaled size, on top of the system's HiDPI factor).
//! Where the host does not give the window that size, [`fit`] draws the editor at the
//! largest scale the window holds instead of squeezing the layout.

pub mod fit;
pub mod meter;
pub mod panel;
pub mod testing;
pub mod widgets;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use nice_plug::context::gui::{GuiContext, ParamSetter};
use nice_plug::prelude::Params;

use crate::history::AbState;
use crate::preset_bar::PresetBar;
pub use nice_plug_egui::RepaintNotifier;
use nice_plug_egui::{
    create_egui_editor, resizable_window::ResizableWindow, EguiEditor, EguiEditorState,
    EguiNiceSettings, NiceEguiApp,
};

pub use nice_plug::prelude::ResizeHint;
pub use nice_plug_egui::EguiEditorState as EditorState;

/// The smallest size the editor can be dragged to, logical pixels.
pub const MIN_SIZE: (f32, f32) = (360.0, 240.0);

/// The largest size a saved project may ask the editor to open at, logical pixels.
pub const MAX_SIZE: (f64, f64) = (4096.0, 4096.0);

/// A fresh editor state of `width` × `height` logical pixels.
pub fn default_state(width: u32, height: u32) -> Arc<EguiEditorState> {
    EguiEditorState::from_size(
        nice_plug::editor::dpi::LogicalSize::new(width as f64, height as f64),
        1.0,
    )
}

/// The editor's size as the project saves it, logical pixels: each plugin's parameters
/// carry one as a persisted field (`#[persist = "editor-size"]`), the editor writes it
/// when the user resizes the window, and the next editor opens at it.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EditorSize {
    pub width: f64,
    pub height: f64,
}

/// The persisted field: written on the GUI thread, read when the host saves or loads
/// state and when an editor opens; never on the audio thread.
pub type SavedSize = Arc<RwLock<EditorSize>>;

/// A saved size starting at `width` × `height`.
pub fn saved_size(width: u32, height: u32) -> SavedSize {
    Arc::new(RwLock::new(EditorSize {
        width: width as f64,
        height: height as f64,
    }))
}

impl EditorSize {
    /// This size, or `fallback` where it is not a usable window size (a corrupt or
    /// hand-edited project), kept within [`MIN_SIZE`] and [`MAX_SIZE`].
    pub fn sanitized(self, fallback: EditorSize) -> EditorSize {
        let pick = |value: f64, fallback: f64, min: f32, max: f64| {
            let value = if value.is_finite() { value } else { fallback };
            value.clamp(min as f64, max)
        };
        EditorSize {
            width: pick(self.width, fallback.width, MIN_SIZE.0, MAX_SIZE.0),
            height: pick(self.height, fallback.height, MIN_SIZE.1, MAX_SIZE.1),
        }
    }
}

/// A fresh editor state at the saved size (or `default` if the saved one is unusable).
pub fn state_for(saved: &SavedSize, default: (u32, u32)) -> Arc<EguiEditorState> {
    let fallback = EditorSize {
        width: default.0 as f64,
        height: default.1 as f64,
    };
    let size = saved
        .read()
        .map_or(fallback, |size| *size)
        .sanitized(fallback);
    EguiEditorState::from_size(
        nice_plug::editor::dpi::LogicalSize::new(size.width, size.height),
        1.0,
    )
}

/// The value a meter shows, and how it fills its bar.
pub enum MeterReading {
    /// A level in dB on a bar from `floor_db` (empty, shown as −inf) to `top_db`;
    /// `unit` follows the number ("dBFS", "LUFS", "dBTP").
    Level {
        value_db: f32,
        floor_db: f32,
        top_db: f32,
        unit: &'static str,
    },
    /// A gain reduction in positive dB, on a bar full at `full_scale_db`; shown negative.
    Reduction { value_db: f32, full_scale_db: f32 },
    /// A stereo correlation, −1 (empty bar) … +1 (full), shown signed.
    Correlation { value: f32 },
}

impl MeterReading {
    /// How full the bar is, 0…1.
    pub fn fraction(&self) -> f32 {
        match *self {
            Self::Level {
                value_db,
                floor_db,
                top_db,
                ..
            } => ((value_db - floor_db) / (top_db - floor_db)).clamp(0.0, 1.0),
            Self::Reduction {
                value_db,
                full_scale_db,
            } => (value_db / full_scale_db).clamp(0.0, 1.0),
            Self::Correlation { value } if value.is_finite() => {
                (0.5 * (value + 1.0)).clamp(0.0, 1.0)
            }
            Self::Correlation { .. } => 0.5,
        }
    }

    /// The reading as text ("-inf dBFS" at or below the floor or when not measured;
    /// a reduction at rest reads 0.0 dB, not -0.0).
    pub fn text(&self) -> String {
        match *self {
            Self::Level {
                value_db,
                floor_db,
                unit,
                ..
            } => {
                if value_db.is_finite() && value_db > floor_db {
                    format!("{value_db:.1} {unit}")
                } else {
                    format!("-inf {unit}")
                }
            }
            Self::Reduction { value_db, .. } => {
                let shown = if value_db >= 0.05 { -value_db } else { 0.0 };
                format!("{shown:.1} dB")
            }
            Self::Correlation { value } => {
                let value = if value.is_finite() { value } else { 0.0 };
                // No "-0.00": a tiny negative rounds to 0.
                let value = if value.abs() < 0.005 { 0.0 } else { value };
                format!("{value:+.2}")
            }
        }
    }
}

/// The UI scales the editor offers (and accepts from a saved project), as factors.
pub const SCALE_RANGE: (f32, f32) = (0.75, 2.0);
/// The scales in the top bar's menu.
pub const SCALE_STEPS: [f32; 6] = [0.75, 1.0, 1.25, 1.5, 1.75, 2.0];

/// The UI scale as the project saves it (`#[persist = "ui-scale"]`), a factor (1.0 is
/// 100 %); written on the GUI thread, read when an editor opens and when the host saves.
pub type SavedScale = Arc<RwLock<f32>>;

/// A saved scale of 100 %.
pub fn saved_scale() -> SavedScale {
    Arc::new(RwLock::new(1.0))
}

/// `scale` kept within [`SCALE_RANGE`] (100 % for a value that is not a number).
pub fn sanitized_scale(scale: f32) -> f32 {
    if scale.is_finite() {
        scale.clamp(SCALE_RANGE.0, SCALE_RANGE.1)
    } else {
        1.0
    }
}

/// The saved scale, sanitized.
pub fn scale_of(saved: &SavedScale) -> f32 {
    sanitized_scale(saved.read().map_or(1.0, |scale| *scale))
}

/// A fresh editor state at the saved size and scale (`default` where the size is not
/// usable): the window opens at the size times the scale.
pub fn state_with_scale(
    saved: &SavedSize,
    scale: &SavedScale,
    default: (u32, u32),
) -> Arc<EguiEditorState> {
    let size = state_for(saved, default).size();
    EguiEditorState::from_size(size, scale_of(scale))
}

/// What a plugin draws in its editor's window, below the shell's top bar.
pub trait Body: Send + 'static {
    /// Draws the editor's contents into `ui` (the window below the top bar). `setter`
    /// changes parameters as the user does (the host records gestures). Called on the
    /// GUI thread only while the editor is open.
    fn ui(&mut self, ui: &mut egui::Ui, setter: &ParamSetter);

    /// Extra items in the top bar, right of the title (presets, A/B, bypass).
    fn top_bar(&mut self, _ui: &mut egui::Ui, _setter: &ParamSetter) {}

    /// Whether something in the body is still moving (meters falling, an analysis
    /// settling): while it is, the editor redraws at the host's frame rate; otherwise
    /// it redraws only on input, parameter changes or a [`RepaintNotifier`] request.
    fn animating(&self) -> bool {
        false
    }
}

/// The title's text size in the top bar, logical points.
const TITLE_SIZE: f32 = 14.0;

/// A shell's preset bar and what it acts on.
struct Presets {
    bar: PresetBar,
    params: Arc<dyn Params>,
    ab: Arc<RwLock<AbState>>,
}

/// How long the editor waits between frames while its body animates (about the frame
/// rate of the host's display; egui-baseview polls its repaint flag at 64 Hz too).
pub const ANIMATION_FRAME: Duration = Duration::from_millis(16);

/// The editor's shell: top bar with the title, the preset bar, the body's items and the
/// scale menu; the body below it; a resize corner.
pub struct App<B: Body> {
    title: &'static str,
    body: B,
    presets: Option<Presets>,
    context: Option<GuiContext>,
    saved_size: SavedSize,
    saved_scale: SavedScale,
    min_size: (f32, f32),
    /// The zoom the window can hold, and what this frame shows.
    fit: fit::ScaleFit,
    shown: Option<fit::Fit>,
    /// The window's size in physical pixels as the window last reported it (`None`
    /// before it did, and in headless tests): the size the window really has now, which
    /// egui's input does not say in the frame after a zoom change.
    window_physical: Option<(u32, u32)>,
}

impl<B: Body> App<B> {
    /// A shell around `body` whose size and scale are saved in `saved_size` and
    /// `saved_scale`; the window cannot be dragged below `min_size` (logical pixels).
    pub fn new(
        title: &'static str,
        body: B,
        saved_size: SavedSize,
        saved_scale: SavedScale,
        min_size: (f32, f32),
    ) -> Self {
        Self {
            title,
            body,
            presets: None,
            context: None,
            saved_size,
            saved_scale,
            min_size,
            fit: fit::ScaleFit::default(),
            shown: None,
            window_physical: None,
        }
    }

    /// Gives the top bar a preset bar ([`PresetBar`]) for the plugin whose preset id is
    /// `plugin` (`presets::CHANNEL_STRIP`, …): its presets, A/B slots (`ab`, the
    /// project's persisted field) and undo act on `params`; `scratch` is a spare
    /// default set of the same parameters.
    pub fn with_presets(
        mut self,
        plugin: &str,
        params: Arc<dyn Params>,
        scratch: Box<dyn Params>,
        ab: Arc<RwLock<AbState>>,
    ) -> Self {
        let bar = PresetBar::new(plugin, params.as_ref(), scratch);
        self.presets = Some(Presets { bar, params, ab });
        self
    }

    /// The preset bar, if the plugin gave the shell one.
    pub fn preset_bar(&self) -> Option<&PresetBar> {
        self.presets.as_ref().map(|p| &p.bar)
    }

    pub fn body(&self) -> &B {
        &self.body
    }

    pub fn body_mut(&mut self) -> &mut B {
        &mut self.body
    }

    /// The UI scale chosen, the scale shown and the window's size, as of the last frame
    /// (`None` before the first).
    pub fn fit(&self) -> Option<fit::Fit> {
        self.shown
    }

    /// Draws one whole frame of the editor into `ui` with `setter` as the host: what the
    /// real window does each frame, and what a headless test calls.
    pub fn frame(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let ctx = ui.ctx().clone();
        panel::clear_panel_rects(&ctx);
        let min_size = egui::Vec2::new(self.min_size.0, self.min_size.1);
        let shown = self.follow_zoom(&ctx, min_size);
        // Never laid out below its minimum: while the window waits for the host's answer
        // to a new scale, what does not fit yet is clipped, not squeezed.
        let shortfall = (min_size - ctx.content_rect().size()).max(egui::Vec2::ZERO);
        let title = self.title;
        let body = &mut self.body;
        let presets = &mut self.presets;
        let saved_scale = &self.saved_scale;
        let fit = &mut self.fit;
        ResizableWindow::new("oxide-editor")
            .min_size(min_size)
            .show(ui, |ui| {
                let rect = ui.max_rect();
                let rect = egui::Rect::from_min_size(rect.min, rect.size() + shortfall);
                ui.scope_builder(egui::UiBuilder::new().max_rect(rect), |ui| {
                    ui.horizontal(|ui| {
                        // The host's window already names the plugin: the title is plain
                        // strong text, so the presets fit beside it.
                        ui.label(egui::RichText::new(title).strong().size(TITLE_SIZE));
                        ui.add_space(8.0);
                        if let Some(p) = presets.as_mut() {
                            ui.scope(|ui| p.bar.controls(ui, p.params.as_ref(), &p.ab, setter));
                            ui.separator();
                        }
                        body.top_bar(ui, setter);
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            scale_menu(ui, saved_scale, fit, shown);
                        });
                    });
                    if let Some(p) = presets.as_ref().filter(|p| p.bar.has_warnings()) {
                        p.bar.warnings(ui);
                    }
                    ui.add_space(2.0);
                    body.ui(ui, setter);
                });
            });
        if self.body.animating() {
            ctx.request_repaint_after(ANIMATION_FRAME);
        }
    }

    /// Keeps egui's zoom at the saved scale where the window holds it and at the
    /// largest scale it holds where it does not ([`fit`]); a zoom changed by the
    /// keyboard (egui's Ctrl +/−, where the window passes those keys) is saved as the
    /// new scale, within [`SCALE_RANGE`].
    fn follow_zoom(&mut self, ctx: &egui::Context, min_size: egui::Vec2) -> fit::Fit {
        let chosen = scale_of(&self.saved_scale);
        let window = self.window_physical.and_then(|(width, height)| {
            let native = ctx.input(|input| input.viewport().native_pixels_per_point)?;
            Some(egui::Vec2::new(width as f32, height as f32) / native)
        });
        let shown = self.fit.begin_frame(ctx, chosen, min_size, window);
        if shown.chosen != chosen {
            if let Ok(mut saved) = self.saved_scale.write() {
                *saved = shown.chosen;
            }
        }
        self.shown = Some(shown);
        shown
    }
}

/// The top bar's scale menu: picks a scale from [`SCALE_STEPS`], applies it as egui's
/// zoom and saves it. Shows the scale drawn at; where the window is too small for the
/// chosen one, that smaller scale in the warning colour, with the reason on hover.
fn scale_menu(ui: &mut egui::Ui, saved: &SavedScale, fit: &mut fit::ScaleFit, shown: fit::Fit) {
    let current = shown.chosen;
    let reduced = shown.is_reduced();
    let text = format!("{:.0} %", shown.shown * 100.0);
    let mut label = egui::RichText::new(&text);
    if reduced {
        label = label.color(ui.visuals().warn_fg_color);
    }
    let response = egui::ComboBox::from_id_salt("oxide-ui-scale")
        .selected_text(label)
        .width(64.0)
        .show_ui(ui, |ui| {
            for scale in SCALE_STEPS {
                let chosen = (scale - current).abs() < 1e-3;
                if ui
                    .selectable_label(chosen, format!("{:.0} %", scale * 100.0))
                    .clicked()
                    // The chosen scale again, while the window is too small for it: the
                    // host is asked again for a window that holds it.
                    && (!chosen || reduced)
                {
                    set_scale(ui.ctx(), saved, scale);
                    if chosen {
                        fit.ask_again(ui.ctx(), scale);
                    } else {
                        fit.chose(ui.ctx(), scale);
                    }
                }
            }
        })
        .response;
    response.widget_info(|| {
        let mut info = egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "UI scale");
        info.current_text_value = Some(text.clone());
        info
    });
    if reduced {
        response.on_hover_text(format!(
            "UI scale {:.0} %, shown at {:.0} %: the host's window ({:.0} × {:.0}) is too \
             small for the editor at {:.0} %. Enlarge the window, or pick {:.0} % here \
             again to ask the host for a larger one.",
            current * 100.0,
            shown.shown * 100.0,
            shown.window.x,
            shown.window.y,
            current * 100.0,
            current * 100.0,
        ));
    } else {
        // No keyboard zoom to mention: egui-baseview 0.9 does not pass + or − to egui.
        response.on_hover_text("UI scale (saved with the project)");
    }
}

/// Sets the UI scale: egui's zoom (which resizes the window) and the saved value.
pub fn set_scale(ctx: &egui::Context, saved: &SavedScale, scale: f32) {
    let scale = sanitized_scale(scale);
    ctx.set_zoom_factor(scale);
    if let Ok(mut saved) = saved.write() {
        *saved = scale;
    }
}

impl<B: Body> NiceEguiApp for App<B> {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        // The window opened at the saved scale (the state's zoom): egui draws at it too.
        egui_ctx.set_zoom_factor(scale_of(&self.saved_scale));
        self.context = Some(nice_gui_ctx);
        Ok(())
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        self.window_physical = Some((new_size.physical.width, new_size.physical.height));
        // The logical size here excludes the zoom: the layout's size at 100 %.
        if let Ok(mut saved) = self.saved_size.write() {
            *saved = EditorSize {
                width: new_size.logical.width,
                height: new_size.logical.height,
            };
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(context) = self.context.clone() else {
            return;
        };
        let setter = context.param_setter();
        self.frame(ui, &setter);
    }

    fn editor_closed(&mut self) {
        self.context = None;
    }
}

/// Creates a resizable editor showing `app`, opening at `state`'s size and zoom; a
/// `repaint` notifier lets the audio thread ask for a frame (realtime-safe).
pub fn create_app<B: Body>(
    state: Arc<EguiEditorState>,
    repaint: RepaintNotifier,
    app: App<B>,
) -> Option<EguiEditor<App<B>>> {
    // The host may make the window as small as the layout's minimum at the smallest UI
    // scale; where that is smaller than the chosen scale needs, the editor is drawn at a
    // smaller scale ([`fit`]).
    let smallest = SCALE_RANGE.0;
    let settings = EguiNiceSettings::new()
        .with_tile(app.title)
        .with_resize_hint(ResizeHint::resizable().with_min_logical_size(
            nice_plug::editor::dpi::LogicalSize::new(
                app.min_size.0 * smallest,
                app.min_size.1 * smallest,
            ),
        ));
    create_egui_editor(state, repaint, settings, app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_size_opens_the_editor_within_bounds() {
        let fallback = EditorSize {
            width: 560.0,
            height: 640.0,
        };
        let size = |width, height| EditorSize { width, height };
        assert_eq!(size(800.0, 900.0).sanitized(fallback), size(800.0, 900.0));
        assert_eq!(size(f64::NAN, f64::INFINITY).sanitized(fallback), fallback);
        assert_eq!(
            size(-5.0, 1e9).sanitized(fallback),
            size(MIN_SIZE.0 as f64, MAX_SIZE.1)
        );
        let saved = saved_size(700, 500);
        let state = state_for(&saved, (560, 640));
        assert_eq!(
            state.size(),
            nice_plug::editor::dpi::LogicalSize::new(700.0, 500.0).into()
        );
        // The persisted field survives a JSON round trip, as a host's saved state does.
        let json = serde_json::to_string(&*saved.read().unwrap()).unwrap();
        let back: EditorSize = serde_json::from_str(&json).unwrap();
        assert_eq!(back, size(700.0, 500.0));
    }

    #[test]
    fn a_saved_scale_opens_the_editor_within_its_range() {
        assert_eq!(sanitized_scale(1.5), 1.5);
        assert_eq!(sanitized_scale(0.1), SCALE_RANGE.0);
        assert_eq!(sanitized_scale(9.0), SCALE_RANGE.1);
        assert_eq!(sanitized_scale(f32::NAN), 1.0);
        let scale = saved_scale();
        *scale.write().unwrap() = 1.75;
        let state = state_with_scale(&saved_size(700, 500), &scale, (560, 640));
        assert_eq!(state.user_scale_factor(), 1.75);
        // The size stays the layout's (logical, unscaled) size.
        assert_eq!(
            state.size(),
            nice_plug::editor::dpi::LogicalSize::new(700.0, 500.0).into()
        );
        *scale.write().unwrap() = f32::INFINITY;
        assert_eq!(scale_of(&scale), 1.0);
    }

    #[test]
    fn meter_readings_fill_and_read_as_shown() {
        let level = |value_db| MeterReading::Level {
            value_db,
            floor_db: -60.0,
            top_db: 0.0,
            unit: "dBFS",
        };
        assert_eq!(level(-30.0).fraction(), 0.5);
        assert_eq!(level(-30.0).text(), "-30.0 dBFS");
        assert_eq!(level(6.0).fraction(), 1.0);
        assert_eq!(level(-60.0).text(), "-inf dBFS");
        assert_eq!(level(f32::NEG_INFINITY).fraction(), 0.0);
        assert_eq!(level(f32::NAN).text(), "-inf dBFS");
        let reduction = |value_db| MeterReading::Reduction {
            value_db,
            full_scale_db: 20.0,
        };
        assert_eq!(reduction(5.0).fraction(), 0.25);
        assert_eq!(reduction(5.0).text(), "-5.0 dB");
        assert_eq!(reduction(0.0).text(), "0.0 dB");
        assert_eq!(reduction(0.01).text(), "0.0 dB");
        let correlation = |value| MeterReading::Correlation { value };
        assert_eq!(correlation(1.0).fraction(), 1.0);
        assert_eq!(correlation(-1.0).fraction(), 0.0);
        assert_eq!(correlation(0.0).fraction(), 0.5);
        assert_eq!(correlation(0.5).text(), "+0.50");
        assert_eq!(correlation(-0.25).text(), "-0.25");
        assert_eq!(correlation(-0.001).text(), "+0.00");
        assert_eq!(correlation(f32::NAN).fraction(), 0.5);
        assert_eq!(correlation(f32::NAN).text(), "+0.00");
    }
}
