//! The one streaming reader: every format symphonia decodes, as planar `f32` or `f64`.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use symphonia::core::audio::GenericAudioBufferRef;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

use super::tags::Tags;

/// What the error messages list as readable.
pub const SUPPORTED: &str =
    "WAV (incl. extensible, 64-bit float), FLAC, AIFF, CAF, Ogg Vorbis, MP3, M4A (AAC, ALAC)";
/// The rates the commands accept, Hz.
const RATE_RANGE: std::ops::RangeInclusive<u32> = 8_000..=768_000;

/// A sample type the reader delivers.
pub trait Sample: Copy + Default + Send + 'static {
    /// Copies a decoded buffer into planar vectors (resized to the buffer).
    fn copy_planar(buf: &GenericAudioBufferRef<'_>, out: &mut Vec<Vec<Self>>);
    /// To `f64` (exact).
    fn to_f64(self) -> f64;
    /// From `f64` (rounded to the nearest for `f32`).
    fn from_f64(x: f64) -> Self;
}

impl Sample for f32 {
    fn copy_planar(buf: &GenericAudioBufferRef<'_>, out: &mut Vec<Vec<Self>>) {
        buf.copy_to_vecs_planar::<f32>(out);
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}

impl Sample for f64 {
    fn copy_planar(buf: &GenericAudioBufferRef<'_>, out: &mut Vec<Vec<Self>>) {
        buf.copy_to_vecs_planar::<f64>(out);
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(x: f64) -> Self {
        x
    }
}

/// What a file holds, known when it is opened.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub path: PathBuf,
    pub sample_rate: u32,
    pub channels: usize,
    /// Bits per sample of a PCM or lossless source (`None` for lossy codecs).
    pub bits: Option<u32>,
    /// True when the source stores floating-point samples.
    pub float: bool,
    /// Frames, when the container says.
    pub frames: Option<u64>,
    /// Tags read from the file (empty when it has none or the format keeps none).
    pub tags: Tags,
}

impl SourceInfo {
    /// True when every sample of the source lies on the `bits`-bit integer grid, so that
    /// writing it at that depth needs no quantisation.
    pub fn exact_at(&self, bits: u32) -> bool {
        !self.float && self.bits.is_some_and(|b| b <= bits)
    }
}

/// A streaming reader: decodes packet by packet, hands out frames in any block size.
pub struct Reader<S: Sample = f32> {
    info: SourceInfo,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// Decoded frames not yet handed out, and where they start.
    pending: Vec<Vec<S>>,
    pending_at: usize,
    /// Frames handed out so far.
    position: u64,
    ended: bool,
}

fn unsupported(path: &Path, what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "'{}' is not a supported audio file ({what}); supported: {SUPPORTED}",
        path.display()
    )
}

