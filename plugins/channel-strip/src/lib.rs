//! Oxide Channel Strip: the mixing plugin inserted on every track.
//!
//! `chain` is the plain-Rust processing (also run by the `oxide` command and the tests),
//! `params` the host parameters and their mapping to the chain's settings, `editor` the
//! GUI. Data flows one way: host parameter → `Settings` → chain → audio.

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;

pub mod chain;
pub mod editor;
pub mod params;

pub use chain::{Chain, Settings};
pub use params::StripParams;

/// The largest block the chain is allocated for before the host tells us its own.
const DEFAULT_MAX_BLOCK: usize = 1024;

pub struct ChannelStrip {
    params: Arc<StripParams>,
    editor_state: Arc<editor::EditorState>,
    chain: Chain,
}

impl Default for ChannelStrip {
    fn default() -> Self {
        let params = Arc::new(StripParams::default());
        let chain = Chain::new(44_100.0, DEFAULT_MAX_BLOCK, &params.settings());
        Self {
            params,
            editor_state: editor::default_state(),
            chain,
        }
    }
}

impl Plugin for ChannelStrip {
    const NAME: &'static str = "Oxide Channel Strip";
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
        oxide_plugin_common::param_access::sanitize_state(state, &StripParams::default());
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(self.params.clone(), self.editor_state.clone())
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let sample_rate = buffer_config.sample_rate;
        if !(sample_rate.is_finite() && sample_rate >= 1000.0) {
            return false;
        }
        // Allocation happens here, on the main thread, for the host's largest block.
        self.chain = Chain::new(
            sample_rate,
            buffer_config.max_buffer_size as usize,
            &self.params.settings(),
        );
        context.set_latency_samples(self.chain.latency_samples());
        true
    }

    fn reset(&mut self) {
        self.chain.reset(&self.params.settings());
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let settings = self.params.settings();
        self.chain.process(buffer.as_slice(), &settings);
        match self.chain.tail_samples() {
            0 => ProcessStatus::Normal,
            tail => ProcessStatus::Tail(tail),
        }
    }
}

impl ClapPlugin for ChannelStrip {
    const CLAP_ID: &'static str = "audio.oxide.channel-strip";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("A mixing channel strip: trim, filters, gate, EQ, compressor, saturation, space, pan");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Mixing,
        ClapFeature::Equalizer,
        ClapFeature::Compressor,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for ChannelStrip {
    const VST3_CLASS_ID: [u8; 16] = *b"OxideChanStrip01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Eq,
        Vst3SubCategory::Dynamics,
    ];
}

#[cfg(feature = "export")]
nice_export_clap!(ChannelStrip);
#[cfg(feature = "export")]
nice_export_vst3!(ChannelStrip);
