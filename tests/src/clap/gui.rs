//! The host side of CLAP's GUI extension (`clap.gui`), with the plugin's editor embedded
//! in a window of the host's own on an X display, as Bitwig and Reaper do on Linux.
//!
//! - [`HostGui`]: the callbacks the plugin makes (`request_resize`, `request_show`,
//!   `request_hide`, `closed`, `resize_hints_changed`). They only record, in
//!   [`GuiRequests`] (atomics: the spec allows any thread), and answer: a resize is
//!   granted when it fits the screen and the host has not been told to refuse
//!   ([`ClapInstance::refuse_resizes`]); the host's window takes a granted size on the
//!   main thread's next turn.
//! - [`HostWindow`]: the host's top-level X11 window (x11rb, the X client crate the
//!   plugins' baseview already brings), with `WM_DELETE_WINDOW`, so the window manager's
//!   close reaches the host as a user's click on the close button does.
//! - [`ClapInstance::open_editor`] and [`ClapInstance::close_editor`]: the sequence
//!   the CLAP spec gives (`is_api_supported`, `create`, `set_scale`, `get_size`,
//!   `set_parent`, `show`; `hide`, `destroy`), all on the main thread, the plugin's
//!   main-thread requests served meanwhile.

use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use clack_host::extensions::prelude::*;
use clap_sys::ext::gui::{
    clap_host_gui, clap_plugin_gui, clap_window, clap_window_handle, CLAP_EXT_GUI,
    CLAP_WINDOW_API_X11,
};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ButtonPressEvent, ClientMessageEvent, ConfigureWindowAux, ConnectionExt as _,
    CreateWindowAux, EventMask, ImageFormat, KeyButMask, MapState, Motion, MotionNotifyEvent,
    PropMode, WindowClass, BUTTON_PRESS_EVENT, BUTTON_RELEASE_EVENT, MOTION_NOTIFY_EVENT,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

pub use x11rb::protocol::xproto::Window;

use super::{ClapInstance, TestHost};

// ---------------------------------------------------------------------------------------
// What the plugin asks of the host.

/// The plugin's GUI requests, as counted by the host, and the host's answer to resizes.
#[derive(Default)]
pub struct GuiRequests {
    refuse_resizes: AtomicBool,
    /// A granted size the host's window has not taken yet (`width << 32 | height`, 0:
    /// none).
    to_apply: AtomicU64,
    /// The last size asked for, granted or not (packed as `to_apply`).
    last_asked: AtomicU64,
    resizes_asked: AtomicU32,
    resizes_refused: AtomicU32,
    shows_asked: AtomicU32,
    hides_asked: AtomicU32,
    closed: AtomicU32,
    hints_changed: AtomicU32,
}

/// The counts of [`GuiRequests`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuiRequestCounts {
    pub resizes_asked: u32,
    pub resizes_refused: u32,
    /// The last size asked for, if any.
    pub last_asked: Option<(u32, u32)>,
    pub shows_asked: u32,
    pub hides_asked: u32,
    /// `closed` calls: the plugin's window went without the host asking.
    pub closed: u32,
    pub hints_changed: u32,
}

fn pack(width: u32, height: u32) -> u64 {
    (u64::from(width) << 32) | u64::from(height)
}

fn unpack(packed: u64) -> Option<(u32, u32)> {
    (packed != 0).then_some(((packed >> 32) as u32, packed as u32))
}

impl GuiRequests {
    /// `request_resize`: granted if the size is positive, fits the screen and the host
    /// was not told to refuse.
    fn request_resize(&self, width: u32, height: u32) -> bool {
        self.resizes_asked.fetch_add(1, Ordering::AcqRel);
        self.last_asked
            .store(pack(width, height), Ordering::Release);
        let (screen_width, screen_height) = crate::display::SCREEN;
        let fits = (1..=screen_width).contains(&width) && (1..=screen_height).contains(&height);
        if self.refuse_resizes.load(Ordering::Acquire) || !fits {
            self.resizes_refused.fetch_add(1, Ordering::AcqRel);
            return false;
        }
        self.to_apply.store(pack(width, height), Ordering::Release);
        true
    }

