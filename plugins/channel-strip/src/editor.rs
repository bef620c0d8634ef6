//! The channel strip's editor: a console strip in signal order, no scrolling at the
//! default size. Input (trim, polarity, meter) → filters → gate → EQ → compressor →
//! saturation → delay → reverb → pan/width → fader and output meter; each module a panel
//! with its power switch in its title and its controls as knobs; the gate's and the
//! compressor's gain reduction beside their controls, the compressor's transfer curve
//! with the input's level as a moving dot, the gate's open light; the EQ's curve over
//! the spectrum with handles, the selected band's controls under it. The bypass and the
//! dynamics' place (before or after the EQ) are in the top bar. Resizable (the layout
//! reflows), scalable (75–200 %, saved with the project).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use egui::{Align2, Color32, FontId, Pos2, Rect, Role, Sense, Shape, Stroke, Ui, UiBuilder, Vec2};
use nice_plug::prelude::{BoolParam, Param, ParamSetter};
use nice_plug_egui::EguiEditor;
use oxide_plugin_common::editor::meter::Meter;
use oxide_plugin_common::editor::panel::module_panel;
use oxide_plugin_common::editor::widgets::{hover_text, ChoiceBox, Fader, Knob, Toggle};
use oxide_plugin_common::editor::{self, App, Body, MeterReading};
use oxide_plugin_common::presets;
use oxide_plugin_common::spectrum::SpectrumView;

pub mod eq_view;
pub mod layout;

pub use oxide_plugin_common::editor::EditorState;

use crate::meters::{Meters, METER_FLOOR_DB};
use crate::params::{StripParams, DEFAULT_SIZE};
use layout::Cells;

pub type Editor = EguiEditor<App<StripEditor>>;

/// The window's title.
pub const TITLE: &str = "Oxide Channel Strip";

/// The smallest window the layout still fits in without clipping, logical pixels.
pub const MIN_SIZE: (f32, f32) = (860.0, 540.0);

/// The editor state at the default size.
pub fn default_state() -> Arc<EditorState> {
    editor::default_state(DEFAULT_SIZE.0, DEFAULT_SIZE.1)
}

/// Attack and release help (nice-plug has no tooltip field for a parameter).
pub const TIMES_HELP: &str = "Attack and release are 10–90 % times: how long the gain \
change, in dB, takes to go from 10 % to 90 % of its way after a step in level.";

/// The transfer curve's input and output span, dBFS.
pub const TRANSFER_FLOOR_DB: f32 = -60.0;

/// The strip's editor body.
pub struct StripEditor {
    params: Arc<StripParams>,
    meters: Arc<Meters>,
    spectrum: SpectrumView,
    /// The EQ band whose controls show under the curve (0-based).
    selected_band: usize,
}

impl StripEditor {
    pub fn new(params: Arc<StripParams>, meters: Arc<Meters>) -> Self {
        Self {
            params,
            meters,
            spectrum: SpectrumView::default(),
            selected_band: 0,
        }
    }

    /// The band whose controls show (0-based).
    pub fn selected_band(&self) -> usize {
        self.selected_band
    }

    pub fn select_band(&mut self, band: usize) {
        self.selected_band = band.min(self.params.bands().len() - 1);
    }
}

/// The whole editor (shell and body) for `params` and `meters`: what the plugin opens and
/// what the tests drive.
pub fn app(params: Arc<StripParams>, meters: Arc<Meters>) -> App<StripEditor> {
    App::new(
        TITLE,
        StripEditor::new(params.clone(), meters),
        params.editor_size.clone(),
        params.ui_scale.clone(),
        MIN_SIZE,
    )
    .with_presets(
        presets::CHANNEL_STRIP,
        params.clone(),
        Box::new(StripParams::default()),
        params.ab_slots.clone(),
    )
}

pub fn create(
    params: Arc<StripParams>,
    state: Arc<EditorState>,
    meters: Arc<Meters>,
) -> Option<Editor> {
    let repaint = meters.repaint.clone();
    editor::create_app(state, repaint, app(params, meters))
}

