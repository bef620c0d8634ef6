//! The one writer: WAV (16/24-bit integer, 32-bit float; RF64 past 4 GiB) or FLAC
//! (16/24-bit, our own encoder), chosen by the output's extension, quantised with dither,
//! written to a temporary file beside the output and renamed into place when complete.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use anyhow::{anyhow, bail, Context, Result};
use shared_dsp::mastering::dither::{Dither, DitherBits, DitherSettings, NoiseShape, DEFAULT_SEED};

use super::flac::FlacStream;
use super::tags::Tags;

/// The file format written, from the output's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Wav,
    Flac,
}

impl Container {
    /// The container for `path`'s extension.
    pub fn for_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "wav" | "wave" => Ok(Container::Wav),
            "flac" => Ok(Container::Flac),
            _ => bail!(
                "cannot write '{}': oxide writes WAV (.wav) and FLAC (.flac) files",
                path.display()
            ),
        }
    }
}

/// A sample format the command writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Int16,
    Int24,
    Float32,
}

impl Depth {
    /// Parses `--bits`: 16, 24 or 32f.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "16" => Ok(Depth::Int16),
            "24" => Ok(Depth::Int24),
            "32f" | "32" | "float" => Ok(Depth::Float32),
            other => bail!("unsupported bit depth '{other}': use 16, 24 or 32f"),
        }
    }

    /// Integer bits (`None` for float).
    pub fn int_bits(self) -> Option<u32> {
        match self {
            Depth::Int16 => Some(16),
            Depth::Int24 => Some(24),
            Depth::Float32 => None,
        }
    }

    /// The depth that keeps a source of `bits` (float or not) without loss in `container`.
    pub fn for_source(bits: Option<u32>, float: bool, container: Container) -> Depth {
        match (float, bits, container) {
            (false, Some(b), _) if b <= 16 => Depth::Int16,
            (false, Some(b), _) if b <= 24 => Depth::Int24,
            (_, _, Container::Flac) => Depth::Int24,
            _ => Depth::Float32,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Depth::Int16 => "16",
            Depth::Int24 => "24",
            Depth::Float32 => "32f",
        }
    }
}

/// How samples are quantised to an integer depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DitherMode {
    /// Triangular-PDF dither of ±1 LSB (flat spectrum).
    #[default]
    Tpdf,
    /// TPDF with the mastering chain's noise shaping.
    Shaped,
    /// Round to the nearest step, no dither.
    Off,
}

/// Everything about the file to write.
#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub container: Container,
    pub depth: Depth,
    pub sample_rate: u32,
    pub channels: usize,
    /// Dither used when quantising to an integer depth.
    pub dither: DitherMode,
    /// True when the samples already lie on the output's integer grid (an unchanged
    /// 16/24-bit source, or a chain that dithered itself): then nothing is dithered and
    /// the samples are written bit for bit.
    pub exact: bool,
    pub tags: Tags,
}

/// The temporary file's name beside `path` (hidden, named after the output and this
/// process), where a safe write goes before its rename.
pub fn temporary_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| String::from("output"));
    path.with_file_name(format!(".{name}.oxide-{}.tmp", std::process::id()))
}

/// Checks an output path before any work: not one of `inputs`, not existing unless
/// `force`, not a folder, in a folder that exists, with an extension oxide writes.
pub fn check_output(inputs: &[&Path], output: &Path, force: bool) -> Result<Container> {
    let container = Container::for_path(output)?;
    for input in inputs {
        if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize()) {
            if a == b {
                bail!("the output '{}' is the input file", output.display());
            }
        }
    }
    if output.is_dir() {
        bail!("the output '{}' is a folder", output.display());
    }
    if output.exists() && !force {
        bail!(
            "'{}' already exists: pass --force to overwrite it",
            output.display()
        );
    }
    let folder = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        bail!("the output folder '{}' does not exist", folder.display());
    }
    Ok(container)
}

enum Sink {
    Wav(WavStream),
    Flac(Box<FlacStream>),
}

/// Frames handed to the writing thread at a time (16 FLAC blocks).
const BATCH: usize = 1 << 16;

