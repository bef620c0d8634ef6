//! `oxide convert IN OUT`: format, sample rate and bit depth, nothing else changed.
//! Streams: memory does not grow with the file's length.

use std::path::Path;

use anyhow::Result;
use oxide_cli::audio::{RateWriter, Reader};

use crate::output::OutputArgs;

/// Frames read at a time.
const BLOCK: usize = 1 << 14;

pub fn run(input: &Path, output: &Path, out: &OutputArgs) -> Result<()> {
    let container = out.check(input, output)?;
    // `f64` all the way to the writer: the conversion's accuracy is not limited by the
    // reader's word length.
    let mut reader = Reader::<f64>::open(input)?;
    let info = reader.info().clone();
    let spec = out.spec(container, &info, false)?;
    let depth = spec.depth;
    let mut writer = RateWriter::create(output, spec, info.sample_rate)?;
    let bar = crate::progress::bar(
        info.frames.unwrap_or(0),
        info.sample_rate,
        input.display().to_string(),
        true,
    );
    let mut block = vec![Vec::with_capacity(BLOCK); info.channels];
    while reader.read(&mut block, BLOCK)? > 0 {
        let views: Vec<&[f64]> = block.iter().map(Vec::as_slice).collect();
        writer.push_f64(&views)?;
        if let Some(bar) = &bar {
            bar.set_position(reader.position());
        }
    }
    drop(bar);
    crate::output::finish(writer, depth, output)
}
