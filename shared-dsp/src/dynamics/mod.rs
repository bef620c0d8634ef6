//! Dynamics: gain computer, level detectors, ballistics, and the channel strip's
//! compressor and gate/expander built from them.
//!
//! The pieces are small public types so the mastering chain's multiband compressor and
//! limiter reuse them:
//!
//! - [`GainComputer`]: the static curve (hard/soft knee, compression or expansion),
//!   Giannoulis, Massberg and Reiss, JAES 2012.
//! - [`LevelDetector`], [`RmsDetector`]: peak or windowed-RMS detection as a power.
//! - [`Ballistics`], [`AutoReleaseBallistics`]: attack/release in the dB domain. **Every
//!   attack and release time in this module is a 10 %–90 % time** (see
//!   [`ballistics`]).
//! - [`fast_math`]: the logarithm and exponential used once per frame.
//! - [`Compressor`] / [`CompressorSettings`] and [`Gate`] / [`GateSettings`]: the two
//!   processors, no latency.

pub mod ballistics;
pub mod compressor;
pub mod detector;
pub mod fast_math;
pub mod gain_computer;

pub use ballistics::{AutoReleaseBallistics, Ballistics};
pub use compressor::{auto_makeup_db, Compressor, CompressorSettings};
pub use detector::{DetectorMode, LevelDetector, RmsDetector};
pub use gain_computer::{CurveKind, GainComputer};

/// Frames processed per inner pass (scratch buffers are this long, so any block size
/// works without allocation).
const CHUNK: usize = 64;
