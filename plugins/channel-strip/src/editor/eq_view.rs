//! The EQ's response curve in the strip's editor: the magnitude that the pass filters and
//! the six bands describe, computed from the same designs the audio thread runs
//! ([`EqSettings::magnitude_db`]), over the output's spectrum, with a handle per band and
//! one per pass filter's corner.
//!
//! - Drag a band's handle: its frequency and gain follow (one gesture each, for the
//!   whole drag); a pass filter's handle moves its corner frequency.
//! - The wheel over a band's handle changes its Q ([`Q_NOTCHES_PER_OCTAVE`] notches
//!   double or halve it); over a pass filter's handle, its slope.
//! - Double-click a handle: back to its defaults (frequency, gain and Q; a corner's
//!   frequency).
//! - Click an empty spot: the nearest band that is off switches on there.
//!
//! Every change goes through the host's parameter gestures, so it is recorded as
//! automation like a knob move.

use egui::{
    Align2, Color32, FontId, Id, Pos2, Rect, Response, Role, Sense, Shape, Stroke, Ui, Vec2,
    WidgetInfo,
};
use nice_plug::prelude::{BoolParam, EnumParam, FloatParam, Param, ParamSetter};
use oxide_plugin_common::editor::widgets::{hover_text, set_once, wheel_notches};
use oxide_plugin_common::spectrum::SpectrumView;
use shared_dsp::filter::eq::EqSettings;

use crate::params::{BandParams, SlopeChoice, StripParams};

/// The view's frequency span, Hz (the bands' own range).
pub const MIN_HZ: f64 = 20.0;
pub const MAX_HZ: f64 = 20_000.0;
/// The view's gain span, ± dB (the bands' own range; a deeper pass-filter cut leaves
/// the bottom edge).
pub const RANGE_DB: f64 = 24.0;
/// Points along the curve.
const CURVE_POINTS: usize = 240;
/// Handle radius, logical pixels.
pub const HANDLE_RADIUS: f32 = 7.0;
/// Wheel notches that double (or halve) a band's Q.
pub const Q_NOTCHES_PER_OCTAVE: f32 = 4.0;
/// Where a pass filter's handle sits: on its corner frequency, this far down (clear of
/// the bands' handles, which rest on the 0 dB line), dB.
pub const PASS_HANDLE_DB: f64 = -12.0;

const GRID: Color32 = Color32::from_gray(60);
const CURVE: Color32 = Color32::from_rgb(240, 170, 60);
const SPECTRUM: Color32 = Color32::from_rgb(70, 110, 90);
const PASS: Color32 = Color32::from_rgb(200, 200, 200);
pub const BAND_COLOURS: [Color32; 6] = [
    Color32::from_rgb(230, 90, 90),
    Color32::from_rgb(230, 160, 70),
    Color32::from_rgb(210, 210, 80),
    Color32::from_rgb(90, 200, 120),
    Color32::from_rgb(80, 170, 230),
    Color32::from_rgb(170, 120, 230),
];

/// The mapping between the view's rectangle and frequency (log) / gain (linear dB).
#[derive(Clone, Copy, Debug)]
pub struct Axes {
    pub rect: Rect,
}

impl Axes {
    /// The axes of a view drawn in `plot` (the handles keep a margin inside it).
    pub fn for_plot(plot: Rect) -> Self {
        Self {
            rect: plot.shrink(HANDLE_RADIUS),
        }
    }

    pub fn x_of(&self, freq_hz: f64) -> f32 {
        let t = (freq_hz / MIN_HZ).ln() / (MAX_HZ / MIN_HZ).ln();
        self.rect.left() + t as f32 * self.rect.width()
    }

    pub fn freq_of(&self, x: f32) -> f64 {
        let t = ((x - self.rect.left()) / self.rect.width()).clamp(0.0, 1.0) as f64;
        MIN_HZ * (MAX_HZ / MIN_HZ).powf(t)
    }

    pub fn y_of(&self, db: f64) -> f32 {
        let t = (RANGE_DB - db) / (2.0 * RANGE_DB);
        self.rect.top() + t as f32 * self.rect.height()
    }

    pub fn db_of(&self, y: f32) -> f64 {
        let t = ((y - self.rect.top()) / self.rect.height()).clamp(0.0, 1.0) as f64;
        RANGE_DB - t * 2.0 * RANGE_DB
    }

    /// Where a band's handle sits.
    pub fn band_handle(&self, band: &BandParams) -> Pos2 {
        Pos2::new(
            self.x_of(band.freq.value() as f64),
            self.y_of((band.gain.value() as f64).clamp(-RANGE_DB, RANGE_DB)),
        )
    }

