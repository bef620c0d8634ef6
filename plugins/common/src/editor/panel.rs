//! A module panel: a framed box with the module's title and its power switch in the
//! title bar, its controls below, greyed (still usable) while the module is off.
//!
//! Each panel records where it was laid out this frame ([`panel_rects`]), so a test can
//! check from the layout itself that a window's panels fit and do not overlap.

use egui::{Color32, Context, Id, InnerResponse, Rect, RichText, Stroke, Ui};
use nice_plug::prelude::{BoolParam, ParamSetter};

use super::widgets::Toggle;

const FILL: Color32 = Color32::from_gray(30);
const BORDER: Color32 = Color32::from_gray(62);
/// The contents' opacity while the module is off.
const OFF_OPACITY: f32 = 0.45;

fn rects_id() -> Id {
    Id::unique("oxide-module-panel-rects")
}

/// The panels laid out in the frame being drawn (or last drawn): title and outer rect.
pub fn panel_rects(ctx: &Context) -> Vec<(String, Rect)> {
    ctx.data(|data| data.get_temp::<Vec<(String, Rect)>>(rects_id()))
        .unwrap_or_default()
}

/// Forgets the recorded panels (the editor's shell calls it at the start of each frame).
pub fn clear_panel_rects(ctx: &Context) {
    ctx.data_mut(|data| data.remove::<Vec<(String, Rect)>>(rects_id()));
}

/// A framed module panel filling the space `ui` offers, titled `title`, with `power`'s
/// switch in its title bar (none: always on). `add_contents` draws the controls.
pub fn module_panel<R>(
    ui: &mut Ui,
    title: &str,
    power: Option<&BoolParam>,
    setter: &ParamSetter,
    add_contents: impl FnOnce(&mut Ui) -> R,
) -> InnerResponse<R> {
    let on = power.is_none_or(|p| p.value());
    let frame = egui::Frame::new()
        .fill(FILL)
        .stroke(Stroke::new(1.0, BORDER))
        .corner_radius(4.0)
        .inner_margin(egui::Margin::same(5));
    let response = frame.show(ui, |ui| {
        // Fill the whole space given (the margin and border are outside this).
        ui.set_min_size(ui.available_size());
        ui.horizontal(|ui| {
            if let Some(power) = power {
                Toggle::new(power, setter)
                    .power()
                    .tooltip(&format!("Switches the {title} module on or off"))
                    .show(ui);
            }
            // A narrow panel shortens its title rather than growing past its place.
            ui.add(egui::Label::new(RichText::new(title).strong().size(12.0)).truncate());
        });
        ui.add_space(2.0);
        ui.scope(|ui| {
            if !on {
                ui.multiply_opacity(OFF_OPACITY);
            }
            add_contents(ui)
        })
        .inner
    });
    let rect = response.response.rect;
    let title = title.to_owned();
    ui.ctx().data_mut(|data| {
        data.get_temp_mut_or_default::<Vec<(String, Rect)>>(rects_id())
            .push((title, rect))
    });
    response
}
