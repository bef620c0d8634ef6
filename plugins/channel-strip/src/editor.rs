//! The channel strip's editor: the EQ curve with a handle per band, the meters
//! (input/output peak, gate and compressor gain reduction) and the help for the dynamics
//! times, then every parameter as a slider, in sections following the signal order.
//! Resizable.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use nice_plug_egui::EguiEditor;
pub mod eq_view;

pub use oxide_plugin_common::editor::EditorState;
use oxide_plugin_common::editor::{self, meter_row, GenericApp, MeterReading, Panel, Sections};
use oxide_plugin_common::spectrum::SpectrumView;

use crate::meters::{Meters, METER_FLOOR_DB};
use crate::params::{StripParams, DEFAULT_SIZE};

pub type Editor = EguiEditor<GenericApp<StripParams, MeterPanel>>;

/// The editor state at the default size.
pub fn default_state() -> Arc<EditorState> {
    editor::default_state(DEFAULT_SIZE.0, DEFAULT_SIZE.1)
}

/// Section titles, in signal order.
const SECTIONS: &[&str] = &[
    "Input / Output",
    "Filters",
    "Gate",
    "EQ",
    "Compressor",
    "Saturation",
    "Delay",
    "Reverb",
    "Pan / Width",
];

/// The section a parameter id belongs to.
fn section_of(id: &str) -> &'static str {
    let prefix = id.split('_').next().unwrap_or(id);
    match prefix {
        "hpf" | "lpf" => "Filters",
        "gate" => "Gate",
        "comp" | "dyn" => "Compressor",
        "sat" => "Saturation",
        "dly" => "Delay",
        "rev" => "Reverb",
        "pan" | "width" => "Pan / Width",
        p if p.starts_with("eq") => "EQ",
        _ => "Input / Output",
    }
}

/// Attack and release help (nice-plug has no tooltip field for a parameter).
pub const TIMES_HELP: &str = "Attack and release are 10–90 % times: how long the gain \
change, in dB, takes to go from 10 % to 90 % of its way after a step in level.";

/// The EQ curve and the meters above the parameter list.
pub struct MeterPanel {
    params: Arc<StripParams>,
    meters: Arc<Meters>,
    spectrum: SpectrumView,
}

/// The EQ curve's height, logical pixels.
const EQ_VIEW_HEIGHT: f32 = 180.0;

impl Panel for MeterPanel {
    fn ui(&mut self, ui: &mut egui::Ui, setter: &nice_plug::prelude::ParamSetter) {
        let m = &self.meters;
        self.spectrum
            .update(&m.spectrum, ui.input(|input| input.time));
        eq_view::show(
            ui,
            &self.params,
            m.sample_rate.load(Ordering::Relaxed),
            setter,
            EQ_VIEW_HEIGHT,
            &self.spectrum,
        );
        egui::Grid::new("meters").show(ui, |ui| self.meter_rows(ui));
        ui.small(TIMES_HELP);
        // The meters move while audio runs: keep drawing.
        ui.ctx().request_repaint();
    }
}

impl MeterPanel {
    fn meter_rows(&self, ui: &mut egui::Ui) {
        let m = &self.meters;
        let level = |value: &atomic_float::AtomicF32| MeterReading::Level {
            value_db: value.load(Ordering::Relaxed),
            floor_db: METER_FLOOR_DB,
            top_db: 0.0,
            unit: "dBFS",
        };
        let reduction = |value: &atomic_float::AtomicF32, full_scale_db| MeterReading::Reduction {
            value_db: value.load(Ordering::Relaxed),
            full_scale_db,
        };
        meter_row(ui, "Input", level(&m.input_peak_db));
        meter_row(ui, "Output", level(&m.output_peak_db));
        meter_row(ui, "Gate GR", reduction(&m.gate_gr_db, 80.0));
        meter_row(ui, "Comp GR", reduction(&m.comp_gr_db, 30.0));
    }
}

pub fn create(
    params: Arc<StripParams>,
    state: Arc<EditorState>,
    meters: Arc<Meters>,
) -> Option<Editor> {
    editor::create_with_sections(
        "Oxide Channel Strip",
        params.clone(),
        state,
        params.editor_size.clone(),
        MeterPanel {
            params,
            meters,
            spectrum: SpectrumView::default(),
        },
        Some(Sections {
            titles: SECTIONS,
            section_of,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use nice_plug::prelude::Params;

    #[test]
    fn every_parameter_has_a_listed_section() {
        for (id, _, _) in StripParams::default().param_map() {
            assert!(SECTIONS.contains(&section_of(&id)), "{id}");
        }
        assert_eq!(section_of("eq3_gain"), "EQ");
        assert_eq!(section_of("dyn_pre_eq"), "Compressor");
        assert_eq!(section_of("out_gain"), "Input / Output");
    }
}
