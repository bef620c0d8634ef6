//! The editors' controls: a rotary [`Knob`], a vertical [`Fader`], an on/off [`Toggle`]
//! and a [`ChoiceBox`], each bound to one nice-plug parameter and behaving as in every
//! professional plugin:
//!
//! - drag vertically to change the value ([`DRAG_TRAVEL`] logical pixels for the whole
//!   range; Shift for [`FINE_FACTOR`] of that), each drag one host gesture (one undo step);
//! - double-click, or Ctrl/Cmd-click, to go back to the default;
//! - the mouse wheel steps by the parameter's own step (Shift: the finer one);
//! - right-click, or double-click the value text, to type a value in the parameter's
//!   units, parsed by the same code as `oxide --set`
//!   ([`param_access::normalized_from_text`]); Enter applies, Escape cancels;
//! - a tooltip says what the control is, its range and default, and how to use it.
//!
//! Each control reports itself to accessibility (and so to `egui_kittest`) under the
//! parameter's full name, so a test finds "Gate Threshold" whatever short label it shows.

use egui::{
    Align2, Color32, CursorIcon, Event, FontId, Id, MouseWheelUnit, Pos2, Rect, Response, Role,
    Sense, Shape, Stroke, Ui, Vec2, WidgetInfo,
};
use nice_plug::prelude::{BoolParam, Param, ParamSetter};

use crate::param_access;

/// Logical pixels of vertical drag that sweep a control's whole range.
pub const DRAG_TRAVEL: f32 = 200.0;
/// How much finer a drag with Shift held is.
pub const FINE_FACTOR: f32 = 0.1;
/// Logical pixels of smooth (touchpad) scrolling that count as one wheel notch.
pub const POINTS_PER_NOTCH: f32 = 50.0;

/// The accent colour of a control's value.
pub const ACCENT: Color32 = Color32::from_rgb(240, 170, 60);
const TRACK: Color32 = Color32::from_gray(55);

/// The wheel notches turned over the widget this frame (positive: up/away from the user),
/// with smooth-scroll points converted at [`POINTS_PER_NOTCH`]. Reads the raw events, so
/// a scroll area's consumption of the smoothed delta does not hide them.
pub fn wheel_notches(ui: &Ui) -> f32 {
    ui.input(|input| {
        input
            .events
            .iter()
            .map(|event| match event {
                Event::MouseWheel { unit, delta, .. } => match unit {
                    MouseWheelUnit::Line => delta.y,
                    MouseWheelUnit::Point => delta.y / POINTS_PER_NOTCH,
                    MouseWheelUnit::Page => delta.y * 3.0,
                },
                _ => 0.0,
            })
            .sum()
    })
}

/// One complete host gesture: begin, set to the plain value of `normalized`, end.
pub fn set_once<P: Param>(setter: &ParamSetter, param: &P, normalized: f32) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, param.preview_plain(normalized.clamp(0.0, 1.0)));
    setter.end_set_parameter(param);
}

/// The default tooltip of a parameter: name, range and default, and the controls' usage.
pub fn default_tooltip<P: Param>(param: &P) -> String {
    let low = param.normalized_value_to_string(0.0, true);
    let high = param.normalized_value_to_string(1.0, true);
    let default = param.normalized_value_to_string(param.default_normalized_value(), true);
    format!(
        "{}: {low} … {high}, default {default}.\nDrag up/down (Shift: fine) · wheel: step · \
         double-click or Ctrl-click: default · right-click or double-click the value: type it",
        param.name()
    )
}

/// Shows the tooltip `make` writes while `response` is hovered (written only then: a
/// frame of an editor full of controls formats none of them).
pub fn hover_text(response: egui::Response, make: impl FnOnce() -> String) -> egui::Response {
    if response.hovered() {
        response.on_hover_text(make())
    } else {
        response
    }
}

/// The state of a drag in progress: the unsnapped normalized value it has reached (a
/// stepped parameter snaps only what it sends).
#[derive(Clone, Copy)]
struct DragState(f32);

/// The text being typed into a control, while its value field is open.
#[derive(Clone)]
struct EditState {
    text: String,
    /// The last entry's error, shown until the text changes.
    error: Option<String>,
    /// Focus requested once when the field opens.
    focused: bool,
}