/// Runs `add` in a child ui confined to `rect`.
fn at<R>(ui: &mut Ui, rect: Rect, add: impl FnOnce(&mut Ui) -> R) -> R {
    ui.scope_builder(UiBuilder::new().max_rect(rect), add).inner
}

/// A knob in the next cell of `cells`.
fn knob<P: Param>(
    ui: &mut Ui,
    cells: &mut Cells,
    param: &P,
    setter: &ParamSetter,
    label: &str,
    tooltip: Option<&str>,
) {
    let rect = cells.next_cell();
    let mut knob = Knob::new(param, setter)
        .label(label)
        .diameter(cells.knob_diameter());
    if let Some(tooltip) = tooltip {
        knob = knob.tooltip(tooltip);
    }
    knob.show_in(ui, rect);
}

/// The level meter reading of a held peak.
fn level(value: &atomic_float::AtomicF32) -> MeterReading {
    MeterReading::Level {
        value_db: value.load(Ordering::Relaxed),
        floor_db: METER_FLOOR_DB,
        top_db: 0.0,
        unit: "dBFS",
    }
}

fn reduction(value: &atomic_float::AtomicF32, full_scale_db: f32) -> MeterReading {
    MeterReading::Reduction {
        value_db: value.load(Ordering::Relaxed),
        full_scale_db,
    }
}

/// Splits `rect` into a top part `height` tall and the rest.
fn take_top(rect: Rect, height: f32) -> (Rect, Rect) {
    let height = height.min(rect.height());
    (
        Rect::from_min_size(rect.min, Vec2::new(rect.width(), height)),
        Rect::from_min_max(Pos2::new(rect.left(), rect.top() + height), rect.max),
    )
}

/// Splits `rect` into a right part `width` wide and the rest (left).
fn take_right(rect: Rect, width: f32) -> (Rect, Rect) {
    let width = width.min(rect.width());
    (
        Rect::from_min_max(Pos2::new(rect.right() - width, rect.top()), rect.max),
        Rect::from_min_max(rect.min, Pos2::new(rect.right() - width, rect.bottom())),
    )
}

/// A module panel in `rect` whose contents get the area left under the title.
fn panel(
    ui: &mut Ui,
    rect: Rect,
    title: &str,
    power: Option<&BoolParam>,
    setter: &ParamSetter,
    add: impl FnOnce(&mut Ui, Rect),
) {
    at(ui, rect, |ui| {
        module_panel(ui, title, power, setter, |ui| {
            let area = ui.available_rect_before_wrap();
            add(ui, area);
        });
    });
}

impl Body for StripEditor {
    fn top_bar(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let p = &self.params;
        Toggle::new(&p.bypass, setter)
            .label("Bypass")
            .tooltip("Bypasses the whole strip (latency-compensated, with a short fade)")
            .show(ui);
        Toggle::new(&p.dyn_pre_eq, setter)
            .label("Dynamics before EQ")
            .tooltip("On: gate → compressor → EQ. Off: EQ → gate → compressor")
            .show(ui);
    }

    fn ui(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        self.spectrum
            .update(&self.meters.spectrum, ui.input(|input| input.time));
        let body = ui.available_rect_before_wrap().shrink(2.0);
        let [input, filters, gate, eq, comp, sat, delay, reverb, pan, output] =
            layout::panels(body);
        self.input(ui, input, setter);
        self.filters(ui, filters, setter);
        self.gate(ui, gate, setter);
        self.eq(ui, eq, setter);
        self.compressor(ui, comp, setter);
        self.saturation(ui, sat, setter);
        self.delay(ui, delay, setter);
        self.reverb(ui, reverb, setter);
        self.pan(ui, pan, setter);
        self.output(ui, output, setter);
        // The layout takes the whole body: nothing below it, no scroll area.
        ui.allocate_rect(body, Sense::hover());
    }

    fn animating(&self) -> bool {
        // The meters ask for frames from the audio thread while they move (the
        // `repaint` notifier); the spectrum falls on the GUI's clock.
        !self.spectrum.settled()
    }
}

