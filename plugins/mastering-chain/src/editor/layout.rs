//! Where each module panel goes: two rows in signal order, proportional to the window
//! so the layout reflows when the window is resized (nothing scrolls).
//!
//! ```text
//! ┌ (the editor shell's top bar: title, latency, loudness gain, UI scale) ────┐
//! │ Input+Repair │ Tonal EQ (curve)       │ Multiband (spectrum, crossovers)  │
//! │ Imager (goniometer) │ Loudness (readings, history, services) │ Limiter │ Out │
//! └───────────────────────────────────────────────────────────────────────────┘
//! ```

use egui::{Pos2, Rect, Vec2};

/// The gap between panels, logical pixels.
pub const MARGIN: f32 = 6.0;
/// The first row's share of the height below the header.
const TOP_ROW_SHARE: f32 = 0.47;

/// The module panels, in signal order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PanelId {
    Input,
    Eq,
    Multiband,
    Imager,
    Loudness,
    Limiter,
    Output,
}

impl PanelId {
    pub const ALL: [PanelId; 7] = [
        PanelId::Input,
        PanelId::Eq,
        PanelId::Multiband,
        PanelId::Imager,
        PanelId::Loudness,
        PanelId::Limiter,
        PanelId::Output,
    ];
}

/// Each row's panels with their shares of the row's width.
const TOP_ROW: [(PanelId, f32); 3] = [
    (PanelId::Input, 0.115),
    (PanelId::Eq, 0.345),
    (PanelId::Multiband, 0.54),
];
const BOTTOM_ROW: [(PanelId, f32); 4] = [
    (PanelId::Imager, 0.235),
    (PanelId::Loudness, 0.38),
    (PanelId::Limiter, 0.245),
    (PanelId::Output, 0.14),
];

/// Every panel's rectangle.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub panels: Vec<(PanelId, Rect)>,
}

impl Layout {
    /// The layout filling `body` (the window below the shell's top bar, logical pixels).
    pub fn for_body(body: Rect) -> Self {
        let inner = body;
        let body_top = inner.top();
        let body_height = inner.height().max(0.0);
        let top_height = ((body_height - MARGIN) * TOP_ROW_SHARE).max(0.0);
        let bottom_top = body_top + top_height + MARGIN;
        let bottom_height = (inner.bottom() - bottom_top).max(0.0);
        let mut panels = Vec::with_capacity(PanelId::ALL.len());
        for (row, top, height) in [
            (&TOP_ROW[..], body_top, top_height),
            (&BOTTOM_ROW[..], bottom_top, bottom_height),
        ] {
            let gaps = MARGIN * (row.len() - 1) as f32;
            let share_width = (inner.width() - gaps).max(0.0);
            let mut left = inner.left();
            for &(id, share) in row {
                let width = share * share_width;
                panels.push((
                    id,
                    Rect::from_min_size(Pos2::new(left, top), Vec2::new(width, height)),
                ));
                left += width + MARGIN;
            }
        }
        Self { panels }
    }

    /// The rectangle of `id`.
    pub fn rect(&self, id: PanelId) -> Rect {
        self.panels
            .iter()
            .find(|(panel, _)| *panel == id)
            .map_or(Rect::NOTHING, |(_, rect)| *rect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_fill_the_window_without_overlap() {
        let shares = |row: &[(PanelId, f32)]| row.iter().map(|(_, s)| s).sum::<f32>();
        assert!((shares(&TOP_ROW) - 1.0).abs() < 1e-6);
        assert!((shares(&BOTTOM_ROW) - 1.0).abs() < 1e-6);
        for size in [Vec2::new(1100.0, 680.0), Vec2::new(700.0, 400.0)] {
            let body = Rect::from_min_size(Pos2::new(8.0, 30.0), size);
            let layout = Layout::for_body(body);
            assert_eq!(layout.panels.len(), PanelId::ALL.len());
            for (i, (a, ra)) in layout.panels.iter().enumerate() {
                assert!(body.expand(0.01).contains_rect(*ra), "{a:?}");
                for (b, rb) in &layout.panels[i + 1..] {
                    assert!(!ra.shrink(0.01).intersects(*rb), "{a:?} overlaps {b:?}");
                }
            }
            // The last panel of each row ends at the right margin.
            let right = layout.rect(PanelId::Output).right();
            assert!((right - body.right()).abs() < 0.01, "{right}");
            let bottom = layout.rect(PanelId::Limiter).bottom();
            assert!((bottom - body.bottom()).abs() < 0.01, "{bottom}");
        }
    }
}