/// The mouse behaviour shared by [`Knob`] and [`Fader`] on `response` (sensing click and
/// drag): vertical drag (one gesture per drag), double/Ctrl-click to default, wheel steps.
/// Returns whether the value changed.
fn drive<P: Param>(
    ui: &Ui,
    response: &Response,
    param: &P,
    setter: &ParamSetter,
    travel: f32,
) -> bool {
    let id = response.id;
    let fine = ui.input(|input| input.modifiers.shift);
    let mut changed = false;
    if response.drag_started() {
        setter.begin_set_parameter(param);
        ui.data_mut(|data| data.insert_temp(id, DragState(param.unmodulated_normalized_value())));
    }
    if response.dragged() {
        // The first frame of a drag counts the movement since the press (the pointer
        // had to pass egui's drag threshold first), later frames their own movement.
        let dy = if response.drag_started() {
            response.total_drag_delta().unwrap_or_default().y
        } else {
            response.drag_delta().y
        };
        if dy != 0.0 {
            let scale = if fine { FINE_FACTOR } else { 1.0 };
            let start = ui
                .data(|data| data.get_temp::<DragState>(id))
                .map_or(param.unmodulated_normalized_value(), |state| state.0);
            let value = (start - dy / travel.max(1.0) * scale).clamp(0.0, 1.0);
            ui.data_mut(|data| data.insert_temp(id, DragState(value)));
            setter.set_parameter(param, param.preview_plain(value));
            changed = true;
        }
    }
    if response.drag_stopped() {
        setter.end_set_parameter(param);
        ui.data_mut(|data| data.remove::<DragState>(id));
    }
    let command = ui.input(|input| input.modifiers.command);
    if response.double_clicked() || (response.clicked() && command) {
        set_once(setter, param, param.default_normalized_value());
        changed = true;
    }
    if response.hovered() && !response.dragged() {
        let notches = wheel_notches(ui);
        if notches != 0.0 {
            changed |= step_by(setter, param, notches, fine);
        }
    }
    changed
}

/// Steps `param` by `notches` of its own step (fractional notches round away from zero
/// to at least one step), as one gesture.
fn step_by<P: Param>(setter: &ParamSetter, param: &P, notches: f32, fine: bool) -> bool {
    let count = notches.abs().ceil().min(100.0) as usize;
    let mut value = param.unmodulated_normalized_value();
    for _ in 0..count {
        value = if notches > 0.0 {
            param.next_normalized_step(value, fine)
        } else {
            param.previous_normalized_step(value, fine)
        };
    }
    if value == param.unmodulated_normalized_value() {
        return false;
    }
    set_once(setter, param, value);
    true
}

/// The value text under a control, clickable to type a value; while typing, a text field
/// in its place. Returns the text's response.
fn value_text<P: Param>(ui: &mut Ui, rect: Rect, id: Id, param: &P, setter: &ParamSetter) {
    let edit_id = id.with("edit");
    let editing = ui.data(|data| data.get_temp::<EditState>(edit_id));
    match editing {
        None => {
            let response = ui.interact(rect, id.with("value"), Sense::click());
            let text = param.normalized_value_to_string(param.modulated_normalized_value(), true);
            let colour = if response.hovered() {
                ui.visuals().strong_text_color()
            } else {
                ui.visuals().text_color()
            };
            ui.painter().text(
                rect.center(),
                Align2::CENTER_CENTER,
                text,
                FontId::proportional(11.0),
                colour,
            );
            let name = format!("{} value", param.name());
            response.widget_info(|| WidgetInfo::labeled(Role::Label, true, name.clone()));
            if response.double_clicked() || response.secondary_clicked() {
                open_editor(ui, id, param);
            }
            response.on_hover_text("Double-click or right-click to type a value");
        }
        Some(mut state) => {
            let field_id = edit_id.with("field");
            let mut text = state.text.clone();
            let mut field = egui::TextEdit::singleline(&mut text)
                .id(field_id)
                .font(FontId::proportional(11.0))
                .align(Align2::CENTER_CENTER);
            if state.error.is_some() {
                field = field.text_color(Color32::from_rgb(255, 110, 110));
            }
            let response = ui.put(rect.expand2(Vec2::new(6.0, 2.0)), field);
            let name = format!("{} value", param.name());
            let typed = state.text.clone();
            response.widget_info(|| {
                let mut info = WidgetInfo::labeled(Role::TextInput, true, name.clone());
                info.current_text_value = Some(typed.clone());
                info
            });
            let response = match &state.error {
                Some(error) => response.on_hover_text(error),
                None => response,
            };
            if !state.focused {
                response.request_focus();
                state.focused = true;
            }
            if text != state.text {
                state.text = text;
                state.error = None;
            }
            let (enter, escape) = ui.input(|input| {
                (
                    input.key_pressed(egui::Key::Enter),
                    input.key_pressed(egui::Key::Escape),
                )
            });
            if escape {
                ui.data_mut(|data| data.remove::<EditState>(edit_id));
            } else if enter {
                match param_access::normalized_from_text(param, &state.text) {
                    Ok(normalized) => {
                        set_once(setter, param, normalized);
                        ui.data_mut(|data| data.remove::<EditState>(edit_id));
                    }
                    Err(error) => {
                        state.error = Some(error.to_string());
                        state.focused = false; // Enter took the focus: take it back
                        ui.data_mut(|data| data.insert_temp(edit_id, state));
                    }
                }
            } else if response.lost_focus() && state.focused && !response.has_focus() {
                // Clicked elsewhere: nothing applied.
                ui.data_mut(|data| data.remove::<EditState>(edit_id));
            } else {
                ui.data_mut(|data| data.insert_temp(edit_id, state));
            }
        }
    }
}