impl StripEditor {
    fn input(&self, ui: &mut Ui, rect: Rect, setter: &ParamSetter) {
        let p = &self.params;
        let meters = &self.meters;
        panel(ui, rect, "Input", None, setter, |ui, area| {
            let (trim, rest) = take_top(area, 84.0);
            let mut cells = Cells::new(trim, 1, 1);
            knob(
                ui,
                &mut cells,
                &p.in_gain,
                setter,
                "Trim",
                Some("Input gain before everything"),
            );
            let (switches, rest) = take_top(rest, 54.0);
            let (left, right) = take_top(switches.shrink2(Vec2::new(0.0, 2.0)), 25.0);
            at(ui, left, |ui| {
                ui.vertical_centered(|ui| {
                    Toggle::new(&p.phase_l, setter)
                        .label("Ø L")
                        .tooltip("Inverts the left channel's polarity")
                        .show(ui)
                })
            });
            at(ui, right, |ui| {
                ui.vertical_centered(|ui| {
                    Toggle::new(&p.phase_r, setter)
                        .label("Ø R")
                        .tooltip("Inverts the right channel's polarity")
                        .show(ui)
                })
            });
            let meter = Rect::from_center_size(
                rest.center(),
                Vec2::new(rest.width().min(40.0), rest.height() - 4.0),
            );
            at(ui, meter, |ui| {
                Meter::new("In", level(&meters.input_peak_db))
                    .size(meter.size())
                    .show(ui)
            });
        });
    }

    fn filters(&self, ui: &mut Ui, rect: Rect, setter: &ParamSetter) {
        let p = &self.params;
        panel(ui, rect, "Filters", None, setter, |ui, area| {
            let half = area.height() / 2.0;
            let rows = [
                (
                    Rect::from_min_size(area.min, Vec2::new(area.width(), half)),
                    "HPF",
                    &p.hpf_on,
                    &p.hpf_freq,
                    &p.hpf_slope,
                ),
                (
                    Rect::from_min_size(
                        area.min + Vec2::new(0.0, half),
                        Vec2::new(area.width(), half),
                    ),
                    "LPF",
                    &p.lpf_on,
                    &p.lpf_freq,
                    &p.lpf_slope,
                ),
            ];
            for (row, name, on, freq, slope) in rows {
                // The frequency knob on the left, the switch over the slope on the right.
                let (right, left) = take_right(row, (row.width() * 0.56).max(78.0));
                let mut cells = Cells::new(left, 1, 1);
                knob(ui, &mut cells, freq, setter, "Freq", None);
                let middle = right.center().y;
                let switch = Rect::from_min_max(
                    Pos2::new(right.left(), middle - 26.0),
                    Pos2::new(right.right(), middle - 2.0),
                );
                let choice = Rect::from_min_max(
                    Pos2::new(right.left(), middle + 2.0),
                    Pos2::new(right.right(), middle + 26.0),
                );
                at(ui, switch, |ui| {
                    Toggle::new(on, setter)
                        .label(name)
                        .tooltip(if name == "HPF" {
                            "High-pass filter: removes rumble below its frequency"
                        } else {
                            "Low-pass filter: removes hiss above its frequency"
                        })
                        .show(ui)
                });
                at(ui, choice, |ui| {
                    ChoiceBox::new(slope, setter)
                        .width((choice.width() - 4.0).max(40.0))
                        .tooltip("Slope, dB per octave")
                        .show(ui)
                });
            }
        });
    }

