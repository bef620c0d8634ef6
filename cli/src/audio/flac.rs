//! FLAC written as it goes with `flacenc`: one frame per block, the STREAMINFO (with
//! the MD5 of the samples) patched in at the end, so memory stays flat. Frames are
//! independent, so a batch of blocks is encoded on all cores and written in order.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};

use anyhow::{anyhow, Result};
use flacenc::bitsink::MemSink;
use flacenc::component::{BitRepr, StreamInfo};
use flacenc::error::{Verified, Verify};
use flacenc::source::{Context, Fill, FrameBuf};

use super::write::OutputSpec;

/// Frames per FLAC block: the reference encoder's default at 44.1/48 kHz.
const BLOCK: usize = 4096;
/// Blocks encoded together (spread over the cores): 32 × 4096 frames, about 1 MiB of
/// stereo samples held at a time.
const BATCH: usize = 32;
/// "fLaC", the STREAMINFO block's header (last metadata block, type 0, 34 bytes).
const HEADER: [u8; 8] = [b'f', b'L', b'a', b'C', 0x80, 0, 0, 34];

pub struct FlacStream {
    out: BufWriter<File>,
    config: Verified<flacenc::config::Encoder>,
    info: StreamInfo,
    context: Context,
    channels: usize,
    bits: u32,
    /// Full blocks waiting for the batch, then the block being filled.
    blocks: Vec<Vec<i32>>,
    pending: Vec<i32>,
    frames_written: usize,
    sink: MemSink<u8>,
}

fn encode_error(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow!("FLAC encoder: {e:?}")
}

impl FlacStream {
    pub fn start(file: File, spec: &OutputSpec) -> Result<Self> {
        let bits = spec.depth.int_bits().expect("checked by the writer");
        let config = flacenc::config::Encoder::default()
            .into_verified()
            .map_err(|(_, e)| encode_error(e))?;
        let info = StreamInfo::new(spec.sample_rate as usize, spec.channels, bits as usize)
            .map_err(encode_error)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&HEADER)?;
        out.write_all(&[0; 34])?;
        Ok(Self {
            out,
            config,
            info,
            context: Context::new(bits as usize, spec.channels),
            channels: spec.channels,
            bits,
            blocks: Vec::with_capacity(BATCH),
            pending: Vec::with_capacity(BLOCK * spec.channels),
            frames_written: 0,
            sink: MemSink::new(),
        })
    }

    /// Appends interleaved integer samples.
    pub fn write_interleaved(&mut self, mut samples: &[i32]) -> Result<()> {
        let block = BLOCK * self.channels;
        while !samples.is_empty() {
            let take = (block - self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.pending.len() == block {
                self.encode_pending()?;
            }
        }
        Ok(())
    }

    /// Moves the block being filled to the batch; encodes the batch when it is full (or
    /// when `flush`).
    fn encode_pending(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            let block =
                std::mem::replace(&mut self.pending, Vec::with_capacity(BLOCK * self.channels));
            self.blocks.push(block);
        }
        if self.blocks.len() == BATCH {
            self.encode_batch()?;
        }
        Ok(())
    }

    fn encode_batch(&mut self) -> Result<()> {
        if self.blocks.is_empty() {
            return Ok(());
        }
        // The MD5 runs over the samples in order.
        for block in &self.blocks {
            self.context.fill_interleaved(block).map_err(encode_error)?;
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per_thread = self.blocks.len().div_ceil(threads);
        let (config, info, channels, first) =
            (&self.config, &self.info, self.channels, self.frames_written);
        let frames: Vec<Result<flacenc::component::Frame>> = std::thread::scope(|scope| {
            let workers: Vec<_> = self
                .blocks
                .chunks(per_thread)
                .enumerate()
                .map(|(t, chunk)| {
                    scope.spawn(move || {
                        let mut buf = FrameBuf::with_size(channels, BLOCK).map_err(encode_error)?;
                        chunk
                            .iter()
                            .enumerate()
                            .map(|(k, block)| {
                                buf.fill_interleaved(block).map_err(encode_error)?;
                                let number = first + t * per_thread + k;
                                flacenc::encode_fixed_size_frame(config, &buf, number, info)
                                    .map_err(encode_error)
                            })
                            .collect::<Result<Vec<_>>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| match w.join().expect("encoder thread") {
                    Ok(frames) => frames.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(e) => vec![Err(e)],
                })
                .collect()
        });
        for frame in frames {
            let frame = frame?;
            self.info.update_frame_info(&frame);
            self.sink.clear();
            frame.write(&mut self.sink).map_err(encode_error)?;
            self.out.write_all(self.sink.as_slice())?;
            self.frames_written += 1;
        }
        self.blocks.clear();
        Ok(())
    }

    /// Encodes the last block and writes the STREAMINFO.
    pub fn finish(mut self) -> Result<()> {
        self.encode_pending()?;
        self.encode_batch()?;
        let total = self.context.total_samples();
        let block = if total >= BLOCK { BLOCK } else { total.max(16) };
        self.info
            .set_block_sizes(block, block)
            .map_err(encode_error)?;
        self.info.set_total_samples(total);
        self.info.set_md5_digest(&self.context.md5_digest());
        debug_assert!(self.bits == 16 || self.bits == 24);
        self.sink.clear();
        self.info.write(&mut self.sink).map_err(encode_error)?;
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(HEADER.len() as u64))?;
        file.write_all(self.sink.as_slice())?;
        file.sync_all()?;
        Ok(())
    }
}
