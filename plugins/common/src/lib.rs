//! The framework-side pieces both Oxide plugins share, so neither plugin carries a copy:
//! value formatters a DAW shows, the editor scaffolding, and parameter access by id (used
//! by the `oxide` command and the tests to drive a plugin's parameters exactly as a host
//! does). DSP lives in `shared-dsp`; this crate knows nice-plug and egui.

pub mod clap_entry;
pub mod editor;
pub mod formatters;
pub mod history;
pub mod latency;
pub mod param_access;
pub mod param_builders;
pub mod preset_bar;
pub mod presets;
pub mod remote_controls;
pub mod spectrum;
pub mod state_version;
pub mod user_presets;
pub mod vst3_aux;
pub mod vst3_preset;
pub mod vst3_state;
#[cfg(all(target_family = "unix", not(target_os = "macos")))]
pub mod vst3_view;
