//! A small CLAP host for tests, built on `clack-host`: loads a `.clap`, reads its
//! descriptor, parameters, audio ports and latency, activates it, processes `f32` audio in
//! any block sizes with sample-accurate parameter events on a separate audio thread, and
//! saves and loads its state.
//!
//! Life cycle, as CLAP and clack want it: [`ClapInstance::new`] instantiates on the calling
//! thread, which is the plugin's main thread from then on (`ClapInstance` is not `Send`).
//! Parameters, state, ports and latency are main-thread calls. [`ClapInstance::activate`]
//! allocates; [`ClapInstance::process`] moves the audio processor to a fresh audio thread,
//! starts processing (nice-plug calls the plugin's `reset()` there), runs every block, stops
//! processing and brings the processor back, so each call is one continuous stretch of
//! audio that starts from the plugin's reset state.
//!
//! [`gui`] is the host's side of the GUI extension (the editor embedded in an X11 window
//! of the host's); [`live`] keeps audio running on its own thread while the main thread
//! works with the instance (opens and closes the editor).
//!
//! Parameter values travel as CLAP values. nice-plug exposes every parameter as its
//! normalized value times its step count: floats are normalized `0..=1`, switches `0`/`1`.
//! [`host_value`] turns a plain value (dB, on/off) into that, using the plugin's own
//! parameter definitions through `oxide_plugin_common::param_access`, exactly as the
//! `oxide` command does.

use std::ffi::{c_char, CStr};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use anyhow::{anyhow, bail, ensure, Context, Result};
use clack_host::events::event_types::ParamValueEvent;
use clack_host::events::io::EventBuffer;
use clack_host::events::Pckn;
use clack_host::extensions::prelude::*;
use clack_host::plugin::PluginDescriptor;
use clack_host::prelude::{
    AudioPortBuffer, AudioPortBufferType, AudioPorts, HostExtensions, HostHandlers, HostInfo,
    InputChannel, PluginAudioConfiguration, PluginEntry, PluginInstance, SharedHandler,
    StoppedPluginAudioProcessor,
};
use clack_host::stream::{InputStream, OutputStream};
use clap_sys::events::{clap_input_events, clap_output_events};
use clap_sys::ext::audio_ports::{
    clap_audio_port_info, clap_plugin_audio_ports, CLAP_AUDIO_PORT_IS_MAIN, CLAP_EXT_AUDIO_PORTS,
};
use clap_sys::ext::audio_ports_config::{
    clap_audio_ports_config, clap_plugin_audio_ports_config, CLAP_EXT_AUDIO_PORTS_CONFIG,
};
use clap_sys::ext::latency::{clap_plugin_latency, CLAP_EXT_LATENCY};
use clap_sys::ext::params::{
    clap_param_info, clap_plugin_params, CLAP_EXT_PARAMS, CLAP_PARAM_IS_AUTOMATABLE,
    CLAP_PARAM_IS_BYPASS, CLAP_PARAM_IS_STEPPED,
};
use clap_sys::ext::preset_load::{clap_plugin_preset_load, CLAP_EXT_PRESET_LOAD};
use clap_sys::ext::remote_controls::{
    clap_plugin_remote_controls, clap_remote_controls_page, CLAP_EXT_REMOTE_CONTROLS,
};
use clap_sys::ext::state::{clap_plugin_state, CLAP_EXT_STATE};
use clap_sys::id::CLAP_INVALID_ID;
use clap_sys::plugin::clap_plugin;
use oxide_plugin_common::param_access::{self, ParamKind};

use crate::Plugin;

pub mod gui;
pub mod live;

// ---------------------------------------------------------------------------------------
// Host side: the callbacks a plugin may make. Requests are only recorded (atomics, no
// allocation, callable from the audio thread) and served after processing.

/// The host's handler types.
pub struct TestHost;

/// Callbacks any thread may make.
#[derive(Default)]
pub struct TestHostShared {
    callback_requested: AtomicBool,
    restart_requested: AtomicBool,
    process_requested: AtomicBool,
    /// The plugin's GUI requests (`clap.gui`, [`gui`]).
    gui: gui::GuiRequests,
}

impl SharedHandler<'_> for TestHostShared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::Release);
    }

    fn request_process(&self) {
        self.process_requested.store(true, Ordering::Release);
    }

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::Release);
    }
}

impl HostHandlers for TestHost {
    type Shared<'a> = TestHostShared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<gui::HostGui>();
    }
}

// ---------------------------------------------------------------------------------------
// Plugin-side extensions, declared over the raw `clap-sys` structs.

macro_rules! plugin_extension {
    ($name:ident, $raw:ty, $id:expr) => {
        #[derive(Clone, Copy)]
        struct $name(RawExtension<PluginExtensionSide, $raw>);

        // SAFETY: `$id` is the CLAP identifier of the `$raw` extension struct.
        unsafe impl Extension for $name {
            const IDENTIFIERS: &'static [&'static CStr] = &[$id];
            type ExtensionSide = PluginExtensionSide;

            unsafe fn from_raw(raw: RawExtension<Self::ExtensionSide>) -> Self {
                // SAFETY: the caller guarantees the pointer is the extension named by `$id`.
                Self(unsafe { raw.cast() })
            }
        }
    };
}

