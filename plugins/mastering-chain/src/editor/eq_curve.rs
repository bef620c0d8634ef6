//! The tonal EQ's response curve (the settings' magnitude, ramps settled), 20 Hz –
//! 20 kHz on the same log axis as the multiband's spectrum, ±[`RANGE_DB`].

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Ui, Vec2};
use shared_dsp::mastering::TonalEqSettings;

use super::crossover_view::{hz_of, x_of};

/// The view's span above and below 0 dB.
pub const RANGE_DB: f32 = 15.0;
/// Points along the curve.
const POINTS: usize = 96;

const CURVE: Color32 = Color32::from_rgb(240, 200, 90);

/// Where `db` lies down `rect`.
pub fn y_of(rect: Rect, db: f32) -> f32 {
    let t = 0.5 - (db / RANGE_DB).clamp(-1.0, 1.0) * 0.5;
    rect.top() + t * rect.height()
}

/// Draws the curve of `settings` at `sample_rate`, `height` tall across the available
/// width; greyed when the EQ is off.
pub fn show(ui: &mut Ui, settings: &TonalEqSettings, sample_rate: f32, height: f32) -> Rect {
    let width = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(24));
    let grid = Stroke::new(1.0, Color32::from_gray(45));
    for hz in [100.0, 1000.0, 10_000.0] {
        let x = x_of(rect, hz);
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            grid,
        );
    }
    for db in [-12.0, -6.0, 0.0, 6.0, 12.0] {
        let y = y_of(rect, db);
        let stroke = if db == 0.0 {
            Stroke::new(1.0, Color32::from_gray(80))
        } else {
            grid
        };
        painter.line_segment(
            [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
            stroke,
        );
        if db != 0.0 {
            painter.text(
                Pos2::new(rect.left() + 2.0, y),
                Align2::LEFT_CENTER,
                format!("{db:+.0}"),
                FontId::proportional(9.0),
                Color32::from_gray(100),
            );
        }
    }
    let points: Vec<Pos2> = (0..POINTS)
        .map(|i| {
            let x = rect.left() + rect.width() * i as f32 / (POINTS - 1) as f32;
            let db = if settings.on {
                settings.magnitude_db(hz_of(rect, x) as f64, sample_rate as f64) as f32
            } else {
                0.0
            };
            Pos2::new(x, y_of(rect, db))
        })
        .collect();
    let colour = if settings.on {
        CURVE
    } else {
        Color32::from_gray(90)
    };
    painter.add(Shape::line(points, Stroke::new(2.0, colour)));
    rect
}