    fn gate(&self, ui: &mut Ui, rect: Rect, setter: &ParamSetter) {
        let p = &self.params;
        let meters = &self.meters;
        panel(ui, rect, "Gate", Some(&p.gate_on), setter, |ui, area| {
            let (side, knobs) = take_right(area, 34.0);
            let mut cells = Cells::new(knobs, 3, 3);
            let help = Some(TIMES_HELP);
            knob(
                ui,
                &mut cells,
                &p.gate_thresh,
                setter,
                "Thresh",
                Some("Opens above this key level"),
            );
            knob(
                ui,
                &mut cells,
                &p.gate_range,
                setter,
                "Range",
                Some("How far the closed gate turns down"),
            );
            knob(
                ui,
                &mut cells,
                &p.gate_ratio,
                setter,
                "Ratio",
                Some("Expansion below the threshold; the top is a gate"),
            );
            knob(ui, &mut cells, &p.gate_attack, setter, "Attack", help);
            knob(
                ui,
                &mut cells,
                &p.gate_hold,
                setter,
                "Hold",
                Some("How long it stays open after the key falls"),
            );
            knob(ui, &mut cells, &p.gate_release, setter, "Release", help);
            knob(
                ui,
                &mut cells,
                &p.gate_hyst,
                setter,
                "Hyst",
                Some("It closes this far below the threshold"),
            );
            knob(
                ui,
                &mut cells,
                &p.gate_key_hpf,
                setter,
                "Key HPF",
                Some("Filters the key: ignore low rumble"),
            );
            knob(
                ui,
                &mut cells,
                &p.gate_key_lpf,
                setter,
                "Key LPF",
                Some("Filters the key: ignore hiss and spill"),
            );
            // The open light over the gain-reduction meter.
            let (light, meter) = take_top(side, 22.0);
            let open = meters.gate_open.load(Ordering::Relaxed);
            let response = ui.interact(light, egui::Id::unique("oxide-gate-light"), Sense::hover());
            let colour = if open {
                Color32::from_rgb(110, 230, 110)
            } else {
                Color32::from_gray(60)
            };
            ui.painter().circle_filled(light.center(), 6.0, colour);
            response
                .widget_info(|| egui::WidgetInfo::selected(Role::Image, true, open, "Gate open"));
            response.on_hover_text(if open { "Gate open" } else { "Gate closed" });
            at(ui, meter, |ui| {
                Meter::new("GR", reduction(&meters.gate_gr_db, 80.0))
                    .size(meter.size())
                    .show(ui)
            });
        });
    }

    fn eq(&mut self, ui: &mut Ui, rect: Rect, setter: &ParamSetter) {
        let params = self.params.clone();
        let p = &*params;
        let sample_rate = self.meters.sample_rate.load(Ordering::Relaxed);
        let spectrum = &self.spectrum;
        let selected = &mut self.selected_band;
        panel(ui, rect, "EQ", Some(&p.eq_on), setter, |ui, area| {
            let controls_h = (area.height() * 0.36).clamp(84.0, 110.0);
            let (plot, controls) = take_top(area, area.height() - controls_h);
            eq_view::show(
                ui,
                plot.shrink2(Vec2::new(0.0, 2.0)),
                p,
                sample_rate,
                setter,
                spectrum,
                selected,
            );
            let (bar, knobs) = take_top(controls, 26.0);
            let band = p.bands()[*selected];
            at(ui, bar.shrink2(Vec2::new(0.0, 2.0)), |ui| {
                ui.horizontal(|ui| {
                    for (index, colour) in eq_view::BAND_COLOURS.iter().enumerate() {
                        let on = p.bands()[index].on.value();
                        let text = egui::RichText::new(format!("{}", index + 1))
                            .color(if on { Color32::BLACK } else { *colour })
                            .size(11.0);
                        let button = egui::Button::new(text)
                            .fill(if on { *colour } else { Color32::from_gray(40) })
                            .stroke(if index == *selected {
                                Stroke::new(1.5, Color32::WHITE)
                            } else {
                                Stroke::NONE
                            })
                            .min_size(Vec2::new(20.0, 18.0));
                        let response = ui
                            .add(button)
                            .on_hover_text(format!("Show band {}'s controls", index + 1));
                        if response.clicked() {
                            *selected = index;
                        }
                    }
                    ui.add_space(6.0);
                    Toggle::new(&band.on, setter)
                        .label("On")
                        .tooltip("Switches the selected band on or off")
                        .show(ui);
                    ChoiceBox::new(&band.kind, setter)
                        .width(78.0)
                        .tooltip("The selected band's shape")
                        .show(ui);
                });
            });
            let mut cells = Cells::new(knobs, 3, 1);
            knob(ui, &mut cells, &band.freq, setter, "Freq", None);
            knob(ui, &mut cells, &band.gain, setter, "Gain", None);
            knob(
                ui,
                &mut cells,
                &band.q,
                setter,
                "Q",
                Some("Bandwidth: higher is narrower"),
            );
        });
    }