plugin_extension!(ParamsExt, clap_plugin_params, CLAP_EXT_PARAMS);
plugin_extension!(StateExt, clap_plugin_state, CLAP_EXT_STATE);
plugin_extension!(LatencyExt, clap_plugin_latency, CLAP_EXT_LATENCY);
plugin_extension!(
    RemoteControlsExt,
    clap_plugin_remote_controls,
    CLAP_EXT_REMOTE_CONTROLS
);
plugin_extension!(AudioPortsExt, clap_plugin_audio_ports, CLAP_EXT_AUDIO_PORTS);
plugin_extension!(PresetLoadExt, clap_plugin_preset_load, CLAP_EXT_PRESET_LOAD);
plugin_extension!(
    AudioPortsConfigExt,
    clap_plugin_audio_ports_config,
    CLAP_EXT_AUDIO_PORTS_CONFIG
);

// ---------------------------------------------------------------------------------------
// What the host reads from the plugin.

/// The plugin's descriptor, as the factory reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Descriptor {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub version: String,
    pub description: String,
    pub features: Vec<String>,
}

/// One parameter as the host sees it (`clap_param_info`).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// The CLAP id (nice-plug: a hash of the string id, see [`clap_param_id`]).
    pub id: u32,
    pub name: String,
    /// The group path, empty at the top level.
    pub module: String,
    /// CLAP values: `0..=1` for floats, `0..=steps` for stepped parameters.
    pub min: f64,
    pub max: f64,
    pub default: f64,
    /// `CLAP_PARAM_*` flags.
    pub flags: u32,
}

impl ParamInfo {
    pub fn is_bypass(&self) -> bool {
        self.flags & CLAP_PARAM_IS_BYPASS != 0
    }

    pub fn is_stepped(&self) -> bool {
        self.flags & CLAP_PARAM_IS_STEPPED != 0
    }

    pub fn is_automatable(&self) -> bool {
        self.flags & CLAP_PARAM_IS_AUTOMATABLE != 0
    }
}

/// One audio port (`clap_audio_port_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioPortInfo {
    pub id: u32,
    pub name: String,
    pub channel_count: u32,
    /// `"mono"`, `"stereo"`, or empty when the plugin leaves it open.
    pub port_type: String,
    pub flags: u32,
    pub in_place_pair: u32,
}

impl AudioPortInfo {
    pub fn is_main(&self) -> bool {
        self.flags & CLAP_AUDIO_PORT_IS_MAIN != 0
    }
}

/// One audio-ports configuration (`clap_audio_ports_config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioPortsConfig {
    pub id: u32,
    pub name: String,
    pub input_port_count: u32,
    pub output_port_count: u32,
    /// Channel count and port type of the main input, if there is one.
    pub main_input: Option<(u32, String)>,
    pub main_output: Option<(u32, String)>,
}

/// A parameter change at an absolute sample of a [`ClapInstance::process`] call; the
/// harness places it in the block that contains that sample, at the right offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamEvent {
    pub sample: usize,
    pub param_id: u32,
    /// The CLAP value (see [`host_value`]).
    pub value: f64,
}

impl ParamEvent {
    /// An event setting `id` (the plugin's string id) to the plain value `plain` at `sample`.
    pub fn plain(plugin: Plugin, sample: usize, id: &str, plain: f64) -> Result<Self> {
        let (param_id, value) = host_value(plugin, id, plain)?;
        Ok(Self {
            sample,
            param_id,
            value,
        })
    }
}

/// The CLAP parameter id nice-plug gives the string id `id`: a Rabin fingerprint with the
/// top bit cleared (the VST3 host range), as in `nice_plug::wrapper::util::hash_param_id`
/// (not public, so repeated here; the tests check it against the plugin's list).
pub fn clap_param_id(id: &str) -> u32 {
    let hash = id.bytes().fold(0u32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(byte as u32)
    });
    hash & !(1 << 31)
}

/// Evaluates `$body` with `$params` bound to a fresh instance of the plugin's parameter
/// struct (the same definitions the plugin binary was built from).
macro_rules! with_plugin_params {
    ($plugin:expr, |$params:ident| $body:expr) => {
        match $plugin {
            Plugin::ChannelStrip => {
                let $params = &channel_strip::StripParams::default();
                $body
            }
            Plugin::MasteringChain => {
                let $params = &mastering_chain::MasterParams::default();
                $body
            }
        }
    };
}

/// The plugin's parameters as its own definitions describe them (plain units).
pub fn plugin_params(plugin: Plugin) -> Vec<param_access::ParamInfo> {
    with_plugin_params!(plugin, |params| param_access::list(params))
}

/// The CLAP id and CLAP value a host sends to set the plugin's parameter `id` to the plain
/// value `plain` (dB for gains, `0`/`1` for switches). Checks the id and the range.
pub fn host_value(plugin: Plugin, id: &str, plain: f64) -> Result<(u32, f64)> {
    with_plugin_params!(plugin, |params| {
        let info = param_access::list(params)
            .into_iter()
            .find(|info| info.id == id)
            .ok_or_else(|| anyhow!("{} has no parameter '{id}'", plugin.display_name()))?;
        ensure!(
            plain.is_finite() && (info.min..=info.max).contains(&plain),
            "{plain} is outside '{id}' range {}..={}",
            info.min,
            info.max
        );
        ensure!(
            info.kind != ParamKind::Bool || plain == 0.0 || plain == 1.0,
            "'{id}' is a switch: 0 or 1, not {plain}"
        );
        let normalized =
            param_access::normalized_for(params, id, plain as f32).map_err(|e| anyhow!("{e}"))?;
        // nice-plug's CLAP value is the normalized value times the step count (none for
        // floats, 1 for switches, the number of steps for integers and choices).
        let steps = match info.kind {
            ParamKind::Float | ParamKind::Bool => 1.0,
            ParamKind::Int | ParamKind::Choice => info.max - info.min,
        };
        Ok((clap_param_id(id), normalized as f64 * steps))
    })
}

