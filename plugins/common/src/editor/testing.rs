//! Driving an editor without a host: a [`GuiContext`] whose parameter changes go straight
//! to the parameters (as a host applies them) and are recorded, begin / set / end per
//! parameter id, so a test can check both what a control did and that it did it in
//! proper host gestures. Public (not test-only) so the plugins' integration tests, which
//! run the real editor code under `egui_kittest`, can use it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use nice_plug::context::gui::{GuiContextInner, ParamSetter};
use nice_plug::plugin::ParamValue;
use nice_plug::prelude::{ParamPtr, Params, PluginApi, PluginState};

/// One call the editor made to the host.
#[derive(Clone, Debug, PartialEq)]
pub enum Gesture {
    Begin(String),
    /// The parameter id and the normalized value sent.
    Set(String, f32),
    End(String),
}

/// What is wrong with a recorded gesture sequence.
#[derive(Clone, Debug, PartialEq)]
pub enum GestureError {
    /// A second begin for a parameter whose gesture is still open.
    NestedBegin(String),
    /// A value set outside a begin … end.
    SetOutsideGesture(String),
    /// An end with no begin.
    EndWithoutBegin(String),
    /// A begin never ended.
    Unfinished(String),
    /// A pointer this context's parameters do not hold.
    UnknownParam,
}

/// The test host: applies changes to `params` and records them.
pub struct TestContext {
    params: Arc<dyn Params>,
    ids: Vec<(ParamPtr, String)>,
    log: Mutex<Vec<Gesture>>,
    unknown: Mutex<usize>,
}

// SAFETY: `ParamPtr`s are raw pointers into `params`, which this context keeps alive;
// they are only dereferenced on the thread that drives the editor (as a GUI thread).
unsafe impl Send for TestContext {}
// SAFETY: see `Send`; the log is behind a mutex.
unsafe impl Sync for TestContext {}

impl TestContext {
    pub fn new(params: Arc<dyn Params>) -> Arc<Self> {
        let ids = params
            .param_map()
            .into_iter()
            .map(|(id, ptr, _)| (ptr, id))
            .collect();
        Arc::new(Self {
            params,
            ids,
            log: Mutex::new(Vec::new()),
            unknown: Mutex::new(0),
        })
    }

    /// A setter for the editor's code, as the host's context gives one.
    pub fn setter(&self) -> ParamSetter<'_> {
        ParamSetter::new(self)
    }

    fn id_of(&self, ptr: ParamPtr) -> Option<String> {
        self.ids
            .iter()
            .find(|(p, _)| *p == ptr)
            .map(|(_, id)| id.clone())
    }

    fn record(&self, ptr: ParamPtr, make: impl FnOnce(String) -> Gesture) {
        match self.id_of(ptr) {
            Some(id) => self.log.lock().expect("log").push(make(id)),
            None => *self.unknown.lock().expect("log") += 1,
        }
    }

    /// Every call so far, in order.
    pub fn gestures(&self) -> Vec<Gesture> {
        self.log.lock().expect("log").clone()
    }

    /// Every call so far, emptying the record.
    pub fn take_gestures(&self) -> Vec<Gesture> {
        std::mem::take(&mut *self.log.lock().expect("log"))
    }

    /// How many gestures (begins) each parameter id had so far.
    pub fn gesture_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for gesture in self.log.lock().expect("log").iter() {
            if let Gesture::Begin(id) = gesture {
                *counts.entry(id.clone()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Checks the record is well formed: per parameter, begin … set* … end, never nested,
    /// nothing left open, no pointer the plugin does not own.
    pub fn check(&self) -> Result<(), GestureError> {
        if *self.unknown.lock().expect("log") > 0 {
            return Err(GestureError::UnknownParam);
        }
        check_sequence(&self.gestures())
    }

    /// The plugin's parameters.
    pub fn params(&self) -> &Arc<dyn Params> {
        &self.params
    }
}

/// Checks a gesture sequence (see [`TestContext::check`]).
pub fn check_sequence(gestures: &[Gesture]) -> Result<(), GestureError> {
    let mut open: Vec<&str> = Vec::new();
    for gesture in gestures {
        match gesture {
            Gesture::Begin(id) => {
                if open.contains(&id.as_str()) {
                    return Err(GestureError::NestedBegin(id.clone()));
                }
                open.push(id);
            }
            Gesture::Set(id, _) => {
                if !open.contains(&id.as_str()) {
                    return Err(GestureError::SetOutsideGesture(id.clone()));
                }
            }
            Gesture::End(id) => match open.iter().position(|o| *o == id) {
                Some(index) => {
                    open.remove(index);
                }
                None => return Err(GestureError::EndWithoutBegin(id.clone())),
            },
        }
    }
    match open.first() {
        Some(id) => Err(GestureError::Unfinished((*id).to_owned())),
        None => Ok(()),
    }
}

impl GuiContextInner for TestContext {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Standalone
    }

    unsafe fn raw_begin_set_parameter(&self, param: ParamPtr) {
        self.record(param, Gesture::Begin);
    }

    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        if self.id_of(param).is_some() {
            // SAFETY: the pointer belongs to `self.params` (found in its map), alive.
            unsafe {
                param._internal_set_normalized_value(normalized);
            }
        }
        self.record(param, |id| Gesture::Set(id, normalized));
    }

    unsafe fn raw_end_set_parameter(&self, param: ParamPtr) {
        self.record(param, Gesture::End);
    }

    fn get_state(&self) -> PluginState {
        let params = self
            .ids
            .iter()
            .map(|(ptr, id)| {
                // SAFETY: the pointers come from `self.params`' map, alive.
                let plain = unsafe { ptr.unmodulated_plain_value() };
                let value = match ptr {
                    ParamPtr::FloatParam(_) => ParamValue::F32(plain),
                    ParamPtr::BoolParam(_) => ParamValue::Bool(plain >= 0.5),
                    ParamPtr::IntParam(_) | ParamPtr::EnumParam(_) => {
                        ParamValue::I32(plain.round() as i32)
                    }
                };
                (id.clone(), value)
            })
            .collect();
        PluginState {
            version: String::new(),
            params,
            fields: self.params.serialize_fields(),
        }
    }

    fn set_state(&self, state: PluginState) {
        for (id, value) in state.params {
            let Some((ptr, _)) = self.ids.iter().find(|(_, i)| *i == id) else {
                continue;
            };
            let plain = match value {
                ParamValue::F32(v) => v,
                ParamValue::I32(v) => v as f32,
                ParamValue::Bool(v) => f32::from(u8::from(v)),
                ParamValue::String(_) => continue,
            };
            // SAFETY: see `get_state`.
            unsafe {
                ptr._internal_set_normalized_value(ptr.preview_normalized(plain));
            }
        }
        self.params.deserialize_fields(&state.fields);
    }

    fn request_restart(&self) {}
}

