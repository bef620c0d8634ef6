//! The audio-file layer every `oxide` command uses: one streaming reader (symphonia),
//! one writer (WAV and FLAC, dithered, written safely), sample-rate conversion (rubato)
//! and tags (lofty).
//!
//! - [`Reader`] streams any supported file as planar `f32` or `f64` blocks; [`read`]
//!   reads a whole file.
//! - [`Writer`] writes planar `f32` blocks as described by an [`OutputSpec`];
//!   [`write`] writes a whole file. [`check_output`] validates an output path first.
//! - [`resample`] converts the sample rate, aligned to the input to the sample.

mod flac;
mod flac_frame;
mod pipe;
pub mod read;
pub mod resample;
pub mod tags;
pub mod write;

pub use pipe::RateWriter;
pub use read::{read, Audio, Reader, Sample, SourceInfo, SUPPORTED};
pub use tags::Tags;
pub use write::{check_output, write, Container, Depth, DitherMode, OutputSpec, Writer, Written};