/// Every descriptor the `.clap` file's plugin factory lists.
pub fn descriptors(path: &Path) -> Result<Vec<Descriptor>> {
    let entry = load_entry(path)?;
    let factory = entry
        .get_plugin_factory()
        .ok_or_else(|| anyhow!("{} has no plugin factory", path.display()))?;
    Ok(factory.plugin_descriptors().map(describe).collect())
}

fn describe(d: &PluginDescriptor) -> Descriptor {
    Descriptor {
        id: cstr(d.id()),
        name: cstr(d.name()),
        vendor: cstr(d.vendor()),
        version: cstr(d.version()),
        description: cstr(d.description()),
        features: d
            .features()
            .map(|f| f.to_string_lossy().into_owned())
            .collect(),
    }
}

fn cstr(s: Option<&CStr>) -> String {
    s.map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A fixed-size C string field (`char name[N]`) as a `String`.
fn c_chars(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn c_ptr_str(ptr: *const c_char) -> String {
    if ptr.is_null() {
        String::new()
    } else {
        // SAFETY: CLAP port types are static NUL-terminated strings owned by the plugin.
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned()
    }
}

/// Loads the `.clap` at `path`, once per test process: entries are kept in a static and
/// never dropped, so the library is never unloaded.
///
/// Unloading would crash: nice-plug calls `std::thread::current()` when it creates an
/// instance, which makes the plugin's own copy of std register a pthread-key destructor on
/// that thread. That destructor lives in the plugin library; if the library is `dlclose`d
/// (clack unloads it when the last `PluginEntry` for it is dropped) before the thread ends,
/// the thread crashes on exit (SIGSEGV in `__nptl_deallocate_tsd`). Tests running in
/// parallel hit this whenever one test drops the last entry while another test's thread
/// that used the plugin is still alive.
pub(crate) fn load_entry(path: &Path) -> Result<PluginEntry> {
    static ENTRIES: Mutex<Vec<(PathBuf, PluginEntry)>> = Mutex::new(Vec::new());
    // `PluginEntry::load` wants a path with a slash (a bare name would be searched for).
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut entries = ENTRIES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, entry)) = entries.iter().find(|(loaded, _)| *loaded == path) {
        return Ok(entry.clone());
    }
    // SAFETY: loading a shared library runs its initialisers; these are our own plugins.
    let entry = unsafe { PluginEntry::load(&path) }
        .map_err(|e| anyhow!("cannot load {}: {e:?}", path.display()))?;
    entries.push((path, entry.clone()));
    Ok(entry)
}

/// The audio configuration of an active instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActiveConfig {
    pub sample_rate: f64,
    pub min_frames: usize,
    pub max_frames: usize,
}

/// One plugin instance in the test host.
pub struct ClapInstance {
    instance: PluginInstance<TestHost>,
    processor: Option<StoppedPluginAudioProcessor<TestHost>>,
    config: Option<ActiveConfig>,
    channels: usize,
    /// Channel counts of the non-main (sidechain) input ports, in port order.
    aux_inputs: Vec<usize>,
    params: Option<ParamsExt>,
    state: Option<StateExt>,
    latency: Option<LatencyExt>,
    remote_controls: Option<RemoteControlsExt>,
    audio_ports: Option<AudioPortsExt>,
    audio_ports_config: Option<AudioPortsConfigExt>,
}

/// One remote-control page as the plugin reports it: up to eight parameter ids
/// (`None` for an empty knob).
#[derive(Clone, Debug)]
pub struct RemoteControlsPage {
    pub section: String,
    pub name: String,
    pub param_ids: Vec<Option<u32>>,
}

impl ClapInstance {
    /// Loads the plugin's built `.clap` and instantiates it.
    pub fn new(plugin: Plugin) -> Result<Self> {
        Self::from_path(&plugin.clap_path(), plugin.clap_id())
    }

    /// Loads `path` and instantiates the plugin with CLAP id `id`.
    pub fn from_path(path: &Path, id: &str) -> Result<Self> {
        let entry = load_entry(path)?;
        let host = HostInfo::new("Oxide test host", "Oxide", "https://oxide.invalid", "0.1.0")
            .map_err(|e| anyhow!("host info: {e}"))?;
        let id_c = std::ffi::CString::new(id)?;
        let instance = PluginInstance::<TestHost>::new(
            |_| TestHostShared::default(),
            |_| (),
            &entry,
            &id_c,
            &host,
        )
        .map_err(|e| anyhow!("cannot instantiate {id}: {e:?}"))?;
        let shared = instance.plugin_shared_handle();
        let params = shared.get_extension::<ParamsExt>();
        let state = shared.get_extension::<StateExt>();
        let latency = shared.get_extension::<LatencyExt>();
        let remote_controls = shared.get_extension::<RemoteControlsExt>();
        let audio_ports = shared.get_extension::<AudioPortsExt>();
        let audio_ports_config = shared.get_extension::<AudioPortsConfigExt>();
        let mut this = Self {
            instance,
            processor: None,
            config: None,
            channels: 0,
            aux_inputs: Vec::new(),
            params,
            state,
            latency,
            remote_controls,
            audio_ports,
            audio_ports_config,
        };
        this.channels = this.main_channels()?;
        this.aux_inputs = this.aux_input_channels()?;
        Ok(this)
    }

