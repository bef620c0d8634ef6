//! Reading and writing WAV files as planar f32 channels.

use std::path::Path;

use anyhow::{bail, Context, Result};
use hound::{SampleFormat, WavReader, WavSpec, WavWriter};

/// A sample format the command reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Int16,
    Int24,
    Float32,
}

impl Format {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "16" => Ok(Format::Int16),
            "24" => Ok(Format::Int24),
            "32f" | "32" | "float" => Ok(Format::Float32),
            other => bail!("unsupported bit depth '{other}': use 16, 24 or 32f"),
        }
    }

    fn spec(self, channels: u16, sample_rate: u32) -> WavSpec {
        let (bits_per_sample, sample_format) = match self {
            Format::Int16 => (16, SampleFormat::Int),
            Format::Int24 => (24, SampleFormat::Int),
            Format::Float32 => (32, SampleFormat::Float),
        };
        WavSpec {
            channels,
            sample_rate,
            bits_per_sample,
            sample_format,
        }
    }
}

/// Audio in memory: one `Vec` per channel.
pub struct Audio {
    pub sample_rate: u32,
    pub format: Format,
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Reads a 16/24-bit integer or 32-bit float WAV file, mono or stereo.
pub fn read_wav(path: &Path) -> Result<Audio> {
    let reader = WavReader::open(path)
        .with_context(|| format!("could not read '{}' as a WAV file", path.display()))?;
    let spec = reader.spec();
    let format =
        match (spec.sample_format, spec.bits_per_sample) {
            (SampleFormat::Int, 16) => Format::Int16,
            (SampleFormat::Int, 24) => Format::Int24,
            (SampleFormat::Float, 32) => Format::Float32,
            (format, bits) => bail!(
            "'{}' is {bits}-bit {}: only 16- and 24-bit integer and 32-bit float WAV are supported",
            path.display(),
            if format == SampleFormat::Int { "integer" } else { "float" }
        ),
        };
    let channel_count = spec.channels as usize;
    if !(1..=2).contains(&channel_count) {
        bail!(
            "'{}' has {channel_count} channels: only mono and stereo are supported",
            path.display()
        );
    }
    if spec.sample_rate < 8_000 || spec.sample_rate > 768_000 {
        bail!(
            "'{}' has a sample rate of {} Hz, outside 8 kHz – 768 kHz",
            path.display(),
            spec.sample_rate
        );
    }
    let interleaved: Vec<f32> = match format {
        Format::Float32 => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .with_context(|| format!("'{}' is damaged", path.display()))?,
        Format::Int16 | Format::Int24 => {
            let scale = 1.0 / (1u32 << (spec.bits_per_sample - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .with_context(|| format!("'{}' is damaged", path.display()))?
        }
    };
    let frames = interleaved.len() / channel_count;
    let mut channels = vec![Vec::with_capacity(frames); channel_count];
    for frame in interleaved.chunks_exact(channel_count) {
        for (channel, sample) in channels.iter_mut().zip(frame) {
            channel.push(*sample);
        }
    }
    Ok(Audio {
        sample_rate: spec.sample_rate,
        format,
        channels,
    })
}

/// Writes `audio` in `format` to `path`, which must not exist (the caller decides about
/// overwriting). Integer formats round to the nearest step and clip at full scale; the
/// number of clipped samples is returned.
pub fn write_wav(path: &Path, audio: &Audio, format: Format) -> Result<usize> {
    let spec = format.spec(audio.channels.len() as u16, audio.sample_rate);
    let mut writer = WavWriter::create(path, spec)
        .with_context(|| format!("could not create '{}'", path.display()))?;
    let mut clipped = 0;
    for frame in 0..audio.frames() {
        for channel in &audio.channels {
            let sample = channel[frame];
            match format {
                Format::Float32 => writer.write_sample(sample)?,
                Format::Int16 | Format::Int24 => {
                    let full_scale = if format == Format::Int16 {
                        32_768.0
                    } else {
                        8_388_608.0
                    };
                    let scaled = (sample as f64 * full_scale).round();
                    let value = scaled.clamp(-full_scale, full_scale - 1.0);
                    if value != scaled {
                        clipped += 1;
                    }
                    writer.write_sample(value as i32)?
                }
            }
        }
    }
    writer
        .finalize()
        .with_context(|| format!("could not finish writing '{}'", path.display()))?;
    Ok(clipped)
}
