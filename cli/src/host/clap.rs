//! A CLAP plug-in as a stage, through clack-host.
//!
//! Life cycle: the plug-in is instantiated and its parameters and state are set while it
//! is inactive (`params.flush`, `state.load`), so the settings are in place from the
//! first sample; [`Stage::activate`] activates it and starts processing. The command is
//! offline, so one thread is both the plug-in's main thread and its audio thread.
//!
//! Parameter values: a plain value goes through the plug-in's own `text_to_value` (so a
//! plug-in that shows dB takes dB, whatever its CLAP values are); when the plug-in cannot
//! parse it, a number is taken as the CLAP value itself. Either way it must lie in the
//! parameter's range — the CLAP range, and, where the plug-in writes its range ends as
//! numbers, the range it shows.

use std::ffi::{c_char, CStr, CString};
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
    AudioPortBuffer, AudioPortBufferType, AudioPorts, HostHandlers, HostInfo, InputChannel,
    PluginAudioConfiguration, PluginEntry, PluginInstance, SharedHandler,
    StartedPluginAudioProcessor,
};
use clack_host::stream::InputStream;
use clap_sys::events::{clap_input_events, clap_output_events};
use clap_sys::ext::audio_ports::{
    clap_audio_port_info, clap_plugin_audio_ports, CLAP_AUDIO_PORT_IS_MAIN, CLAP_EXT_AUDIO_PORTS,
};
use clap_sys::ext::audio_ports_config::{
    clap_audio_ports_config, clap_plugin_audio_ports_config, CLAP_EXT_AUDIO_PORTS_CONFIG,
};
use clap_sys::ext::latency::{clap_plugin_latency, CLAP_EXT_LATENCY};
use clap_sys::ext::params::{clap_param_info, clap_plugin_params, CLAP_EXT_PARAMS};
use clap_sys::ext::state::{clap_plugin_state, CLAP_EXT_STATE};
use clap_sys::ext::tail::{clap_plugin_tail, CLAP_EXT_TAIL};
use clap_sys::plugin::clap_plugin;

use super::file::{StageSpec, Value};
use super::{Stage, Tail};

/// The host's handler types.
pub struct Host;

/// Callbacks any thread may make: only recorded, served between blocks.
#[derive(Default)]
pub struct HostShared {
    callback_requested: AtomicBool,
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {}

    fn request_process(&self) {}

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::Release);
    }
}

impl HostHandlers for Host {
    type Shared<'a> = HostShared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

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
plugin_extension!(TailExt, clap_plugin_tail, CLAP_EXT_TAIL);
plugin_extension!(AudioPortsExt, clap_plugin_audio_ports, CLAP_EXT_AUDIO_PORTS);
plugin_extension!(
    AudioPortsConfigExt,
    clap_plugin_audio_ports_config,
    CLAP_EXT_AUDIO_PORTS_CONFIG
);

/// A plug-in of a `.clap` file, as its factory describes it.
#[derive(Debug, Clone)]
pub struct Descriptor {
    pub id: String,
    pub name: String,
}

/// One parameter as the plug-in describes it, with its range and default as it shows them.
#[derive(Debug, Clone)]
pub struct ParamInfo {
    pub id: u32,
    pub name: String,
    /// The group path, empty at the top level.
    pub module: String,
    /// CLAP values.
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub min_text: String,
    pub max_text: String,
    pub default_text: String,
}

fn c_chars(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn cstr(s: Option<&CStr>) -> String {
    s.map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Loads the `.clap` at `path`, once per process. Entries are never dropped, so the
/// library is never unloaded: a plug-in may have registered thread-local destructors that
/// live in its library (nice-plug's do), which would crash if it were unloaded first.
fn load_entry(path: &Path) -> Result<PluginEntry> {
    static ENTRIES: Mutex<Vec<(PathBuf, PluginEntry)>> = Mutex::new(Vec::new());
    if !path.exists() {
        bail!("the CLAP plug-in '{}' does not exist", path.display());
    }
    // `PluginEntry::load` wants a path with a slash (a bare name would be searched for).
    let path = std::path::absolute(path)
        .with_context(|| format!("cannot resolve '{}'", path.display()))?;
    let mut entries = ENTRIES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, entry)) = entries.iter().find(|(loaded, _)| *loaded == path) {
        return Ok(entry.clone());
    }
    // SAFETY: loading a shared library runs its initialisers: hosting a plug-in means
    // trusting its code, as every host does.
    let entry = unsafe { PluginEntry::load(&path) }.map_err(|e| {
        anyhow!(
            "could not load the CLAP plug-in '{}': {e:?}",
            path.display()
        )
    })?;
    entries.push((path, entry.clone()));
    Ok(entry)
}

fn describe(d: &PluginDescriptor) -> Descriptor {
    Descriptor {
        id: cstr(d.id()),
        name: cstr(d.name()),
    }
}

/// Every plug-in the `.clap` file at `path` offers.
pub fn descriptors(path: &Path) -> Result<Vec<Descriptor>> {
    let entry = load_entry(path)?;
    let factory = entry
        .get_plugin_factory()
        .ok_or_else(|| anyhow!("'{}' has no CLAP plug-in factory", path.display()))?;
    Ok(factory.plugin_descriptors().map(describe).collect())
}

/// The leading number of a displayed value (`-24.0 dB` → -24, `-inf dB` → −∞), if it
/// starts with one.
fn leading_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    for (word, value) in [
        ("-inf", f64::NEG_INFINITY),
        ("+inf", f64::INFINITY),
        ("inf", f64::INFINITY),
    ] {
        if lower.starts_with(word) {
            return Some(value);
        }
    }
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0)))
        .map_or(text.len(), |(i, _)| i);
    text[..end].parse().ok()
}