/// Opens the value field of the control `id`, starting from the current value's text.
fn open_editor<P: Param>(ui: &Ui, id: Id, param: &P) {
    let text = param.normalized_value_to_string(param.unmodulated_normalized_value(), true);
    ui.data_mut(|data| {
        data.insert_temp(
            id.with("edit"),
            EditState {
                text,
                error: None,
                focused: false,
            },
        )
    });
}

/// Whether the value field of the control `id` is open (for tests and layouts).
pub fn is_editing(ctx: &egui::Context, id: Id) -> bool {
    ctx.data(|data| data.get_temp::<EditState>(id.with("edit")).is_some())
}

/// The control's id for a parameter: stable across frames and layouts (a drag survives
/// a reflow), one per parameter and kind of control.
fn control_id<P: Param>(param: &P, salt: &str) -> Id {
    Id::unique(("oxide-control", salt, param.name()))
}

/// Reports the control to accessibility under the parameter's name, as a slider with
/// its normalized value.
fn describe<P: Param>(response: &Response, param: &P) {
    let name = param.name().to_owned();
    let value = param.unmodulated_normalized_value() as f64;
    let enabled = response.enabled();
    response.widget_info(|| WidgetInfo::slider(enabled, value, name.clone()));
}

/// Draws an arc from `from` to `to` radians (0 = right, counter-clockwise positive in the
/// maths sense; screen y grows down).
fn arc(centre: Pos2, radius: f32, from: f32, to: f32, stroke: Stroke) -> Shape {
    let segments = ((to - from).abs() * radius / 3.0).ceil().clamp(2.0, 64.0) as usize;
    let points = (0..=segments)
        .map(|i| {
            let angle = from + (to - from) * i as f32 / segments as f32;
            centre + Vec2::new(angle.cos(), -angle.sin()) * radius
        })
        .collect();
    Shape::line(points, stroke)
}

/// The knob's sweep: from 225° (lower left) clockwise to −45° (lower right).
const SWEEP_START: f32 = 1.25 * std::f32::consts::PI;
const SWEEP: f32 = 1.5 * std::f32::consts::PI;

/// A rotary knob for any parameter: its label above, its value below.
pub struct Knob<'a, 's, P: Param> {
    param: &'a P,
    setter: &'a ParamSetter<'s>,
    label: Option<&'a str>,
    tooltip: Option<&'a str>,
    diameter: f32,
    bipolar: bool,
}

impl<'a, 's, P: Param> Knob<'a, 's, P> {
    pub fn new(param: &'a P, setter: &'a ParamSetter<'s>) -> Self {
        Self {
            param,
            setter,
            label: None,
            tooltip: None,
            diameter: 36.0,
            bipolar: false,
        }
    }

