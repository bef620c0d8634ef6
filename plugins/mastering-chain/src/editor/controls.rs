//! The one place the mastering editor makes its controls: every knob, switch, choice
//! and module panel goes through [`Controls`], so the widget kit behind them can change
//! in one spot, and each frame it lists the parameters it offered (the tests check that
//! every parameter is reachable).

use egui::{Rect, Response, Ui, UiBuilder};
use nice_plug::prelude::{BoolParam, Param, ParamPtr, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;

/// A control's cell width, logical pixels.
pub const KNOB_WIDTH: f32 = 56.0;

/// The controls of one frame: the host's setter and the parameters offered so far.
pub struct Controls<'a> {
    pub setter: &'a ParamSetter<'a>,
    reached: Vec<ParamPtr>,
}

impl<'a> Controls<'a> {
    pub fn new(setter: &'a ParamSetter<'a>) -> Self {
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

    pub fn knob<P: Param>(&mut self, ui: &mut Ui, param: &P, tooltip: &str) -> Response {
        self.reach(param);
        knob(ui, param, self.setter, tooltip)
    }

    pub fn toggle(
        &mut self,
        ui: &mut Ui,
        param: &BoolParam,
        label: &str,
        tooltip: &str,
    ) -> Response {
        self.reach(param);
        toggle(ui, param, self.setter, label, tooltip)
    }

    pub fn choice<P: Param>(
        &mut self,
        ui: &mut Ui,
        param: &P,
        width: f32,
        tooltip: &str,
    ) -> Response {
        self.reach(param);
        choice(ui, param, self.setter, width, tooltip)
    }

    /// A vertical fader `height` tall (a knob until the kit's fader is in).
    pub fn fader<P: Param>(
        &mut self,
        ui: &mut Ui,
        param: &P,
        _height: f32,
        tooltip: &str,
    ) -> Response {
        self.knob(ui, param, tooltip)
    }

    /// A module panel (see [`module_panel`]); its power switch counts as reached.
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
        module_panel(ui, rect, title, power, setter, |ui| contents(ui, self))
    }
}

/// A continuous parameter as a knob (label, dial, value), with `tooltip` on hover.
pub fn knob<P: Param>(ui: &mut Ui, param: &P, setter: &ParamSetter, tooltip: &str) -> Response {
    ui.vertical(|ui| {
        ui.set_width(KNOB_WIDTH);
        ui.small(param.name());
        ui.add(ParamSlider::for_param(param, setter).with_width(KNOB_WIDTH))
            .on_hover_text(tooltip)
    })
    .inner
}

/// A switch labelled `label`.
pub fn toggle(
    ui: &mut Ui,
    param: &BoolParam,
    setter: &ParamSetter,
    label: &str,
    tooltip: &str,
) -> Response {
    let mut on = param.value();
    let response = ui.checkbox(&mut on, label).on_hover_text(tooltip);
    if response.clicked() {
        setter.begin_set_parameter(param);
        setter.set_parameter(param, on);
        setter.end_set_parameter(param);
    }
    response
}

/// A choice among a parameter's steps (an enum's values), `width` wide.
pub fn choice<P: Param>(
    ui: &mut Ui,
    param: &P,
    setter: &ParamSetter,
    width: f32,
    tooltip: &str,
) -> Response {
    let steps = param.step_count().unwrap_or(1).max(1);
    let current = param.unmodulated_normalized_value();
    let selected = (current * steps as f32).round() as usize;
    let mut picked = None;
    let response = egui::ComboBox::from_id_salt(param.name())
        .selected_text(param.normalized_value_to_string(current, true))
        .width(width)
        .show_ui(ui, |ui| {
            for index in 0..=steps {
                let normalized = index as f32 / steps as f32;
                let name = param.normalized_value_to_string(normalized, true);
                if ui.selectable_label(index == selected, name).clicked() && index != selected {
                    picked = Some(normalized);
                }
            }
        })
        .response
        .on_hover_text(tooltip);
    if let Some(normalized) = picked {
        setter.begin_set_parameter(param);
        setter.set_parameter_normalized(param, normalized);
        setter.end_set_parameter(param);
    }
    response
}

/// The space between a panel's frame and its contents, logical pixels.
pub const PANEL_PADDING: f32 = 5.0;

/// A module panel at `rect`: a framed box with `title` and, if given, its power switch
/// in the title row, then `contents`. Returns the rectangle the contents used (the
/// layout tests check it stays inside `rect`).
pub fn module_panel(
    ui: &mut Ui,
    rect: Rect,
    title: &str,
    power: Option<&BoolParam>,
    setter: &ParamSetter,
    contents: impl FnOnce(&mut Ui),
) -> Rect {
    let visuals = ui.visuals();
    ui.painter().rect(
        rect,
        4.0,
        visuals.faint_bg_color,
        visuals.widgets.noninteractive.bg_stroke,
        egui::StrokeKind::Inside,
    );
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(rect.shrink(PANEL_PADDING))
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    child.horizontal(|ui| {
        if let Some(power) = power {
            toggle(ui, power, setter, "", "Switches this module on or off");
        }
        ui.strong(title);
    });
    contents(&mut child);
    child.min_rect()
}