/// A file being written. Nothing appears under the output's name until
/// [`Writer::finish`]; dropping an unfinished writer removes its temporary file.
///
/// The quantising (clip count, dither, rounding) and the file's encoding run on a
/// thread of their own, a batch behind the caller, so on a machine with a second core
/// they overlap the decoding, processing and resampling that produce the samples. The
/// bytes written do not depend on it: that one thread takes every batch in order.
pub struct Writer {
    path: PathBuf,
    temporary: PathBuf,
    tags: Tags,
    container: Container,
    /// Planar samples waiting for a whole batch.
    batch: Vec<Vec<f32>>,
    to_stage: Option<SyncSender<Vec<Vec<f32>>>>,
    /// Emptied batches back from the stage, for reuse.
    spare: Receiver<Vec<Vec<f32>>>,
    stage: Option<JoinHandle<Result<Staged>>>,
    frames: u64,
}

/// What a finished write did.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub frames: u64,
    /// Samples beyond full scale, clipped in an integer output.
    pub clipped: u64,
}

/// The writing thread's state: the quantiser and the file's encoder.
struct Stage {
    depth: Depth,
    dither: Option<DitherSettings>,
    dithers: Vec<Dither>,
    ints: Vec<i32>,
    clipped: u64,
    sink: Sink,
}

/// What the writing thread hands back at the end.
struct Staged {
    sink: Sink,
    clipped: u64,
}

impl Stage {
    fn new(spec: &OutputSpec, sink: Sink) -> Self {
        let dither = match spec.depth.int_bits() {
            Some(bits) if !spec.exact && spec.dither != DitherMode::Off => Some(DitherSettings {
                bits: if bits == 16 {
                    DitherBits::Bits16
                } else {
                    DitherBits::Bits24
                },
                shape: if spec.dither == DitherMode::Shaped {
                    NoiseShape::Shaped
                } else {
                    NoiseShape::Flat
                },
            }),
            _ => None,
        };
        let seed_pairs = spec.channels.div_ceil(2);
        Self {
            depth: spec.depth,
            dither,
            dithers: (0..seed_pairs)
                .map(|k| Dither::with_seed(spec.sample_rate as f32, DEFAULT_SEED + k as u64))
                .collect(),
            ints: Vec::new(),
            clipped: 0,
            sink,
        }
    }

    fn run(
        mut self,
        batches: Receiver<Vec<Vec<f32>>>,
        spare: SyncSender<Vec<Vec<f32>>>,
    ) -> Result<Staged> {
        for mut batch in batches {
            self.write(&mut batch)?;
            // The caller may be gone (an error on its side): nothing to reuse then.
            let _ = spare.try_send(batch);
        }
        Ok(Staged {
            sink: self.sink,
            clipped: self.clipped,
        })
    }

    /// Quantises (in place) and writes planar frames.
    fn write(&mut self, channels: &mut [Vec<f32>]) -> Result<()> {
        let frames = channels.first().map_or(0, |c| c.len());
        let Some(bits) = self.depth.int_bits() else {
            let views: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
            return match &mut self.sink {
                Sink::Wav(w) => w.write_f32(&views, frames),
                Sink::Flac(_) => unreachable!("checked in create"),
            };
        };
        let scale = (1u32 << (bits - 1)) as f32;
        // Clipping is counted before the dither (which clamps by itself).
        self.clipped += channels
            .iter()
            .flatten()
            .filter(|&&x| x * scale > scale - 1.0 || x * scale < -scale)
            .count() as u64;
        if let Some(settings) = &self.dither {
            for (pair, dither) in channels.chunks_mut(2).zip(&mut self.dithers) {
                let mut views: Vec<&mut [f32]> =
                    pair.iter_mut().map(|c| c.as_mut_slice()).collect();
                dither.process(&mut views, settings);
            }
        }
        let scale = scale as f64;
        // Rounded half away from zero without a libm call: y holds f32's 24 significant
        // bits, so y ± 0.5 is exact in f64 below 2^52, and the cast truncates (clamping
        // before or after truncating gives the same integer). Not finite: 0.
        let int = |x: f32| -> i32 {
            let y = if x.is_finite() { x as f64 * scale } else { 0.0 };
            (y + 0.5f64.copysign(y)).clamp(-scale, scale - 1.0) as i32
        };
        self.ints.clear();
        self.ints.resize(frames * channels.len(), 0);
        match channels {
            // The usual case as a straight loop, which vectorises.
            [l, r] => {
                let frames = self
                    .ints
                    .chunks_exact_mut(2)
                    .zip(&l[..frames])
                    .zip(&r[..frames]);
                for ((o, &a), &b) in frames {
                    o[0] = int(a);
                    o[1] = int(b);
                }
            }
            _ => {
                let n = channels.len();
                for (c, channel) in channels.iter().enumerate() {
                    for (o, &x) in self.ints[c..].iter_mut().step_by(n).zip(channel) {
                        *o = int(x);
                    }
                }
            }
        }
        match &mut self.sink {
            Sink::Wav(w) => w.write_ints(&self.ints, bits),
            Sink::Flac(f) => f.write_interleaved(&self.ints),
        }
    }
}

