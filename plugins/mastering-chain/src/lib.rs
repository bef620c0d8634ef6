//! Oxide Mastering Chain: the plugin on the master bus, for the finished stereo mix.
//!
//! `chain` is the plain-Rust processing (also run by the `oxide` command and the tests),
//! `params` the host parameters and their mapping to the chain's settings, `editor` the
//! GUI. Data flows one way: host parameter → `Settings` → chain → audio.

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use nice_plug::prelude::*;
use oxide_plugin_common::editor::RepaintNotifier;

pub mod chain;
pub mod editor;
pub mod meters;
pub mod params;

pub use chain::{Chain, ChainMeters, RepairSettings, Settings};
pub use params::MasterParams;

/// The largest block the chain is allocated for before the host tells us its own.
const DEFAULT_MAX_BLOCK: usize = 1024;

pub struct MasteringChain {
    params: Arc<MasterParams>,
    editor_state: Arc<editor::EditorState>,
    chain: Chain,
    /// Meters for the editor; the same `Arc` across re-activations.
    meters: Arc<ChainMeters>,
    /// The latency last reported to the host, samples.
    reported_latency: u32,
    /// Asks the open editor for a frame when new audio has reached its meters (an
    /// atomic store; the window polls it at about 64 Hz).
    repaint: RepaintNotifier,
}

impl Default for MasteringChain {
    fn default() -> Self {
        let params = Arc::new(MasterParams::default());
        let chain = Chain::new(44_100.0, DEFAULT_MAX_BLOCK, &params.settings());
        let meters = chain.meters();
        Self {
            params,
            editor_state: editor::default_state(),
            reported_latency: chain.latency_samples(),
            chain,
            meters,
            repaint: RepaintNotifier::new(),
        }
    }
}

impl Plugin for MasteringChain {
    const NAME: &'static str = "Oxide Mastering Chain";
    const VENDOR: &'static str = "Oxide";
    const URL: &'static str = env!("CARGO_PKG_REPOSITORY");
    const EMAIL: &'static str = "audio@oxide.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = editor::Editor;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn filter_state(state: &mut PluginState) {
        // A state from a file the user edited, or a damaged project, must not reach the
        // audio with out-of-range values.
        // A project saved by an older version is brought up to this one's parameters.
        oxide_plugin_common::state_version::migrate_state(
            state,
            oxide_plugin_common::state_version::MASTERING_CHAIN_MIGRATIONS,
            oxide_plugin_common::state_version::STATE_VERSION,
        );
        oxide_plugin_common::param_access::sanitize_state(state, &MasterParams::default());
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        // Opens at the size the project saved (the meters follow this state's `is_open`).
        self.editor_state = editor::state_for(&self.params);
        editor::create(
            self.params.clone(),
            self.meters.clone(),
            self.editor_state.clone(),
            self.repaint.clone(),
        )
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let sample_rate = buffer_config.sample_rate;
        if !(sample_rate.is_finite() && sample_rate >= 1000.0) {
            return false;
        }
        // Allocation happens here, on the main thread, for the host's largest block.
        let channels = audio_io_layout
            .main_output_channels
            .map_or(2, |c| c.get() as usize);
        self.chain = Chain::with_channels(
            sample_rate,
            channels,
            buffer_config.max_buffer_size as usize,
            &self.params.settings(),
        );
        self.chain.set_meters(self.meters.clone());
        if let Some(held) = self.params.held_gain() {
            self.chain
                .restore_held_loud_gain(held, &self.params.settings());
        }
        self.reported_latency = self.chain.latency_samples();
        context.set_latency_samples(self.reported_latency);
        true
    }

    fn reset(&mut self) {
        self.chain.reset(&self.params.settings());
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let settings = self.params.settings();
        // The editor's analysis (spectrum, goniometer, correlation, limiter GR history)
        // runs only while the editor is open (nice-plug-egui sets its state's flag while
        // the window exists); then each block asks it for a frame.
        let editor_open = self.editor_state.is_open();
        self.meters
            .editor_open
            .store(editor_open, Ordering::Relaxed);
        if editor_open {
            self.repaint.request_repaint();
        }
        // A lookahead change or switching the repair stage changes the latency: tell the
        // host before the block that has it.
        let latency = self.chain.update_latency(&settings);
        if latency != self.reported_latency {
            self.reported_latency = latency;
            oxide_plugin_common::latency::announce_latency_change(context, latency);
        }
        self.chain.process(buffer.as_slice(), &settings);
        self.params.store_held_gain(self.chain.held_loud_gain());
        ProcessStatus::Normal
    }
}

impl ClapPlugin for MasteringChain {
    const CLAP_ID: &'static str = "audio.oxide.mastering-chain";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("A mastering chain: tonal EQ, multiband dynamics, imager, loudness target, true-peak limiter, dither");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Mastering,
        ClapFeature::Limiter,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];

    fn remote_controls(&self, context: &mut impl RemoteControlsContext) {
        self.params.remote_control_pages(context);
    }
}

impl Vst3Plugin for MasteringChain {
    const VST3_CLASS_ID: [u8; 16] = *b"OxideMasterChn01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Mastering,
        Vst3SubCategory::Dynamics,
    ];
}

impl oxide_plugin_common::clap_entry::ClapPresets for MasteringChain {
    const PRESET_PLUGIN: &'static str = oxide_plugin_common::presets::MASTERING_CHAIN;
}

// Through Oxide's CLAP entry rather than `nice_export_clap!`: it adds the preset-discovery
// factory and the preset-load extension (see `oxide_plugin_common::clap_entry`).
#[cfg(feature = "export")]
oxide_plugin_common::oxide_export_clap!(MasteringChain);
// Through Oxide's VST3 export rather than `nice_export_vst3!`: it keeps a parameter
// value the host sets while the plugin processes for the next save (see
// `oxide_plugin_common::vst3_state`).
#[cfg(feature = "export")]
oxide_plugin_common::oxide_export_vst3!(MasteringChain);
