//! Filters: analog-matched biquad designs, a modulation-robust TPT SVF to run them,
//! Butterworth high/low-pass cascades and the channel strip's tone section.
//!
//! - [`coeffs`]: [`BiquadCoeffs`] and the designs (bell, shelves, high/low/band-pass),
//!   with the analog prototype magnitudes they are matched to.
//! - [`svf`]: [`Biquad`], one channel of a biquad run as a TPT state-variable filter.
//! - [`butterworth`](mod@butterworth): 6…48 dB/oct cascades and [`ButterworthFilter`].
//! - `cascade`: the one pipelined cascade kernel (portable and wide builds) that the
//!   EQ runs and whose sections the crossover and the imager share.
//! - [`eq`]: [`ChannelEq`], the channel strip's HPF + LPF + six bands, driven by
//!   [`EqSettings`].

pub mod band;
pub mod butterworth;
pub(crate) mod cascade;
pub mod coeffs;
pub mod eq;
pub(crate) mod simd;
pub mod svf;

pub use band::BandCoeffs;
pub use butterworth::{butterworth, ButterworthFilter, PassKind, Slope};
pub use coeffs::{BiquadCoeffs, BUTTERWORTH_Q};
pub use eq::{BandKind, BandSettings, ChannelEq, EqSettings, PassSettings, NUM_BANDS};
pub use svf::{Biquad, SvfCoeffs};