    /// The short label above the knob (default: the parameter's name).
    pub fn label(mut self, label: &'a str) -> Self {
        self.label = Some(label);
        self
    }

    /// What the control does, shown on hover above the range and usage.
    pub fn tooltip(mut self, tooltip: &'a str) -> Self {
        self.tooltip = Some(tooltip);
        self
    }

    /// The knob's diameter, logical pixels (default 36).
    pub fn diameter(mut self, diameter: f32) -> Self {
        self.diameter = diameter.max(12.0);
        self
    }

    /// Draws the value arc from the centre (pan, gain) instead of the left end.
    pub fn bipolar(mut self, bipolar: bool) -> Self {
        self.bipolar = bipolar;
        self
    }

    /// The knob's total size: label, knob, value.
    pub fn size(&self) -> Vec2 {
        Vec2::new((self.diameter + 16.0).max(56.0), self.diameter + 30.0)
    }

    pub fn show(self, ui: &mut Ui) -> Response {
        let size = self.size();
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        self.show_in(ui, rect)
    }

    /// Shows the knob in `rect` (laid out by the caller).
    pub fn show_in(self, ui: &mut Ui, rect: Rect) -> Response {
        let param = self.param;
        let id = control_id(param, "knob");
        let label_rect = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 14.0));
        let value_rect = Rect::from_min_max(Pos2::new(rect.left(), rect.bottom() - 14.0), rect.max);
        let knob_rect = Rect::from_min_max(
            Pos2::new(rect.left(), label_rect.bottom()),
            Pos2::new(rect.right(), value_rect.top()),
        );
        let diameter = self.diameter.min(knob_rect.width()).min(knob_rect.height());
        let centre = knob_rect.center();
        let response = ui
            .interact(
                Rect::from_center_size(centre, Vec2::splat(diameter)),
                id,
                Sense::click_and_drag(),
            )
            .on_hover_cursor(CursorIcon::ResizeVertical);
        drive(ui, &response, param, self.setter, DRAG_TRAVEL);
        describe(&response, param);

        let painter = ui.painter();
        let label = self.label.unwrap_or(param.name());
        painter.text(
            label_rect.center(),
            Align2::CENTER_CENTER,
            label,
            FontId::proportional(11.0),
            ui.visuals().text_color(),
        );
        let radius = diameter * 0.5;
        let value = param.modulated_normalized_value();
        painter.circle_filled(centre, radius - 3.0, Color32::from_gray(38));
        painter.add(arc(
            centre,
            radius - 1.5,
            SWEEP_START,
            SWEEP_START - SWEEP,
            Stroke::new(3.0, TRACK),
        ));
        let from = if self.bipolar { 0.5 } else { 0.0 };
        let (a, b) = (SWEEP_START - SWEEP * from, SWEEP_START - SWEEP * value);
        let active = if response.hovered() || response.dragged() {
            ACCENT.gamma_multiply(1.2)
        } else {
            ACCENT
        };
        if (a - b).abs() > 1e-3 {
            painter.add(arc(centre, radius - 1.5, a, b, Stroke::new(3.0, active)));
        }
        let pointer = Vec2::new(b.cos(), -b.sin());
        painter.line_segment(
            [
                centre + pointer * (radius * 0.25),
                centre + pointer * (radius - 4.0),
            ],
            Stroke::new(2.0, Color32::from_gray(230)),
        );
        value_text(ui, value_rect, id, param, self.setter);
        let tooltip = self.tooltip;
        hover_text(response, || match tooltip {
            Some(text) => format!("{text}\n{}", default_tooltip(param)),
            None => default_tooltip(param),
        })
    }
}

/// A vertical fader for any parameter: its label above, a track and cap, its value below.
pub struct Fader<'a, 's, P: Param> {
    param: &'a P,
    setter: &'a ParamSetter<'s>,
    label: Option<&'a str>,
    tooltip: Option<&'a str>,
    size: Vec2,
}

impl<'a, 's, P: Param> Fader<'a, 's, P> {
    pub fn new(param: &'a P, setter: &'a ParamSetter<'s>) -> Self {
        Self {
            param,
            setter,
            label: None,
            tooltip: None,
            size: Vec2::new(44.0, 160.0),
        }
    }