    /// The instance's descriptor.
    pub fn descriptor(&self) -> Descriptor {
        self.instance
            .plugin_shared_handle()
            .descriptor()
            .map(describe)
            .unwrap_or_default()
    }

    // ------------------------------------------------------------------ parameters

    /// The params extension and the plugin pointer to call it with.
    fn params_ext(&mut self) -> Result<(clap_plugin_params, *const clap_plugin)> {
        let ext = self
            .params
            .ok_or_else(|| anyhow!("the plugin has no params extension"))?;
        let handle = self.instance.plugin_handle();
        // The struct is a table of function pointers: a copy is as good as the original.
        let table = *handle.use_extension(&ext.0);
        Ok((table, handle.as_raw_ptr()))
    }

    /// Every parameter, in the plugin's order.
    pub fn params(&mut self) -> Result<Vec<ParamInfo>> {
        let (ext, plugin) = self.params_ext()?;
        let count = ext.count.ok_or_else(|| anyhow!("params.count is null"))?;
        let get_info = ext
            .get_info
            .ok_or_else(|| anyhow!("params.get_info is null"))?;
        // SAFETY: main thread, valid plugin pointer.
        let n = unsafe { count(plugin) };
        let mut out = Vec::with_capacity(n as usize);
        for index in 0..n {
            // SAFETY: an all-zero `clap_param_info` is a valid value (null cookie, empty names).
            let mut info: clap_param_info = unsafe { std::mem::zeroed() };
            // SAFETY: main thread, `index < count`, `info` is writable.
            if !unsafe { get_info(plugin, index, &mut info) } {
                bail!("params.get_info({index}) failed");
            }
            out.push(ParamInfo {
                id: info.id,
                name: c_chars(&info.name),
                module: c_chars(&info.module),
                min: info.min_value,
                max: info.max_value,
                default: info.default_value,
                flags: info.flags,
            });
        }
        Ok(out)
    }

    /// The current CLAP value of parameter `param_id`.
    pub fn param_value(&mut self, param_id: u32) -> Result<f64> {
        let (ext, plugin) = self.params_ext()?;
        let get_value = ext
            .get_value
            .ok_or_else(|| anyhow!("params.get_value is null"))?;
        let mut value = f64::NAN;
        // SAFETY: main thread, valid pointers.
        if unsafe { get_value(plugin, param_id, &mut value) } {
            Ok(value)
        } else {
            bail!("params.get_value({param_id}) failed")
        }
    }

    /// The plugin's text for CLAP value `value` of parameter `param_id`.
    pub fn value_to_text(&mut self, param_id: u32, value: f64) -> Result<String> {
        let (ext, plugin) = self.params_ext()?;
        let to_text = ext
            .value_to_text
            .ok_or_else(|| anyhow!("params.value_to_text is null"))?;
        let mut text = [0 as c_char; 256];
        // SAFETY: main thread, `text` is writable for its length.
        if unsafe {
            to_text(
                plugin,
                param_id,
                value,
                text.as_mut_ptr(),
                text.len() as u32,
            )
        } {
            Ok(c_chars(&text))
        } else {
            bail!("params.value_to_text({param_id}, {value}) failed")
        }
    }

    /// Sets parameters outside of processing through `params.flush` (values as CLAP
    /// values). Inactive: on the main thread. Active: on an audio thread, as CLAP requires.
    /// Set before [`Self::activate`], the values are in place from the first sample: the
    /// plugin builds its chain and resets its smoothers from them.
    pub fn flush_params(&mut self, values: &[(u32, f64)]) -> Result<()> {
        let (ext, plugin) = self.params_ext()?;
        let flush = ext.flush.ok_or_else(|| anyhow!("params.flush is null"))?;
        let mut events = EventBuffer::with_capacity(values.len());
        for &(id, value) in values {
            events.push(&ParamValueEvent::new(
                0,
                ClapId::new(id),
                Pckn::match_all(),
                value,
            ));
        }
        let call = |plugin: *const clap_plugin| {
            let mut out = EventBuffer::new();
            let input = events.as_input();
            let mut output = out.as_output();
            let in_raw: *const clap_input_events = input.as_raw();
            let out_raw: *const clap_output_events = output.as_raw();
            // SAFETY: valid plugin and event lists for the duration of the call.
            unsafe { flush(plugin, in_raw, out_raw) };
        };
        match self.processor.take() {
            None => call(plugin),
            Some(processor) => {
                let plugin = SendPtr(plugin);
                let processor = std::thread::scope(|scope| {
                    scope
                        .spawn(move || {
                            let plugin = plugin;
                            call(plugin.0);
                            processor
                        })
                        .join()
                });
                match processor {
                    Ok(processor) => self.processor = Some(processor),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        }
        self.serve_main_thread_requests();
        Ok(())
    }

    /// Sets parameters by string id and plain value (see [`host_value`]) with
    /// [`Self::flush_params`].
    pub fn set_plain(&mut self, plugin: Plugin, settings: &[(&str, f64)]) -> Result<()> {
        let values = settings
            .iter()
            .map(|&(id, plain)| host_value(plugin, id, plain))
            .collect::<Result<Vec<_>>>()?;
        self.flush_params(&values)
    }

    // ------------------------------------------------------------------ state

    /// The plugin's state, as a host would store it in a project.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        let ext = self
            .state
            .ok_or_else(|| anyhow!("the plugin has no state extension"))?;
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let save = raw.save.ok_or_else(|| anyhow!("state.save is null"))?;
        let plugin = handle.as_raw_ptr();
        let mut bytes = Vec::new();
        let ok = {
            let mut stream = OutputStream::from_writer(&mut bytes);
            // SAFETY: main thread, valid plugin and stream.
            unsafe { save(plugin, stream.as_raw_mut()) }
        };
        ensure!(ok, "state.save returned false");
        Ok(bytes)
    }

    /// Loads a preset through the plugin's `clap.preset-load` extension, as a host's
    /// browser does: `location` is a file's path (`CLAP_PRESET_DISCOVERY_LOCATION_FILE`)
    /// or `None` for a preset inside the plugin, `load_key` what the crawl reported.
    pub fn load_preset(
        &mut self,
        location_kind: u32,
        location: Option<&str>,
        load_key: Option<&str>,
    ) -> Result<()> {
        let ext = self
            .instance
            .plugin_shared_handle()
            .get_extension::<PresetLoadExt>()
            .ok_or_else(|| anyhow!("the plugin has no preset-load extension"))?;
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let load = raw
            .from_location
            .ok_or_else(|| anyhow!("preset_load.from_location is null"))?;
        let location = location.map(std::ffi::CString::new).transpose()?;
        let key = load_key.map(std::ffi::CString::new).transpose()?;
        let ptr =
            |s: &Option<std::ffi::CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        // SAFETY: main thread, valid plugin; the strings live for the call.
        let ok = unsafe {
            load(
                handle.as_raw_ptr(),
                location_kind,
                ptr(&location),
                ptr(&key),
            )
        };
        self.serve_main_thread_requests();
        ensure!(ok, "the plugin did not load the preset");
        Ok(())
    }

    /// Loads a state; `Err` when the plugin refuses it.
    pub fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let ext = self
            .state
            .ok_or_else(|| anyhow!("the plugin has no state extension"))?;
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let load = raw.load.ok_or_else(|| anyhow!("state.load is null"))?;
        let plugin = handle.as_raw_ptr();
        let mut reader = Cursor::new(bytes);
        let ok = {
            let mut stream = InputStream::from_reader(&mut reader);
            // SAFETY: main thread, valid plugin and stream.
            unsafe { load(plugin, stream.as_raw_mut()) }
        };
        self.serve_main_thread_requests();
        ensure!(ok, "the plugin refused the state");
        Ok(())
    }

