//! Undo/redo and A/B comparison of a plugin's settings, as plain logic an editor drives
//! (the preset bar, `crate::preset_bar`, has the buttons).
//!
//! **Undo.** A snapshot is every parameter's normalized value. The editor calls
//! [`History::update`] once a frame, saying whether a gesture (a drag, a held button)
//! is under way. When no gesture is and the values differ from the last snapshot, the
//! last snapshot goes on the undo stack and the new values become the current one: one
//! drag is one step, however many values it sent, and a change from elsewhere (a preset
//! load, a host's automation while the editor is open) is one step too. Undo and redo
//! write a snapshot back through a [`ParamWriter`] (the editor's `ParamSetter`, so the
//! host hears of each change as a gesture). At least [`UNDO_STEPS`] steps are kept.
//!
//! **A/B.** Two settings slots: the live parameters are the active slot, and the other
//! slot is kept in [`AbState`], a field the project saves beside the parameters (as the
//! editor size is). `swap` keeps the live values as the active slot and loads the other;
//! `copy` makes the other slot a copy of the live values. The slot is stored by
//! parameter id and plain value (see [`crate::state_version`]), so a later version that
//! changes a range still restores the same sound.
//!
//! Nothing here runs on the audio thread.

use std::collections::{BTreeMap, VecDeque};

use nice_plug::prelude::{ParamPtr, ParamSetter, Params};
use serde::{Deserialize, Serialize};

/// How many undo steps are kept at least.
pub const UNDO_STEPS: usize = 200;

/// Writes normalized values to parameters: through the editor's `ParamSetter` (the
/// host hears of it), or [`Direct`] (tests, the command line).
pub trait ParamWriter {
    /// Sets every `(parameter, normalized value)` pair, as one gesture each.
    fn write(&self, values: &[(ParamPtr, f32)]);
}

impl ParamWriter for ParamSetter<'_> {
    fn write(&self, values: &[(ParamPtr, f32)]) {
        for &(ptr, normalized) in values {
            // SAFETY: the pointers come from the `param_map()` of the plugin's own
            // params, which outlive the editor that holds this setter.
            unsafe {
                self.raw_context.raw_begin_set_parameter(ptr);
                self.raw_context
                    .raw_set_parameter_normalized(ptr, normalized);
                self.raw_context.raw_end_set_parameter(ptr);
            }
        }
    }
}

/// Writes values straight into the parameters, as `presets::Preset::apply` does. Not
/// for a running plugin's editor: the host would not hear of the change.
pub struct Direct;

impl ParamWriter for Direct {
    fn write(&self, values: &[(ParamPtr, f32)]) {
        for &(ptr, normalized) in values {
            // SAFETY: as in `ParamSetter`'s implementation; a normalized value in 0..=1.
            unsafe { ptr._internal_set_normalized_value(normalized) };
        }
    }
}

/// Every parameter's normalized value, in `param_map()` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot(Vec<f32>);

impl Snapshot {
    pub fn take(params: &dyn Params) -> Self {
        Snapshot(
            params
                .param_map()
                .into_iter()
                // SAFETY: the pointer comes from `param_map()` of `params`.
                .map(|(_, ptr, _)| unsafe { ptr.unmodulated_normalized_value() })
                .collect(),
        )
    }

    /// Writes the values that differ from the live ones.
    pub fn restore(&self, params: &dyn Params, writer: &dyn ParamWriter) {
        let changes: Vec<(ParamPtr, f32)> = params
            .param_map()
            .into_iter()
            .zip(&self.0)
            // SAFETY: as in `take`.
            .filter(|((_, ptr, _), &v)| unsafe { ptr.unmodulated_normalized_value() } != v)
            .map(|((_, ptr, _), &v)| (ptr, v))
            .collect();
        writer.write(&changes);
    }
}

