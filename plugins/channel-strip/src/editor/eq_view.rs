//! The EQ's response curve in the strip's editor: the magnitude that the pass filters and
//! the six bands describe, computed from the same designs the audio thread runs
//! ([`EqSettings::magnitude_db`]), with a handle per band, over the output's spectrum. Drag a handle to move its
//! band's frequency and gain, scroll over it to change its Q, double-click it to switch
//! the band on or off. Every change goes through the host's parameter gestures, so it is
//! recorded as automation like a slider move.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Ui, Vec2};
use nice_plug::prelude::ParamSetter;
use oxide_plugin_common::spectrum::SpectrumView;
use shared_dsp::filter::eq::EqSettings;

use crate::params::{BandParams, StripParams};

/// The view's frequency span, Hz (the bands' own range).
const MIN_HZ: f64 = 20.0;
const MAX_HZ: f64 = 20_000.0;
/// The view's gain span, ± dB (the bands' own range; a deeper pass-filter cut leaves
/// the bottom edge).
const RANGE_DB: f64 = 24.0;
/// Points along the curve.
const CURVE_POINTS: usize = 240;
/// Handle radius, logical pixels.
const HANDLE_RADIUS: f32 = 7.0;
/// Scroll distance (logical pixels) that doubles or halves Q.
const SCROLL_PER_OCTAVE_OF_Q: f32 = 240.0;

const GRID: Color32 = Color32::from_gray(60);
const CURVE: Color32 = Color32::from_rgb(240, 170, 60);
const SPECTRUM: Color32 = Color32::from_rgb(70, 110, 90);
const BAND_COLOURS: [Color32; 6] = [
    Color32::from_rgb(230, 90, 90),
    Color32::from_rgb(230, 160, 70),
    Color32::from_rgb(210, 210, 80),
    Color32::from_rgb(90, 200, 120),
    Color32::from_rgb(80, 170, 230),
    Color32::from_rgb(170, 120, 230),
];

/// The mapping between the view's rectangle and frequency (log) / gain (linear dB).
#[derive(Clone, Copy, Debug)]
struct Axes {
    rect: Rect,
}

impl Axes {
    fn x_of(&self, freq_hz: f64) -> f32 {
        let t = (freq_hz / MIN_HZ).ln() / (MAX_HZ / MIN_HZ).ln();
        self.rect.left() + t as f32 * self.rect.width()
    }

    fn freq_of(&self, x: f32) -> f64 {
        let t = ((x - self.rect.left()) / self.rect.width()).clamp(0.0, 1.0) as f64;
        MIN_HZ * (MAX_HZ / MIN_HZ).powf(t)
    }

    fn y_of(&self, db: f64) -> f32 {
        let t = (RANGE_DB - db) / (2.0 * RANGE_DB);
        self.rect.top() + t as f32 * self.rect.height()
    }

    fn db_of(&self, y: f32) -> f64 {
        let t = ((y - self.rect.top()) / self.rect.height()).clamp(0.0, 1.0) as f64;
        RANGE_DB - t * 2.0 * RANGE_DB
    }
}

/// The curve's points: the response at `CURVE_POINTS` log-spaced frequencies, clipped
/// to the view.
fn curve(axes: &Axes, eq: &EqSettings, sample_rate: f64) -> Vec<Pos2> {
    (0..CURVE_POINTS)
        .map(|i| {
            let x = axes.rect.left() + axes.rect.width() * i as f32 / (CURVE_POINTS - 1) as f32;
            let db = eq.magnitude_db(axes.freq_of(x), sample_rate);
            let db = if db.is_finite() { db } else { -RANGE_DB };
            Pos2::new(x, axes.y_of(db.clamp(-RANGE_DB, RANGE_DB)))
        })
        .collect()
}

