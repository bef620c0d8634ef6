//! The mastering editor's contents: the module panels in signal order (see
//! [`super::layout`]), each with its controls and its own display.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use egui::{Color32, Rect, RichText, Ui};
use nice_plug::prelude::{ParamPtr, ParamSetter};
use oxide_plugin_common::spectrum::SpectrumView;
use shared_dsp::loudness::measured;
use shared_dsp::loudness::streaming::Service;

use super::controls::Controls;
use super::crossover_view::{Bands, CrossoverView};
use super::eq_curve;
use super::goniometer::{correlation_bar, Goniometer};
use super::gr_history::GainReductionHistory;
use super::layout::{Layout, PanelId, MARGIN};
use super::loudness_view::LoudnessHistory;
use super::readings::{integrated_status, short_status, true_peak_status, Status};
use crate::chain::ChainMeters;
use crate::params::{BandParams, MasterParams, Target};

/// What one frame laid out: each panel's rectangle and the rectangle its contents used,
/// the crossover display's rectangle, and the parameters that had a control (for the
/// tests).
#[derive(Clone, Debug)]
pub struct FrameReport {
    pub window: Rect,
    pub layout: Option<Layout>,
    pub contents: Vec<(PanelId, Rect)>,
    pub crossover_rect: Rect,
    pub reached: Vec<ParamPtr>,
}

/// The editor's state between frames (GUI thread only).
pub struct MasterView {
    pub params: Arc<MasterParams>,
    pub meters: Arc<ChainMeters>,
    history: LoudnessHistory,
    spectrum: SpectrumView,
    crossovers: CrossoverView,
    goniometer: Goniometer,
    gr_history: GainReductionHistory,
    report: FrameReport,
    /// The output samples the chain had handed over at the last frame, and when (GUI
    /// clock) that count last moved: while audio flows, and for [`SETTLE_SECONDS`]
    /// after, the displays move and the editor redraws at the frame rate.
    last_written: usize,
    last_change: Option<f64>,
    animating: bool,
}

/// How long the displays keep moving after the audio stops, seconds: the spectrum falls
/// its 96 dB range at 40 dB/s in 2.4 s.
pub const SETTLE_SECONDS: f64 = 3.0;

impl Default for FrameReport {
    fn default() -> Self {
        Self {
            window: Rect::NOTHING,
            layout: None,
            contents: Vec::new(),
            crossover_rect: Rect::NOTHING,
            reached: Vec::new(),
        }
    }
}

impl MasterView {
    pub fn new(params: Arc<MasterParams>, meters: Arc<ChainMeters>) -> Self {
        Self {
            params,
            meters,
            history: LoudnessHistory::default(),
            spectrum: SpectrumView::default(),
            crossovers: CrossoverView::default(),
            goniometer: Goniometer::default(),
            gr_history: GainReductionHistory::default(),
            report: FrameReport::default(),
            last_written: 0,
            last_change: None,
            animating: false,
        }
    }

    /// Whether the displays are moving (audio flows, or stopped less than
    /// [`SETTLE_SECONDS`] ago): the editor then redraws at the frame rate, otherwise
    /// only on input or a parameter change.
    pub fn animating(&self) -> bool {
        self.animating
    }

    /// The last frame's layout report.
    pub fn report(&self) -> &FrameReport {
        &self.report
    }