    // ------------------------------------------------------------------ ports, latency

    /// The audio ports of the current configuration.
    pub fn audio_ports(&mut self, is_input: bool) -> Result<Vec<AudioPortInfo>> {
        let ext = self
            .audio_ports
            .ok_or_else(|| anyhow!("the plugin has no audio-ports extension"))?;
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let plugin = handle.as_raw_ptr();
        let count = raw
            .count
            .ok_or_else(|| anyhow!("audio_ports.count is null"))?;
        let get = raw.get.ok_or_else(|| anyhow!("audio_ports.get is null"))?;
        // SAFETY: main thread, valid plugin.
        let n = unsafe { count(plugin, is_input) };
        let mut out = Vec::with_capacity(n as usize);
        for index in 0..n {
            // SAFETY: an all-zero `clap_audio_port_info` is valid (null port type).
            let mut info: clap_audio_port_info = unsafe { std::mem::zeroed() };
            // SAFETY: main thread, `index < count`, `info` writable.
            if !unsafe { get(plugin, index, is_input, &mut info) } {
                bail!("audio_ports.get({index}, {is_input}) failed");
            }
            out.push(AudioPortInfo {
                id: info.id,
                name: c_chars(&info.name),
                channel_count: info.channel_count,
                port_type: c_ptr_str(info.port_type),
                flags: info.flags,
                in_place_pair: info.in_place_pair,
            });
        }
        Ok(out)
    }

    /// The audio-ports configurations the plugin offers (empty without the extension).
    pub fn audio_ports_configs(&mut self) -> Result<Vec<AudioPortsConfig>> {
        let Some(ext) = self.audio_ports_config else {
            return Ok(Vec::new());
        };
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let plugin = handle.as_raw_ptr();
        let count = raw
            .count
            .ok_or_else(|| anyhow!("audio_ports_config.count is null"))?;
        let get = raw
            .get
            .ok_or_else(|| anyhow!("audio_ports_config.get is null"))?;
        // SAFETY: main thread, valid plugin.
        let n = unsafe { count(plugin) };
        let mut out = Vec::with_capacity(n as usize);
        for index in 0..n {
            // SAFETY: an all-zero `clap_audio_ports_config` is valid (null port types).
            let mut config: clap_audio_ports_config = unsafe { std::mem::zeroed() };
            // SAFETY: main thread, `index < count`, `config` writable.
            if !unsafe { get(plugin, index, &mut config) } {
                bail!("audio_ports_config.get({index}) failed");
            }
            out.push(AudioPortsConfig {
                id: config.id,
                name: c_chars(&config.name),
                input_port_count: config.input_port_count,
                output_port_count: config.output_port_count,
                main_input: config.has_main_input.then(|| {
                    (
                        config.main_input_channel_count,
                        c_ptr_str(config.main_input_port_type),
                    )
                }),
                main_output: config.has_main_output.then(|| {
                    (
                        config.main_output_channel_count,
                        c_ptr_str(config.main_output_port_type),
                    )
                }),
            });
        }
        Ok(out)
    }

