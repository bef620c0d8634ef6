//! A writer behind an optional sample-rate converter: blocks at the source's rate go
//! in, the file at the output's rate comes out.

use std::path::Path;

use anyhow::Result;

use super::resample::Resampler;
use super::write::{OutputSpec, Writer, Written};

/// Converts (when the rates differ) and writes.
pub struct RateWriter {
    writer: Writer,
    resampler: Option<Resampler>,
    wide: Vec<Vec<f64>>,
    narrow: Vec<Vec<f32>>,
}

fn narrow_into(narrow: &mut [Vec<f32>], block: &[&[f64]]) {
    for (n, b) in narrow.iter_mut().zip(block) {
        n.clear();
        n.extend(b.iter().map(|&x| x as f32));
    }
}

impl RateWriter {
    /// Writes `path` as `spec` from audio at `source_rate`.
    pub fn create(path: &Path, spec: OutputSpec, source_rate: u32) -> Result<Self> {
        let channels = spec.channels;
        let resampler = (spec.sample_rate != source_rate)
            .then(|| Resampler::new(source_rate, spec.sample_rate, channels))
            .transpose()?;
        Ok(Self {
            writer: Writer::create(path, spec)?,
            resampler,
            wide: vec![Vec::new(); channels],
            narrow: vec![Vec::new(); channels],
        })
    }

    /// Appends `f32` blocks at the source rate.
    pub fn push_f32(&mut self, block: &[&[f32]]) -> Result<()> {
        if self.resampler.is_none() {
            return self.writer.write(block);
        }
        let mut wide = std::mem::take(&mut self.wide);
        for (w, b) in wide.iter_mut().zip(block) {
            w.clear();
            w.extend(b.iter().map(|&x| x as f64));
        }
        let views: Vec<&[f64]> = wide.iter().map(Vec::as_slice).collect();
        let result = self.push_f64(&views);
        self.wide = wide;
        result
    }

    /// Appends `f64` blocks at the source rate (converted in `f64`).
    pub fn push_f64(&mut self, block: &[&[f64]]) -> Result<()> {
        let Self {
            writer,
            resampler,
            narrow,
            ..
        } = self;
        let mut emit = |out: &[&[f64]]| -> Result<()> {
            narrow_into(narrow, out);
            let views: Vec<&[f32]> = narrow.iter().map(Vec::as_slice).collect();
            writer.write(&views)
        };
        match resampler {
            Some(r) => r.push(block, &mut emit),
            None => emit(block),
        }
    }

    /// Flushes the converter and completes the file.
    pub fn finish(mut self) -> Result<Written> {
        if let Some(mut r) = self.resampler.take() {
            let Self { writer, narrow, .. } = &mut self;
            r.finish(&mut |out: &[&[f64]]| {
                narrow_into(narrow, out);
                let views: Vec<&[f32]> = narrow.iter().map(Vec::as_slice).collect();
                writer.write(&views)
            })?;
        }
        self.writer.finish()
    }
}
