//! An LV2 plug-in as a stage, through lilv (the `livi` binding).
//!
//! Plug-ins are found where lilv looks: `LV2_PATH`, or lilv's default folders
//! (`~/.lv2`, `/usr/local/lib/lv2`, `/usr/lib/lv2`). We provide what livi provides —
//! URID map and unmap, options, bounded block length, worker — and refuse, by name, a
//! plug-in that requires anything else. Parameters are control input ports, set by
//! symbol or name in the port's own units; a port with scale points also takes their
//! labels, a toggle on/off. Latency comes from the port that reports it (read after each
//! block, as LV2 plug-ins write it when they run). LV2 has no tail property: a stage's
//! tail is rendered until the output is silent.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use livi::event::LV2AtomSequence;
use livi::{Features, FeaturesBuilder, PortConnections, PortIndex, PortType};

use super::file::{StageSpec, Value};
use super::{Stage, Tail};

const LV2_CORE: &str = "http://lv2plug.in/ns/lv2core#";
/// Capacity of the atom buffers given to event ports, bytes.
const ATOM_CAPACITY: usize = 1 << 16;

/// One control input as the plug-in describes it.
#[derive(Debug, Clone)]
pub struct Control {
    pub index: usize,
    pub symbol: String,
    pub name: String,
    pub min: Option<f32>,
    pub max: Option<f32>,
    pub default: f32,
    pub toggled: bool,
    pub integer: bool,
    /// Scale points (label, value), in the order the plug-in lists them.
    pub points: Vec<(String, f32)>,
}

impl Control {
    /// The value `value` sets, checked against the port's range and kind.
    pub fn value_for(&self, value: &Value) -> Result<f32> {
        let by_label = |text: &str| {
            self.points
                .iter()
                .find(|(label, _)| label.eq_ignore_ascii_case(text.trim()))
                .map(|&(_, v)| v)
        };
        let number = match value {
            Value::Switch(on) => {
                if !self.toggled {
                    bail!("'{}' is not a switch: give a number", self.symbol);
                }
                f32::from(u8::from(*on))
            }
            Value::Number(v) => *v as f32,
            Value::Text(text) => {
                let lower = text.trim().to_ascii_lowercase();
                if let Some(v) = by_label(text) {
                    v
                } else if let Ok(v) = lower.parse::<f32>() {
                    v
                } else if self.toggled && matches!(lower.as_str(), "on" | "true" | "yes") {
                    1.0
                } else if self.toggled && matches!(lower.as_str(), "off" | "false" | "no") {
                    0.0
                } else {
                    let labels: Vec<&str> = self.points.iter().map(|(l, _)| l.as_str()).collect();
                    bail!(
                        "'{}' does not take {value}: it takes {}",
                        self.symbol,
                        if labels.is_empty() {
                            self.range_text()
                        } else {
                            format!("one of {} (or its number)", labels.join(", "))
                        }
                    );
                }
            }
        };
        if !number.is_finite() {
            bail!("'{}' wants a finite number, not {value}", self.symbol);
        }
        let lo = self.min.unwrap_or(f32::NEG_INFINITY);
        let hi = self.max.unwrap_or(f32::INFINITY);
        if number < lo || number > hi {
            bail!(
                "'{}' ({}): {value} is outside its range {}",
                self.symbol,
                self.name,
                self.range_text()
            );
        }
        if (self.integer || self.toggled) && number.fract() != 0.0 {
            bail!("'{}' takes whole numbers, not {value}", self.symbol);
        }
        Ok(number)
    }

    pub fn range_text(&self) -> String {
        if self.toggled {
            return String::from("off | on");
        }
        if !self.points.is_empty() && self.integer {
            return self
                .points
                .iter()
                .map(|(l, v)| format!("{v}={l}"))
                .collect::<Vec<_>>()
                .join(" | ");
        }
        let end = |v: Option<f32>| v.map_or_else(|| String::from("?"), |v| v.to_string());
        format!("{} … {}", end(self.min), end(self.max))
    }

    pub fn default_text(&self) -> String {
        if self.toggled {
            return String::from(if self.default >= 0.5 { "on" } else { "off" });
        }
        self.points
            .iter()
            .find(|&&(_, v)| v == self.default)
            .map_or_else(|| self.default.to_string(), |(l, _)| l.clone())
    }
}

/// All installed plug-ins lilv finds, and the features livi provides.
pub fn world() -> livi::World {
    livi::World::new()
}