    /// Selects an audio-ports configuration (only while inactive).
    pub fn select_ports_config(&mut self, config_id: u32) -> Result<()> {
        ensure!(
            self.processor.is_none(),
            "select a ports configuration while inactive"
        );
        let ext = self
            .audio_ports_config
            .ok_or_else(|| anyhow!("the plugin has no audio-ports-config extension"))?;
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let plugin = handle.as_raw_ptr();
        let select = raw
            .select
            .ok_or_else(|| anyhow!("audio_ports_config.select is null"))?;
        // SAFETY: main thread, inactive plugin.
        ensure!(
            unsafe { select(plugin, config_id) },
            "the plugin refused ports configuration {config_id}"
        );
        self.channels = self.main_channels()?;
        self.aux_inputs = self.aux_input_channels()?;
        Ok(())
    }

    /// Selects the configuration whose main input and output have `channels` channels.
    pub fn use_channels(&mut self, channels: usize) -> Result<()> {
        if self.channels == channels {
            return Ok(());
        }
        let config = self
            .audio_ports_configs()?
            .into_iter()
            .find(|c| {
                c.main_input.as_ref().map(|m| m.0 as usize) == Some(channels)
                    && c.main_output.as_ref().map(|m| m.0 as usize) == Some(channels)
            })
            .ok_or_else(|| anyhow!("no {channels}-channel ports configuration"))?;
        self.select_ports_config(config.id)
    }

    /// The channel count of the current main output (the harness processes in place-sized
    /// main ports only: input and output have the same count).
    fn main_channels(&mut self) -> Result<usize> {
        let inputs = self.audio_ports(true)?;
        let outputs = self.audio_ports(false)?;
        let main_in = inputs.iter().find(|p| p.is_main()).map(|p| p.channel_count);
        let main_out = outputs
            .iter()
            .find(|p| p.is_main())
            .map(|p| p.channel_count);
        match (main_in, main_out) {
            (Some(i), Some(o)) if i == o => Ok(o as usize),
            other => bail!("the harness needs equal main input and output ports, got {other:?}"),
        }
    }

    /// The channel counts of the input ports that are not the main one (sidechains).
    fn aux_input_channels(&mut self) -> Result<Vec<usize>> {
        Ok(self
            .audio_ports(true)?
            .iter()
            .filter(|p| !p.is_main())
            .map(|p| p.channel_count as usize)
            .collect())
    }

    /// The channel counts of the sidechain input ports of the current configuration.
    pub fn aux_inputs(&self) -> &[usize] {
        &self.aux_inputs
    }

    /// The channel count processed (of the main input and output).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The latency the plugin reports, in samples (CLAP: while active).
    pub fn latency(&mut self) -> Result<u32> {
        let ext = self
            .latency
            .ok_or_else(|| anyhow!("the plugin has no latency extension"))?;
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let get = raw.get.ok_or_else(|| anyhow!("latency.get is null"))?;
        // SAFETY: main thread, valid plugin.
        Ok(unsafe { get(handle.as_raw_ptr()) })
    }

    /// The plugin's remote-control pages.
    pub fn remote_control_pages(&mut self) -> Result<Vec<RemoteControlsPage>> {
        let ext = self
            .remote_controls
            .ok_or_else(|| anyhow!("the plugin has no remote-controls extension"))?;
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let count = raw
            .count
            .ok_or_else(|| anyhow!("remote_controls.count is null"))?;
        let get = raw
            .get
            .ok_or_else(|| anyhow!("remote_controls.get is null"))?;
        // SAFETY: main thread, valid plugin.
        let n = unsafe { count(handle.as_raw_ptr()) };
        let mut pages = Vec::new();
        for index in 0..n {
            // SAFETY: plain C data, filled by the plugin.
            let mut page: clap_remote_controls_page = unsafe { std::mem::zeroed() };
            // SAFETY: main thread, valid plugin, `page` is ours to fill.
            if !unsafe { get(handle.as_raw_ptr(), index, &mut page) } {
                bail!("remote_controls.get({index}) failed");
            }
            pages.push(RemoteControlsPage {
                section: c_chars(&page.section_name),
                name: c_chars(&page.page_name),
                param_ids: page
                    .param_ids
                    .iter()
                    .map(|&id| (id != CLAP_INVALID_ID).then_some(id))
                    .collect(),
            });
        }
        Ok(pages)
    }

    // ------------------------------------------------------------------ activation