    fn compressor(&self, ui: &mut Ui, rect: Rect, setter: &ParamSetter) {
        let p = &self.params;
        let meters = &self.meters;
        panel(
            ui,
            rect,
            "Compressor",
            Some(&p.comp_on),
            setter,
            |ui, area| {
                let (meter, rest) = take_right(area, 34.0);
                let curve_side = (rest.width() * 0.38).min(rest.height() - 96.0).max(60.0);
                let left = Rect::from_min_size(rest.min, Vec2::new(curve_side, rest.height()));
                let knobs = Rect::from_min_max(Pos2::new(left.right() + 6.0, rest.top()), rest.max);
                let (curve, below) = take_top(left, curve_side);
                transfer_curve(ui, curve, p, meters);
                // The switches one under another, then the detector.
                let (switches, choice) = take_top(below.shrink2(Vec2::new(0.0, 4.0)), 66.0);
                at(ui, switches, |ui| {
                    ui.spacing_mut().item_spacing = Vec2::new(3.0, 3.0);
                    Toggle::new(&p.comp_auto_release, setter)
                        .label("Auto release")
                        .tooltip("Program-dependent release: faster after short peaks")
                        .show(ui);
                    Toggle::new(&p.comp_auto_makeup, setter)
                        .label("Auto makeup")
                        .tooltip("Makes up the gain the threshold and ratio take")
                        .show(ui);
                    Toggle::new(&p.comp_sc_ext, setter)
                        .label("External SC")
                        .tooltip(
                            "Keys from the sidechain input (its own input when none is connected)",
                        )
                        .show(ui);
                });
                at(ui, choice, |ui| {
                    ChoiceBox::new(&p.comp_detector, setter)
                        .label("Detector")
                        .width(56.0)
                        .tooltip("Peak follows every peak; RMS follows loudness")
                        .show(ui)
                });
                let mut cells = Cells::new(knobs, 3, 3);
                let help = Some(TIMES_HELP);
                knob(
                    ui,
                    &mut cells,
                    &p.comp_thresh,
                    setter,
                    "Thresh",
                    Some("Compresses above this level"),
                );
                knob(
                    ui,
                    &mut cells,
                    &p.comp_ratio,
                    setter,
                    "Ratio",
                    Some("Input dB over the threshold per output dB"),
                );
                knob(
                    ui,
                    &mut cells,
                    &p.comp_knee,
                    setter,
                    "Knee",
                    Some("Soft-knee width around the threshold"),
                );
                knob(ui, &mut cells, &p.comp_attack, setter, "Attack", help);
                knob(ui, &mut cells, &p.comp_release, setter, "Release", help);
                knob(
                    ui,
                    &mut cells,
                    &p.comp_sc_hpf,
                    setter,
                    "SC HPF",
                    Some("Keeps the bass from driving the compressor"),
                );
                knob(
                    ui,
                    &mut cells,
                    &p.comp_link,
                    setter,
                    "Link",
                    Some("Stereo link: 100 % reduces both sides alike"),
                );
                knob(ui, &mut cells, &p.comp_makeup, setter, "Makeup", None);
                knob(
                    ui,
                    &mut cells,
                    &p.comp_mix,
                    setter,
                    "Mix",
                    Some("Dry/wet, for parallel compression"),
                );
                at(ui, meter, |ui| {
                    Meter::new("GR", reduction(&meters.comp_gr_db, 30.0))
                        .size(meter.size())
                        .show(ui)
                });
            },
        );
    }