    fn counts(&self) -> GuiRequestCounts {
        let load = |counter: &AtomicU32| counter.load(Ordering::Acquire);
        GuiRequestCounts {
            resizes_asked: load(&self.resizes_asked),
            resizes_refused: load(&self.resizes_refused),
            last_asked: unpack(self.last_asked.load(Ordering::Acquire)),
            shows_asked: load(&self.shows_asked),
            hides_asked: load(&self.hides_asked),
            closed: load(&self.closed),
            hints_changed: load(&self.hints_changed),
        }
    }
}

/// The host's `clap.gui` extension.
#[derive(Clone, Copy)]
pub struct HostGui(#[allow(dead_code)] RawExtension<HostExtensionSide, clap_host_gui>);

// SAFETY: CLAP_EXT_GUI names the `clap_host_gui` struct on the host's side.
unsafe impl Extension for HostGui {
    const IDENTIFIERS: &'static [&'static CStr] = &[CLAP_EXT_GUI];
    type ExtensionSide = HostExtensionSide;

    unsafe fn from_raw(raw: RawExtension<Self::ExtensionSide>) -> Self {
        // SAFETY: the caller guarantees the pointer is a `clap_host_gui`.
        Self(unsafe { raw.cast() })
    }
}

// SAFETY: the implementation is a `clap_host_gui` whose functions take this host's
// `clap_host`.
unsafe impl ExtensionImplementation<TestHost> for HostGui {
    const IMPLEMENTATION: RawExtensionImplementation =
        RawExtensionImplementation::new(&clap_host_gui {
            resize_hints_changed: Some(resize_hints_changed),
            request_resize: Some(request_resize),
            request_show: Some(request_show),
            request_hide: Some(request_hide),
            closed: Some(closed),
        });
}

/// Runs `with` on the host's GUI requests (`None` if the pointer is not this host's).
///
/// # Safety
///
/// `host` is the `clap_host` this test host gave the plugin.
unsafe fn with_requests<T>(
    host: *const clap_sys::host::clap_host,
    with: impl FnOnce(&GuiRequests) -> T,
) -> Option<T> {
    // SAFETY: as the caller promises.
    unsafe { HostWrapper::<TestHost>::handle(host, |wrapper| Ok(with(&wrapper.shared().gui))) }
}

unsafe extern "C" fn resize_hints_changed(host: *const clap_sys::host::clap_host) {
    // SAFETY (each callback): the plugin calls with the host pointer it was given.
    unsafe { with_requests(host, |r| r.hints_changed.fetch_add(1, Ordering::AcqRel)) };
}

unsafe extern "C" fn request_resize(
    host: *const clap_sys::host::clap_host,
    width: u32,
    height: u32,
) -> bool {
    unsafe { with_requests(host, |r| r.request_resize(width, height)) }.unwrap_or(false)
}

unsafe extern "C" fn request_show(host: *const clap_sys::host::clap_host) -> bool {
    // The editor is embedded and shown while open: nothing to do but agree.
    unsafe { with_requests(host, |r| r.shows_asked.fetch_add(1, Ordering::AcqRel)) }.is_some()
}

unsafe extern "C" fn request_hide(host: *const clap_sys::host::clap_host) -> bool {
    unsafe { with_requests(host, |r| r.hides_asked.fetch_add(1, Ordering::AcqRel)) }.is_some()
}

unsafe extern "C" fn closed(host: *const clap_sys::host::clap_host, _was_destroyed: bool) {
    unsafe { with_requests(host, |r| r.closed.fetch_add(1, Ordering::AcqRel)) };
}

// ---------------------------------------------------------------------------------------
// The plugin's side.

#[derive(Clone, Copy)]
pub(super) struct PluginGui(RawExtension<PluginExtensionSide, clap_plugin_gui>);

// SAFETY: CLAP_EXT_GUI names the `clap_plugin_gui` struct on the plugin's side.
unsafe impl Extension for PluginGui {
    const IDENTIFIERS: &'static [&'static CStr] = &[CLAP_EXT_GUI];
    type ExtensionSide = PluginExtensionSide;

    unsafe fn from_raw(raw: RawExtension<Self::ExtensionSide>) -> Self {
        // SAFETY: the caller guarantees the pointer is a `clap_plugin_gui`.
        Self(unsafe { raw.cast() })
    }
}