/// The plug-in `uri` of `world`, or an error that says why it cannot be hosted.
pub fn find(world: &livi::World, uri: &str) -> Result<livi::Plugin> {
    if let Some(plugin) = world.plugin_by_uri(uri) {
        return Ok(plugin);
    }
    let scheme_ok = uri.split_once(':').is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !rest.is_empty()
    });
    if !scheme_ok || uri.chars().any(char::is_whitespace) {
        bail!("'{uri}' is not a URI: an LV2 plug-in is named by its URI (see `oxide plugins`)");
    }
    // Installed, but filtered out by livi: say what it needs that we do not provide.
    let raw = world.raw();
    let node = raw.new_uri(uri);
    if let Some(plugin) = raw.plugins().plugin(&node) {
        let supported = Features::supported_features();
        let missing: Vec<String> = plugin
            .required_features()
            .iter()
            .filter_map(|f| f.as_uri().map(str::to_owned))
            .filter(|f| !supported.contains(f.as_str()))
            .collect();
        if !missing.is_empty() {
            bail!(
                "the LV2 plug-in {uri} requires features oxide does not provide: {}",
                missing.join(", ")
            );
        }
        bail!("the LV2 plug-in {uri} has ports of a kind oxide does not host");
    }
    bail!(
        "no LV2 plug-in {uri} is installed (searched {}; see `oxide plugins`)",
        std::env::var("LV2_PATH")
            .map(|p| format!("LV2_PATH={p}"))
            .unwrap_or_else(|_| String::from(
                "lilv's default folders: ~/.lv2, /usr/local/lib/lv2, /usr/lib/lv2"
            ))
    )
}

/// The plug-in's control inputs.
pub fn controls(world: &livi::World, plugin: &livi::Plugin) -> Vec<Control> {
    let raw = world.raw();
    let toggled = raw.new_uri(&format!("{LV2_CORE}toggled"));
    let integer = raw.new_uri(&format!("{LV2_CORE}integer"));
    plugin
        .ports_with_type(PortType::ControlInput)
        .map(|port| {
            let lilv_port = plugin.raw().port_by_index(port.index.0);
            let (is_toggled, is_integer, points) = match &lilv_port {
                Some(p) => {
                    let mut points: Vec<(String, f32)> = p
                        .scale_points()
                        .iter()
                        .filter_map(|sp| {
                            let label = sp.label().as_str()?.to_owned();
                            let node = sp.value();
                            let value = node
                                .as_float()
                                .or_else(|| node.as_int().map(|i| i as f32))?;
                            Some((label, value))
                        })
                        .collect();
                    points.sort_by(|a, b| a.1.total_cmp(&b.1));
                    (p.has_property(&toggled), p.has_property(&integer), points)
                }
                None => (false, false, Vec::new()),
            };
            Control {
                index: port.index.0,
                symbol: port.symbol.clone(),
                name: port.name.clone(),
                min: port.min_value,
                max: port.max_value,
                default: port.default_value,
                toggled: is_toggled,
                integer: is_integer,
                points,
            }
        })
        .collect()
}

/// An LV2 plug-in in the chain.
pub struct Lv2Stage {
    uri: String,
    world: livi::World,
    plugin: livi::Plugin,
    /// (port index, value) for every parameter the chain file sets.
    settings: Vec<(usize, f32)>,
    state: Option<std::path::PathBuf>,
    latency_port: Option<usize>,
    audio_inputs: usize,
    audio_outputs: usize,
    atom_inputs: usize,
    atom_outputs: usize,
    active: Option<Active>,
}

struct Active {
    instance: livi::Instance,
    features: Arc<Features>,
    outputs: Vec<Vec<f32>>,
    atom_in: Vec<LV2AtomSequence>,
    atom_out: Vec<LV2AtomSequence>,
}

