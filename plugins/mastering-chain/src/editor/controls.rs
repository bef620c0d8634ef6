//! The one place the mastering editor makes its controls: every knob, switch, choice
//! and module panel goes through [`Controls`] (the editor kit's widgets behind it), and
//! each frame it lists the parameters it offered (the tests check that every parameter
//! is reachable).

use egui::{Rect, Response, Ui, UiBuilder};
use nice_plug::prelude::{BoolParam, Param, ParamPtr, ParamSetter};
use oxide_plugin_common::editor::panel::module_panel;
use oxide_plugin_common::editor::widgets::{ChoiceBox, Fader, Knob, Toggle};

/// A knob's diameter here, logical pixels (the kit's cell is 56 × diameter + 30).
pub const KNOB_DIAMETER: f32 = 30.0;
/// A knob cell's width, logical pixels.
pub const KNOB_WIDTH: f32 = 56.0;

/// The controls of one frame: the host's setter and the parameters offered so far.
pub struct Controls<'a, 's> {
    pub setter: &'a ParamSetter<'s>,
    reached: Vec<ParamPtr>,
}

impl<'a, 's> Controls<'a, 's> {
    pub fn new(setter: &'a ParamSetter<'s>) -> Self {
        Self {
            setter,
            reached: Vec::with_capacity(64),
        }
    }

    /// Notes that `param` has a control this frame.
    pub fn reach<P: Param>(&mut self, param: &P) {
        self.reached.push(param.as_ptr());
    }

    /// The parameters that had a control this frame.
    pub fn reached(self) -> Vec<ParamPtr> {
        self.reached
    }

    /// A knob with a short `label` above it (the parameter's name stays its accessible
    /// name and heads its tooltip).
    pub fn knob<P: Param>(
        &mut self,
        ui: &mut Ui,
        param: &P,
        label: &str,
        tooltip: &str,
    ) -> Response {
        self.reach(param);
        Knob::new(param, self.setter)
            .diameter(KNOB_DIAMETER)
            .label(label)
            .tooltip(tooltip)
            .show(ui)
    }

    /// A vertical fader `height` tall.
    pub fn fader<P: Param>(
        &mut self,
        ui: &mut Ui,
        param: &P,
        height: f32,
        tooltip: &str,
    ) -> Response {
        self.reach(param);
        Fader::new(param, self.setter)
            .size(egui::Vec2::new(KNOB_WIDTH, height))
            .tooltip(tooltip)
            .show(ui)
    }

    pub fn toggle(
        &mut self,
        ui: &mut Ui,
        param: &BoolParam,
        label: &str,
        tooltip: &str,
    ) -> Response {
        self.reach(param);
        Toggle::new(param, self.setter)
            .label(label)
            .tooltip(tooltip)
            .show(ui)
    }

    pub fn choice<P: Param>(
        &mut self,
        ui: &mut Ui,
        param: &P,
        width: f32,
        tooltip: &str,
    ) -> Response {
        self.reach(param);
        ChoiceBox::new(param, self.setter)
            .width(width)
            .tooltip(tooltip)
            .show(ui)
    }

    /// A module panel filling `rect` (the kit's, with `power` in its title); returns the
    /// rectangle the panel took (larger than `rect` only if its contents overflow).
    pub fn panel(
        &mut self,
        ui: &mut Ui,
        rect: Rect,
        title: &str,
        power: Option<&BoolParam>,
        contents: impl FnOnce(&mut Ui, &mut Self),
    ) -> Rect {
        if let Some(power) = power {
            self.reach(power);
        }
        let setter = self.setter;
        let mut child = ui.new_child(
            UiBuilder::new()
                .max_rect(rect)
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        module_panel(&mut child, title, power, setter, |ui| contents(ui, self))
            .response
            .rect
    }
}