// ---------------------------------------------------------------------------------------
// The host's window.

/// The host's X connection and the atoms it uses.
pub struct HostWindow {
    conn: RustConnection,
    root: Window,
    wm_protocols: u32,
    wm_delete_window: u32,
    net_close_window: u32,
    /// The host's window, while one is open.
    window: Option<Window>,
    /// The window manager asked the window to close (`WM_DELETE_WINDOW`).
    delete_requested: bool,
    /// X errors on the host's own connection, as (error code, request code).
    errors: Vec<(u8, u8)>,
}

impl HostWindow {
    /// Connects to the X display `display` (`":90"`).
    pub fn connect(display: &str) -> Result<Self> {
        let (conn, screen) = x11rb::connect(Some(display))
            .with_context(|| format!("cannot connect to the X display {display}"))?;
        let root = conn.setup().roots[screen].root;
        let atom = |name: &str| -> Result<u32> {
            Ok(conn.intern_atom(false, name.as_bytes())?.reply()?.atom)
        };
        let wm_protocols = atom("WM_PROTOCOLS")?;
        let wm_delete_window = atom("WM_DELETE_WINDOW")?;
        let net_close_window = atom("_NET_CLOSE_WINDOW")?;
        Ok(Self {
            conn,
            root,
            wm_protocols,
            wm_delete_window,
            net_close_window,
            window: None,
            delete_requested: false,
            errors: Vec::new(),
        })
    }

    /// X errors the host's own requests caused so far.
    pub fn errors(&self) -> &[(u8, u8)] {
        &self.errors
    }

