//! The multiband panel's display: the output spectrum with the two crossovers as lines
//! the user drags (each drag sets that crossover's parameter, as one host gesture;
//! a double-click puts it back to its default), and each band's gain reduction shaded
//! down from the top of its region.

use egui::{Align2, Color32, CursorIcon, FontId, Pos2, Rect, Sense, Stroke, Ui, Vec2};
use nice_plug::prelude::{FloatParam, Param, ParamSetter};
use oxide_plugin_common::spectrum::SpectrumView;

/// The displayed frequency range, Hz (the spectrum's: its curve lines up with ours).
pub const LOW_HZ: f32 = 20.0;
/// See [`LOW_HZ`].
pub const HIGH_HZ: f32 = 20_000.0;
/// How far either side of a crossover line the pointer grabs it, logical pixels.
pub const GRAB_HALF_WIDTH: f32 = 5.0;
/// The gain reduction that shades a band's region to the bottom, dB.
const GR_FULL_SCALE_DB: f32 = 24.0;

const LINE: Color32 = Color32::from_rgb(240, 170, 60);
const LINE_HOT: Color32 = Color32::from_rgb(255, 220, 120);
const GR_SHADE: Color32 = Color32::from_rgba_premultiplied(120, 40, 40, 110);

/// Where `hz` lies across `rect` (20 Hz – 20 kHz, logarithmic).
pub fn x_of(rect: Rect, hz: f32) -> f32 {
    let t = (hz.max(1.0) / LOW_HZ).ln() / (HIGH_HZ / LOW_HZ).ln();
    rect.left() + t * rect.width()
}

/// The frequency at `x` across `rect` (the inverse of [`x_of`]).
pub fn hz_of(rect: Rect, x: f32) -> f32 {
    let t = (x - rect.left()) / rect.width().max(1.0);
    LOW_HZ * (HIGH_HZ / LOW_HZ).powf(t)
}

/// The value a drag moving a crossover line from `start_hz` by `dx` pixels gives,
/// within the parameter's range `(min, max)`.
pub fn dragged_hz(rect: Rect, start_hz: f32, dx: f32, range: (f32, f32)) -> f32 {
    hz_of(rect, x_of(rect, start_hz) + dx).clamp(range.0, range.1)
}

/// GUI-thread state of the view: the value each line had when its drag began.
#[derive(Default)]
pub struct CrossoverView {
    drag_start_hz: [Option<f32>; 2],
}

/// What the view shows besides the lines.
pub struct Bands<'a> {
    pub spectrum: &'a SpectrumView,
    pub sample_rate: f32,
    /// Each band's gain reduction, dB (positive).
    pub gain_reduction_db: [f32; 3],
}

impl CrossoverView {
    /// Draws the view `height` tall across the available width, with draggable lines
    /// for `crossovers` (low, high). Returns the view's rectangle.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        height: f32,
        crossovers: [&FloatParam; 2],
        setter: &ParamSetter,
        bands: Bands,
    ) -> Rect {
        let width = ui.available_width();
        let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, Color32::from_gray(24));
        let grid = Stroke::new(1.0, Color32::from_gray(45));
        for (hz, label) in [(100.0, "100"), (1000.0, "1k"), (10_000.0, "10k")] {
            let x = x_of(rect, hz);
            painter.line_segment(
                [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
                grid,
            );
            painter.text(
                Pos2::new(x + 2.0, rect.bottom() - 2.0),
                Align2::LEFT_BOTTOM,
                label,
                FontId::proportional(10.0),
                Color32::from_gray(110),
            );
        }
        // Each band's gain reduction, shaded down from the top of its region.
        let edges = [
            rect.left(),
            x_of(rect, crossovers[0].value()),
            x_of(rect, crossovers[1].value()),
            rect.right(),
        ];
        for (band, gr) in bands.gain_reduction_db.iter().enumerate() {
            let depth = (gr / GR_FULL_SCALE_DB).clamp(0.0, 1.0) * rect.height();
            if depth > 0.5 {
                painter.rect_filled(
                    Rect::from_x_y_ranges(
                        edges[band]..=edges[band + 1],
                        rect.top()..=rect.top() + depth,
                    ),
                    0.0,
                    GR_SHADE,
                );
            }
        }
        bands.spectrum.paint_curve(
            &painter,
            rect,
            bands.sample_rate,
            Color32::from_rgb(120, 200, 140),
        );

        for (index, param) in crossovers.into_iter().enumerate() {
            let x = x_of(rect, param.value());
            let grab = Rect::from_x_y_ranges(
                x - GRAB_HALF_WIDTH..=x + GRAB_HALF_WIDTH,
                rect.top()..=rect.bottom(),
            );
            let id = ui.scope_id().with(("crossover", index));
            let response = ui
                .interact(grab, id, Sense::click_and_drag())
                .on_hover_cursor(CursorIcon::ResizeHorizontal)
                .on_hover_text(format!(
                    "{}: {}. Drag to move it, double-click for its default",
                    param.name(),
                    param
                ));
            if response.drag_started() {
                self.drag_start_hz[index] = Some(param.value());
                setter.begin_set_parameter(param);
            }
            if let (true, Some(start)) = (response.dragged(), self.drag_start_hz[index]) {
                let dx = response.total_drag_delta().map_or(0.0, |d| d.x);
                let range = range_of(param);
                let hz = dragged_hz(rect, start, dx, range);
                if hz != param.value() {
                    setter.set_parameter(param, hz);
                }
            }
            if response.drag_stopped() && self.drag_start_hz[index].take().is_some() {
                setter.end_set_parameter(param);
            }
            if response.double_clicked() {
                setter.begin_set_parameter(param);
                setter.set_parameter(param, param.default_plain_value());
                setter.end_set_parameter(param);
            }
            let hot = response.hovered() || response.dragged();
            let x = x_of(rect, param.value());
            painter.line_segment(
                [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
                Stroke::new(
                    if hot { 2.5 } else { 1.5 },
                    if hot { LINE_HOT } else { LINE },
                ),
            );
            painter.text(
                Pos2::new(x + 3.0, rect.top() + 2.0),
                Align2::LEFT_TOP,
                param.to_string(),
                FontId::proportional(10.0),
                LINE,
            );
        }
        rect
    }
}

/// A frequency parameter's range, Hz.
fn range_of(param: &FloatParam) -> (f32, f32) {
    (param.preview_plain(0.0), param.preview_plain(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_and_frequencies_map_both_ways() {
        let rect = Rect::from_min_size(Pos2::new(10.0, 0.0), Vec2::new(300.0, 100.0));
        assert_eq!(x_of(rect, LOW_HZ), 10.0);
        assert!((x_of(rect, HIGH_HZ) - 310.0).abs() < 1e-3);
        // 20 Hz – 20 kHz is three decades: 200 Hz sits a third of the way across.
        assert!((x_of(rect, 200.0) - 110.0).abs() < 1e-3);
        for hz in [40.0, 120.0, 1000.0, 15_000.0] {
            assert!(
                (hz_of(rect, x_of(rect, hz)) / hz - 1.0).abs() < 1e-4,
                "{hz}"
            );
        }
        // A 100-pixel drag right is a decade up; the range clamps it.
        assert!((dragged_hz(rect, 120.0, 100.0, (40.0, 2000.0)) - 1200.0).abs() < 0.1);
        assert_eq!(dragged_hz(rect, 120.0, 100.0, (40.0, 1000.0)), 1000.0);
        assert_eq!(dragged_hz(rect, 120.0, -500.0, (40.0, 1000.0)), 40.0);
    }
}