    fn saturation(&self, ui: &mut Ui, rect: Rect, setter: &ParamSetter) {
        let p = &self.params;
        panel(
            ui,
            rect,
            "Saturation",
            Some(&p.sat_on),
            setter,
            |ui, area| {
                let (knobs, choice) = take_top(area, area.height() - 28.0);
                let mut cells = Cells::new(knobs, 1, 2);
                knob(
                    ui,
                    &mut cells,
                    &p.sat_drive,
                    setter,
                    "Drive",
                    Some("How hard the signal hits the curve"),
                );
                knob(ui, &mut cells, &p.sat_mix, setter, "Mix", None);
                at(ui, choice, |ui| {
                    ui.vertical_centered(|ui| {
                        ChoiceBox::new(&p.sat_type, setter)
                            .width((choice.width() - 20.0).max(40.0))
                            .tooltip("Tape: soft and even; Tube: asymmetric, warmer")
                            .show(ui)
                    })
                });
            },
        );
    }

    fn delay(&self, ui: &mut Ui, rect: Rect, setter: &ParamSetter) {
        let p = &self.params;
        panel(ui, rect, "Delay", Some(&p.dly_on), setter, |ui, area| {
            let (knobs, bottom) = take_top(area, area.height() - 52.0);
            let mut cells = Cells::new(knobs, 2, 3);
            knob(
                ui,
                &mut cells,
                &p.dly_time,
                setter,
                "Time",
                Some("Delay time when not synced"),
            );
            knob(ui, &mut cells, &p.dly_feedback, setter, "Feedback", None);
            knob(
                ui,
                &mut cells,
                &p.dly_hpf,
                setter,
                "HPF",
                Some("Thins the repeats"),
            );
            knob(
                ui,
                &mut cells,
                &p.dly_lpf,
                setter,
                "LPF",
                Some("Darkens the repeats"),
            );
            knob(ui, &mut cells, &p.dly_mix, setter, "Mix", None);
            let (sync, pingpong) = take_top(bottom, 26.0);
            at(ui, sync, |ui| {
                ChoiceBox::new(&p.dly_sync, setter)
                    .label("Sync")
                    .width((sync.width() - 44.0).max(40.0))
                    .tooltip("A note value at the host's tempo replaces the time")
                    .show(ui)
            });
            at(ui, pingpong, |ui| {
                Toggle::new(&p.dly_pingpong, setter)
                    .label("Ping-pong")
                    .tooltip("Repeats alternate left and right")
                    .show(ui)
            });
        });
    }

    fn reverb(&self, ui: &mut Ui, rect: Rect, setter: &ParamSetter) {
        let p = &self.params;
        panel(ui, rect, "Reverb", Some(&p.rev_on), setter, |ui, area| {
            let mut cells = Cells::new(area, 2, 3);
            knob(ui, &mut cells, &p.rev_size, setter, "Size", None);
            knob(
                ui,
                &mut cells,
                &p.rev_decay,
                setter,
                "Decay",
                Some("RT60 at low frequencies"),
            );
            knob(ui, &mut cells, &p.rev_predelay, setter, "Predelay", None);
            knob(
                ui,
                &mut cells,
                &p.rev_damp,
                setter,
                "Damping",
                Some("How fast the highs die away"),
            );
            knob(ui, &mut cells, &p.rev_width, setter, "Width", None);
            knob(ui, &mut cells, &p.rev_mix, setter, "Mix", None);
        });
    }

    fn pan(&self, ui: &mut Ui, rect: Rect, setter: &ParamSetter) {
        let p = &self.params;
        panel(ui, rect, "Pan / Width", None, setter, |ui, area| {
            let (knobs, choice) = take_top(area, area.height() - 28.0);
            let mut cells = Cells::new(knobs, 1, 2);
            let rect = cells.next_cell();
            Knob::new(&p.pan, setter)
                .label("Pan")
                .bipolar(true)
                .diameter(cells.knob_diameter())
                .tooltip("Pan (mono source) or balance (stereo source)")
                .show_in(ui, rect);
            knob(
                ui,
                &mut cells,
                &p.width,
                setter,
                "Width",
                Some("0 % mono, 100 % as is, 200 % wide"),
            );
            at(ui, choice, |ui| {
                ui.vertical_centered(|ui| {
                    ChoiceBox::new(&p.pan_law, setter)
                        .width((choice.width() - 20.0).max(40.0))
                        .tooltip("Pan law: the level at the centre")
                        .show(ui)
                })
            });
        });
    }