    /// Opens a top-level window of `width` × `height` titled `title`, taking part in
    /// `WM_DELETE_WINDOW`, and waits until the window manager has mapped it.
    fn open(&mut self, width: u32, height: u32, title: &str, timeout: Duration) -> Result<Window> {
        ensure!(self.window.is_none(), "the host's window is already open");
        let window = self.conn.generate_id()?;
        let to_u16 = |v: u32| u16::try_from(v).map_err(|_| anyhow!("window size {v}"));
        self.conn.create_window(
            x11rb::COPY_DEPTH_FROM_PARENT,
            window,
            self.root,
            0,
            0,
            to_u16(width)?,
            to_u16(height)?,
            0,
            WindowClass::INPUT_OUTPUT,
            x11rb::COPY_FROM_PARENT,
            &CreateWindowAux::new().event_mask(EventMask::STRUCTURE_NOTIFY),
        )?;
        self.conn.change_property32(
            PropMode::REPLACE,
            window,
            self.wm_protocols,
            AtomEnum::ATOM,
            &[self.wm_delete_window],
        )?;
        self.conn.change_property8(
            PropMode::REPLACE,
            window,
            AtomEnum::WM_NAME,
            AtomEnum::STRING,
            title.as_bytes(),
        )?;
        self.conn.map_window(window)?;
        self.conn.flush()?;
        self.window = Some(window);
        self.delete_requested = false;
        let deadline = Instant::now() + timeout;
        loop {
            let attributes = self.conn.get_window_attributes(window)?.reply()?;
            if attributes.map_state == MapState::VIEWABLE {
                return Ok(window);
            }
            if Instant::now() > deadline {
                bail!("the window manager did not map the host's window");
            }
            self.pump()?;
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Reads the events that arrived: notes a close request and errors.
    fn pump(&mut self) -> Result<()> {
        while let Some(event) = self.conn.poll_for_event()? {
            match event {
                Event::ClientMessage(message)
                    if Some(message.window) == self.window
                        && message.type_ == self.wm_protocols
                        && message.format == 32
                        && message.data.as_data32()[0] == self.wm_delete_window =>
                {
                    self.delete_requested = true;
                }
                Event::Error(error) => self.errors.push((error.error_code, error.major_opcode)),
                _ => {}
            }
        }
        Ok(())
    }

    /// Gives the host's window the size `width` × `height`.
    fn resize(&mut self, width: u32, height: u32) -> Result<()> {
        if let Some(window) = self.window {
            self.conn.configure_window(
                window,
                &ConfigureWindowAux::new().width(width).height(height),
            )?;
            self.conn.flush()?;
        }
        Ok(())
    }

    /// Asks the window manager to close the host's window, as its close button does: a
    /// `_NET_CLOSE_WINDOW` message to the root window (what `wmctrl -c` sends); the
    /// window manager then sends the window `WM_DELETE_WINDOW`.
    fn ask_window_manager_to_close(&mut self) -> Result<()> {
        let window = self.window.ok_or_else(|| anyhow!("no window open"))?;
        // Data: a timestamp (none), the source (2: a pager, as a user's tool), unused.
        let message = ClientMessageEvent::new(32, window, self.net_close_window, [0, 2, 0, 0, 0]);
        self.conn.send_event(
            false,
            self.root,
            EventMask::SUBSTRUCTURE_NOTIFY | EventMask::SUBSTRUCTURE_REDIRECT,
            message,
        )?;
        self.conn.flush()?;
        Ok(())
    }

    /// Destroys the host's window and waits until the server has done so.
    fn destroy(&mut self) -> Result<()> {
        if let Some(window) = self.window.take() {
            self.conn.destroy_window(window)?;
            self.conn.sync()?;
        }
        self.pump()
    }

    /// The plugin's window inside the host's: its id and size, once it is viewable.
    fn embedded(&self) -> Result<Option<(Window, u16, u16)>> {
        let Some(window) = self.window else {
            return Ok(None);
        };
        for child in self.conn.query_tree(window)?.reply()?.children {
            let viewable =
                self.conn.get_window_attributes(child)?.reply()?.map_state == MapState::VIEWABLE;
            if viewable {
                let geometry = self.conn.get_geometry(child)?.reply()?;
                return Ok(Some((child, geometry.width, geometry.height)));
            }
        }
        Ok(None)
    }

    /// Sends `window` a left click at `(x, y)` (pixels from its top left): the pointer
    /// moves there, the button goes down and up, as synthetic events to the window.
    pub fn click(&self, window: Window, x: i16, y: i16) -> Result<()> {
        let motion = MotionNotifyEvent {
            response_type: MOTION_NOTIFY_EVENT,
            detail: Motion::NORMAL,
            sequence: 0,
            time: x11rb::CURRENT_TIME,
            root: self.root,
            event: window,
            child: x11rb::NONE,
            root_x: x,
            root_y: y,
            event_x: x,
            event_y: y,
            state: KeyButMask::default(),
            same_screen: true,
        };
        self.conn
            .send_event(true, window, EventMask::POINTER_MOTION, motion)?;
        for press in [true, false] {
            let event = ButtonPressEvent {
                response_type: if press {
                    BUTTON_PRESS_EVENT
                } else {
                    BUTTON_RELEASE_EVENT
                },
                detail: 1,
                sequence: 0,
                time: x11rb::CURRENT_TIME,
                root: self.root,
                event: window,
                child: x11rb::NONE,
                root_x: x,
                root_y: y,
                event_x: x,
                event_y: y,
                state: if press {
                    KeyButMask::default()
                } else {
                    KeyButMask::BUTTON1
                },
                same_screen: true,
            };
            let mask = if press {
                EventMask::BUTTON_PRESS
            } else {
                EventMask::BUTTON_RELEASE
            };
            self.conn.send_event(true, window, mask, event)?;
        }
        self.conn.flush()?;
        Ok(())
    }

    /// The size of `window` now.
    pub fn size_of(&self, window: Window) -> Result<(u16, u16)> {
        let geometry = self.conn.get_geometry(window)?.reply()?;
        Ok((geometry.width, geometry.height))
    }

    /// The host's window, while one is open.
    pub fn host_window(&self) -> Option<Window> {
        self.window
    }

    /// What the host's window holds, for an error message.
    fn describe(&self) -> String {
        let Some(window) = self.window else {
            return "no host window".into();
        };
        let children = match self.conn.query_tree(window).map(|c| c.reply()) {
            Ok(Ok(tree)) => tree.children,
            other => return format!("query_tree failed: {other:?}"),
        };
        let mut text = format!("host window {window:#x}, {} children", children.len());
        for child in children {
            let state = self
                .conn
                .get_window_attributes(child)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|a| format!("{:?}", a.map_state));
            let geometry = self
                .conn
                .get_geometry(child)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|g| (g.x, g.y, g.width, g.height));
            text += &format!("; {child:#x} {state:?} {geometry:?}");
        }
        text
    }

