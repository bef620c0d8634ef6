//! Vertical meter bars: a level (filling up from the floor) or a gain reduction (filling
//! down from the top), with the reading under the bar. The value and the scale are a
//! [`MeterReading`].

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use super::MeterReading;

const LEVEL: Color32 = Color32::from_rgb(90, 200, 120);
const HOT: Color32 = Color32::from_rgb(230, 200, 70);
const CLIP: Color32 = Color32::from_rgb(230, 80, 70);
const REDUCTION: Color32 = Color32::from_rgb(240, 150, 60);

/// A vertical meter: `label` above, the bar, the reading below.
pub struct Meter<'a> {
    reading: MeterReading,
    label: &'a str,
    size: Vec2,
}

impl<'a> Meter<'a> {
    pub fn new(label: &'a str, reading: MeterReading) -> Self {
        Self {
            reading,
            label,
            size: Vec2::new(26.0, 120.0),
        }
    }

    /// The whole meter's size, label and reading included (default 26 × 120).
    pub fn size(mut self, size: Vec2) -> Self {
        self.size = size.max(Vec2::new(10.0, 40.0));
        self
    }

    pub fn show(self, ui: &mut Ui) -> egui::Response {
        let (rect, response) = ui.allocate_exact_size(self.size, Sense::hover());
        self.paint(ui, rect);
        let text = self.reading.text();
        response.on_hover_text(format!("{}: {text}", self.label))
    }

    /// Paints the meter in `rect`.
    pub fn paint(&self, ui: &Ui, rect: Rect) {
        let painter = ui.painter();
        let font = FontId::proportional(10.0);
        let text_colour = ui.visuals().text_color();
        let label_rect = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 12.0));
        let value_rect = Rect::from_min_max(Pos2::new(rect.left(), rect.bottom() - 12.0), rect.max);
        painter.text(
            label_rect.center(),
            Align2::CENTER_CENTER,
            self.label,
            font.clone(),
            text_colour,
        );
        let bar = Rect::from_min_max(
            Pos2::new(
                rect.center().x - (rect.width() * 0.3).min(7.0),
                label_rect.bottom() + 2.0,
            ),
            Pos2::new(
                rect.center().x + (rect.width() * 0.3).min(7.0),
                value_rect.top() - 2.0,
            ),
        );
        bar_in(ui, bar, &self.reading);
        // Short reading: the number only (the unit is the label's business).
        let text = self.reading.text();
        let short = text.split(' ').next().unwrap_or(&text).to_owned();
        painter.text(
            value_rect.center(),
            Align2::CENTER_CENTER,
            short,
            font,
            text_colour,
        );
    }
}

/// Just the bar of `reading` in `rect`: levels fill from the bottom (green, yellow in the
/// top sixth, red at full scale), reductions from the top.
pub fn bar_in(ui: &Ui, rect: Rect, reading: &MeterReading) {
    let painter = ui.painter();
    painter.rect_filled(rect, 2.0, Color32::from_gray(18));
    let fraction = reading.fraction();
    let filled = match reading {
        MeterReading::Reduction { .. } => Rect::from_min_max(
            rect.min,
            Pos2::new(rect.right(), rect.top() + fraction * rect.height()),
        ),
        _ => Rect::from_min_max(
            Pos2::new(rect.left(), rect.bottom() - fraction * rect.height()),
            rect.max,
        ),
    };
    let colour = match reading {
        MeterReading::Reduction { .. } => REDUCTION,
        _ if fraction >= 0.999 => CLIP,
        _ if fraction > 5.0 / 6.0 => HOT,
        _ => LEVEL,
    };
    if fraction > 0.0 {
        painter.rect_filled(filled, 2.0, colour);
    }
    painter.rect_stroke(
        rect,
        2.0,
        Stroke::new(1.0, Color32::from_gray(50)),
        egui::StrokeKind::Inside,
    );
}