/// The names of the preset bar's controls in the shell's top bar, left to right.
pub const PRESET_BAR_ROW: [&str; 9] = [
    "Previous preset",
    "Preset",
    "Next preset",
    "Save",
    "Settings A",
    "Settings B",
    "Copy",
    "Undo",
    "Redo",
];

/// Checks that `items` (a name and its laid-out rectangle each, in the order meant) lie
/// in one row, left to right, none running into the next, all within `width`: a bar
/// that fits, at the size it was laid out at. Returns what is wrong.
pub fn check_row(items: &[(&str, egui::Rect)], width: f32) -> Result<(), String> {
    for pair in items.windows(2) {
        let ((a, ra), (b, rb)) = (pair[0], pair[1]);
        if ra.right() > rb.left() {
            return Err(format!("{a} {ra:?} runs into {b} {rb:?}"));
        }
        if (ra.center().y - rb.center().y).abs() >= 4.0 {
            return Err(format!("{a} {ra:?} and {b} {rb:?} are not in one row"));
        }
    }
    match items.last() {
        Some((name, rect)) if rect.right() > width => {
            Err(format!("{name} {rect:?} leaves the window ({width} wide)"))
        }
        _ => Ok(()),
    }
}

/// Checks an editor drawn in a window of `window` logical pixels with `chosen` picked,
/// its layout's minimum `min_size` (points): drawn at the largest scale up to `chosen`
/// at which the minimum fits the window ([`super::fit`]), the window kept as the host
/// made it (within a pixel of rounding: the editor did not resize it), and the layout at
/// least its minimum size in points (never squeezed). Returns the zoom drawn at and the
/// layout's size in points, or what is wrong.
pub fn check_fitted_zoom(
    ctx: &egui::Context,
    window: egui::Vec2,
    chosen: f32,
    min_size: (f32, f32),
) -> Result<(f32, egui::Vec2), String> {
    let min = egui::Vec2::new(min_size.0, min_size.1);
    let expected = chosen.min(super::fit::fitted_zoom(window, min));
    let zoom = ctx.zoom_factor();
    if (zoom - expected).abs() >= 1e-3 {
        return Err(format!(
            "in a {window:?} window at {chosen}: drawn at {zoom}, expected {expected}"
        ));
    }
    let points = ctx.content_rect().size();
    if (points * zoom - window).abs().max_elem() > 1.0 {
        return Err(format!(
            "the window became {:?}, the host made it {window:?}",
            points * zoom
        ));
    }
    if points.x < min.x - 0.5 || points.y < min.y - 0.5 {
        return Err(format!(
            "laid out in {points:?}, below the layout's minimum {min:?}"
        ));
    }
    Ok((zoom, points))
}
