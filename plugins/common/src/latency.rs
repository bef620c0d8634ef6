//! Telling the host that the latency changed while processing.

use nice_plug::prelude::{Plugin, PluginApi, ProcessContext};

/// Announces a latency change that happened while processing (a setting such as the
/// limiter's lookahead or the saturation switch changed it).
///
/// VST3 hosts take the new latency at once (`restartComponent(kLatencyChanged)`). CLAP
/// allows the latency to be announced only while the plugin is being activated, so the
/// plugin asks for a restart and announces it in `activate`. nice-plug's own path for
/// CLAP defers the announcement to the main thread, where it can arrive after the host
/// has already deactivated the plugin, which the CLAP spec forbids (clap-validator's
/// parameter fuzz tests caught it).
pub fn announce_latency_change<P: Plugin>(context: &mut impl ProcessContext<P>, latency: u32) {
    match context.plugin_api() {
        PluginApi::Clap => context.request_restart(),
        _ => context.set_latency_samples(latency),
    }
}