    /// Draws one frame into `ui` (the window below the shell's top bar).
    pub fn ui(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let window = ui.available_rect_before_wrap();
        // The margin at the sides and the bottom (the top bar is above).
        let body = Rect::from_min_max(
            egui::pos2(window.left() + MARGIN, window.top()),
            egui::pos2(window.right() - MARGIN, window.bottom() - MARGIN),
        );
        let layout = Layout::for_body(body);
        let mut c = Controls::new(setter);
        let time = ui.input(|input| input.time);
        let mut contents = Vec::with_capacity(PanelId::ALL.len());

        let p = self.params.clone();
        let m = self.meters.clone();
        let reading = m.output.load();

        // Input gain and the repair stage.
        let rect = layout.rect(PanelId::Input);
        contents.push((
            PanelId::Input,
            c.panel(ui, rect, "Input", None, |ui, c| {
                c.knob(
                    ui,
                    &p.in_gain,
                    "Gain",
                    "Gain into the chain, before everything else",
                );
                ui.separator();
                c.toggle(
                    ui,
                    &p.rep_on,
                    "Declick",
                    "Repairs clicks and crackle at the head of the chain (adds about 186 ms \
                     of latency while on)",
                );
                c.knob(
                    ui,
                    &p.rep_sens,
                    "Sensitivity",
                    "Higher finds quieter clicks, with more risk of touching good transients",
                );
                ui.small(format!(
                    "{} clicks",
                    m.repaired_clicks.load(Ordering::Relaxed)
                ));
            }),
        ));

        // Tonal EQ with its curve.
        let rect = layout.rect(PanelId::Eq);
        let sample_rate = m.spectrum.sample_rate();
        contents.push((
            PanelId::Eq,
            c.panel(ui, rect, "Tonal EQ", Some(&p.eq_on), |ui, c| {
                let curve_height = (rect.height() * 0.36).clamp(40.0, 140.0);
                eq_curve::show(ui, &p.settings().eq, sample_rate, curve_height);
                ui.horizontal(|ui| {
                    c.knob(
                        ui,
                        &p.eq_tilt,
                        "Tilt",
                        "Tilts the whole spectrum about the tilt frequency: + brighter, − darker",
                    );
                    c.knob(
                        ui,
                        &p.eq_tilt_freq,
                        "Tilt Hz",
                        "The frequency the tilt pivots about",
                    );
                    c.knob(ui, &p.eq_low_freq, "Low Hz", "The low shelf's corner");
                    c.knob(ui, &p.eq_low_gain, "Low", "The low shelf's gain");
                    c.knob(
                        ui,
                        &p.eq_mid_q,
                        "Mid Q",
                        "The mid bell's width: lower is wider",
                    );
                });
                ui.horizontal(|ui| {
                    c.knob(ui, &p.eq_mid_freq, "Mid Hz", "The mid bell's centre");
                    c.knob(ui, &p.eq_mid_gain, "Mid", "The mid bell's gain");
                    c.knob(ui, &p.eq_high_freq, "High Hz", "The high shelf's corner");
                    c.knob(ui, &p.eq_high_gain, "High", "The high shelf's gain");
                    ui.vertical(|ui| {
                        ui.small("Mode");
                        c.choice(
                            ui,
                            &p.eq_mode,
                            72.0,
                            "EQ both channels, only the mid (centre) or only the side (width)",
                        );
                    });
                });
            }),
        ));

        // Multiband: crossovers over the spectrum, each band's controls and reduction.
        let rect = layout.rect(PanelId::Multiband);
        self.spectrum.update(&m.spectrum, time);
        let gr: [f32; 3] =
            std::array::from_fn(|band| m.band_gain_reduction_db[band].load(Ordering::Relaxed));
        let spectrum = &self.spectrum;
        let crossovers = &mut self.crossovers;
        let mut crossover_rect = Rect::NOTHING;
        contents.push((
            PanelId::Multiband,
            c.panel(ui, rect, "Multiband", Some(&p.mb_on), |ui, c| {
                let height = (rect.height() * 0.3).clamp(40.0, 160.0);
                c.reach(&p.mb_xover_low);
                c.reach(&p.mb_xover_high);
                crossover_rect = crossovers.show(
                    ui,
                    height,
                    [&p.mb_xover_low, &p.mb_xover_high],
                    c.setter,
                    Bands {
                        spectrum,
                        sample_rate,
                        gain_reduction_db: gr,
                    },
                );
                ui.columns(3, |columns| {
                    for (index, (ui, (name, band))) in columns
                        .iter_mut()
                        .zip([("Low", &p.mb_low), ("Mid", &p.mb_mid), ("High", &p.mb_high)])
                        .enumerate()
                    {
                        band_controls(ui, c, name, band, gr[index]);
                    }
                });
            }),
        ));

        // Imager: width per band, the goniometer and the correlation.
        let rect = layout.rect(PanelId::Imager);
        let goniometer_ = &mut self.goniometer;
        contents.push((
            PanelId::Imager,
            c.panel(ui, rect, "Imager", Some(&p.img_on), |ui, c| {
                ui.horizontal_top(|ui| {
                    let scope = (ui.available_width() - super::controls::KNOB_WIDTH - 12.0)
                        .min(ui.available_height() - 24.0)
                        .max(40.0);
                    ui.vertical(|ui| {
                        goniometer_.show(ui, &m.scope, scope);
                        correlation_bar(ui, m.correlation.load(Ordering::Relaxed), scope);
                    });
                    ui.vertical(|ui| {
                        c.knob(ui, &p.img_low_width, "Low Width", tips::LOW_WIDTH);
                        c.knob(ui, &p.img_mid_width, "Mid Width", tips::MID_WIDTH);
                        c.knob(ui, &p.img_high_width, "High Width", tips::HIGH_WIDTH);
                        c.knob(ui, &p.img_mono_below, "Mono Below", tips::MONO_BELOW);
                    });
                });
            }),
        ));

        // Loudness: readings against the target, history, the services' playback gain.
        let rect = layout.rect(PanelId::Loudness);
        let target = p.target_lufs() as f64;
        let ceiling = p.lim_ceiling.value() as f64;
        self.history
            .record(time, reading.momentary_lufs, reading.short_term_lufs);
        let history = &self.history;
        contents.push((
            PanelId::Loudness,
            c.panel(ui, rect, "Loudness", None, |ui, c| {
                let r = &reading;
                let cells = [
                    (
                        "Momentary",
                        r.momentary_lufs,
                        "LUFS",
                        short_status(r.momentary_lufs, target),
                    ),
                    (
                        "Short-term",
                        r.short_term_lufs,
                        "LUFS",
                        short_status(r.short_term_lufs, target),
                    ),
                    (
                        "Integrated",
                        r.integrated_lufs,
                        "LUFS",
                        integrated_status(r.integrated_lufs, target),
                    ),
                    ("LRA", r.lra_lu, "LU", Status::Neutral),
                    (
                        "True peak",
                        r.true_peak_dbtp,
                        "dBTP",
                        true_peak_status(r.true_peak_dbtp, ceiling),
                    ),
                ];
                ui.horizontal(|ui| {
                    for (name, value, unit, status) in cells {
                        reading_cell(ui, name, value, unit, status);
                    }
                });
                // The controls and the services' table, then the history filling the rest.
                ui.horizontal_top(|ui| {
                    ui.vertical(|ui| {
                        ui.set_width(ui.available_width() * 0.5);
                        c.choice(ui, &p.target, 150.0, tips::TARGET);
                        ui.horizontal(|ui| {
                            let custom = p.target.value() == Target::Custom;
                            ui.add_enabled_ui(custom, |ui| {
                                c.knob(ui, &p.target_lufs, "Custom", tips::CUSTOM_TARGET);
                            });
                            c.knob(ui, &p.loud_gain, "Gain", tips::LOUD_GAIN);
                            c.toggle(ui, &p.learn, "Learn", tips::LEARN);
                        });
                    });
                    streaming_table(ui, r.integrated_lufs, r.true_peak_dbtp);
                });
                history.show(ui, target, ui.available_height().max(30.0));
            }),
        ));

        // Limiter: gain reduction over time with its ceiling.
        let rect = layout.rect(PanelId::Limiter);
        self.gr_history
            .record(time, m.limiter_gain_reduction_peak.take());
        let gr_history = &self.gr_history;
        contents.push((
            PanelId::Limiter,
            c.panel(ui, rect, "Limiter", Some(&p.lim_on), |ui, c| {
                let ceiling = p.lim_ceiling.value();
                let tp = reading.true_peak_dbtp;
                ui.horizontal_top(|ui| {
                    ui.spacing_mut().item_spacing.x = 4.0;
                    c.knob(ui, &p.lim_ceiling, "Ceiling", tips::CEILING);
                    c.knob(ui, &p.lim_release, "Release", tips::RELEASE);
                    c.knob(ui, &p.lim_lookahead, "Lookahead", tips::LOOKAHEAD);
                    c.knob(ui, &p.lim_link, "Link", tips::LINK);
                });
                c.toggle(ui, &p.lim_auto_release, "Auto release", tips::AUTO_RELEASE);
                gr_history.show(ui, ui.available_height().max(30.0), ceiling, tp);
            }),
        ));

        // Dither, output gain, matched bypass and bypass.
        let rect = layout.rect(PanelId::Output);
        contents.push((
            PanelId::Output,
            c.panel(ui, rect, "Output", None, |ui, c| {
                ui.small("Dither");
                c.choice(ui, &p.dither_bits, 110.0, tips::DITHER_BITS);
                c.choice(ui, &p.dither_shape, 110.0, tips::DITHER_SHAPE);
                ui.separator();
                let fader = (ui.available_height() - 60.0).clamp(40.0, 220.0);
                c.fader(ui, &p.out_gain, fader, tips::OUT_GAIN);
                ui.separator();
                c.toggle(ui, &p.match_bypass, "Matched bypass", tips::MATCH_BYPASS);
                c.toggle(ui, &p.bypass, "Bypass", tips::BYPASS);
            }),
        ));

        self.hand_over_learned_gain(setter);
        self.report = FrameReport {
            window,
            layout: Some(layout),
            contents,
            crossover_rect,
            reached: c.reached(),
        };
        // Panels are placed by rectangle: claim the whole body so the parent knows.
        ui.allocate_rect(window, egui::Sense::hover());
        let written = m.spectrum.written();
        if written != self.last_written {
            self.last_written = written;
            self.last_change = Some(time);
        }
        self.animating = self
            .last_change
            .is_some_and(|last| time - last < SETTLE_SECONDS);
    }

