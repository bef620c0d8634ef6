//! The plugins the command can run, as plain chains with the plugins' own parameters:
//! settings reach the chain exactly as they do inside a host.

use std::sync::Arc;

use channel_strip::StripParams;
use mastering_chain::MasterParams;
use nice_plug::prelude::Params;

/// Which plugin's chain to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PluginKind {
    /// Oxide Channel Strip.
    ChannelStrip,
    /// Oxide Mastering Chain.
    MasteringChain,
}

/// A plugin's parameters, at their defaults until set.
pub enum PluginParams {
    Strip(Arc<StripParams>),
    Master(Arc<MasterParams>),
}

/// Processes one block of channels in place.
type ProcessFn = Box<dyn FnMut(&mut [&mut [f32]])>;

/// A chain ready to process, with what a host would ask of it.
pub struct Runner {
    process: ProcessFn,
    /// The delay the chain adds, in samples.
    pub latency: u32,
    /// How long the output goes on after the input ends, in samples.
    pub tail: u32,
}

impl Runner {
    /// Processes one block in place.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        (self.process)(channels)
    }
}

impl PluginKind {
    /// The plugin's VST3 class id, its vendor and version, as the plugin reports them.
    pub fn vst3_identity(self) -> ([u8; 16], &'static str, &'static str) {
        use nice_plug::prelude::{Plugin, Vst3Plugin};
        match self {
            PluginKind::ChannelStrip => (
                channel_strip::ChannelStrip::VST3_CLASS_ID,
                channel_strip::ChannelStrip::VENDOR,
                channel_strip::ChannelStrip::VERSION,
            ),
            PluginKind::MasteringChain => (
                mastering_chain::MasteringChain::VST3_CLASS_ID,
                mastering_chain::MasteringChain::VENDOR,
                mastering_chain::MasteringChain::VERSION,
            ),
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            PluginKind::ChannelStrip => "Oxide Channel Strip",
            PluginKind::MasteringChain => "Oxide Mastering Chain",
        }
    }

    /// The plugin id its preset files carry.
    pub fn preset_id(self) -> &'static str {
        match self {
            PluginKind::ChannelStrip => oxide_plugin_common::presets::CHANNEL_STRIP,
            PluginKind::MasteringChain => oxide_plugin_common::presets::MASTERING_CHAIN,
        }
    }

    /// The plugin's parameters at their defaults.
    pub fn default_params(self) -> PluginParams {
        match self {
            PluginKind::ChannelStrip => PluginParams::Strip(Arc::new(StripParams::default())),
            PluginKind::MasteringChain => PluginParams::Master(Arc::new(MasterParams::default())),
        }
    }
}

impl PluginParams {
    /// The parameters as nice-plug sees them (for access by id).
    pub fn as_params(&self) -> &dyn Params {
        match self {
            PluginParams::Strip(p) => p.as_ref(),
            PluginParams::Master(p) => p.as_ref(),
        }
    }

    /// A chain for `sample_rate` and blocks of up to `max_block` frames, resting at the
    /// current parameter values (as after a host's activate and reset).
    pub fn runner(&self, sample_rate: f32, max_block: usize) -> Runner {
        match self {
            PluginParams::Strip(params) => {
                let params = params.clone();
                let mut chain =
                    channel_strip::Chain::new(sample_rate, max_block, &params.settings());
                Runner {
                    latency: chain.latency_samples(),
                    tail: chain.tail_samples(),
                    process: Box::new(move |channels| chain.process(channels, &params.settings())),
                }
            }
            PluginParams::Master(params) => {
                let params = params.clone();
                let mut chain =
                    mastering_chain::Chain::new(sample_rate, max_block, &params.settings());
                Runner {
                    latency: chain.latency_samples(),
                    tail: 0,
                    process: Box::new(move |channels| chain.process(channels, &params.settings())),
                }
            }
        }
    }
}
