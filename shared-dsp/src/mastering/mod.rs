//! The mastering chain's processors, in the order the mastering plugin runs them:
//!
//! ```text
//! tonal EQ → multiband compressor → stereo imager → (loudness gain) → true-peak limiter → dither
//! ```
//!
//! - [`tonal_eq`]: [`TonalEq`] / [`TonalEqSettings`]: tilt, low shelf, broad bell, high
//!   shelf, on stereo, mid only or side only (the channel strip's [`crate::filter::ChannelEq`]
//!   does the filtering).
//! - [`crossover`]: [`Crossover3`], the Linkwitz–Riley three-band split both the
//!   multiband compressor and the imager use (bands sum to an allpass).
//! - [`multiband`]: [`MultibandCompressor`] / [`MultibandSettings`]: one
//!   [`crate::dynamics::Compressor`] per band, solo and bypass per band.
//! - [`imager`]: [`StereoImager`] / [`ImagerSettings`]: width per band, mono below a
//!   frequency.
//! - [`limiter`]: [`TruePeakLimiter`] / [`LimiterSettings`]: lookahead limiter on true
//!   peaks (8× with the loudness module's [`crate::loudness::TruePeakInterpolator`]).
//! - [`dither`]: [`Dither`] / [`DitherSettings`]: TPDF dither to 16 or 24 bits, flat or
//!   noise-shaped, seeded.
//!
//! There is no chain type: the plugin and the `oxide` command build theirs. Every block
//! has a plain `Copy` settings struct, `new(sample_rate)`, `reset()`, `latency()` and
//! `process(&mut [&mut [f32]], &settings)` on 1 or 2 channels, in place. Only the
//! limiter has latency.

// Channel and band loops index several parallel arrays (bands, dry copies, smoothers,
// channels) by the same number; iterator zips of four or five of them read worse.
#![allow(clippy::needless_range_loop)]

pub mod crossover;
pub mod dither;
pub mod imager;
pub mod limiter;
pub mod multiband;
pub mod tonal_eq;

#[cfg(test)]
pub(crate) mod test_signals;

pub use crossover::{Crossover3, CrossoverSettings};
pub use dither::{Dither, DitherBits, DitherSettings, NoiseShape};
pub use imager::{ImagerSettings, StereoImager};
pub use limiter::{LimiterSettings, TruePeakLimiter};
pub use multiband::{BandCompressorSettings, MultibandCompressor, MultibandSettings};
pub use tonal_eq::{EqMode, TonalEq, TonalEqSettings};

/// Frames per inner pass of the block processors (scratch buffers are this long, so any
/// host block size works without allocation).
pub(crate) const CHUNK: usize = 512;