    fn output(&self, ui: &mut Ui, rect: Rect, setter: &ParamSetter) {
        let p = &self.params;
        let meters = &self.meters;
        panel(ui, rect, "Output", None, setter, |ui, area| {
            let half = area.width() / 2.0;
            let fader = Rect::from_min_size(area.min, Vec2::new(half, area.height()));
            let meter = Rect::from_min_max(Pos2::new(area.left() + half, area.top()), area.max);
            Fader::new(&p.out_gain, setter)
                .label("Fader")
                .tooltip("The strip's output level (the bottom is silence)")
                .size(fader.size())
                .show_in(ui, fader);
            let meter = Rect::from_center_size(
                meter.center(),
                Vec2::new(meter.width().min(40.0), meter.height()),
            );
            at(ui, meter, |ui| {
                Meter::new("Out", level(&meters.output_peak_db))
                    .size(meter.size())
                    .show(ui)
            });
        });
    }
}

/// The compressor's static curve (input → output, dBFS, without makeup) in a square,
/// with the key's current level as a dot on it.
fn transfer_curve(ui: &mut Ui, rect: Rect, params: &StripParams, meters: &Meters) {
    let response = ui.interact(
        rect,
        egui::Id::unique("oxide-transfer-curve"),
        Sense::hover(),
    );
    response
        .widget_info(|| egui::WidgetInfo::labeled(Role::Image, true, "Compressor transfer curve"));
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(20));
    let span = -TRANSFER_FLOOR_DB;
    let x_of = |db: f32| rect.left() + (db - TRANSFER_FLOOR_DB) / span * rect.width();
    let y_of = |db: f32| rect.bottom() - (db - TRANSFER_FLOOR_DB) / span * rect.height();
    let grid = Stroke::new(1.0, Color32::from_gray(50));
    for db in [-48.0, -36.0, -24.0, -12.0] {
        painter.line_segment(
            [
                Pos2::new(x_of(db), rect.top()),
                Pos2::new(x_of(db), rect.bottom()),
            ],
            grid,
        );
        painter.line_segment(
            [
                Pos2::new(rect.left(), y_of(db)),
                Pos2::new(rect.right(), y_of(db)),
            ],
            grid,
        );
    }
    painter.line_segment(
        [
            Pos2::new(x_of(TRANSFER_FLOOR_DB), y_of(TRANSFER_FLOOR_DB)),
            Pos2::new(x_of(0.0), y_of(0.0)),
        ],
        Stroke::new(1.0, Color32::from_gray(80)),
    );
    let curve = params.settings().comp.gain_computer();
    let points: Vec<Pos2> = (0..=60)
        .map(|i| {
            let input = TRANSFER_FLOOR_DB + span * i as f32 / 60.0;
            Pos2::new(
                x_of(input),
                y_of(curve.output_db(input).max(TRANSFER_FLOOR_DB)),
            )
        })
        .collect();
    painter.add(Shape::line(
        points,
        Stroke::new(2.0, Color32::from_rgb(240, 170, 60)),
    ));
    let level = meters.comp_level_db.load(Ordering::Relaxed);
    if level > TRANSFER_FLOOR_DB && params.comp_on.value() {
        let level = level.min(0.0);
        let dot = Pos2::new(
            x_of(level),
            y_of(curve.output_db(level).max(TRANSFER_FLOOR_DB)),
        );
        painter.circle_filled(dot, 4.5, Color32::WHITE);
    }
    painter.text(
        rect.left_top() + Vec2::new(3.0, 2.0),
        Align2::LEFT_TOP,
        "out",
        FontId::proportional(9.0),
        Color32::from_gray(110),
    );
    painter.text(
        rect.right_bottom() - Vec2::new(3.0, 2.0),
        Align2::RIGHT_BOTTOM,
        "in",
        FontId::proportional(9.0),
        Color32::from_gray(110),
    );
    hover_text(response, || {
        format!(
            "Transfer curve, {TRANSFER_FLOOR_DB:.0} … 0 dBFS in and out (without makeup); the dot \
         is the key's level now"
        )
    });
}