/// The undo and redo stacks.
#[derive(Debug, Clone)]
pub struct History {
    undo: VecDeque<Snapshot>,
    redo: Vec<Snapshot>,
    current: Snapshot,
    capacity: usize,
}

impl History {
    /// A history that starts at the live values of `params`.
    pub fn new(params: &dyn Params) -> Self {
        Self::with_capacity(params, UNDO_STEPS)
    }

    pub fn with_capacity(params: &dyn Params, capacity: usize) -> Self {
        Self {
            undo: VecDeque::new(),
            redo: Vec::new(),
            current: Snapshot::take(params),
            capacity: capacity.max(1),
        }
    }

    /// Records a step if the values changed and no gesture is under way. Returns
    /// whether it did.
    pub fn update(&mut self, params: &dyn Params, gesture_active: bool) -> bool {
        if gesture_active {
            return false;
        }
        let now = Snapshot::take(params);
        if now == self.current {
            return false;
        }
        let before = std::mem::replace(&mut self.current, now);
        if self.undo.len() == self.capacity {
            self.undo.pop_front();
        }
        self.undo.push_back(before);
        self.redo.clear();
        true
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo_steps(&self) -> usize {
        self.undo.len()
    }

    /// Goes back one step. A change not yet recorded (the caller did not call
    /// [`History::update`] since) is recorded first, so it is what gets undone.
    pub fn undo(&mut self, params: &dyn Params, writer: &dyn ParamWriter) -> bool {
        self.update(params, false);
        let Some(previous) = self.undo.pop_back() else {
            return false;
        };
        previous.restore(params, writer);
        self.redo
            .push(std::mem::replace(&mut self.current, previous));
        true
    }

    /// Goes forward one undone step.
    pub fn redo(&mut self, params: &dyn Params, writer: &dyn ParamWriter) -> bool {
        if self.update(params, false) {
            // A new change since the undo: there is nothing to redo any more.
            return false;
        }
        let Some(next) = self.redo.pop() else {
            return false;
        };
        next.restore(params, writer);
        let before = std::mem::replace(&mut self.current, next);
        self.undo.push_back(before);
        true
    }
}

/// Which slot the live parameters are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Slot {
    #[default]
    A,
    B,
}

impl Slot {
    pub fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }

    pub fn letter(self) -> &'static str {
        match self {
            Slot::A => "A",
            Slot::B => "B",
        }
    }
}

/// The A/B state a project saves: which slot is live, and the other slot's values
/// (parameter id → plain value as nice-plug saves it; `None` until first used, when
/// the other slot is a copy of the live one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AbState {
    pub active: Slot,
    pub other: Option<BTreeMap<String, nice_plug_value::Value>>,
}

/// A state value (nice-plug's `ParamValue` with `PartialEq`, which it lacks).
pub mod nice_plug_value {
    use nice_plug::plugin::ParamValue;
    use serde::{Deserialize, Serialize};

    /// One parameter's plain value, as a state stores it.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Value {
        F32(f32),
        I32(i32),
        Bool(bool),
        String(String),
    }

    impl From<ParamValue> for Value {
        fn from(v: ParamValue) -> Self {
            match v {
                ParamValue::F32(x) => Value::F32(x),
                ParamValue::I32(x) => Value::I32(x),
                ParamValue::Bool(x) => Value::Bool(x),
                ParamValue::String(x) => Value::String(x),
            }
        }
    }

    impl From<Value> for ParamValue {
        fn from(v: Value) -> Self {
            match v {
                Value::F32(x) => ParamValue::F32(x),
                Value::I32(x) => ParamValue::I32(x),
                Value::Bool(x) => ParamValue::Bool(x),
                Value::String(x) => ParamValue::String(x),
            }
        }
    }
}

/// The live values of `params` as a slot stores them.
fn slot_values(params: &dyn Params) -> BTreeMap<String, nice_plug_value::Value> {
    crate::param_access::state_values(params)
        .into_iter()
        .map(|(id, v)| (id, v.into()))
        .collect()
}