impl<S: Sample> Reader<S> {
    /// Opens `path` and finds its first audio track.
    pub fn open(path: &Path) -> Result<Self> {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read '{}'", path.display()))?;
        if meta.is_dir() {
            bail!("'{}' is a folder, not an audio file", path.display());
        }
        if meta.len() == 0 {
            bail!("'{}' is empty (0 bytes)", path.display());
        }
        let file = File::open(path).with_context(|| format!("cannot open '{}'", path.display()))?;
        let stream = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let mut format = symphonia::default::get_probe()
            .probe(
                &hint,
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| match e {
                DecodeError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                    unsupported(path, "truncated, or no audio format recognised")
                }
                DecodeError::Unsupported(_) => unsupported(path, "format not recognised"),
                other => anyhow::anyhow!("'{}' could not be read: {other}", path.display()),
            })?;
        let track = format
            .default_track(TrackType::Audio)
            .or_else(|| format.first_track(TrackType::Audio))
            .cloned()
            .ok_or_else(|| unsupported(path, "no audio track"))?;
        let Some(CodecParameters::Audio(params)) = &track.codec_params else {
            return Err(unsupported(path, "no audio codec parameters"));
        };
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|_| unsupported(path, "codec not supported"))?;
        let channels = params.channels.as_ref().map_or(0, |c| c.count());
        if channels == 0 {
            bail!("'{}' has no audio channels", path.display());
        }
        let sample_rate = params.sample_rate.unwrap_or(0);
        if !RATE_RANGE.contains(&sample_rate) {
            bail!(
                "'{}' has a sample rate of {sample_rate} Hz, outside 8 kHz – 768 kHz",
                path.display()
            );
        }
        if track.num_frames == Some(0) {
            bail!("'{}' holds no audio (0 frames)", path.display());
        }
        use symphonia::core::audio::sample::SampleFormat as F;
        let float = matches!(params.sample_format, Some(F::F32 | F::F64));
        let lossless = decoder.codec_info().short_name;
        let lossy = matches!(lossless, "mp1" | "mp2" | "mp3" | "aac" | "vorbis");
        let bits = if lossy {
            None
        } else {
            params
                .bits_per_coded_sample
                .or(params.bits_per_sample)
                .or(match params.sample_format {
                    Some(F::F32) => Some(32),
                    Some(F::F64) => Some(64),
                    _ => None,
                })
        };
        let info = SourceInfo {
            path: path.to_path_buf(),
            sample_rate,
            channels,
            bits,
            float: float || lossy,
            frames: track.num_frames,
            tags: Tags::read(path),
        };
        // The container's own metadata is read by `Tags::read`; symphonia's log is not kept.
        let _ = format.metadata();
        Ok(Self {
            info,
            format,
            decoder,
            track_id: track.id,
            pending: Vec::new(),
            pending_at: 0,
            position: 0,
            ended: false,
        })
    }

    /// What the file holds.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// Frames handed out so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    fn damaged(&self, error: DecodeError) -> anyhow::Error {
        let seconds = self.position as f64 / self.info.sample_rate as f64;
        let what = match error {
            DecodeError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                String::from("truncated")
            }
            other => format!("damaged ({other})"),
        };
        anyhow::anyhow!(
            "'{}' is {what} at frame {} ({seconds:.3} s)",
            self.info.path.display(),
            self.position
        )
    }

    /// Decodes the next packet into `pending`; false at the end of the stream.
    fn decode_next(&mut self) -> Result<bool> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(false),
                Err(e) => return Err(self.damaged(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    S::copy_planar(&buf, &mut self.pending);
                    self.pending_at = 0;
                    if self.pending.first().is_some_and(|c| !c.is_empty()) {
                        return Ok(true);
                    }
                }
                Err(e) => return Err(self.damaged(e)),
            }
        }
    }

    /// Fills `out` (one vector per channel, cleared first) with up to `max_frames`
    /// frames; returns how many, 0 at the end. Memory is bounded by the block and one
    /// decoded packet, whatever the file's length.
    pub fn read(&mut self, out: &mut [Vec<S>], max_frames: usize) -> Result<usize> {
        debug_assert_eq!(out.len(), self.info.channels);
        out.iter_mut().for_each(Vec::clear);
        let mut filled = 0;
        while filled < max_frames && !self.ended {
            let available = self.pending.first().map_or(0, Vec::len) - self.pending_at;
            if available == 0 {
                if !self.decode_next()? {
                    self.ended = true;
                }
                continue;
            }
            if self.pending.len() != out.len() {
                bail!(
                    "'{}' changes its channel count at frame {}",
                    self.info.path.display(),
                    self.position
                );
            }
            let take = available.min(max_frames - filled);
            for (dst, src) in out.iter_mut().zip(&self.pending) {
                dst.extend_from_slice(&src[self.pending_at..self.pending_at + take]);
            }
            self.pending_at += take;
            filled += take;
        }
        self.position += filled as u64;
        if self.ended && self.position == 0 {
            bail!("'{}' holds no audio (0 frames)", self.info.path.display());
        }
        Ok(filled)
    }
}

/// A whole file in memory, planar.
pub struct Audio<S: Sample = f32> {
    pub info: SourceInfo,
    pub channels: Vec<Vec<S>>,
}

impl<S: Sample> Audio<S> {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Reads a whole file (for commands that need several passes over it).
pub fn read<S: Sample>(path: &Path) -> Result<Audio<S>> {
    let mut reader = Reader::<S>::open(path)?;
    let n = reader.info().channels;
    let mut channels: Vec<Vec<S>> = vec![Vec::new(); n];
    if let Some(frames) = reader.info().frames {
        channels
            .iter_mut()
            .for_each(|c| c.reserve(frames.min(1 << 28) as usize));
    }
    let mut block = vec![Vec::new(); n];
    while reader.read(&mut block, 1 << 16)? > 0 {
        for (c, b) in channels.iter_mut().zip(&block) {
            c.extend_from_slice(b);
        }
    }
    Ok(Audio {
        info: reader.info().clone(),
        channels,
    })
}
