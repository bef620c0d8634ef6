//! Parameter values a VST3 host sets while the plugin is processing, kept until they
//! reach the plugin, so a save in between stores them.
//!
//! nice-plug 0.4.2's VST3 wrapper ignores `IEditController::setParamNormalized` while the
//! plugin processes (it expects the same value again through `process`), and its
//! `IComponent::getState` serialises the parameters as they are. A host that sets a
//! value and saves before the next `process` call (Ardour running a script that sets
//! Output Gain and saves) saves the old value. [`PendingParams`] records each value the
//! wrapper ignored; `SafeAuxWrapper` (`vst3_aux`) reports it from `getParamNormalized`,
//! writes it into the state that `getState` returns ([`patch_state`]), and sets it on
//! the plugin as soon as processing stops. A recorded value is dropped once the live
//! parameter moves (the host's `process` delivered it, or automation moved past it).
//!
//! [`MemoryStream`] is an in-memory `IBStream`, for the patching and for tests.

use std::sync::Mutex;

use nice_plug::prelude::{Plugin, PluginState};
use nice_plug::wrapper::vst3::vst3::Class;
use nice_plug::wrapper::vst3::vst3::Steinberg::Vst::{ParamID, ParamValue};
use nice_plug::wrapper::vst3::vst3::Steinberg::{
    int32, int64, kInvalidArgument, kResultFalse, kResultOk, tresult, IBStream, IBStreamTrait,
};

/// A value the host set that the wrapper did not take.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pending {
    id: ParamID,
    /// The normalized value the host set.
    value: ParamValue,
    /// The live normalized value when the host set it: while the parameter still reads
    /// this, the host's value is the newer one.
    seen: ParamValue,
}

/// The values a host set while the plugin processed (main thread only: the VST3
/// edit-controller calls; the lock never meets the audio thread).
#[derive(Debug, Default)]
pub struct PendingParams {
    entries: Mutex<Vec<Pending>>,
}

impl PendingParams {
    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        // A panic while holding the lock leaves a plain list: still usable.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a `setParamNormalized(id, value)` that left the live value at `after`
    /// (it was `before`): when the wrapper ignored it, the value is kept.
    pub fn record(&self, id: ParamID, value: ParamValue, before: ParamValue, after: ParamValue) {
        let mut entries = self.entries();
        entries.retain(|p| p.id != id);
        if value.is_finite() && after == before && value != before {
            entries.push(Pending {
                id,
                value,
                seen: after,
            });
        }
    }

    /// The values still newer than the live ones (`live` reads a parameter's live
    /// normalized value); the others are forgotten.
    pub fn current(&self, live: impl Fn(ParamID) -> ParamValue) -> Vec<(ParamID, ParamValue)> {
        let mut entries = self.entries();
        entries.retain(|p| live(p.id) == p.seen);
        entries.iter().map(|p| (p.id, p.value)).collect()
    }

    /// The value the host set for `id`, if it is still newer than `live`.
    pub fn value_of(&self, id: ParamID, live: ParamValue) -> Option<ParamValue> {
        self.entries()
            .iter()
            .find(|p| p.id == id && p.seen == live)
            .map(|p| p.value)
    }

    /// Takes every value still newer than the live one, leaving none.
    pub fn take(&self, live: impl Fn(ParamID) -> ParamValue) -> Vec<(ParamID, ParamValue)> {
        let current = self.current(live);
        self.entries().clear();
        current
    }
}

/// nice-plug's VST3 parameter id for a string id (its `wrapper::util::hash_param_id`,
/// which is not public): a Rabin fingerprint with the top bit cleared (VST3 reserves it
/// for host parameters).
pub fn vst3_param_id(id: &str) -> ParamID {
    let hash = id.bytes().fold(0u32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(byte as u32)
    });
    hash & !(1 << 31)
}

/// The state `json` (nice-plug's JSON for `P`) with `changes` (VST3 id, normalized
/// value) written over its parameters, in the form nice-plug itself writes them. `None`
/// when `json` is not a state this can read (the caller then keeps it as it was).
pub fn patch_state<P: Plugin>(json: &[u8], changes: &[(ParamID, ParamValue)]) -> Option<Vec<u8>> {
    let mut state: PluginState = serde_json::from_slice(json).ok()?;
    // A scratch copy of the parameters converts a normalized value to the stored one
    // exactly as nice-plug does (snapping, enum ids), without touching the live plugin.
    let scratch = P::default();
    let params = scratch.params();
    for (id, ptr, _) in params.param_map() {
        let Some(&(_, normalized)) = changes.iter().find(|(hash, _)| *hash == vst3_param_id(&id))
        else {
            continue;
        };
        // SAFETY: `ptr` comes from `param_map()` of `params`, alive for this loop; the
        // value is a finite normalized value (clamped into 0..=1).
        let value = unsafe {
            ptr._internal_set_normalized_value((normalized as f32).clamp(0.0, 1.0));
            crate::param_access::state_value(ptr)
        };
        state.params.insert(id, value);
    }
    serde_json::to_vec(&state).ok()
}

/// An in-memory `IBStream`: what a host hands to `getState` and `setState`.
#[derive(Debug, Default)]
pub struct MemoryStream {
    inner: Mutex<(Vec<u8>, usize)>,
}

