//! Where the strip's module panels go: a console strip read in signal order, input on the
//! left, the fader on the right, and between them two rows: filters → gate → EQ above,
//! compressor → saturation → delay → reverb → pan/width below. Every rectangle is a
//! share of the window, so the layout reflows with the window's size; none overlaps
//! another and all lie inside the body (tested for the whole range of sizes).

use egui::{Pos2, Rect, Vec2};

/// The gap between panels, logical pixels.
pub const GAP: f32 = 6.0;
/// The space above and below a control in a grid cell, logical pixels.
pub const CELL_PAD: f32 = 3.0;

/// The module panels, in signal order.
pub const MODULES: [&str; 10] = [
    "Input",
    "Filters",
    "Gate",
    "EQ",
    "Compressor",
    "Saturation",
    "Delay",
    "Reverb",
    "Pan / Width",
    "Output",
];

/// Each module's rectangle in `body`, in the order of [`MODULES`].
pub fn panels(body: Rect) -> [Rect; 10] {
    let width = body.width();
    let input_w = (width * 0.085).clamp(70.0, 120.0);
    let output_w = (width * 0.10).clamp(84.0, 140.0);
    let middle = Rect::from_min_max(
        Pos2::new(body.left() + input_w + GAP, body.top()),
        Pos2::new(body.right() - output_w - GAP, body.bottom()),
    );
    let input = Rect::from_min_size(body.min, Vec2::new(input_w, body.height()));
    let output = Rect::from_min_max(Pos2::new(body.right() - output_w, body.top()), body.max);
    let top_h = (middle.height() - GAP) * 0.52;
    let top = Rect::from_min_size(middle.min, Vec2::new(middle.width(), top_h));
    let bottom = Rect::from_min_max(Pos2::new(middle.left(), top.bottom() + GAP), middle.max);
    let [filters, gate, eq] = split(top, &[0.20, 0.27, 0.53]);
    let [comp, sat, delay, reverb, pan] = split(bottom, &[0.38, 0.12, 0.18, 0.18, 0.14]);
    [
        input, filters, gate, eq, comp, sat, delay, reverb, pan, output,
    ]
}

/// Splits `rect` across into parts of the given shares of its width (less the gaps).
fn split<const N: usize>(rect: Rect, shares: &[f32; N]) -> [Rect; N] {
    let total: f32 = shares.iter().sum();
    let free = rect.width() - GAP * (N as f32 - 1.0);
    let mut left = rect.left();
    let mut parts = [Rect::NOTHING; N];
    for (part, share) in parts.iter_mut().zip(shares) {
        let width = free * share / total;
        *part = Rect::from_min_size(Pos2::new(left, rect.top()), Vec2::new(width, rect.height()));
        left += width + GAP;
    }
    parts
}

/// A grid of `cols` × `rows` equal cells filling `rect`, read row by row.
pub struct Cells {
    rect: Rect,
    cols: usize,
    rows: usize,
    next: usize,
}

impl Cells {
    pub fn new(rect: Rect, cols: usize, rows: usize) -> Self {
        Self {
            rect,
            cols: cols.max(1),
            rows: rows.max(1),
            next: 0,
        }
    }

    pub fn size(&self) -> Vec2 {
        Vec2::new(
            self.rect.width() / self.cols as f32,
            self.rect.height() / self.rows as f32,
        )
    }

    /// The knob diameter that fits a cell (label and value text take 30 px).
    pub fn knob_diameter(&self) -> f32 {
        let size = self.size();
        (size.x - 14.0)
            .min(size.y - 34.0 - 2.0 * CELL_PAD)
            .clamp(14.0, 46.0)
    }

    /// The next cell (less [`CELL_PAD`] above and below, so one knob's value and the
    /// next one's label keep apart).
    pub fn next_cell(&mut self) -> Rect {
        let size = self.size();
        let (row, col) = (self.next / self.cols, self.next % self.cols);
        self.next += 1;
        Rect::from_min_size(
            self.rect.min + Vec2::new(col as f32 * size.x, row.min(self.rows - 1) as f32 * size.y),
            size,
        )
        .shrink2(Vec2::new(0.0, CELL_PAD))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_tile_the_body_without_overlap_at_any_size() {
        for (w, h) in [
            (1000.0, 580.0),
            (820.0, 480.0),
            (1600.0, 1000.0),
            (2000.0, 560.0),
        ] {
            let body = Rect::from_min_size(Pos2::new(8.0, 40.0), Vec2::new(w, h));
            let rects = panels(body);
            for (i, a) in rects.iter().enumerate() {
                assert!(
                    body.expand(0.01).contains_rect(*a),
                    "{} at {w}×{h}",
                    MODULES[i]
                );
                assert!(a.width() > 50.0 && a.height() > 100.0, "{}", MODULES[i]);
                for (j, b) in rects.iter().enumerate().skip(i + 1) {
                    let overlap = a.intersect(*b);
                    assert!(
                        overlap.width() <= 0.0 || overlap.height() <= 0.0,
                        "{} and {} overlap at {w}×{h}",
                        MODULES[i],
                        MODULES[j]
                    );
                }
            }
        }
    }
}
