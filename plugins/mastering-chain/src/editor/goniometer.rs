//! The imager's goniometer (vectorscope) and correlation meter.
//!
//! The goniometer plots the output's latest left/right pairs ([`crate::meters::ScopeTap`])
//! turned 45°: mid (L+R) up, side (L−R) across, so a mono signal is a vertical line,
//! a wide one a cloud, and out-of-phase content lies along the horizontal. Full scale
//! (a sample of ±1) reaches the circle's edge. Below it, the correlation meter: −1 (out
//! of phase) … +1 (mono), red left of 0.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Ui, Vec2};

use crate::meters::{ScopeTap, SCOPE_RING};

/// The pairs the goniometer draws each frame (about 21 ms at 48 kHz).
pub const POINTS: usize = 1024;

const TRACE: Color32 = Color32::from_rgb(120, 200, 240);

/// Where a left/right pair lands in `rect` (a square): mid up, side across, full scale
/// at the inscribed circle's radius.
pub fn scope_point(rect: Rect, left: f32, right: f32) -> Pos2 {
    let radius = 0.5 * rect.width().min(rect.height());
    let side = (left - right) * std::f32::consts::FRAC_1_SQRT_2;
    let mid = (left + right) * std::f32::consts::FRAC_1_SQRT_2;
    let c = rect.center();
    Pos2::new(
        (c.x - side * radius).clamp(rect.left(), rect.right()),
        (c.y - mid * radius).clamp(rect.top(), rect.bottom()),
    )
}

/// The goniometer's frame-to-frame buffers (GUI thread only; allocated once).
pub struct Goniometer {
    pairs: Vec<(f32, f32)>,
    points: Vec<Pos2>,
}

impl Default for Goniometer {
    fn default() -> Self {
        Self {
            pairs: vec![(0.0, 0.0); POINTS.min(SCOPE_RING)],
            points: Vec::with_capacity(POINTS),
        }
    }
}

impl Goniometer {
    /// Draws the scope as a `size` square (centred in the available width).
    pub fn show(&mut self, ui: &mut Ui, tap: &ScopeTap, size: f32) -> Rect {
        let (rect, _) = ui.allocate_exact_size(Vec2::splat(size), Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, Color32::from_gray(20));
        let grid = Stroke::new(1.0, Color32::from_gray(50));
        let c = rect.center();
        let r = 0.5 * size;
        painter.circle_stroke(c, r - 1.0, grid);
        painter.line_segment(
            [Pos2::new(c.x, rect.top()), Pos2::new(c.x, rect.bottom())],
            grid,
        );
        painter.line_segment(
            [Pos2::new(rect.left(), c.y), Pos2::new(rect.right(), c.y)],
            grid,
        );
        // The L and R axes (the diagonals).
        let d = r * std::f32::consts::FRAC_1_SQRT_2;
        painter.line_segment([c + Vec2::new(-d, -d), c + Vec2::new(d, d)], grid);
        painter.line_segment([c + Vec2::new(d, -d), c + Vec2::new(-d, d)], grid);
        for (text, pos, align) in [
            ("L", c + Vec2::new(-d, -d), Align2::RIGHT_BOTTOM),
            ("R", c + Vec2::new(d, -d), Align2::LEFT_BOTTOM),
            (
                "M",
                Pos2::new(c.x + 2.0, rect.top() + 1.0),
                Align2::LEFT_TOP,
            ),
        ] {
            painter.text(
                pos,
                align,
                text,
                FontId::proportional(10.0),
                Color32::from_gray(120),
            );
        }
        let n = tap.latest(&mut self.pairs);
        self.points.clear();
        self.points.extend(
            self.pairs[..n]
                .iter()
                .map(|&(l, r)| scope_point(rect, l, r)),
        );
        if self.points.len() >= 2 {
            painter.add(Shape::line(
                std::mem::take(&mut self.points),
                Stroke::new(1.0, TRACE.gamma_multiply(0.7)),
            ));
        }
        rect
    }
}

/// The correlation meter: a bar `width` wide, −1 … +1, the value as a marker.
pub fn correlation_bar(ui: &mut Ui, correlation: f32, width: f32) -> Rect {
    let (rect, response) = ui.allocate_exact_size(Vec2::new(width, 14.0), Sense::hover());
    response.on_hover_text(
        "Stereo correlation of the output over about 300 ms: +1 mono, 0 unrelated sides, \
         below 0 out of phase (it will cancel in mono)",
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(30));
    let value = if correlation.is_finite() {
        correlation.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let x = rect.center().x + value * 0.5 * rect.width();
    let colour = if value < 0.0 {
        Color32::from_rgb(220, 70, 60)
    } else {
        Color32::from_rgb(90, 190, 110)
    };
    painter.rect_filled(
        Rect::from_x_y_ranges(
            rect.center().x.min(x)..=rect.center().x.max(x),
            rect.y_range(),
        ),
        2.0,
        colour,
    );
    painter.line_segment(
        [
            Pos2::new(rect.center().x, rect.top()),
            Pos2::new(rect.center().x, rect.bottom()),
        ],
        Stroke::new(1.0, Color32::from_gray(120)),
    );
    painter.text(
        rect.center(),
        Align2::CENTER_CENTER,
        format!("{:+.2}", if value.abs() < 0.005 { 0.0 } else { value }),
        FontId::proportional(10.0),
        Color32::WHITE,
    );
    rect
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_is_vertical_and_one_side_is_diagonal() {
        let rect = Rect::from_min_size(Pos2::ZERO, Vec2::splat(100.0));
        // Mono (L = R): straight up from the centre.
        let p = scope_point(rect, 0.5, 0.5);
        assert!((p.x - 50.0).abs() < 1e-4);
        assert!((p.y - (50.0 - 50.0 * 0.5 * std::f32::consts::SQRT_2)).abs() < 1e-3);
        // Left only: up and to the left at 45°; right only: up and to the right.
        let l = scope_point(rect, 0.5, 0.0);
        let r = scope_point(rect, 0.0, 0.5);
        assert!(l.x < 50.0 && r.x > 50.0);
        assert!((50.0 - l.x - (50.0 - l.y)).abs() < 1e-4);
        // Out of phase: across, at the centre's height.
        let s = scope_point(rect, 0.5, -0.5);
        assert!((s.y - 50.0).abs() < 1e-4 && s.x < 50.0);
        // Beyond full scale stays in the square.
        assert!(rect.contains(scope_point(rect, 4.0, 4.0)));
    }
}