impl MemoryStream {
    /// A stream holding `bytes`, positioned at its start.
    pub fn with_bytes(bytes: Vec<u8>) -> Self {
        Self {
            inner: Mutex::new((bytes, 0)),
        }
    }

    /// Everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.lock().0.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<u8>, usize)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Class for MemoryStream {
    type Interfaces = (IBStream,);
}

impl IBStreamTrait for MemoryStream {
    unsafe fn read(
        &self,
        buffer: *mut std::ffi::c_void,
        num_bytes: int32,
        num_bytes_read: *mut int32,
    ) -> tresult {
        if buffer.is_null() || num_bytes < 0 {
            return kInvalidArgument;
        }
        let mut inner = self.lock();
        let (data, pos) = &mut *inner;
        let start = (*pos).min(data.len());
        let n = (num_bytes as usize).min(data.len() - start);
        // SAFETY: the caller's buffer holds `num_bytes` ≥ `n` bytes.
        unsafe { std::ptr::copy_nonoverlapping(data[start..].as_ptr(), buffer as *mut u8, n) };
        *pos = start + n;
        if !num_bytes_read.is_null() {
            // SAFETY: a non-null out-pointer from the caller.
            unsafe { *num_bytes_read = n as int32 };
        }
        kResultOk
    }

    unsafe fn write(
        &self,
        buffer: *mut std::ffi::c_void,
        num_bytes: int32,
        num_bytes_written: *mut int32,
    ) -> tresult {
        if buffer.is_null() || num_bytes < 0 {
            return kInvalidArgument;
        }
        let mut inner = self.lock();
        let (data, pos) = &mut *inner;
        let n = num_bytes as usize;
        // SAFETY: the caller's buffer holds `num_bytes` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(buffer as *const u8, n) };
        let end = *pos + n;
        if data.len() < end {
            data.resize(end, 0);
        }
        data[*pos..end].copy_from_slice(bytes);
        *pos = end;
        if !num_bytes_written.is_null() {
            // SAFETY: a non-null out-pointer from the caller.
            unsafe { *num_bytes_written = num_bytes };
        }
        kResultOk
    }

    unsafe fn seek(&self, pos: int64, mode: int32, result: *mut int64) -> tresult {
        let mut inner = self.lock();
        let (data, current) = &mut *inner;
        // IStreamSeekMode: 0 from the start, 1 from the current position, 2 from the end.
        let base = match mode {
            0 => 0,
            1 => *current as int64,
            2 => data.len() as int64,
            _ => return kResultFalse,
        };
        let target = base + pos;
        if target < 0 {
            return kResultFalse;
        }
        *current = target as usize;
        if !result.is_null() {
            // SAFETY: a non-null out-pointer from the caller.
            unsafe { *result = target };
        }
        kResultOk
    }

    unsafe fn tell(&self, pos: *mut int64) -> tresult {
        if pos.is_null() {
            return kInvalidArgument;
        }
        // SAFETY: a non-null out-pointer from the caller.
        unsafe { *pos = self.lock().1 as int64 };
        kResultOk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ignored_values_wait_and_a_newer_live_value_wins() {
        let pending = PendingParams::default();
        // Taken by the wrapper (the live value moved): nothing waits.
        pending.record(7, 0.25, 0.5, 0.25);
        assert!(pending.current(|_| 0.25).is_empty());
        // Ignored (the live value stayed): it waits, and reads back.
        pending.record(7, 0.25, 0.5, 0.5);
        assert_eq!(pending.value_of(7, 0.5), Some(0.25));
        assert_eq!(pending.current(|_| 0.5), vec![(7, 0.25)]);
        // The live value moved on (process delivered something): forgotten.
        assert!(pending.current(|_| 0.75).is_empty());
        assert_eq!(pending.value_of(7, 0.75), None);
        pending.record(8, 1.0, 0.0, 0.0);
        assert_eq!(pending.take(|_| 0.0), vec![(8, 1.0)]);
        assert!(pending.current(|_| 0.0).is_empty());
    }

    #[test]
    fn the_vst3_id_is_nice_plugs_hash() {
        // 31-polynomial over the bytes with the top bit cleared: "a" is 97.
        assert_eq!(vst3_param_id("a"), 97);
        assert_eq!(vst3_param_id("ab"), 97 * 31 + 98);
        assert!(vst3_param_id("out_gain_and_a_long_tail") < (1 << 31));
    }

    #[test]
    fn the_memory_stream_reads_what_was_written() {
        let stream = MemoryStream::default();
        let mut text = *b"state";
        let (mut written, mut read, mut at) = (0, 0, 0);
        // SAFETY: buffers and out-pointers are valid for the calls.
        unsafe {
            assert_eq!(
                stream.write(text.as_mut_ptr().cast(), 5, &mut written),
                kResultOk
            );
            assert_eq!(written, 5);
            assert_eq!(stream.seek(0, 2, &mut at), kResultOk);
            assert_eq!(at, 5);
            stream.seek(1, 0, std::ptr::null_mut());
            let mut out = [0u8; 8];
            stream.read(out.as_mut_ptr().cast(), 8, &mut read);
            assert_eq!(&out[..read as usize], b"tate");
        }
        assert_eq!(stream.bytes(), b"state");
    }
}