/// A CLAP plug-in instance in the chain.
pub struct ClapStage {
    /// Dropped after `processor` (see `Drop`).
    instance: PluginInstance<Host>,
    processor: Option<StartedPluginAudioProcessor<Host>>,
    latency_ext: Option<LatencyExt>,
    tail_ext: Option<TailExt>,
    audio_ports: Option<AudioPortsExt>,
    audio_ports_config: Option<AudioPortsConfigExt>,
    latency: u32,
    tail: Tail,
    /// Channel counts of the input and output ports; the main ones' indices.
    in_ports: Vec<usize>,
    out_ports: Vec<usize>,
    main_in: usize,
    main_out: usize,
    in_buffers: Vec<Vec<Vec<f32>>>,
    out_buffers: Vec<Vec<Vec<f32>>>,
    in_audio: AudioPorts,
    out_audio: AudioPorts,
    in_events: EventBuffer,
    out_events: EventBuffer,
    steady_time: u64,
}

/// The plug-in `id` of `path` (or its only one), instantiated and inactive.
fn instantiate(path: &Path, id: Option<&str>) -> Result<PluginInstance<Host>> {
    let entry = load_entry(path)?;
    let factory = entry
        .get_plugin_factory()
        .ok_or_else(|| anyhow!("'{}' has no CLAP plug-in factory", path.display()))?;
    let offered: Vec<Descriptor> = factory.plugin_descriptors().map(describe).collect();
    let id = match id {
        Some(id) => {
            if !offered.iter().any(|d| d.id == id) {
                bail!(
                    "'{}' has no plug-in with id '{id}'; it offers: {}",
                    path.display(),
                    offered
                        .iter()
                        .map(|d| d.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            id.to_owned()
        }
        None => match offered.as_slice() {
            [one] => one.id.clone(),
            [] => bail!("'{}' offers no plug-in", path.display()),
            several => bail!(
                "'{}' offers several plug-ins: name one with `id = …` ({})",
                path.display(),
                several
                    .iter()
                    .map(|d| d.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    let host = HostInfo::new(
        "oxide",
        "Oxide",
        "https://oxide.invalid",
        env!("CARGO_PKG_VERSION"),
    )
    .map_err(|e| anyhow!("host info: {e}"))?;
    let id_c = CString::new(id.clone())?;
    PluginInstance::<Host>::new(|_| HostShared::default(), |_| (), &entry, &id_c, &host)
        .map_err(|e| anyhow!("the CLAP plug-in '{id}' could not be instantiated: {e:?}"))
}

/// An instance of a plug-in, for reading its parameters.
pub struct Inspector {
    instance: PluginInstance<Host>,
    params: Option<ParamsExt>,
}

impl Inspector {
    pub fn new(path: &Path, id: Option<&str>) -> Result<Self> {
        let instance = instantiate(path, id)?;
        let params = instance.plugin_shared_handle().get_extension::<ParamsExt>();
        Ok(Self { instance, params })
    }

    /// The plug-in's name and id.
    pub fn descriptor(&self) -> Option<Descriptor> {
        self.instance
            .plugin_shared_handle()
            .descriptor()
            .map(describe)
    }

    fn params_ext(&mut self) -> Option<(clap_plugin_params, *const clap_plugin)> {
        let ext = self.params?;
        let handle = self.instance.plugin_handle();
        // The struct is a table of function pointers: a copy is as good as the original.
        Some((*handle.use_extension(&ext.0), handle.as_raw_ptr()))
    }

    /// Every parameter, in the plug-in's order (none without the params extension).
    pub fn params(&mut self) -> Result<Vec<ParamInfo>> {
        let Some((ext, plugin)) = self.params_ext() else {
            return Ok(Vec::new());
        };
        let (Some(count), Some(get_info)) = (ext.count, ext.get_info) else {
            bail!("the plug-in's params extension is incomplete");
        };
        // SAFETY: main thread, valid plug-in pointer.
        let n = unsafe { count(plugin) };
        let mut raw = Vec::with_capacity(n as usize);
        for index in 0..n {
            // SAFETY: an all-zero `clap_param_info` is a valid value (null cookie, empty names).
            let mut info: clap_param_info = unsafe { std::mem::zeroed() };
            // SAFETY: main thread, `index < count`, `info` is writable.
            if !unsafe { get_info(plugin, index, &mut info) } {
                bail!("the plug-in did not describe its parameter {index}");
            }
            raw.push(info);
        }
        let mut out = Vec::with_capacity(raw.len());
        for info in raw {
            let mut text = |v: f64| self.value_text(info.id, v).unwrap_or_else(|| v.to_string());
            let (min_text, max_text, default_text) = (
                text(info.min_value),
                text(info.max_value),
                text(info.default_value),
            );
            out.push(ParamInfo {
                id: info.id,
                name: c_chars(&info.name),
                module: c_chars(&info.module),
                min: info.min_value,
                max: info.max_value,
                default: info.default_value,
                min_text,
                max_text,
                default_text,
            });
        }
        Ok(out)
    }

    /// The plug-in's text for CLAP value `value` of parameter `id`.
    fn value_text(&mut self, id: u32, value: f64) -> Option<String> {
        let ext = self.params?;
        let main = self.instance.plugin_handle();
        let raw = main.use_extension(&ext.0);
        let to_text = raw.value_to_text?;
        let mut text = [0 as c_char; 256];
        // SAFETY: main thread, `text` is writable for its length.
        unsafe {
            to_text(
                main.as_raw_ptr(),
                id,
                value,
                text.as_mut_ptr(),
                text.len() as u32,
            )
        }
        .then(|| c_chars(&text))
    }

    /// The plug-in's CLAP value for `text` of parameter `id`.
    fn text_value(&mut self, id: u32, text: &str) -> Option<f64> {
        let ext = self.params?;
        let main = self.instance.plugin_handle();
        let raw = main.use_extension(&ext.0);
        let to_value = raw.text_to_value?;
        let text = CString::new(text).ok()?;
        let mut value = f64::NAN;
        // SAFETY: main thread, valid pointers.
        unsafe { to_value(main.as_raw_ptr(), id, text.as_ptr(), &mut value) }
            .then_some(value)
            .filter(|v| v.is_finite())
    }

    /// The CLAP id and value that set parameter `key` (id number or name) to `value`.
    fn resolve(
        &mut self,
        params: &[ParamInfo],
        key: &str,
        value: &Value,
        path: &Path,
    ) -> Result<(u32, f64)> {
        let info = params
            .iter()
            .find(|p| key.trim().parse::<u32>().ok() == Some(p.id))
            .or_else(|| {
                params
                    .iter()
                    .find(|p| p.name.eq_ignore_ascii_case(key.trim()))
            })
            .or_else(|| {
                params.iter().find(|p| {
                    !p.module.is_empty()
                        && format!("{}/{}", p.module, p.name).eq_ignore_ascii_case(key.trim())
                })
            })
            .ok_or_else(|| {
                anyhow!(
                    "the plug-in has no parameter '{key}' (see `oxide params --plugin {}`)",
                    path.display()
                )
            })?;
        let parsed = self.text_value(info.id, &value.text());
        let clap_value = match parsed {
            Some(v) => v,
            None => match value {
                Value::Number(v) => {
                    // Not a value the plug-in reads: taken as a CLAP value.
                    if !(info.min..=info.max).contains(v) {
                        bail!(
                            "parameter '{}': the plug-in does not read {value} as one of its values ({} … {}), and as a CLAP value it is outside {} … {}",
                            info.name,
                            info.min_text,
                            info.max_text,
                            info.min,
                            info.max
                        );
                    }
                    *v
                }
                Value::Switch(on) => f64::from(u8::from(*on)),
                Value::Text(_) => bail!(
                    "parameter '{}': the plug-in does not take {value} (range {} … {})",
                    info.name,
                    info.min_text,
                    info.max_text
                ),
            },
        };
        let out_of_range = || {
            anyhow!(
                "parameter '{}': {value} is outside its range {} … {}",
                info.name,
                info.min_text,
                info.max_text
            )
        };
        let slack = 1e-9 * info.max.abs().max(info.min.abs()).max(1.0);
        if !(info.min - slack..=info.max + slack).contains(&clap_value) {
            return Err(out_of_range());
        }
        // Plug-ins clamp what they parse: check a number against the range they show.
        if parsed.is_none() {
            return Ok((info.id, clap_value.clamp(info.min, info.max)));
        }
        if let (Some(asked), Some(lo), Some(hi)) = (
            value
                .number()
                .filter(|_| !matches!(value, Value::Switch(_))),
            leading_number(&info.min_text),
            leading_number(&info.max_text),
        ) {
            let (lo, hi) = (lo.min(hi), lo.max(hi));
            let slack = 1e-6 * hi.abs().max(lo.abs()).max(1.0);
            if asked < lo - slack || asked > hi + slack {
                return Err(out_of_range());
            }
        }
        // A value parsed to a range end: the plug-in must show that end as the number asked
        // for (otherwise it clamped it).
        let at_end =
            (clap_value - info.min).abs() <= slack || (clap_value - info.max).abs() <= slack;
        if let (true, Some(asked)) = (at_end, value.number()) {
            let shown = self
                .value_text(info.id, clap_value)
                .as_deref()
                .and_then(leading_number);
            if let Some(shown) = shown {
                let tolerance = 1e-3 * shown.abs().max(asked.abs()).max(1.0);
                if shown != asked && (shown - asked).abs() > tolerance {
                    return Err(out_of_range());
                }
            }
        }
        Ok((info.id, clap_value.clamp(info.min, info.max)))
    }
}

impl ClapStage {
    /// Instantiates the plug-in and sets its state and parameters (inactive).
    pub fn load(path: &Path, id: Option<&str>, spec: &StageSpec) -> Result<Self> {
        let mut inspector = Inspector::new(path, id)?;
        let params = inspector.params()?;
        if let Some(state) = &spec.state {
            let bytes = std::fs::read(state)
                .with_context(|| format!("could not read the state file '{}'", state.display()))?;
            let ext = inspector
                .instance
                .plugin_shared_handle()
                .get_extension::<StateExt>()
                .ok_or_else(|| anyhow!("the plug-in cannot load a state (no state extension)"))?;
            let handle = inspector.instance.plugin_handle();
            let raw = handle.use_extension(&ext.0);
            let load = raw
                .load
                .ok_or_else(|| anyhow!("the plug-in's state.load is missing"))?;
            let mut reader = Cursor::new(bytes);
            let ok = {
                let mut stream = InputStream::from_reader(&mut reader);
                // SAFETY: main thread, valid plug-in and stream.
                unsafe { load(handle.as_raw_ptr(), stream.as_raw_mut()) }
            };
            ensure!(
                ok,
                "the plug-in refused the state file '{}'",
                state.display()
            );
        }
        let mut values = Vec::with_capacity(spec.params.len());
        for (key, value) in &spec.params {
            values.push(inspector.resolve(&params, key, value, path)?);
        }
        if !values.is_empty() {
            let (ext, plugin) = inspector
                .params_ext()
                .ok_or_else(|| anyhow!("the plug-in has no parameters"))?;
            let flush = ext
                .flush
                .ok_or_else(|| anyhow!("the plug-in's params.flush is missing"))?;
            let mut events = EventBuffer::with_capacity(values.len());
            for &(id, value) in &values {
                events.push(&ParamValueEvent::new(
                    0,
                    ClapId::new(id),
                    Pckn::match_all(),
                    value,
                ));
            }
            let mut out = EventBuffer::new();
            let input = events.as_input();
            let mut output = out.as_output();
            let in_raw: *const clap_input_events = input.as_raw();
            let out_raw: *const clap_output_events = output.as_raw();
            // SAFETY: main thread, inactive plug-in, valid event lists for the call.
            unsafe { flush(plugin, in_raw, out_raw) };
        }
        let Inspector { mut instance, .. } = inspector;
        serve_main_thread(&mut instance);
        let shared = instance.plugin_shared_handle();
        let latency_ext = shared.get_extension::<LatencyExt>();
        let tail_ext = shared.get_extension::<TailExt>();
        let audio_ports = shared.get_extension::<AudioPortsExt>();
        let audio_ports_config = shared.get_extension::<AudioPortsConfigExt>();
        Ok(Self {
            instance,
            processor: None,
            latency_ext,
            tail_ext,
            audio_ports,
            audio_ports_config,
            latency: 0,
            tail: Tail::Samples(0),
            in_ports: Vec::new(),
            out_ports: Vec::new(),
            main_in: 0,
            main_out: 0,
            in_buffers: Vec::new(),
            out_buffers: Vec::new(),
            in_audio: AudioPorts::with_capacity(0, 0),
            out_audio: AudioPorts::with_capacity(0, 0),
            in_events: EventBuffer::new(),
            out_events: EventBuffer::with_capacity(256),
            steady_time: 0,
        })
    }

    /// Channel counts of the plug-in's input or output ports and the main one's index.
    fn ports(&mut self, is_input: bool) -> Result<(Vec<usize>, Option<usize>)> {
        let ext = self
            .audio_ports
            .ok_or_else(|| anyhow!("the plug-in has no audio ports (no audio-ports extension)"))?;
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let (Some(count), Some(get)) = (raw.count, raw.get) else {
            bail!("the plug-in's audio-ports extension is incomplete");
        };
        // SAFETY: main thread, valid plug-in.
        let n = unsafe { count(handle.as_raw_ptr(), is_input) };
        let mut channels = Vec::with_capacity(n as usize);
        let mut main = None;
        for index in 0..n {
            // SAFETY: an all-zero `clap_audio_port_info` is valid (null port type).
            let mut info: clap_audio_port_info = unsafe { std::mem::zeroed() };
            // SAFETY: main thread, `index < count`, `info` writable.
            if !unsafe { get(handle.as_raw_ptr(), index, is_input, &mut info) } {
                bail!("the plug-in did not describe its audio port {index}");
            }
            if info.flags & CLAP_AUDIO_PORT_IS_MAIN != 0 && main.is_none() {
                main = Some(index as usize);
            }
            channels.push(info.channel_count as usize);
        }
        Ok((channels, main))
    }

    /// Selects an audio-ports configuration whose main ports have `channels` channels.
    fn select_channels(&mut self, channels: usize) -> Result<bool> {
        let Some(ext) = self.audio_ports_config else {
            return Ok(false);
        };
        let handle = self.instance.plugin_handle();
        let raw = handle.use_extension(&ext.0);
        let (Some(count), Some(get), Some(select)) = (raw.count, raw.get, raw.select) else {
            return Ok(false);
        };
        let plugin = handle.as_raw_ptr();
        // SAFETY: main thread, valid plug-in.
        let n = unsafe { count(plugin) };
        for index in 0..n {
            // SAFETY: an all-zero `clap_audio_ports_config` is valid (null port types).
            let mut config: clap_audio_ports_config = unsafe { std::mem::zeroed() };
            // SAFETY: main thread, `index < count`, `config` writable.
            if !unsafe { get(plugin, index, &mut config) } {
                continue;
            }
            if config.has_main_input
                && config.has_main_output
                && config.main_input_channel_count as usize == channels
                && config.main_output_channel_count as usize == channels
            {
                // SAFETY: main thread, inactive plug-in.
                return Ok(unsafe { select(plugin, config.id) });
            }
        }
        Ok(false)
    }
}

fn serve_main_thread(instance: &mut PluginInstance<Host>) {
    let requested = instance
        .access_shared_handler(|shared| shared.callback_requested.swap(false, Ordering::AcqRel));
    if requested {
        instance.call_on_main_thread_callback();
    }
}

impl Stage for ClapStage {
    fn activate(&mut self, sample_rate: f64, channels: usize, max_block: usize) -> Result<()> {
        ensure!(self.processor.is_none(), "already active");
        let (mut ins, mut main_in) = self.ports(true)?;
        let (mut outs, mut main_out) = self.ports(false)?;
        let fits =
            |ins: &[usize], main_in: Option<usize>, outs: &[usize], main_out: Option<usize>| {
                main_in.map(|i| ins[i]) == Some(channels)
                    && main_out.map(|i| outs[i]) == Some(channels)
            };
        if !fits(&ins, main_in, &outs, main_out) && self.select_channels(channels)? {
            (ins, main_in) = self.ports(true)?;
            (outs, main_out) = self.ports(false)?;
        }
        if !fits(&ins, main_in, &outs, main_out) {
            bail!(
                "the plug-in's main ports are {} in, {} out: it cannot take {channels}-channel audio",
                main_in.map_or(String::from("none"), |i| ins[i].to_string()),
                main_out.map_or(String::from("none"), |i| outs[i].to_string()),
            );
        }
        let configuration = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_block as u32,
        };
        let stopped = self
            .instance
            .activate(|_, _| (), configuration)
            .map_err(|e| anyhow!("the plug-in refused to activate at {sample_rate} Hz: {e:?}"))?;
        serve_main_thread(&mut self.instance);
        let started = match stopped.start_processing() {
            Ok(started) => started,
            Err(e) => {
                self.instance.deactivate(e.into_stopped_processor());
                bail!("the plug-in refused to start processing");
            }
        };
        self.processor = Some(started);
        let handle = self.instance.plugin_handle();
        self.latency = self
            .latency_ext
            .and_then(|ext| {
                let raw = handle.use_extension(&ext.0);
                // SAFETY: main thread, active plug-in.
                raw.get.map(|get| unsafe { get(handle.as_raw_ptr()) })
            })
            .unwrap_or(0);
        self.tail = match self.tail_ext.and_then(|ext| {
            let raw = handle.use_extension(&ext.0);
            // SAFETY: the tail may be asked on the audio thread, which this one also is.
            raw.get.map(|get| unsafe { get(handle.as_raw_ptr()) })
        }) {
            None => Tail::Samples(0),
            Some(u32::MAX) => Tail::UntilSilent,
            Some(n) => Tail::Samples(n as u64),
        };
        self.main_in = main_in.unwrap_or(0);
        self.main_out = main_out.unwrap_or(0);
        self.in_buffers = ins.iter().map(|&n| vec![vec![0.0; max_block]; n]).collect();
        self.out_buffers = outs
            .iter()
            .map(|&n| vec![vec![0.0; max_block]; n])
            .collect();
        self.in_audio = AudioPorts::with_capacity(ins.iter().sum(), ins.len());
        self.out_audio = AudioPorts::with_capacity(outs.iter().sum(), outs.len());
        self.in_ports = ins;
        self.out_ports = outs;
        Ok(())
    }

    fn latency(&self) -> u32 {
        self.latency
    }

    fn tail(&self) -> Tail {
        self.tail
    }

    fn process(&mut self, block: &mut [&mut [f32]]) -> Result<()> {
        let n = block.first().map_or(0, |c| c.len());
        let processor = self
            .processor
            .as_mut()
            .ok_or_else(|| anyhow!("not activated"))?;
        for (buffer, channel) in self.in_buffers[self.main_in].iter_mut().zip(block.iter()) {
            buffer[..n].copy_from_slice(channel);
        }
        self.in_events.clear();
        self.out_events.clear();
        let status = {
            let in_audio = self
                .in_audio
                .with_input_buffers(self.in_buffers.iter_mut().map(|port| AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only(
                        port.iter_mut().map(|b| InputChannel::variable(&mut b[..n])),
                    ),
                }));
            let mut out_audio =
                self.out_audio
                    .with_output_buffers(self.out_buffers.iter_mut().map(|port| AudioPortBuffer {
                        latency: 0,
                        channels: AudioPortBufferType::f32_output_only(
                            port.iter_mut().map(|b| &mut b[..n]),
                        ),
                    }));
            processor.process(
                &in_audio,
                &mut out_audio,
                &self.in_events.as_input(),
                &mut self.out_events.as_output(),
                Some(self.steady_time),
                None,
            )
        };
        status.map_err(|e| anyhow!("the plug-in failed to process: {e:?}"))?;
        self.steady_time += n as u64;
        for (channel, buffer) in block.iter_mut().zip(&self.out_buffers[self.main_out]) {
            channel.copy_from_slice(&buffer[..n]);
        }
        serve_main_thread(&mut self.instance);
        Ok(())
    }
}

impl Drop for ClapStage {
    fn drop(&mut self) {
        if let Some(started) = self.processor.take() {
            self.instance.deactivate(started.stop_processing());
        }
    }
}