/// The normalized value each stored value stands for, by id, found on `scratch` (a
/// spare set of the same parameters: a choice stored by its id can only be read by
/// setting it, which must not happen on the live parameters the audio reads). An id
/// this version does not know, or a value of the wrong type, is skipped.
fn slot_normalized(
    scratch: &dyn Params,
    values: &BTreeMap<String, nice_plug_value::Value>,
) -> BTreeMap<String, f32> {
    use nice_plug_value::Value;
    let mut out = BTreeMap::new();
    for (id, ptr, _) in scratch.param_map() {
        let Some(value) = values.get(&id) else {
            continue;
        };
        // SAFETY: the pointer comes from `param_map()` of `scratch`.
        let normalized = unsafe {
            match (ptr, value) {
                (ParamPtr::FloatParam(_), Value::F32(v)) if v.is_finite() => {
                    Some(ptr.preview_normalized(*v))
                }
                (ParamPtr::IntParam(_), Value::I32(v))
                | (ParamPtr::EnumParam(_), Value::I32(v)) => {
                    Some(ptr.preview_normalized(*v as f32))
                }
                (ParamPtr::BoolParam(_), Value::Bool(on)) => Some(if *on { 1.0 } else { 0.0 }),
                (ParamPtr::EnumParam(p), Value::String(variant)) => (*p)
                    .set_from_id(variant)
                    .then(|| ptr.unmodulated_normalized_value()),
                _ => None,
            }
        };
        if let Some(n) = normalized {
            out.insert(id, n.clamp(0.0, 1.0));
        }
    }
    out
}

impl AbState {
    /// Makes the other slot a copy of the live values.
    pub fn copy_to_other(&mut self, params: &dyn Params) {
        self.other = Some(slot_values(params));
    }

    /// Keeps the live values as the active slot and loads the other one (a copy of the
    /// live values if it was never set), which becomes active. `scratch` is a spare set
    /// of the plugin's parameters (see `slot_normalized`).
    pub fn swap(&mut self, params: &dyn Params, scratch: &dyn Params, writer: &dyn ParamWriter) {
        let live = slot_values(params);
        if let Some(other) = self.other.take() {
            let wanted = slot_normalized(scratch, &other);
            let changes: Vec<(ParamPtr, f32)> = params
                .param_map()
                .into_iter()
                .filter_map(|(id, ptr, _)| wanted.get(&id).map(|&v| (ptr, v)))
                // SAFETY: the pointers come from `param_map()` of `params`.
                .filter(|(ptr, v)| unsafe { ptr.unmodulated_normalized_value() } != *v)
                .collect();
            writer.write(&changes);
        }
        self.other = Some(live);
        self.active = self.active.other();
    }
}