    /// Whether `child`'s top rows (where both editors have their title and top bar)
    /// show more than one colour: the editor has drawn a frame.
    fn has_drawn(&self, child: Window, width: u16, height: u16) -> Result<bool> {
        let rows = height.min(32);
        let image = self
            .conn
            .get_image(ImageFormat::Z_PIXMAP, child, 0, 0, width, rows, !0)?
            .reply()?;
        let pixels = image.data.chunks_exact(4);
        let first = image.data.get(..4).unwrap_or(&[]);
        Ok(pixels.into_iter().any(|pixel| pixel != first))
    }
}

impl Drop for HostWindow {
    fn drop(&mut self) {
        let _ = self.destroy();
    }
}

// ---------------------------------------------------------------------------------------
// The sequence.

/// An editor open in the host's window.
#[derive(Debug)]
pub struct OpenEditor {
    /// The size the plugin asked for (`get_size`), pixels.
    pub size: (u32, u32),
    /// The plugin's own window inside the host's.
    pub embedded: Window,
    /// Whether the editor drew a frame (its window shows more than one colour).
    pub drew: bool,
}

/// A function of the plugin's GUI table that CLAP requires.
fn need<F>(name: &str, function: Option<F>) -> Result<F> {
    function.ok_or_else(|| anyhow!("gui.{name} is null"))
}

impl ClapInstance {
    /// The GUI extension's table and the plugin pointer to call it with.
    fn gui_ext(&mut self) -> Result<(clap_plugin_gui, *const clap_sys::plugin::clap_plugin)> {
        let ext = self
            .instance
            .plugin_shared_handle()
            .get_extension::<PluginGui>()
            .ok_or_else(|| anyhow!("the plugin has no clap.gui extension"))?;
        let handle = self.instance.plugin_handle();
        let table = *handle.use_extension(&ext.0);
        Ok((table, handle.as_raw_ptr()))
    }

    /// The plugin's GUI requests so far.
    pub fn gui_requests(&self) -> GuiRequestCounts {
        self.instance
            .access_shared_handler(|shared| shared.gui.counts())
    }

    /// Makes the host refuse (`true`) or grant every `request_resize` from now on.
    pub fn refuse_resizes(&self, refuse: bool) {
        self.instance.access_shared_handler(|shared| {
            shared.gui.refuse_resizes.store(refuse, Ordering::Release)
        });
    }

    /// One turn of the host's main loop: the plugin's main-thread callback if it asked
    /// for one, a granted resize applied to the host's window, the window's events read.
    pub fn serve_editor(&mut self, window: &mut HostWindow) -> Result<()> {
        self.serve_main_thread_requests();
        let granted = self
            .instance
            .access_shared_handler(|shared| shared.gui.to_apply.swap(0, Ordering::AcqRel));
        if let Some((width, height)) = unpack(granted) {
            window.resize(width, height)?;
        }
        window.pump()
    }

    /// Serves the editor (see [`Self::serve_editor`]) for `duration`.
    pub fn serve_editor_for(&mut self, window: &mut HostWindow, duration: Duration) -> Result<()> {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            self.serve_editor(window)?;
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }

    /// Opens the plugin's editor embedded in a new window of `window`'s, in CLAP's order:
    /// `is_api_supported` (X11, embedded), `create`, `set_scale(1)`, `get_size`, the
    /// host's window at that size, `set_parent`, `show`. Fails unless the editor's window
    /// is viewable within `timeout`; returns once it has drawn a frame, or after
    /// `draw_timeout` more without one ([`OpenEditor::drew`] says which).
    pub fn open_editor(
        &mut self,
        window: &mut HostWindow,
        timeout: Duration,
        draw_timeout: Duration,
    ) -> Result<OpenEditor> {
        let deadline = Instant::now() + timeout;
        let (gui, plugin) = self.gui_ext()?;
        let is_api_supported = need("is_api_supported", gui.is_api_supported)?;
        // SAFETY (every gui call here): main thread, a valid plugin, arguments as the
        // spec describes them.
        ensure!(
            unsafe { is_api_supported(plugin, CLAP_WINDOW_API_X11.as_ptr(), false) },
            "the plugin has no embedded X11 editor"
        );
        let create = need("create", gui.create)?;
        ensure!(
            unsafe { create(plugin, CLAP_WINDOW_API_X11.as_ptr(), false) },
            "gui.create failed"
        );
        let opened = (|| -> Result<OpenEditor> {
            if let Some(set_scale) = gui.set_scale {
                // The plugin may prefer the system's scale (baseview reads Xft.dpi); its
                // answer does not matter here.
                let _ = unsafe { set_scale(plugin, 1.0) };
            }
            let get_size = need("get_size", gui.get_size)?;
            let (mut width, mut height) = (0, 0);
            ensure!(
                unsafe { get_size(plugin, &mut width, &mut height) },
                "gui.get_size failed"
            );
            ensure!(width > 0 && height > 0, "gui.get_size: {width} × {height}");
            let host_window = window.open(width, height, "Oxide CLAP test host", timeout)?;
            let parent = clap_window {
                api: CLAP_WINDOW_API_X11.as_ptr(),
                specific: clap_window_handle {
                    x11: host_window as std::ffi::c_ulong,
                },
            };
            let set_parent = need("set_parent", gui.set_parent)?;
            ensure!(
                unsafe { set_parent(plugin, &parent) },
                "gui.set_parent failed"
            );
            let show = need("show", gui.show)?;
            ensure!(unsafe { show(plugin) }, "gui.show failed");
            // Until the editor's window is up, and then until it has drawn a frame or
            // `draw_timeout` has passed.
            let mut viewable_since: Option<Instant> = None;
            loop {
                self.serve_editor(window)?;
                if let Some((embedded, w, h)) = window.embedded()? {
                    let since = *viewable_since.get_or_insert_with(Instant::now);
                    let drew = window.has_drawn(embedded, w, h)?;
                    if drew || since.elapsed() >= draw_timeout {
                        return Ok(OpenEditor {
                            size: (width, height),
                            embedded,
                            drew,
                        });
                    }
                } else if Instant::now() > deadline {
                    bail!(
                        "the editor's window was not up within {} s ({})",
                        timeout.as_secs_f64(),
                        window.describe()
                    );
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })();
        if opened.is_err() {
            // Leave nothing behind for the next attempt.
            if let Some(destroy) = gui.destroy {
                unsafe { destroy(plugin) };
            }
            let _ = window.destroy();
        }
        opened
    }

    /// Closes the editor the way a user does: the window manager is asked to close the
    /// host's window, and when its `WM_DELETE_WINDOW` arrives the host hides the editor,
    /// destroys it (`gui.hide`, `gui.destroy`) and then its own window.
    pub fn close_editor(&mut self, window: &mut HostWindow, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        window.ask_window_manager_to_close()?;
        while !window.delete_requested {
            self.serve_editor(window)?;
            if Instant::now() > deadline {
                bail!("the window manager did not close the host's window");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let (gui, plugin) = self.gui_ext()?;
        // SAFETY: main thread, a valid plugin with an editor created.
        if let Some(hide) = gui.hide {
            ensure!(unsafe { hide(plugin) }, "gui.hide failed");
        }
        let destroy = gui.destroy.ok_or_else(|| anyhow!("gui.destroy is null"))?;
        unsafe { destroy(plugin) };
        window.destroy()?;
        // Whatever the plugin asked for on its way out.
        self.serve_main_thread_requests();
        Ok(())
    }
}