    pub fn label(mut self, label: &'a str) -> Self {
        self.label = Some(label);
        self
    }

    pub fn tooltip(mut self, tooltip: &'a str) -> Self {
        self.tooltip = Some(tooltip);
        self
    }

    /// The whole control's size, label and value included (default 44 × 160).
    pub fn size(mut self, size: Vec2) -> Self {
        self.size = size.max(Vec2::new(24.0, 60.0));
        self
    }

    pub fn show(self, ui: &mut Ui) -> Response {
        let (rect, _) = ui.allocate_exact_size(self.size, Sense::hover());
        self.show_in(ui, rect)
    }

    pub fn show_in(self, ui: &mut Ui, rect: Rect) -> Response {
        let param = self.param;
        let id = control_id(param, "fader");
        let label_rect = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 14.0));
        let value_rect = Rect::from_min_max(Pos2::new(rect.left(), rect.bottom() - 14.0), rect.max);
        let track_rect = Rect::from_min_max(
            Pos2::new(rect.left(), label_rect.bottom() + 6.0),
            Pos2::new(rect.right(), value_rect.top() - 6.0),
        );
        let response = ui
            .interact(track_rect, id, Sense::click_and_drag())
            .on_hover_cursor(CursorIcon::ResizeVertical);
        // The cap follows the pointer: the travel is the track's own height.
        drive(ui, &response, param, self.setter, track_rect.height());
        describe(&response, param);

        let painter = ui.painter();
        painter.text(
            label_rect.center(),
            Align2::CENTER_CENTER,
            self.label.unwrap_or(param.name()),
            FontId::proportional(11.0),
            ui.visuals().text_color(),
        );
        let x = track_rect.center().x;
        painter.line_segment(
            [
                Pos2::new(x, track_rect.top()),
                Pos2::new(x, track_rect.bottom()),
            ],
            Stroke::new(4.0, TRACK),
        );
        let value = param.modulated_normalized_value();
        let y = track_rect.bottom() - value * track_rect.height();
        painter.line_segment(
            [Pos2::new(x, y), Pos2::new(x, track_rect.bottom())],
            Stroke::new(4.0, ACCENT.gamma_multiply(0.6)),
        );
        let cap = Rect::from_center_size(
            Pos2::new(x, y),
            Vec2::new(track_rect.width().min(36.0), 12.0),
        );
        painter.rect_filled(
            cap,
            2.0,
            Color32::from_gray(if response.dragged() { 230 } else { 200 }),
        );
        painter.line_segment(
            [
                Pos2::new(cap.left() + 2.0, y),
                Pos2::new(cap.right() - 2.0, y),
            ],
            Stroke::new(1.5, Color32::BLACK),
        );
        value_text(ui, value_rect, id, param, self.setter);
        let tooltip = self.tooltip;
        hover_text(response, || match tooltip {
            Some(text) => format!("{text}\n{}", default_tooltip(param)),
            None => default_tooltip(param),
        })
    }
}

/// An on/off switch for a [`BoolParam`]: a lit button with its label; a click is one
/// gesture.
pub struct Toggle<'a, 's> {
    param: &'a BoolParam,
    setter: &'a ParamSetter<'s>,
    label: Option<&'a str>,
    tooltip: Option<&'a str>,
    /// A small round power light with no text (module titles).
    power: bool,
}

impl<'a, 's> Toggle<'a, 's> {
    pub fn new(param: &'a BoolParam, setter: &'a ParamSetter<'s>) -> Self {
        Self {
            param,
            setter,
            label: None,
            tooltip: None,
            power: false,
        }
    }

    pub fn label(mut self, label: &'a str) -> Self {
        self.label = Some(label);
        self
    }

    pub fn tooltip(mut self, tooltip: &'a str) -> Self {
        self.tooltip = Some(tooltip);
        self
    }

    /// Draws the switch as a round power light (for a module's title).
    pub fn power(mut self) -> Self {
        self.power = true;
        self
    }