/// Reads whether a gesture is under way from egui: a pointer button held or a widget
/// being dragged. For [`History::update`].
pub fn gesture_active(ctx: &egui::Context) -> bool {
    ctx.input(|i| i.pointer.any_down()) || ctx.dragged_id().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nice_plug::prelude::*;

    #[derive(Params)]
    struct TestParams {
        #[id = "gain"]
        gain: FloatParam,
        #[id = "freq"]
        freq: FloatParam,
        #[id = "on"]
        on: BoolParam,
        #[id = "mode"]
        mode: EnumParam<Mode>,
    }

    #[derive(Enum, Debug, PartialEq, Clone, Copy)]
    enum Mode {
        #[id = "soft"]
        Soft,
        #[id = "hard"]
        Hard,
        #[id = "wild"]
        Wild,
    }

    impl Default for TestParams {
        fn default() -> Self {
            Self {
                gain: FloatParam::new(
                    "Gain",
                    0.0,
                    FloatRange::Linear {
                        min: -24.0,
                        max: 24.0,
                    },
                ),
                freq: FloatParam::new(
                    "Freq",
                    1000.0,
                    FloatRange::Skewed {
                        min: 20.0,
                        max: 20_000.0,
                        factor: FloatRange::skew_factor(-2.0),
                    },
                ),
                on: BoolParam::new("On", false),
                mode: EnumParam::new("Mode", Mode::Soft),
            }
        }
    }

    fn set(params: &TestParams, id: &str, text: &str) {
        crate::param_access::set_from_text(params, id, text).unwrap();
    }

    #[test]
    fn a_drag_is_one_step_and_undo_restores_every_parameter_exactly() {
        let params = TestParams::default();
        set(&params, "freq", "333.3");
        let mut history = History::new(&params);
        let before = Snapshot::take(&params);
        // A drag: many values while the gesture is under way, then a release.
        for i in 0..50 {
            set(&params, "gain", &format!("{}", i as f32 * 0.37));
            set(&params, "freq", &format!("{}", 400 + i * 13));
            assert!(!history.update(&params, true));
        }
        set(&params, "on", "on");
        set(&params, "mode", "wild");
        assert!(history.update(&params, false));
        assert_eq!(history.undo_steps(), 1);
        let after = Snapshot::take(&params);
        assert_ne!(after, before);

        assert!(history.undo(&params, &Direct));
        assert_eq!(Snapshot::take(&params), before);
        assert!(!history.update(&params, false), "undo is not a new step");
        assert!(history.redo(&params, &Direct));
        assert_eq!(Snapshot::take(&params), after);
        assert!(!history.redo(&params, &Direct));
    }

    #[test]
    fn at_least_a_hundred_steps_are_kept_and_a_new_change_clears_redo() {
        let params = TestParams::default();
        let mut history = History::new(&params);
        let mut snapshots = vec![Snapshot::take(&params)];
        for i in 1..=150 {
            set(&params, "gain", &format!("{}", (i % 48) as f32 - 23.5));
            set(&params, "freq", &format!("{}", 20 + i * 100));
            assert!(history.update(&params, false));
            snapshots.push(Snapshot::take(&params));
        }
        for expected in snapshots.iter().rev().skip(1) {
            assert!(history.undo(&params, &Direct));
            assert_eq!(&Snapshot::take(&params), expected);
        }
        assert!(!history.can_undo());
        assert!(history.redo(&params, &Direct));
        set(&params, "on", "on");
        assert!(!history.redo(&params, &Direct), "a new change ends redo");
        assert!(!history.can_redo());
    }

    #[test]
    fn ab_swap_round_trips_and_the_slots_survive_serialisation() {
        let params = TestParams::default();
        set(&params, "gain", "-3.3");
        set(&params, "mode", "hard");
        let a = Snapshot::take(&params);
        let mut ab = AbState::default();
        // First swap: B starts as a copy of A.
        ab.swap(&params, &TestParams::default(), &Direct);
        assert_eq!(ab.active, Slot::B);
        assert_eq!(Snapshot::take(&params), a);
        set(&params, "gain", "7.75");
        set(&params, "freq", "5000");
        set(&params, "on", "on");
        set(&params, "mode", "wild");
        let b = Snapshot::take(&params);

        // Saved with the project and read back, as nice-plug does with a persisted field.
        let json = serde_json::to_string(&ab).unwrap();
        let mut ab: AbState = serde_json::from_str(&json).unwrap();

        ab.swap(&params, &TestParams::default(), &Direct);
        assert_eq!(ab.active, Slot::A);
        assert_eq!(Snapshot::take(&params), a);
        ab.swap(&params, &TestParams::default(), &Direct);
        assert_eq!(ab.active, Slot::B);
        assert_eq!(Snapshot::take(&params), b);

        // Copy: the other slot becomes the live values.
        ab.copy_to_other(&params);
        ab.swap(&params, &TestParams::default(), &Direct);
        assert_eq!(Snapshot::take(&params), b);
    }
}
