//! Oxide Channel Strip: the mixing plugin inserted on every track.
//!
//! `chain` is the plain-Rust processing (also run by the `oxide` command and the tests),
//! `params` the host parameters and their mapping to the chain's settings, `editor` the
//! GUI. Data flows one way: host parameter → `Settings` → chain → audio.

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use nice_plug::prelude::*;

use shared_dsp::peak_meter::{peak_db, peak_fall_db};

pub mod chain;
pub mod editor;
pub mod meters;
pub mod params;

pub use chain::{Chain, Settings};
pub use meters::Meters;
pub use params::StripParams;

/// The largest block the chain is allocated for before the host tells us its own.
const DEFAULT_MAX_BLOCK: usize = 1024;

/// Stereo and mono, each with a sidechain input of the same width.
const LAYOUTS: &[AudioIOLayout] = &[
    AudioIOLayout {
        main_input_channels: NonZeroU32::new(2),
        main_output_channels: NonZeroU32::new(2),
        aux_input_ports: &[new_nonzero_u32(2)],
        names: PortNames {
            aux_inputs: &["Sidechain"],
            ..PortNames::const_default()
        },
        ..AudioIOLayout::const_default()
    },
    AudioIOLayout {
        main_input_channels: NonZeroU32::new(1),
        main_output_channels: NonZeroU32::new(1),
        aux_input_ports: &[new_nonzero_u32(1)],
        names: PortNames {
            aux_inputs: &["Sidechain"],
            ..PortNames::const_default()
        },
        ..AudioIOLayout::const_default()
    },
];

/// The plugin.
pub struct ChannelStrip {
    params: Arc<StripParams>,
    editor_state: Arc<editor::EditorState>,
    meters: Arc<Meters>,
    chain: Chain,
    sample_rate: f32,
    /// The latency last reported to the host.
    reported_latency: u32,
}

impl Default for ChannelStrip {
    fn default() -> Self {
        let params = Arc::new(StripParams::default());
        let chain = Chain::new(44_100.0, DEFAULT_MAX_BLOCK, &params.settings());
        Self {
            params,
            editor_state: editor::default_state(),
            meters: Arc::new(Meters::default()),
            chain,
            sample_rate: 44_100.0,
            reported_latency: 0,
        }
    }
}

impl Plugin for ChannelStrip {
    const NAME: &'static str = "Oxide Channel Strip";
    const VENDOR: &'static str = "Oxide";
    const URL: &'static str = env!("CARGO_PKG_REPOSITORY");
    const EMAIL: &'static str = "audio@oxide.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    // Stereo with a stereo sidechain, and mono with a mono sidechain. The sidechain keys
    // the compressor when `comp_sc_ext` is on. A host that gives no buffer or an empty
    // one keys the compressor from its own input; a silent (or inactive) sidechain keys
    // nothing, as on a console with an unplugged key input.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = LAYOUTS;

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
            oxide_plugin_common::state_version::CHANNEL_STRIP_MIGRATIONS,
            oxide_plugin_common::state_version::STATE_VERSION,
        );
        oxide_plugin_common::param_access::sanitize_state(state, &StripParams::default());
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        // Opens at the size the project saved (the meters follow this state's `is_open`).
        self.editor_state = oxide_plugin_common::editor::state_with_scale(
            &self.params.editor_size,
            &self.params.ui_scale,
            params::DEFAULT_SIZE,
        );
        editor::create(
            self.params.clone(),
            self.editor_state.clone(),
            self.meters.clone(),
        )
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
        self.sample_rate = sample_rate;
        self.meters
            .sample_rate
            .store(sample_rate, Ordering::Relaxed);
        self.meters.spectrum.set_sample_rate(sample_rate);
        self.reported_latency = self.chain.latency_samples();
        context.set_latency_samples(self.reported_latency);
        true
    }

    fn reset(&mut self) {
        self.chain.reset(&self.params.settings());
        self.meters.clear();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let settings = self.params.settings_at_tempo(context.transport().tempo);
        let metering = self.editor_state.is_open();
        let channels = buffer.as_slice();
        let frames = channels.first().map_or(0, |c| c.len());
        let fall_db = peak_fall_db(frames, self.sample_rate);
        if metering {
            Meters::hold_peak(&self.meters.input_peak_db, peak_db(channels), fall_db);
        }

        // The sidechain port: up to two channels; absent, empty or short means "none".
        let mut sidechain: [&[f32]; chain::MAX_CHANNELS] = [&[]; chain::MAX_CHANNELS];
        let mut sidechain_channels = 0;
        if let Some(port) = aux.inputs.first() {
            for (part, channel) in sidechain.iter_mut().zip(port.as_slice_immutable()) {
                *part = channel;
                sidechain_channels += 1;
            }
        }
        let sidechain = (sidechain_channels > 0).then_some(&sidechain[..sidechain_channels]);
        self.chain
            .process_with_sidechain(channels, sidechain, &settings);

        let latency = self.chain.latency_samples();
        if latency != self.reported_latency {
            self.reported_latency = latency;
            oxide_plugin_common::latency::announce_latency_change(context, latency);
        }
        if metering {
            let meters = &self.meters;
            Meters::hold_peak(&meters.output_peak_db, peak_db(channels), fall_db);
            meters
                .gate_gr_db
                .store(self.chain.gate_gain_reduction_db(), Ordering::Relaxed);
            meters
                .comp_gr_db
                .store(self.chain.comp_gain_reduction_db(), Ordering::Relaxed);
            Meters::hold_peak(
                &meters.comp_level_db,
                self.chain.comp_key_peak_db(),
                fall_db,
            );
            meters
                .gate_open
                .store(self.chain.gate_open(), Ordering::Relaxed);
            match &*channels {
                [left, right, ..] => meters.spectrum.push(left, Some(right)),
                [mono] => meters.spectrum.push(mono, None),
                [] => {}
            }
            if meters.moving() {
                meters.repaint.request_repaint();
            }
        }
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

    fn remote_controls(&self, context: &mut impl RemoteControlsContext) {
        self.params.remote_control_pages(context);
    }
}

impl Vst3Plugin for ChannelStrip {
    const VST3_CLASS_ID: [u8; 16] = *b"OxideChanStrip01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Eq,
        Vst3SubCategory::Dynamics,
    ];
}

impl oxide_plugin_common::clap_entry::ClapPresets for ChannelStrip {
    const PRESET_PLUGIN: &'static str = oxide_plugin_common::presets::CHANNEL_STRIP;
}

// Through Oxide's CLAP entry rather than `nice_export_clap!`: it adds the preset-discovery
// factory and the preset-load extension (see `oxide_plugin_common::clap_entry`).
#[cfg(feature = "export")]
oxide_plugin_common::oxide_export_clap!(ChannelStrip);
// Through Oxide's VST3 export rather than `nice_export_vst3!`: nice-plug 0.4.2's VST3
// wrapper crashes on a sidechain bus the host leaves inactive (see
// `oxide_plugin_common::vst3_aux`), and drops a parameter value the host sets while the
// plugin processes from the next save (`oxide_plugin_common::vst3_state`).
#[cfg(feature = "export")]
oxide_plugin_common::oxide_export_vst3!(ChannelStrip);
