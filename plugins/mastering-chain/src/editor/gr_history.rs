//! The limiter's gain reduction over the last [`HISTORY_SECONDS`], with its ceiling:
//! the GUI takes the largest reduction since its last look
//! ([`crate::meters::PeakHold`], raised by the audio thread once a block) and keeps one
//! value per [`SAMPLES_PER_SECOND`]-th of a second, the largest in that period, so no
//! block's peak is lost whatever the frame rate.

use std::collections::VecDeque;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Ui, Vec2};

/// How much history the view keeps, seconds.
pub const HISTORY_SECONDS: f64 = 10.0;
/// Values kept per second.
pub const SAMPLES_PER_SECOND: f64 = 30.0;
const CAPACITY: usize = (HISTORY_SECONDS * SAMPLES_PER_SECOND) as usize;
/// The reduction at the bottom of the view, dB.
pub const FULL_SCALE_DB: f32 = 12.0;

const FILL: Color32 = Color32::from_rgb(200, 80, 60);

/// The history (GUI thread only).
pub struct GainReductionHistory {
    values: VecDeque<f32>,
    /// The largest reduction taken in the period not yet recorded, dB.
    pending: f32,
    period_start: Option<f64>,
}

impl Default for GainReductionHistory {
    fn default() -> Self {
        Self {
            values: VecDeque::with_capacity(CAPACITY),
            pending: 0.0,
            period_start: None,
        }
    }
}

impl GainReductionHistory {
    /// Takes in `taken_db` (the largest reduction since the last call) at `time`
    /// (seconds, the GUI's clock); records one value per period.
    pub fn record(&mut self, time: f64, taken_db: f32) {
        if taken_db.is_finite() {
            self.pending = self.pending.max(taken_db);
        }
        let period = 1.0 / SAMPLES_PER_SECOND;
        match self.period_start {
            Some(start) if time >= start && time - start < period => return,
            _ => {}
        }
        self.period_start = Some(time);
        if self.values.len() == CAPACITY {
            self.values.pop_front();
        }
        self.values.push_back(self.pending);
        self.pending = 0.0;
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The largest reduction in the history, dB.
    pub fn max_db(&self) -> f32 {
        self.values.iter().copied().fold(0.0, f32::max)
    }

    /// Draws the history `height` tall across the available width: reduction hangs
    /// down from the top (0 dB) to [`FULL_SCALE_DB`] at the bottom; `ceiling_dbtp` and
    /// the output's true peak are written in the corner.
    pub fn show(&self, ui: &mut Ui, height: f32, ceiling_dbtp: f32, true_peak_dbtp: f64) -> Rect {
        let width = ui.available_width();
        let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, Color32::from_gray(24));
        let grid = Stroke::new(1.0, Color32::from_gray(50));
        for db in [3.0, 6.0, 9.0] {
            let y = y_of(rect, db);
            painter.line_segment(
                [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
                grid,
            );
            painter.text(
                Pos2::new(rect.left() + 2.0, y - 1.0),
                Align2::LEFT_BOTTOM,
                format!("-{db:.0}"),
                FontId::proportional(9.0),
                Color32::from_gray(110),
            );
        }
        if self.values.len() >= 2 {
            let newest = self.values.len() - 1;
            let x_of =
                |age: usize| rect.right() - rect.width() * age as f32 / (CAPACITY - 1) as f32;
            let mut top = Vec::with_capacity(self.values.len());
            for (i, &db) in self.values.iter().enumerate() {
                top.push(Pos2::new(x_of(newest - i), y_of(rect, db)));
            }
            // Filled from the top edge down to the reduction, as columns.
            for pair in top.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if a.y > rect.top() + 0.5 || b.y > rect.top() + 0.5 {
                    painter.add(Shape::convex_polygon(
                        vec![Pos2::new(a.x, rect.top()), Pos2::new(b.x, rect.top()), b, a],
                        FILL.gamma_multiply(0.6),
                        Stroke::NONE,
                    ));
                }
            }
            painter.add(Shape::line(top, Stroke::new(1.5, FILL)));
        }
        painter.text(
            Pos2::new(rect.right() - 3.0, rect.bottom() - 2.0),
            Align2::RIGHT_BOTTOM,
            format!(
                "ceiling {ceiling_dbtp:.1} dBTP  ·  TP {}  ·  GR max {:.1} dB",
                if true_peak_dbtp.is_finite() && true_peak_dbtp > -120.0 {
                    format!("{true_peak_dbtp:.1}")
                } else {
                    String::from("-inf")
                },
                self.max_db()
            ),
            FontId::proportional(10.0),
            Color32::from_gray(170),
        );
        rect
    }
}

fn y_of(rect: Rect, db: f32) -> f32 {
    rect.top() + (db / FULL_SCALE_DB).clamp(0.0, 1.0) * rect.height()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_largest_per_period_and_its_window() {
        let mut history = GainReductionHistory::default();
        // 120 fps for a period: the frames' takes 1, 5, 2, 0 dB are one value, 5 dB.
        history.record(0.0, 0.0);
        let dt = 1.0 / 120.0;
        for (i, db) in [1.0, 5.0, 2.0, 0.0].into_iter().enumerate() {
            history.record((i + 1) as f64 * dt + 1e-6, db);
        }
        assert_eq!(history.len(), 2);
        assert_eq!(history.values[1], 5.0);
        // A long run keeps the last ten seconds.
        for frame in 0..2000 {
            history.record(1.0 + frame as f64 / 60.0, 1.0);
        }
        assert_eq!(history.len(), CAPACITY);
        assert_eq!(history.max_db(), 1.0);
        assert_eq!(
            y_of(Rect::from_min_size(Pos2::ZERO, Vec2::splat(120.0)), 6.0),
            60.0
        );
    }
}