    /// Activates at `sample_rate` for blocks of `min_frames..=max_frames`.
    pub fn activate(
        &mut self,
        sample_rate: f64,
        min_frames: usize,
        max_frames: usize,
    ) -> Result<()> {
        ensure!(self.processor.is_none(), "already active");
        ensure!(
            min_frames >= 1 && min_frames <= max_frames,
            "block sizes {min_frames}..={max_frames}"
        );
        let configuration = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: min_frames as u32,
            max_frames_count: max_frames as u32,
        };
        let processor = self
            .instance
            .activate(|_, _| (), configuration)
            .map_err(|e| anyhow!("activation at {sample_rate} Hz failed: {e:?}"))?;
        self.processor = Some(processor);
        self.config = Some(ActiveConfig {
            sample_rate,
            min_frames,
            max_frames,
        });
        self.serve_main_thread_requests();
        Ok(())
    }

    /// Deactivates (no-op when inactive).
    pub fn deactivate(&mut self) {
        if let Some(processor) = self.processor.take() {
            self.instance.deactivate(processor);
        }
        self.config = None;
        self.serve_main_thread_requests();
    }

    /// The active configuration, if any.
    pub fn active_config(&self) -> Option<ActiveConfig> {
        self.config
    }

    /// Calls the plugin's `on_main_thread` if it asked for it.
    fn serve_main_thread_requests(&mut self) {
        let requested = self.instance.access_shared_handler(|shared| {
            shared.callback_requested.swap(false, Ordering::AcqRel)
        });
        if requested {
            self.instance.call_on_main_thread_callback();
        }
    }

    /// Whether the plugin asked the host to restart it (deactivate and reactivate).
    pub fn restart_requested(&self) -> bool {
        self.instance
            .access_shared_handler(|shared| shared.restart_requested.load(Ordering::Acquire))
    }

    // ------------------------------------------------------------------ processing

    /// Processes `input` (one `Vec` per channel, equal lengths, as many channels as the
    /// main ports) on an audio thread, in blocks whose sizes cycle through `block_sizes`
    /// (the last block is cut to what is left), with `events` delivered at their samples.
    /// Returns the output, one `Vec` per channel. Input and output buffers are separate
    /// (not in place), as many hosts do.
    ///
    /// Every sidechain input port the plugin has gets a buffer of silence, as a host that
    /// connects nothing to it provides (CLAP wants a buffer for every port).
    pub fn process(
        &mut self,
        input: &[Vec<f32>],
        block_sizes: &[usize],
        events: &[ParamEvent],
    ) -> Result<Vec<Vec<f32>>> {
        self.process_with_sidechain(input, None, block_sizes, events)
    }

    /// [`Self::process`] with the plugin's reported latency compensated the way a host
    /// does: the input is followed by `latency` samples of silence and the first
    /// `latency` output samples are dropped, so output sample `n` lines up with input
    /// sample `n`. `events` are delivered where they are given (in the padded timeline).
    pub fn process_compensated(
        &mut self,
        input: &[Vec<f32>],
        block_sizes: &[usize],
        events: &[ParamEvent],
    ) -> Result<Vec<Vec<f32>>> {
        let latency = self.latency().unwrap_or(0) as usize;
        let padded: Vec<Vec<f32>> = input
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.resize(c.len() + latency, 0.0);
                c
            })
            .collect();
        let mut out = self.process(&padded, block_sizes, events)?;
        for c in out.iter_mut() {
            c.drain(..latency);
        }
        Ok(out)
    }

    /// [`Self::process`] with `sidechain` (one `Vec` per channel of the first sidechain
    /// port, as long as `input`) played into the plugin's first sidechain input port.
    pub fn process_with_sidechain(
        &mut self,
        input: &[Vec<f32>],
        sidechain: Option<&[Vec<f32>]>,
        block_sizes: &[usize],
        events: &[ParamEvent],
    ) -> Result<Vec<Vec<f32>>> {
        let config = self
            .config
            .ok_or_else(|| anyhow!("process() before activate()"))?;
        ensure!(
            input.len() == self.channels,
            "{} input channels for {}-channel ports",
            input.len(),
            self.channels
        );
        let frames = input.first().map_or(0, Vec::len);
        ensure!(
            input.iter().all(|c| c.len() == frames),
            "channels differ in length"
        );
        ensure!(!block_sizes.is_empty(), "no block sizes");
        ensure!(
            block_sizes
                .iter()
                .all(|&b| b >= 1 && b <= config.max_frames),
            "block sizes must lie in 1..={}",
            config.max_frames
        );
        // One input per sidechain port: the given signal on the first, silence elsewhere.
        let mut aux: Vec<Vec<Vec<f32>>> = self
            .aux_inputs
            .iter()
            .map(|&n| vec![vec![0.0f32; frames]; n])
            .collect();
        if let Some(sidechain) = sidechain {
            let port = aux
                .first_mut()
                .ok_or_else(|| anyhow!("the plugin has no sidechain input port"))?;
            ensure!(
                sidechain.len() == port.len() && sidechain.iter().all(|c| c.len() == frames),
                "the sidechain must have {} channels of {frames} frames",
                port.len()
            );
            *port = sidechain.to_vec();
        }
        let mut events = events.to_vec();
        events.sort_by_key(|e| e.sample);
        ensure!(
            events.iter().all(|e| e.sample < frames.max(1)),
            "an event lies past the end of the input"
        );
        let processor = self.processor.take().ok_or_else(|| anyhow!("not active"))?;
        let joined = std::thread::scope(|scope| {
            scope
                .spawn(|| run_audio_thread(processor, input, &aux, block_sizes, &events, config))
                .join()
        });
        let (processor, output) = match joined {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        self.processor = Some(processor);
        self.serve_main_thread_requests();
        output
    }
}

impl Drop for ClapInstance {
    fn drop(&mut self) {
        self.deactivate();
    }
}

/// A raw plugin pointer moved to the audio thread for `params.flush`.
struct SendPtr(*const clap_plugin);
// SAFETY: the pointer is only used on the audio thread while the main thread waits.
unsafe impl Send for SendPtr {}