fn draw_grid(ui: &Ui, axes: &Axes) {
    let painter = ui.painter_at(axes.rect);
    painter.rect_filled(axes.rect, 2.0, Color32::from_gray(24));
    let stroke = Stroke::new(1.0, GRID);
    for freq in [50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0] {
        let x = axes.x_of(freq);
        painter.line_segment(
            [
                Pos2::new(x, axes.rect.top()),
                Pos2::new(x, axes.rect.bottom()),
            ],
            stroke,
        );
        let label = if freq >= 1000.0 {
            format!("{}k", freq / 1000.0)
        } else {
            format!("{freq}")
        };
        painter.text(
            Pos2::new(x + 2.0, axes.rect.bottom() - 2.0),
            Align2::LEFT_BOTTOM,
            label,
            FontId::proportional(10.0),
            GRID.gamma_multiply(2.0),
        );
    }
    for db in [-18.0, -12.0, -6.0, 0.0, 6.0, 12.0, 18.0] {
        let y = axes.y_of(db);
        let stroke = if db == 0.0 {
            Stroke::new(1.0, Color32::from_gray(110))
        } else {
            stroke
        };
        painter.line_segment(
            [
                Pos2::new(axes.rect.left(), y),
                Pos2::new(axes.rect.right(), y),
            ],
            stroke,
        );
        painter.text(
            Pos2::new(axes.rect.left() + 2.0, y - 1.0),
            Align2::LEFT_BOTTOM,
            if db == 0.0 {
                String::from("0 dB")
            } else {
                format!("{db:+}")
            },
            FontId::proportional(10.0),
            GRID.gamma_multiply(2.0),
        );
    }
}

/// One band's handle: draws it and turns the pointer's gestures into parameter changes.
fn band_handle(
    ui: &mut Ui,
    axes: &Axes,
    index: usize,
    band: &BandParams,
    eq_on: bool,
    setter: &ParamSetter,
) {
    let centre = Pos2::new(
        axes.x_of(band.freq.value() as f64),
        axes.y_of((band.gain.value() as f64).clamp(-RANGE_DB, RANGE_DB)),
    );
    let hit = Rect::from_center_size(centre, Vec2::splat(HANDLE_RADIUS * 3.0));
    let response = ui.interact(
        hit,
        ui.scope_id().with(("eq_band", index)),
        Sense::click_and_drag(),
    );

    if response.drag_started() {
        setter.begin_set_parameter(&band.freq);
        setter.begin_set_parameter(&band.gain);
    }
    if let Some(pointer) = response
        .interact_pointer_pos()
        .filter(|_| response.dragged())
    {
        setter.set_parameter(&band.freq, axes.freq_of(pointer.x) as f32);
        setter.set_parameter(&band.gain, axes.db_of(pointer.y) as f32);
    }
    if response.drag_stopped() {
        setter.end_set_parameter(&band.gain);
        setter.end_set_parameter(&band.freq);
    }
    if response.double_clicked() {
        setter.begin_set_parameter(&band.on);
        setter.set_parameter(&band.on, !band.on.value());
        setter.end_set_parameter(&band.on);
    }
    if response.hovered() {
        let scroll = ui.input(|input| input.smooth_scroll_delta.y);
        if scroll != 0.0 {
            let q = band.q.value() * 2f32.powf(scroll / SCROLL_PER_OCTAVE_OF_Q);
            setter.begin_set_parameter(&band.q);
            setter.set_parameter(&band.q, q);
            setter.end_set_parameter(&band.q);
        }
        response.on_hover_text(format!(
            "EQ {}: {}, {:.0} Hz, {:+.1} dB, Q {:.2}\nDrag: frequency and gain · scroll: Q · \
             double-click: on/off",
            index + 1,
            band.kind,
            band.freq.value(),
            band.gain.value(),
            band.q.value()
        ));
    }

    let colour = BAND_COLOURS[index % BAND_COLOURS.len()];
    let active = eq_on && band.on.value();
    let painter = ui.painter_at(axes.rect.expand(HANDLE_RADIUS));
    if active {
        painter.circle_filled(centre, HANDLE_RADIUS, colour);
    } else {
        painter.circle_stroke(centre, HANDLE_RADIUS, Stroke::new(1.5, colour));
    }
    painter.text(
        centre,
        Align2::CENTER_CENTER,
        format!("{}", index + 1),
        FontId::proportional(10.0),
        if active { Color32::BLACK } else { colour },
    );
}