impl Writer {
    /// Starts writing `path` (checked with [`check_output`] first).
    pub fn create(path: &Path, spec: OutputSpec) -> Result<Self> {
        if spec.container == Container::Flac && spec.depth == Depth::Float32 {
            bail!(
                "'{}': FLAC holds 16- or 24-bit integers; use --bits 16 or 24 (or a .wav output for 32-bit float)",
                path.display()
            );
        }
        let temporary = temporary_for(path);
        let file = File::create(&temporary)
            .with_context(|| format!("could not create '{}'", temporary.display()))?;
        let started = match spec.container {
            Container::Wav => WavStream::start(file, &spec).map(Sink::Wav),
            Container::Flac => FlacStream::start(file, &spec).map(|f| Sink::Flac(Box::new(f))),
        };
        let sink = match started {
            Ok(sink) => sink,
            Err(e) => {
                let _ = std::fs::remove_file(&temporary);
                return Err(e);
            }
        };
        let stage = Stage::new(&spec, sink);
        // One batch queued while one is written and one is filled: three at most.
        let (to_stage, batches) = sync_channel(1);
        let (spare_sender, spare) = sync_channel(2);
        let handle = std::thread::Builder::new()
            .name("oxide writer".into())
            .spawn(move || stage.run(batches, spare_sender))?;
        Ok(Self {
            path: path.to_path_buf(),
            temporary,
            tags: spec.tags,
            container: spec.container,
            batch: vec![Vec::with_capacity(BATCH); spec.channels],
            to_stage: Some(to_stage),
            spare,
            stage: Some(handle),
            frames: 0,
        })
    }

    /// Appends planar frames (one slice per channel, equal lengths).
    pub fn write(&mut self, channels: &[&[f32]]) -> Result<()> {
        debug_assert_eq!(channels.len(), self.batch.len());
        let frames = channels.first().map_or(0, |c| c.len());
        let mut done = 0;
        while done < frames {
            let filled = self.batch.first().map_or(0, Vec::len);
            let take = (BATCH - filled).min(frames - done);
            for (b, c) in self.batch.iter_mut().zip(channels) {
                b.extend_from_slice(&c[done..done + take]);
            }
            done += take;
            if filled + take == BATCH {
                let next = self
                    .spare
                    .try_recv()
                    .unwrap_or_else(|_| vec![Vec::with_capacity(BATCH); channels.len()]);
                let full = std::mem::replace(&mut self.batch, next);
                for b in &mut self.batch {
                    b.clear();
                }
                self.send(full)?;
            }
        }
        self.frames += frames as u64;
        Ok(())
    }

    fn send(&mut self, batch: Vec<Vec<f32>>) -> Result<()> {
        let sent = self
            .to_stage
            .as_ref()
            .is_some_and(|s| s.send(batch).is_ok());
        if sent {
            Ok(())
        } else {
            // The writing thread stopped: its error says why.
            let error = match self.join() {
                Err(e) => e,
                Ok(_) => anyhow!("the writing thread stopped"),
            };
            Err(error.context(format!("could not write '{}'", self.temporary.display())))
        }
    }

    /// Ends the writing thread and takes back its state.
    fn join(&mut self) -> Result<Staged> {
        self.to_stage = None;
        let handle = self
            .stage
            .take()
            .ok_or_else(|| anyhow!("the writing thread stopped"))?;
        handle
            .join()
            .map_err(|_| anyhow!("the writing thread panicked"))?
    }

    /// Completes the file, writes its tags and renames it into place.
    pub fn finish(mut self) -> Result<Written> {
        let temporary = self.temporary.clone();
        let context = || format!("could not finish '{}'", temporary.display());
        let last = std::mem::take(&mut self.batch);
        if last.first().is_some_and(|c| !c.is_empty()) {
            self.send(last)?;
        }
        let Staged { sink, clipped } = self.join().with_context(context)?;
        let rf64 = match sink {
            Sink::Wav(w) => w.finish(u32::MAX as u64).with_context(context)?,
            Sink::Flac(f) => {
                f.finish().with_context(context)?;
                false
            }
        };
        if rf64 && !self.tags.0.is_empty() {
            eprintln!("oxide: warning: tags are not written into an RF64 file (over 4 GiB)");
        } else {
            self.tags
                .write_into(&self.temporary, self.container == Container::Flac)?;
        }
        std::fs::rename(&self.temporary, &self.path)
            .with_context(|| format!("could not move the result to '{}'", self.path.display()))?;
        // Renamed: nothing for the drop to remove.
        self.temporary = PathBuf::new();
        Ok(Written {
            frames: self.frames,
            clipped,
        })
    }
}