/// The audio thread: start processing, run every block, stop processing. Always returns
/// the processor so the main thread can deactivate it.
fn run_audio_thread(
    processor: StoppedPluginAudioProcessor<TestHost>,
    input: &[Vec<f32>],
    aux: &[Vec<Vec<f32>>],
    block_sizes: &[usize],
    events: &[ParamEvent],
    config: ActiveConfig,
) -> (StoppedPluginAudioProcessor<TestHost>, Result<Vec<Vec<f32>>>) {
    let mut started = match processor.start_processing() {
        Ok(started) => started,
        Err(e) => {
            return (
                e.into_stopped_processor(),
                Err(anyhow!("start_processing failed")),
            )
        }
    };
    let channels = input.len();
    let frames = input.first().map_or(0, Vec::len);
    let max = config.max_frames;
    // Input ports: the main one first, then the sidechains.
    let mut port_buffers: Vec<Vec<Vec<f32>>> = std::iter::once(channels)
        .chain(aux.iter().map(Vec::len))
        .map(|n| vec![vec![0.0f32; max]; n])
        .collect();
    let aux_channels: usize = aux.iter().map(Vec::len).sum();
    let mut out_buffers = vec![vec![0.0f32; max]; channels];
    let mut output: Vec<Vec<f32>> = (0..channels).map(|_| Vec::with_capacity(frames)).collect();
    let mut in_ports = AudioPorts::with_capacity(channels + aux_channels, 1 + aux.len());
    let mut out_ports = AudioPorts::with_capacity(channels, 1);
    let mut in_events = EventBuffer::with_capacity(events.len().max(1));
    let mut out_events = EventBuffer::with_capacity(64);
    let mut sizes = block_sizes.iter().cycle();
    let mut next_event = 0;
    let mut position = 0;
    let mut result = Ok(());
    while position < frames {
        let n = (*sizes.next().expect("cycle of a non-empty list")).min(frames - position);
        for (buffers, port) in port_buffers
            .iter_mut()
            .zip(std::iter::once(input).chain(aux.iter().map(Vec::as_slice)))
        {
            for (buffer, channel) in buffers.iter_mut().zip(port) {
                buffer[..n].copy_from_slice(&channel[position..position + n]);
            }
        }
        // Poison the output so a plugin that leaves samples unwritten is caught.
        for buffer in out_buffers.iter_mut() {
            buffer[..n].fill(f32::NAN);
        }
        in_events.clear();
        while let Some(event) = events.get(next_event).filter(|e| e.sample < position + n) {
            in_events.push(&ParamValueEvent::new(
                (event.sample - position) as u32,
                ClapId::new(event.param_id),
                Pckn::match_all(),
                event.value,
            ));
            next_event += 1;
        }
        out_events.clear();
        let status = {
            let in_audio =
                in_ports.with_input_buffers(port_buffers.iter_mut().map(|port| AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only(
                        port.iter_mut().map(|b| InputChannel::variable(&mut b[..n])),
                    ),
                }));
            let mut out_audio = out_ports.with_output_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only(
                    out_buffers.iter_mut().map(|b| &mut b[..n]),
                ),
            }]);
            started.process(
                &in_audio,
                &mut out_audio,
                &in_events.as_input(),
                &mut out_events.as_output(),
                Some(position as u64),
                None,
            )
        };
        if let Err(e) = status {
            result = Err(anyhow!("process failed at sample {position}: {e:?}"));
            break;
        }
        for (out, buffer) in output.iter_mut().zip(&out_buffers) {
            out.extend_from_slice(&buffer[..n]);
        }
        position += n;
    }
    (started.stop_processing(), result.map(|()| output))
}

/// Renders `input` (one `Vec` per channel: 1 = the mono configuration, 2 = stereo) through
/// a fresh instance of `plugin` at `sample_rate`, in blocks of `block` frames, with
/// `settings` (string id, plain value: dB, 0/1 for switches) in place from the first
/// sample.
///
/// How the settings get there: they are sent with `params.flush` before activation, so
/// nice-plug's `activate()` builds the plugin's chain from them and `start_processing()`
/// resets every smoother to them. No ramp runs: the output equals that of an offline
/// `Chain::new(sample_rate, block, &settings)` fed the same blocks. (Parameter events at
/// time 0 of the first block would not do: they arrive after the reset, so gains would
/// ramp from their defaults over the first 20 ms.)
pub fn render(
    plugin: Plugin,
    sample_rate: f64,
    block: usize,
    settings: &[(&str, f64)],
    input: &[Vec<f32>],
) -> Vec<Vec<f32>> {
    try_render(plugin, sample_rate, block, settings, input)
        .unwrap_or_else(|e| panic!("rendering through {} failed: {e:#}", plugin.display_name()))
}

/// [`render`], returning errors instead of panicking.
pub fn try_render(
    plugin: Plugin,
    sample_rate: f64,
    block: usize,
    settings: &[(&str, f64)],
    input: &[Vec<f32>],
) -> Result<Vec<Vec<f32>>> {
    let mut instance = ClapInstance::new(plugin)?;
    instance
        .use_channels(input.len())
        .with_context(|| format!("{} channels", input.len()))?;
    instance.set_plain(plugin, settings)?;
    instance.activate(sample_rate, 1, block)?;
    let output = instance.process(input, &[block], &[])?;
    instance.deactivate();
    Ok(output)
}

/// [`render`] with `sidechain` (one `Vec` per channel of the plugin's first sidechain
/// port, as long as `input`) on the sidechain input.
pub fn render_with_sidechain(
    plugin: Plugin,
    sample_rate: f64,
    block: usize,
    settings: &[(&str, f64)],
    input: &[Vec<f32>],
    sidechain: &[Vec<f32>],
) -> Vec<Vec<f32>> {
    let run = || -> Result<Vec<Vec<f32>>> {
        let mut instance = ClapInstance::new(plugin)?;
        instance.use_channels(input.len())?;
        instance.set_plain(plugin, settings)?;
        instance.activate(sample_rate, 1, block)?;
        let output = instance.process_with_sidechain(input, Some(sidechain), &[block], &[])?;
        instance.deactivate();
        Ok(output)
    };
    run().unwrap_or_else(|e| panic!("rendering through {} failed: {e:#}", plugin.display_name()))
}