    /// The shell's top bar items: latency and the loudness gain applied now.
    pub fn top_bar(&mut self, ui: &mut Ui) {
        let m = &self.meters;
        ui.label(format!(
            "latency {} samples",
            m.latency_samples.load(Ordering::Relaxed)
        ));
        let applied = m.applied_loud_gain_db.load(Ordering::Relaxed);
        let learning = if self.params.learn.value() {
            " (learning)"
        } else {
            ""
        };
        ui.label(format!("  loudness gain {applied:+.2} dB{learning}"));
        // What the chain did to the loudness, and the output's peak-to-loudness ratio.
        let text =
            |value: f64| measured(value).map_or_else(|| String::from("–"), |v| format!("{v:.1}"));
        let input = m.input_integrated_lufs.load(Ordering::Relaxed) as f64;
        ui.label(format!(
            "  input I {} LUFS  ·  PLR {} LU",
            text(input),
            text(m.output.load().plr_lu)
        ))
        .on_hover_text(
            "The input's integrated loudness, and the output's peak-to-loudness ratio \
             (true peak minus integrated loudness: how much dynamics are left)",
        );
    }

    /// Learning stopped and the chain holds a learned gain the parameter does not have
    /// yet: write it (rounded to the parameter's 0.01 dB step), as one gesture.
    fn hand_over_learned_gain(&self, setter: &ParamSetter) {
        let m = &self.meters;
        let applied = m.applied_loud_gain_db.load(Ordering::Relaxed);
        if !self.params.learn.value()
            && m.learned_gain_pending.load(Ordering::Relaxed)
            && (self.params.loud_gain.value() - applied).abs() >= 0.005
        {
            setter.begin_set_parameter(&self.params.loud_gain);
            setter.set_parameter(&self.params.loud_gain, applied);
            setter.end_set_parameter(&self.params.loud_gain);
        }
    }
}