/// The curve with its handles, as wide as the panel and `height` tall, over the
/// output's `spectrum` (on its own −96 … 0 dBFS scale, dimmed).
pub fn show(
    ui: &mut Ui,
    params: &StripParams,
    sample_rate: f32,
    setter: &ParamSetter,
    height: f32,
    spectrum: &SpectrumView,
) {
    let width = ui.available_width().max(120.0);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
    let axes = Axes {
        rect: rect.shrink(HANDLE_RADIUS),
    };
    draw_grid(ui, &axes);
    spectrum.paint_curve(&ui.painter_at(axes.rect), axes.rect, sample_rate, SPECTRUM);
    let eq = params.eq_settings();
    let sample_rate = if sample_rate.is_finite() && sample_rate >= 1000.0 {
        sample_rate as f64
    } else {
        48_000.0
    };
    ui.painter_at(axes.rect).add(Shape::line(
        curve(&axes, &eq, sample_rate),
        Stroke::new(2.0, CURVE),
    ));
    for (index, band) in params.bands().into_iter().enumerate() {
        band_handle(ui, &axes, index, band, eq.eq_on, setter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axes() -> Axes {
        Axes {
            rect: Rect::from_min_size(Pos2::new(10.0, 20.0), Vec2::new(500.0, 200.0)),
        }
    }

    #[test]
    fn axes_map_both_ways() {
        let a = axes();
        assert_eq!(a.x_of(MIN_HZ), 10.0);
        assert!((a.x_of(MAX_HZ) - 510.0).abs() < 1e-3);
        assert!((a.y_of(RANGE_DB) - 20.0).abs() < 1e-3);
        assert!((a.y_of(-RANGE_DB) - 220.0).abs() < 1e-3);
        for freq in [20.0, 80.0, 1000.0, 12_345.0, 20_000.0] {
            let back = a.freq_of(a.x_of(freq));
            assert!((back / freq - 1.0).abs() < 1e-4, "{freq} -> {back}");
        }
        for db in [-24.0, -3.5, 0.0, 7.25, 24.0] {
            assert!((a.db_of(a.y_of(db)) - db).abs() < 1e-3, "{db}");
        }
        // Off the view: clamped to its edges, never a value outside the bands' range.
        assert_eq!(a.freq_of(-100.0), MIN_HZ);
        assert!((a.freq_of(1e6) - MAX_HZ).abs() < 1e-6);
        assert_eq!(a.db_of(1e6), -RANGE_DB);
    }

    #[test]
    fn curve_shows_a_boosted_band_at_its_frequency() {
        let a = axes();
        let params = StripParams::default();
        let mut eq = params.eq_settings();
        eq.eq_on = true;
        eq.bands[2].on = true;
        eq.bands[2].gain_db = 12.0;
        eq.bands[2].freq_hz = 1000.0;
        let points = curve(&a, &eq, 48_000.0);
        assert_eq!(points.len(), CURVE_POINTS);
        // The highest point sits at 1 kHz and +12 dB (within one point's spacing).
        let top = points
            .iter()
            .min_by(|p, q| p.y.total_cmp(&q.y))
            .expect("points");
        let spacing = a.rect.width() / (CURVE_POINTS - 1) as f32;
        assert!((top.x - a.x_of(1000.0)).abs() <= spacing, "{top:?}");
        // 0.05 dB: the nearest point lies within half a spacing (0.015 octave) of 1 kHz,
        // where a Q 1 bell at +12 dB is below its peak by less than 0.01 dB; the rest is
        // the pixel mapping's f32 rounding.
        assert!((a.db_of(top.y) - 12.0).abs() < 0.05, "{}", a.db_of(top.y));
        // Far from the band (20 Hz, five octaves down) the curve is flat at 0 dB.
        assert!((a.db_of(points[0].y)).abs() < 0.05);
    }
}