    /// Where a pass filter's handle sits (kept inside the view).
    pub fn pass_handle(&self, freq: &FloatParam) -> Pos2 {
        Pos2::new(
            self.x_of(freq.value() as f64)
                .clamp(self.rect.left(), self.rect.right()),
            self.y_of(PASS_HANDLE_DB),
        )
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

fn draw_grid(ui: &Ui, axes: &Axes, outer: Rect) {
    let painter = ui.painter_at(outer);
    painter.rect_filled(outer, 2.0, Color32::from_gray(20));
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

/// The handle's response: senses clicks and drags in a square around `centre`, reports
/// itself to accessibility as `name`.
fn handle_response(ui: &mut Ui, id: Id, centre: Pos2, name: &str) -> Response {
    let hit = Rect::from_center_size(centre, Vec2::splat(HANDLE_RADIUS * 3.0));
    let response = ui.interact(hit, id, Sense::click_and_drag());
    let name = name.to_owned();
    response.widget_info(|| WidgetInfo::labeled(Role::Slider, true, name.clone()));
    response
}

/// The pointer position a drag has reached, from where the handle was when it started.
#[derive(Clone, Copy)]
struct DragStart(Pos2);

fn drag_position(ui: &Ui, response: &Response, centre: Pos2) -> Option<Pos2> {
    if response.drag_started() {
        ui.data_mut(|data| data.insert_temp(response.id, DragStart(centre)));
    }
    if !response.dragged() {
        return None;
    }
    let start = ui
        .data(|data| data.get_temp::<DragStart>(response.id))
        .map_or(centre, |start| start.0);
    Some(start + response.total_drag_delta().unwrap_or_default())
}

/// One band's handle: draws it and turns the pointer's gestures into parameter changes.
/// Returns whether the user picked this band (clicked or dragged it).
fn band_handle(
    ui: &mut Ui,
    axes: &Axes,
    index: usize,
    band: &BandParams,
    eq_on: bool,
    selected: bool,
    setter: &ParamSetter,
) -> bool {
    let centre = axes.band_handle(band);
    let id = Id::unique(("oxide-eq-band", index));
    let response = handle_response(ui, id, centre, &format!("EQ {} handle", index + 1));

    if response.drag_started() {
        setter.begin_set_parameter(&band.freq);
        setter.begin_set_parameter(&band.gain);
    }
    if let Some(pointer) = drag_position(ui, &response, centre) {
        setter.set_parameter(&band.freq, axes.freq_of(pointer.x) as f32);
        setter.set_parameter(&band.gain, axes.db_of(pointer.y) as f32);
    }
    if response.drag_stopped() {
        setter.end_set_parameter(&band.gain);
        setter.end_set_parameter(&band.freq);
    }
    if response.double_clicked() {
        reset(setter, &band.freq);
        reset(setter, &band.gain);
        reset(setter, &band.q);
    }
    if response.hovered() && !response.dragged() {
        let notches = wheel_notches(ui);
        if notches != 0.0 {
            let q = band.q.value() * 2f32.powf(notches / Q_NOTCHES_PER_OCTAVE);
            setter.begin_set_parameter(&band.q);
            setter.set_parameter(&band.q, q);
            setter.end_set_parameter(&band.q);
        }
    }

    let colour = BAND_COLOURS[index % BAND_COLOURS.len()];
    let active = eq_on && band.on.value();
    let painter = ui.painter_at(axes.rect.expand(HANDLE_RADIUS));
    if active {
        painter.circle_filled(centre, HANDLE_RADIUS, colour);
    } else {
        painter.circle_stroke(centre, HANDLE_RADIUS, Stroke::new(1.5, colour));
    }
    if selected {
        painter.circle_stroke(
            centre,
            HANDLE_RADIUS + 2.5,
            Stroke::new(1.5, Color32::WHITE),
        );
    }
    painter.text(
        centre,
        Align2::CENTER_CENTER,
        format!("{}", index + 1),
        FontId::proportional(10.0),
        if active { Color32::BLACK } else { colour },
    );
    let picked = response.clicked() || response.drag_started();
    hover_text(response, || {
        format!(
            "EQ {}: {}, {:.0} Hz, {:+.1} dB, Q {:.2}{}\nDrag: frequency and gain · wheel: Q · \
         double-click: reset",
            index + 1,
            band.kind,
            band.freq.value(),
            band.gain.value(),
            band.q.value(),
            if band.on.value() { "" } else { " (off)" },
        )
    });
    picked
}

/// A pass filter's corner handle: drag sideways for its frequency, the wheel for its
/// slope, double-click for its default frequency.
fn pass_handle(
    ui: &mut Ui,
    axes: &Axes,
    name: &str,
    on: &BoolParam,
    freq: &FloatParam,
    slope: &EnumParam<SlopeChoice>,
    setter: &ParamSetter,
) {
    let centre = axes.pass_handle(freq);
    let id = Id::unique(("oxide-eq-pass", name));
    let response = handle_response(ui, id, centre, &format!("{name} handle"));
    if response.drag_started() {
        setter.begin_set_parameter(freq);
    }
    if let Some(pointer) = drag_position(ui, &response, centre) {
        setter.set_parameter(freq, axes.freq_of(pointer.x) as f32);
    }
    if response.drag_stopped() {
        setter.end_set_parameter(freq);
    }
    if response.double_clicked() {
        reset(setter, freq);
    }
    if response.hovered() && !response.dragged() {
        let notches = wheel_notches(ui);
        if notches != 0.0 {
            let value = slope.unmodulated_normalized_value();
            let next = if notches > 0.0 {
                slope.next_normalized_step(value, false)
            } else {
                slope.previous_normalized_step(value, false)
            };
            if next != value {
                set_once(setter, slope, next);
            }
        }
    }
    let painter = ui.painter_at(axes.rect.expand(HANDLE_RADIUS));
    let colour = if on.value() {
        PASS
    } else {
        PASS.gamma_multiply(0.4)
    };
    let square = Rect::from_center_size(centre, Vec2::splat(HANDLE_RADIUS * 1.6));
    if on.value() {
        painter.rect_filled(square, 2.0, colour);
    } else {
        painter.rect_stroke(
            square,
            2.0,
            Stroke::new(1.5, colour),
            egui::StrokeKind::Inside,
        );
    }
    hover_text(response, || {
        format!(
            "{name}: {:.0} Hz, {}{}\nDrag sideways: frequency · wheel: slope · double-click: reset",
            freq.value(),
            slope.value_text(),
            if on.value() { "" } else { " (off)" },
        )
    });
}

trait ValueText {
    fn value_text(&self) -> String;
}

impl<P: Param> ValueText for P {
    fn value_text(&self) -> String {
        self.normalized_value_to_string(self.unmodulated_normalized_value(), true)
    }
}

fn reset<P: Param>(setter: &ParamSetter, param: &P) {
    set_once(setter, param, param.default_normalized_value());
}

/// The band that is off whose handle lies nearest `pointer`, if any is off.
pub fn nearest_unused_band(axes: &Axes, params: &StripParams, pointer: Pos2) -> Option<usize> {
    params
        .bands()
        .iter()
        .enumerate()
        .filter(|(_, band)| !band.on.value())
        .min_by(|(_, a), (_, b)| {
            let da = axes.band_handle(a).distance_sq(pointer);
            let db = axes.band_handle(b).distance_sq(pointer);
            da.total_cmp(&db)
        })
        .map(|(index, _)| index)
}

/// The curve with its handles in `rect`, over the output's `spectrum` (on its own
/// −96 … 0 dBFS scale, dimmed). `selected` is the band whose controls the editor shows;
/// a handle the user picks becomes it.
pub fn show(
    ui: &mut Ui,
    rect: Rect,
    params: &StripParams,
    sample_rate: f32,
    setter: &ParamSetter,
    spectrum: &SpectrumView,
    selected: &mut usize,
) {
    let axes = Axes::for_plot(rect);
    // The plot itself: a click on an empty spot switches a band on there.
    let plot = ui.interact(rect, Id::unique("oxide-eq-plot"), Sense::click());
    plot.widget_info(|| WidgetInfo::labeled(Role::Image, true, "EQ curve"));
    draw_grid(ui, &axes, rect);
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
    pass_handle(
        ui,
        &axes,
        "HPF",
        &params.hpf_on,
        &params.hpf_freq,
        &params.hpf_slope,
        setter,
    );
    pass_handle(
        ui,
        &axes,
        "LPF",
        &params.lpf_on,
        &params.lpf_freq,
        &params.lpf_slope,
        setter,
    );
    for (index, band) in params.bands().into_iter().enumerate() {
        if band_handle(ui, &axes, index, band, eq.eq_on, *selected == index, setter) {
            *selected = index;
        }
    }
    if plot.clicked() {
        if let Some(pointer) = plot.interact_pointer_pos() {
            if let Some(index) = nearest_unused_band(&axes, params, pointer) {
                let band = params.bands()[index];
                setter.begin_set_parameter(&band.on);
                setter.set_parameter(&band.on, true);
                setter.end_set_parameter(&band.on);
                setter.begin_set_parameter(&band.freq);
                setter.set_parameter(&band.freq, axes.freq_of(pointer.x) as f32);
                setter.end_set_parameter(&band.freq);
                setter.begin_set_parameter(&band.gain);
                setter.set_parameter(&band.gain, axes.db_of(pointer.y) as f32);
                setter.end_set_parameter(&band.gain);
                *selected = index;
            }
        }
    }
    plot.on_hover_text(
        "EQ: drag a handle for frequency and gain, the wheel over it for Q (a corner's \
         slope), double-click it to reset; click an empty spot to switch on a band there",
    );
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