/// One band's column: its name, solo and bypass, reduction, and knobs.
fn band_controls(ui: &mut Ui, c: &mut Controls, name: &str, band: &BandParams, gr_db: f32) {
    ui.horizontal(|ui| {
        ui.strong(name);
        c.toggle(ui, &band.solo, "S", "Solo: hear only this band");
        c.toggle(ui, &band.bypass, "B", "Bypass this band's compressor");
    });
    gr_bar(ui, gr_db);
    ui.spacing_mut().item_spacing.x = 4.0;
    ui.horizontal(|ui| {
        c.knob(
            ui,
            &band.thresh,
            "Thresh",
            "The level above which the band is compressed",
        );
        c.knob(
            ui,
            &band.ratio,
            "Ratio",
            "How much the band is compressed above the threshold",
        );
        c.knob(
            ui,
            &band.makeup,
            "Makeup",
            "Gain after the band's compressor",
        );
    });
    ui.horizontal(|ui| {
        c.knob(ui, &band.attack, "Attack", "How fast compression sets in");
        c.knob(ui, &band.release, "Release", "How fast it lets go");
    });
}

/// A band's gain reduction as a bar, full at 24 dB.
fn gr_bar(ui: &mut Ui, gr_db: f32) {
    let width = ui.available_width();
    ui.add(
        egui::ProgressBar::new((gr_db / 24.0).clamp(0.0, 1.0))
            .desired_width(width)
            .desired_height(12.0)
            .text(
                RichText::new(format!(
                    "GR {:.1} dB",
                    if gr_db >= 0.05 { -gr_db } else { 0.0 }
                ))
                .size(9.0),
            ),
    )
    .on_hover_text("This band's gain reduction now");
}