impl Lv2Stage {
    /// Finds the plug-in and checks the parameters and state file (nothing runs yet).
    pub fn load(uri: &str, spec: &StageSpec) -> Result<Self> {
        let world = world();
        let plugin = find(&world, uri)?;
        let counts = *plugin.port_counts();
        if counts.cv_inputs + counts.cv_outputs > 0 {
            bail!("the LV2 plug-in {uri} has CV ports, which oxide does not host");
        }
        let controls = controls(&world, &plugin);
        let mut settings = Vec::with_capacity(spec.params.len());
        for (key, value) in &spec.params {
            let control = controls
                .iter()
                .find(|c| c.symbol == *key)
                .or_else(|| controls.iter().find(|c| c.name.eq_ignore_ascii_case(key.trim())))
                .ok_or_else(|| {
                    anyhow!("the LV2 plug-in {uri} has no parameter '{key}' (see `oxide params --plugin {uri}`)")
                })?;
            settings.push((control.index, control.value_for(value)?));
        }
        if let Some(state) = &spec.state {
            // Parsed now so that a bad file fails before any audio; applied at activation.
            let features = world
                .try_build_features(FeaturesBuilder::default())
                .map_err(|e| anyhow!("{e:?}"))?;
            world
                .state_from_file(&features, None, state)
                .map_err(|e| anyhow!("{e:?}"))
                .with_context(|| format!("could not read the LV2 state '{}'", state.display()))?;
        }
        let latency_port = plugin.raw().latency_port_index();
        Ok(Self {
            uri: uri.to_owned(),
            plugin,
            world,
            settings,
            state: spec.state.clone(),
            latency_port,
            audio_inputs: counts.audio_inputs,
            audio_outputs: counts.audio_outputs,
            atom_inputs: counts.atom_sequence_inputs,
            atom_outputs: counts.atom_sequence_outputs,
            active: None,
        })
    }
}

impl Stage for Lv2Stage {
    fn activate(&mut self, sample_rate: f64, channels: usize, max_block: usize) -> Result<()> {
        if self.audio_inputs != channels || self.audio_outputs != channels {
            bail!(
                "the LV2 plug-in {} has {} audio inputs and {} outputs: it cannot take {channels}-channel audio",
                self.uri,
                self.audio_inputs,
                self.audio_outputs
            );
        }
        let features = self
            .world
            .try_build_features(FeaturesBuilder {
                min_block_length: 1,
                max_block_length: max_block,
            })
            .map_err(|e| anyhow!("{e:?}"))?;
        // SAFETY: hosting a plug-in means trusting its code; the rate is finite and
        // positive, and the instance is used only through livi's checked `run`.
        let mut instance = unsafe { self.plugin.instantiate(features.clone(), sample_rate) }
            .map_err(|e| {
                anyhow!(
                    "the LV2 plug-in {} could not be instantiated at {sample_rate} Hz: {e:?}",
                    self.uri
                )
            })?;
        if let Some(path) = &self.state {
            let state = self
                .world
                .state_from_file(&features, None, path)
                .map_err(|e| anyhow!("{e:?}"))
                .with_context(|| format!("could not read the LV2 state '{}'", path.display()))?;
            instance
                .restore_state(&state)
                .map_err(|e| anyhow!("{e:?}"))
                .with_context(|| format!("the plug-in refused the state '{}'", path.display()))?;
        }
        for &(index, value) in &self.settings {
            instance.set_control_input(PortIndex(index), value);
        }
        let atom_in = (0..self.atom_inputs)
            .map(|_| LV2AtomSequence::new(&features, ATOM_CAPACITY))
            .collect();
        let atom_out = (0..self.atom_outputs)
            .map(|_| LV2AtomSequence::new(&features, ATOM_CAPACITY))
            .collect();
        self.active = Some(Active {
            instance,
            features,
            outputs: vec![vec![0.0; max_block]; channels],
            atom_in,
            atom_out,
        });
        Ok(())
    }

    fn latency(&self) -> u32 {
        match (&self.active, self.latency_port) {
            (Some(active), Some(port)) => active
                .instance
                .control_output(PortIndex(port))
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map_or(0, |v| v.round() as u32),
            _ => 0,
        }
    }

    fn tail(&self) -> Tail {
        Tail::UntilSilent
    }

    fn process(&mut self, block: &mut [&mut [f32]]) -> Result<()> {
        let active = self
            .active
            .as_mut()
            .ok_or_else(|| anyhow!("not activated"))?;
        let n = block.first().map_or(0, |c| c.len());
        for sequence in active.atom_in.iter_mut() {
            sequence.clear();
        }
        let ports = PortConnections {
            audio_inputs: block.iter().map(|c| &c[..]),
            audio_outputs: active.outputs.iter_mut().map(|o| &mut o[..n]),
            atom_sequence_inputs: active.atom_in.iter(),
            atom_sequence_outputs: active.atom_out.iter_mut(),
            cv_inputs: std::iter::empty(),
            cv_outputs: std::iter::empty(),
        };
        // SAFETY: every buffer lives through the call and has `n` frames; the atom
        // buffers were made with this instance's features.
        unsafe { active.instance.run(n, ports) }
            .map_err(|e| anyhow!("the plug-in could not run: {e:?}"))?;
        active.features.worker_manager().run_workers();
        for (channel, output) in block.iter_mut().zip(&active.outputs) {
            channel.copy_from_slice(&output[..n]);
        }
        Ok(())
    }
}
