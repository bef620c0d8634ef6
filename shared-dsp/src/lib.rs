//! Oxide's DSP: the processors that both plugins and the `oxide` command run.
//!
//! Nothing here knows about a plugin framework, a GUI or files. Every type takes plain
//! units (Hz, dB, ms, ratios) and follows one life cycle:
//!
//! - `new(sample_rate, …)` or `prepare(…)` allocates everything for the worst case;
//! - `reset()` clears the signal state but keeps the settings;
//! - `process…()` is infallible and never allocates, locks, logs or panics;
//! - `latency()` reports the delay in samples where there is one.
pub mod block;
pub mod correlation;
pub mod cpu;
pub mod db;
pub mod delay;
pub mod delay_line;
pub mod denormal;
pub mod dynamics;
pub mod filter;
pub mod gain;
pub mod loudness;
pub mod mastering;
pub mod oversample;
pub mod peak_meter;
pub mod repair;
pub mod reverb;
pub mod rng;
pub mod sanitize;
pub mod saturation;
pub mod smoother;
pub mod spectrum_tap;
pub mod stereo;
#[cfg(test)]
pub(crate) mod test_util;