/// A loudness reading: its name, the value in its status colour, the unit.
fn reading_cell(ui: &mut Ui, name: &str, value: f64, unit: &str, status: Status) {
    ui.vertical(|ui| {
        ui.set_width(70.0);
        ui.small(name);
        let text = measured(value).map_or_else(|| String::from("–"), |v| format!("{v:.1}"));
        ui.label(
            RichText::new(text)
                .size(17.0)
                .strong()
                .color(status.colour()),
        )
        .on_hover_text(status.meaning());
        ui.small(unit);
    });
}

/// What each service's loudness normalisation would do to this output at playback.
fn streaming_table(ui: &mut Ui, integrated_lufs: f64, true_peak_dbtp: f64) {
    ui.vertical(|ui| {
        egui::Grid::new("streaming")
            .spacing([8.0, 1.0])
            .show(ui, |ui| {
                ui.small("Service");
                ui.small("Ref.");
                ui.small("Playback");
                ui.end_row();
                for service in Service::ALL {
                    ui.small(service.name());
                    ui.small(format!("{:.0}", service.reference_lufs()));
                    let gain = service.playback_gain_db(integrated_lufs, true_peak_dbtp);
                    let (text, colour) = match gain {
                        Some(gain) if gain < -0.05 => {
                            (format!("{gain:+.1} dB"), Color32::from_rgb(230, 170, 60))
                        }
                        Some(gain) => (format!("{gain:+.1} dB"), Color32::from_rgb(110, 200, 120)),
                        None => (String::from("–"), Color32::GRAY),
                    };
                    ui.label(RichText::new(text).size(11.0).color(colour));
                    ui.end_row();
                }
            })
            .response
            .on_hover_text(
                "What each service's loudness normalisation would do to this output at \
                 playback (their published defaults; listeners can switch it off). Turned \
                 down (amber) means loudness you paid for in dynamics is thrown away",
            );
    });
}

/// The parameters that have no control in the editor (none: the tests check it).
pub fn unreached(params: &MasterParams, reached: &[ParamPtr]) -> Vec<String> {
    use nice_plug::prelude::Params;
    params
        .param_map()
        .into_iter()
        .filter(|(_, ptr, _)| !reached.contains(ptr))
        .map(|(id, _, _)| id)
        .collect()
}

/// The longer tooltips (each control's kit tooltip adds its range and usage).
mod tips {
    pub const LOW_WIDTH: &str =
        "Stereo width below the low crossover: 0 % mono, 100 % as is, 200 % twice as wide";
    pub const MID_WIDTH: &str = "Stereo width between the crossovers";
    pub const HIGH_WIDTH: &str = "Stereo width above the high crossover";
    pub const MONO_BELOW: &str = "Everything below this frequency is made mono (Off at the bottom)";
    pub const TARGET: &str = "The loudness the learn sets the chain to: a service's playback \
                              reference, EBU R128, or your own";
    pub const CUSTOM_TARGET: &str = "The target when Target is Custom";
    pub const LOUD_GAIN: &str = "Gain into the limiter: the loudness. Learn sets it for the target";
    pub const LEARN: &str = "While on, the chain measures the programme and sets the loudness \
                             gain so the output lands on the target; switch off to keep it";
    pub const AUTO_RELEASE: &str = "Adapts the release to the programme: fast after short \
                                    peaks, slow under sustained limiting";
    pub const CEILING: &str = "The highest true peak the output may reach";
    pub const RELEASE: &str = "How fast the gain recovers after a peak";
    pub const LOOKAHEAD: &str = "How far ahead the limiter looks: longer is cleaner on \
                                 transients, with more latency";
    pub const LINK: &str = "How much the two channels share one gain: 100 % keeps the image, \
                            0 % limits each side alone";
    pub const DITHER_BITS: &str =
        "Dither to this word length, last in the chain (for a 16- or 24-bit export)";
    pub const DITHER_SHAPE: &str =
        "Flat TPDF dither, or noise-shaped (quieter where the ear is most sensitive)";
    pub const OUT_GAIN: &str = "Gain after the limiter (never above 0 dB, so the ceiling holds)";
    pub const MATCH_BYPASS: &str = "Bypass plays the input at the processed loudness, so you \
                                    compare sound, not level";
    pub const BYPASS: &str = "Plays the (delayed) input instead of the chain";
}
