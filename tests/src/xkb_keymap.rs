//! What one editor window costs in keyboard maps that are never freed.
//!
//! baseview 0.4.2 (the window layer under nice-plug's egui editors) gives every X11
//! window it opens an xkbcommon state: `XkbcommonState::new` makes a context, asks the X
//! server for the core keyboard's keymap (`xkb_x11_keymap_new_from_device`), makes a state
//! from it and lets the context go; on drop it unrefs the state. The state holds a
//! reference of its own to the keymap, so the reference the keymap was created with is
//! never released: the keymap, and the context it keeps alive, stay on the heap after the
//! window closes. That is in baseview's code, out of this project's reach without a fork
//! (the one-line fix upstream: `xkb_keymap_unref(keymap)` after the state is made).
//!
//! [`leaked_per_window_kib`] makes exactly those objects the way baseview does, in this
//! process and on the same display, and measures what stays on the heap, so the editor
//! tests can hold an open/close cycle to that amount and nothing more of their own.

use std::ffi::{c_char, c_int, c_void, CString};

use anyhow::{bail, Context, Result};
use libloading::{Library, Symbol};

use crate::proc_stats::heap_in_use_kib;

/// How much more than [`leaked_per_window_kib`] the C heap in use may grow per editor
/// open and close, as the slope of a least-squares line through the samples taken
/// between cycles. Measured: the strip in the CLAP host 81 KiB per cycle against a
/// keymap of 72 KiB, in DawDreamer 82 KiB (allocator bookkeeping, the host's caches).
/// Anything an editor leaked of its own would be more: its smallest texture, 256 × 256
/// RGBA, is 256 KiB, a frame's vertex buffers more.
pub const HEAP_MARGIN_KIB: f64 = 24.0;

/// How many keymaps are made and measured; the median is taken (a heap measurement can
/// catch another thread's allocation).
const SAMPLES: usize = 7;

type XcbConnect = unsafe extern "C" fn(*const c_char, *mut c_int) -> *mut c_void;
type XcbConnectionHasError = unsafe extern "C" fn(*mut c_void) -> c_int;
type XcbDisconnect = unsafe extern "C" fn(*mut c_void);
type ContextNew = unsafe extern "C" fn(c_int) -> *mut c_void;
type Unref = unsafe extern "C" fn(*mut c_void);
type SetupXkbExtension = unsafe extern "C" fn(
    *mut c_void,
    u16,
    u16,
    c_int,
    *mut u16,
    *mut u16,
    *mut u8,
    *mut u8,
) -> c_int;
type CoreKeyboardDeviceId = unsafe extern "C" fn(*mut c_void) -> i32;
type KeymapNewFromDevice =
    unsafe extern "C" fn(*mut c_void, *mut c_void, i32, c_int) -> *mut c_void;
type StateNewFromDevice = unsafe extern "C" fn(*mut c_void, *mut c_void, i32) -> *mut c_void;

/// The heap, KiB, that one baseview window leaves behind in keyboard maps on `display`:
/// the median over [`SAMPLES`] keymaps made and kept as baseview keeps them (each freed
/// again once measured). `None` where libxkbcommon-x11 is not installed: baseview then
/// makes no keyboard state, and leaves nothing.
pub fn leaked_per_window_kib(display: &str) -> Result<Option<f64>> {
    // SAFETY (the whole function): the libraries are loaded by their sonames and the
    // functions are called with the signatures of their C headers (xcb/xcb.h,
    // xkbcommon/xkbcommon.h, xkbcommon/xkbcommon-x11.h); every object made is released
    // before returning, the connection last.
    unsafe {
        let (Ok(xkb), Ok(xkb_x11)) = (
            Library::new("libxkbcommon.so.0"),
            Library::new("libxkbcommon-x11.so.0"),
        ) else {
            return Ok(None);
        };
        let xcb = Library::new("libxcb.so.1").context("load libxcb")?;
        let xcb_connect: Symbol<XcbConnect> = xcb.get(b"xcb_connect\0")?;
        let xcb_has_error: Symbol<XcbConnectionHasError> =
            xcb.get(b"xcb_connection_has_error\0")?;
        let xcb_disconnect: Symbol<XcbDisconnect> = xcb.get(b"xcb_disconnect\0")?;
        let context_new: Symbol<ContextNew> = xkb.get(b"xkb_context_new\0")?;
        let context_unref: Symbol<Unref> = xkb.get(b"xkb_context_unref\0")?;
        let keymap_unref: Symbol<Unref> = xkb.get(b"xkb_keymap_unref\0")?;
        let state_unref: Symbol<Unref> = xkb.get(b"xkb_state_unref\0")?;
        let setup: Symbol<SetupXkbExtension> = xkb_x11.get(b"xkb_x11_setup_xkb_extension\0")?;
        let device_id: Symbol<CoreKeyboardDeviceId> =
            xkb_x11.get(b"xkb_x11_get_core_keyboard_device_id\0")?;
        let keymap_new: Symbol<KeymapNewFromDevice> =
            xkb_x11.get(b"xkb_x11_keymap_new_from_device\0")?;
        let state_new: Symbol<StateNewFromDevice> =
            xkb_x11.get(b"xkb_x11_state_new_from_device\0")?;

        let name = CString::new(display)?;
        let connection = xcb_connect(name.as_ptr(), std::ptr::null_mut());
        if xcb_has_error(connection) != 0 {
            xcb_disconnect(connection);
            bail!("cannot connect to X display {display}");
        }
        // XKB 1.0, as the X server's Xlib clients (baseview's connection is one) enable it.
        let (mut major, mut minor, mut event, mut error) = (0u16, 0u16, 0u8, 0u8);
        let enabled = setup(
            connection, 1, 0, 0, &mut major, &mut minor, &mut event, &mut error,
        );
        if enabled == 0 {
            xcb_disconnect(connection);
            bail!("the X server on {display} has no XKB extension");
        }
        let device = device_id(connection);
        let mut kept = Vec::with_capacity(SAMPLES);
        let mut costs = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let before = heap_in_use_kib();
            // As baseview's XkbcommonState::new: context, keymap, state, context unref ...
            let context = context_new(0);
            let keymap = keymap_new(context, connection, device, 0);
            if keymap.is_null() {
                context_unref(context);
                break;
            }
            let state = state_new(keymap, connection, device);
            if state.is_null() {
                keymap_unref(keymap);
                context_unref(context);
                break;
            }
            context_unref(context);
            // ... and as its drop.
            state_unref(state);
            costs.push(heap_in_use_kib() - before);
            kept.push(keymap);
        }
        for keymap in kept {
            keymap_unref(keymap);
        }
        xcb_disconnect(connection);
        if costs.len() < SAMPLES {
            bail!("libxkbcommon made no keymap or state for the core keyboard on {display}");
        }
        costs.sort_by(f64::total_cmp);
        Ok(Some(costs[SAMPLES / 2]))
    }
}