impl Drop for Writer {
    /// An unfinished writer (an error on the caller's side) stops its thread and
    /// removes its temporary file.
    fn drop(&mut self) {
        self.to_stage = None;
        if let Some(handle) = self.stage.take() {
            let _ = handle.join();
        }
        if !self.temporary.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

/// Writes a whole file at once.
pub fn write(path: &Path, spec: OutputSpec, channels: &[Vec<f32>]) -> Result<Written> {
    let mut writer = Writer::create(path, spec)?;
    let views: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
    const BLOCK: usize = 1 << 16;
    let frames = views.first().map_or(0, |c| c.len());
    let mut start = 0;
    while start < frames {
        let end = (start + BLOCK).min(frames);
        let block: Vec<&[f32]> = views.iter().map(|c| &c[start..end]).collect();
        writer.write(&block)?;
        start = end;
    }
    writer.finish()
}

/// A WAV file written as it goes; sizes are patched at the end (RF64 with a `ds64`
/// chunk in place of the reserved `JUNK` when the data passes 4 GiB, EBU Tech 3306).
struct WavStream {
    out: BufWriter<File>,
    data_start: u64,
    data_bytes: u64,
    block_align: u16,
    bytes: Vec<u8>,
}

/// The low `W` bytes of every sample, little-endian, into `bytes` (`W` per sample).
fn pack<const W: usize>(bytes: &mut [u8], samples: &[i32]) {
    for (b, v) in bytes.chunks_exact_mut(W).zip(samples) {
        b.copy_from_slice(&v.to_le_bytes()[..W]);
    }
}

/// The `ds64` chunk's payload: RIFF size, data size, sample count (u64 each), table
/// length (u32).
const DS64_BYTES: u32 = 28;

impl WavStream {
    fn start(file: File, spec: &OutputSpec) -> Result<Self> {
        let (format_tag, bits): (u16, u16) = match spec.depth {
            Depth::Int16 => (1, 16),
            Depth::Int24 => (1, 24),
            Depth::Float32 => (3, 32),
        };
        let channels = spec.channels as u16;
        let block_align = channels * bits / 8;
        let extensible = channels > 2;
        let mut h: Vec<u8> = Vec::with_capacity(96);
        h.extend_from_slice(b"RIFF\0\0\0\0WAVE");
        h.extend_from_slice(b"JUNK");
        h.extend_from_slice(&DS64_BYTES.to_le_bytes());
        h.extend_from_slice(&[0; DS64_BYTES as usize]);
        h.extend_from_slice(b"fmt ");
        h.extend_from_slice(&(if extensible { 40u32 } else { 16 }).to_le_bytes());
        h.extend_from_slice(&(if extensible { 0xFFFEu16 } else { format_tag }).to_le_bytes());
        h.extend_from_slice(&channels.to_le_bytes());
        h.extend_from_slice(&spec.sample_rate.to_le_bytes());
        h.extend_from_slice(&(spec.sample_rate * block_align as u32).to_le_bytes());
        h.extend_from_slice(&block_align.to_le_bytes());
        h.extend_from_slice(&bits.to_le_bytes());
        if extensible {
            h.extend_from_slice(&22u16.to_le_bytes());
            h.extend_from_slice(&bits.to_le_bytes()); // valid bits
                                                      // Channel mask: the first `channels` speaker positions (FL FR FC LFE BL BR …).
            let mask: u32 = if channels >= 32 {
                0
            } else {
                (1u32 << channels) - 1
            };
            h.extend_from_slice(&mask.to_le_bytes());
            // KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: the format tag, then the fixed GUID tail.
            h.extend_from_slice(&(format_tag as u32).to_le_bytes());
            h.extend_from_slice(&[
                0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
            ]);
        }
        h.extend_from_slice(b"data\0\0\0\0");
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&h)?;
        Ok(Self {
            out,
            data_start: h.len() as u64,
            data_bytes: 0,
            block_align,
            bytes: Vec::new(),
        })
    }

    fn write_f32(&mut self, channels: &[&[f32]], frames: usize) -> Result<()> {
        let n = channels.len();
        self.bytes.clear();
        self.bytes.resize(frames * n * 4, 0);
        for (c, channel) in channels.iter().enumerate() {
            let frames = self.bytes.chunks_exact_mut(n * 4);
            for (frame, x) in frames.zip(&channel[..]) {
                frame[4 * c..4 * c + 4].copy_from_slice(&x.to_le_bytes());
            }
        }
        self.flush_bytes()
    }

    fn write_ints(&mut self, interleaved: &[i32], bits: u32) -> Result<()> {
        self.bytes.clear();
        self.bytes
            .resize(interleaved.len() * (bits / 8) as usize, 0);
        // Fixed widths, so the packing loops have no per-sample length.
        match bits {
            16 => pack::<2>(&mut self.bytes, interleaved),
            24 => pack::<3>(&mut self.bytes, interleaved),
            _ => pack::<4>(&mut self.bytes, interleaved),
        }
        self.flush_bytes()
    }

    fn flush_bytes(&mut self) -> Result<()> {
        self.out.write_all(&self.bytes)?;
        self.data_bytes += self.bytes.len() as u64;
        Ok(())
    }

    /// Patches the sizes; true when the file became RF64 (when a size passes `limit`,
    /// `u32::MAX` but in tests).
    fn finish(mut self, limit: u64) -> Result<bool> {
        if self.data_bytes % 2 == 1 {
            self.out.write_all(&[0])?; // chunks are word-aligned
        }
        let riff_size = self.data_start + self.data_bytes + self.data_bytes % 2 - 8;
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        let rf64 = riff_size > limit || self.data_bytes > limit;
        if rf64 {
            file.seek(SeekFrom::Start(0))?;
            file.write_all(b"RF64")?;
            file.write_all(&u32::MAX.to_le_bytes())?;
            file.seek(SeekFrom::Start(12))?;
            file.write_all(b"ds64")?;
            file.write_all(&DS64_BYTES.to_le_bytes())?;
            file.write_all(&riff_size.to_le_bytes())?;
            file.write_all(&self.data_bytes.to_le_bytes())?;
            file.write_all(&(self.data_bytes / self.block_align as u64).to_le_bytes())?;
            file.write_all(&0u32.to_le_bytes())?;
            file.seek(SeekFrom::Start(self.data_start - 4))?;
            file.write_all(&u32::MAX.to_le_bytes())?;
        } else {
            file.seek(SeekFrom::Start(4))?;
            file.write_all(&(riff_size as u32).to_le_bytes())?;
            file.seek(SeekFrom::Start(self.data_start - 4))?;
            file.write_all(&(self.data_bytes as u32).to_le_bytes())?;
        }
        file.sync_all()?;
        Ok(rf64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> OutputSpec {
        OutputSpec {
            container: Container::Wav,
            depth: Depth::Int16,
            sample_rate: 48_000,
            channels: 2,
            dither: DitherMode::Off,
            exact: true,
            tags: Tags::default(),
        }
    }

    /// The RF64 form (EBU Tech 3306) that a file past 4 GiB gets, forced on a small
    /// file: `RF64`/`ds64` with the 64-bit sizes, the 32-bit ones at 0xFFFFFFFF, and
    /// ffmpeg (an independent reader of RF64) decodes the samples written.
    #[test]
    fn a_file_past_the_32_bit_sizes_becomes_rf64() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.wav");
        let mut wav = WavStream::start(File::create(&path).unwrap(), &spec()).unwrap();
        let samples: Vec<i32> = (0..2000).map(|i| (i * 13 % 4001) - 2000).collect();
        wav.write_ints(&samples, 16).unwrap();
        assert!(wav.finish(100).unwrap());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[0..4], b"RF64");
        assert_eq!(&bytes[4..8], &u32::MAX.to_le_bytes());
        assert_eq!(&bytes[12..16], b"ds64");
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        assert_eq!(u64_at(20), bytes.len() as u64 - 8, "RIFF size");
        assert_eq!(u64_at(28), 4000, "data size");
        assert_eq!(u64_at(36), 1000, "frames");
        let decoded = std::process::Command::new("ffmpeg")
            .args(["-loglevel", "error", "-i"])
            .arg(&path)
            .args(["-f", "s16le", "-"])
            .output()
            .expect("ffmpeg (see .ci/run)");
        assert!(decoded.status.success());
        let back: Vec<i32> = decoded
            .stdout
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]) as i32)
            .collect();
        assert_eq!(back, samples);
    }
}