    pub fn show(self, ui: &mut Ui) -> Response {
        let on = self.param.value();
        let label = self.label.unwrap_or(self.param.name());
        let font = FontId::proportional(11.0);
        let size = if self.power {
            Vec2::splat(14.0)
        } else {
            let galley =
                ui.painter()
                    .layout_no_wrap(label.to_owned(), font.clone(), Color32::WHITE);
            Vec2::new(galley.size().x + 14.0, 18.0)
        };
        let (rect, response) = ui.allocate_exact_size(size, Sense::click());
        if response.clicked() {
            self.setter.begin_set_parameter(self.param);
            self.setter.set_parameter(self.param, !on);
            self.setter.end_set_parameter(self.param);
        }
        let name = self.param.name().to_owned();
        response.widget_info(|| WidgetInfo::selected(Role::CheckBox, true, on, name.clone()));
        let painter = ui.painter();
        let lit = Color32::from_rgb(120, 220, 120);
        if self.power {
            let colour = if on { lit } else { Color32::from_gray(70) };
            painter.circle_filled(rect.center(), 6.0, colour);
            painter.circle_stroke(rect.center(), 6.5, Stroke::new(1.0, Color32::from_gray(20)));
        } else {
            let fill = if on {
                ACCENT.gamma_multiply(0.85)
            } else if response.hovered() {
                Color32::from_gray(70)
            } else {
                Color32::from_gray(50)
            };
            painter.rect_filled(rect, 3.0, fill);
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                label,
                font,
                if on {
                    Color32::BLACK
                } else {
                    ui.visuals().text_color()
                },
            );
        }
        let (name, tooltip) = (self.param.name(), self.tooltip);
        hover_text(response, || {
            let usage = format!(
                "{name}: {} (click to switch)",
                if on { "on" } else { "off" }
            );
            match tooltip {
                Some(text) => format!("{text}\n{usage}"),
                None => usage,
            }
        })
    }
}

/// A drop-down list of a choice parameter's values (an `EnumParam`, or an `IntParam`
/// with a few values); picking one is one gesture.
pub struct ChoiceBox<'a, 's, P: Param> {
    param: &'a P,
    setter: &'a ParamSetter<'s>,
    label: Option<&'a str>,
    tooltip: Option<&'a str>,
    width: f32,
}

impl<'a, 's, P: Param> ChoiceBox<'a, 's, P> {
    pub fn new(param: &'a P, setter: &'a ParamSetter<'s>) -> Self {
        Self {
            param,
            setter,
            label: None,
            tooltip: None,
            width: 72.0,
        }
    }

    /// A label shown left of the box (none by default).
    pub fn label(mut self, label: &'a str) -> Self {
        self.label = Some(label);
        self
    }

    pub fn tooltip(mut self, tooltip: &'a str) -> Self {
        self.tooltip = Some(tooltip);
        self
    }

    pub fn width(mut self, width: f32) -> Self {
        self.width = width;
        self
    }

    pub fn show(self, ui: &mut Ui) -> Response {
        let param = self.param;
        let steps = param.step_count().unwrap_or(1).max(1);
        let current = param.unmodulated_normalized_value();
        let selected = (current * steps as f32).round() as usize;
        let text = param.normalized_value_to_string(current, true);
        let id = control_id(param, "choice");
        let inner = ui.horizontal(|ui| {
            if let Some(label) = self.label {
                ui.label(egui::RichText::new(label).size(11.0));
            }
            egui::ComboBox::from_id_salt(id)
                .selected_text(egui::RichText::new(text).size(11.0))
                .width(self.width)
                .show_ui(ui, |ui| {
                    for index in 0..=steps {
                        let normalized = index as f32 / steps as f32;
                        let name = param.normalized_value_to_string(normalized, true);
                        if ui.selectable_label(index == selected, name).clicked()
                            && index != selected
                        {
                            set_once(self.setter, param, normalized);
                        }
                    }
                })
                .response
        });
        let response = inner.inner;
        let name = param.name().to_owned();
        let shown = param.normalized_value_to_string(current, true);
        response.widget_info(|| {
            let mut info = WidgetInfo::labeled(Role::ComboBox, true, name.clone());
            info.current_text_value = Some(shown.clone());
            info
        });
        let tooltip = self.tooltip;
        hover_text(response, || {
            let usage = format!("{}: pick a value", param.name());
            match tooltip {
                Some(text) => format!("{text}\n{usage}"),
                None => usage,
            }
        })
    }
}
