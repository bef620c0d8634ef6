//! FLAC written as it goes: one frame per block of 4096 frames (see [`super::flac_frame`]
//! for the encoder), the STREAMINFO (with the MD5 of the samples) patched in at the end,
//! so memory stays flat.
//!
//! The encoding runs on a thread of its own, a batch of blocks behind the caller, so on
//! a machine with a second core it overlaps the decoding, resampling and dither that
//! produce the samples. The bytes written do not depend on it: the one encoder thread
//! codes every block in order, the same way.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use anyhow::{anyhow, bail, Result};
use md5::{Digest, Md5};

use super::flac_frame::{Bits, FrameEncoder};
use super::write::OutputSpec;

/// Frames per FLAC block: the reference encoder's default at 44.1/48 kHz.
const BLOCK: usize = 4096;
/// Blocks handed to the encoder thread at a time: 16 × 4096 frames.
const BATCH: usize = 16;
/// "fLaC", the STREAMINFO block's header (last metadata block, type 0, 34 bytes).
const HEADER: [u8; 8] = [b'f', b'L', b'a', b'C', 0x80, 0, 0, 34];

pub struct FlacStream {
    channels: usize,
    bits: u32,
    rate: u32,
    /// Interleaved samples of full blocks waiting for the batch, then the block being
    /// filled.
    batch: Vec<i32>,
    to_encoder: Option<SyncSender<Vec<i32>>>,
    /// Emptied batches back from the encoder, for reuse.
    spare: Receiver<Vec<i32>>,
    encoder: Option<JoinHandle<Result<Encoded>>>,
}

/// What the encoder thread did, for the STREAMINFO.
struct Encoded {
    out: BufWriter<File>,
    md5: [u8; 16],
    total: u64,
    min_frame: usize,
    max_frame: usize,
}

/// The encoder thread's state.
struct Encoder {
    out: BufWriter<File>,
    channels: usize,
    bits: u32,
    rate: u32,
    frames: FrameEncoder,
    bytes: Bits,
    md5: Md5,
    md5_bytes: Vec<u8>,
    number: u64,
    total: u64,
    min_frame: usize,
    max_frame: usize,
}

impl Encoder {
    /// Encodes interleaved samples, whole blocks and then (only at the end) a shorter
    /// one.
    fn encode(&mut self, samples: &[i32]) -> Result<()> {
        // The MD5 runs over the samples as little-endian integers of the output's width.
        let width = (self.bits / 8) as usize;
        self.md5_bytes.clear();
        self.md5_bytes.resize(samples.len() * width, 0);
        for (bytes, &s) in self.md5_bytes.chunks_exact_mut(width).zip(samples) {
            bytes.copy_from_slice(&s.to_le_bytes()[..width]);
        }
        self.md5.update(&self.md5_bytes);
        for block in samples.chunks(BLOCK * self.channels) {
            self.bytes.clear();
            self.frames.encode(
                &mut self.bytes,
                block,
                self.channels,
                self.bits,
                self.rate,
                self.number,
            );
            let size = self.bytes.bytes.len();
            self.min_frame = self.min_frame.min(size);
            self.max_frame = self.max_frame.max(size);
            self.out.write_all(&self.bytes.bytes)?;
            self.number += 1;
            self.total += (block.len() / self.channels) as u64;
        }
        Ok(())
    }

    fn run(mut self, batches: Receiver<Vec<i32>>, spare: SyncSender<Vec<i32>>) -> Result<Encoded> {
        for batch in batches {
            self.encode(&batch)?;
            // The caller may be gone (an error on its side): nothing to reuse then.
            let _ = spare.try_send(batch);
        }
        Ok(Encoded {
            out: self.out,
            md5: self.md5.finalize().into(),
            total: self.total,
            min_frame: self.min_frame,
            max_frame: self.max_frame,
        })
    }
}

impl FlacStream {
    pub fn start(file: File, spec: &OutputSpec) -> Result<Self> {
        let bits = spec.depth.int_bits().expect("checked by the writer");
        if !(1..=8).contains(&spec.channels) {
            bail!(
                "FLAC holds 1 to 8 channels, not {}; write a .wav instead",
                spec.channels
            );
        }
        if spec.sample_rate == 0 || spec.sample_rate > 655_350 {
            bail!(
                "FLAC holds sample rates up to 655350 Hz, not {}",
                spec.sample_rate
            );
        }
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&HEADER)?;
        out.write_all(&[0; 34])?;
        let encoder = Encoder {
            out,
            channels: spec.channels,
            bits,
            rate: spec.sample_rate,
            frames: FrameEncoder::new(),
            bytes: Bits::new(),
            md5: Md5::new(),
            md5_bytes: Vec::new(),
            number: 0,
            total: 0,
            min_frame: usize::MAX,
            max_frame: 0,
        };
        // One batch queued while one is encoded and one is filled: three at most.
        let (to_encoder, batches) = sync_channel(1);
        let (spare_sender, spare) = sync_channel(2);
        let handle = std::thread::Builder::new()
            .name("flac encoder".into())
            .spawn(move || encoder.run(batches, spare_sender))?;
        Ok(Self {
            channels: spec.channels,
            bits,
            rate: spec.sample_rate,
            batch: Vec::with_capacity(BLOCK * BATCH * spec.channels),
            to_encoder: Some(to_encoder),
            spare,
            encoder: Some(handle),
        })
    }

    /// Appends interleaved integer samples.
    pub fn write_interleaved(&mut self, mut samples: &[i32]) -> Result<()> {
        let full = BLOCK * BATCH * self.channels;
        while !samples.is_empty() {
            let take = (full - self.batch.len()).min(samples.len());
            self.batch.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.batch.len() == full {
                let next = self
                    .spare
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(full));
                let batch = std::mem::replace(&mut self.batch, next);
                self.send(batch)?;
                self.batch.clear();
            }
        }
        Ok(())
    }

    fn send(&mut self, batch: Vec<i32>) -> Result<()> {
        let sent = self
            .to_encoder
            .as_ref()
            .is_some_and(|s| s.send(batch).is_ok());
        if sent {
            Ok(())
        } else {
            // The encoder stopped: its error says why.
            Err(self
                .join()
                .err()
                .unwrap_or_else(|| anyhow!("FLAC encoder stopped")))
        }
    }

    fn join(&mut self) -> Result<Encoded> {
        self.to_encoder = None;
        let handle = self
            .encoder
            .take()
            .ok_or_else(|| anyhow!("FLAC encoder stopped"))?;
        handle
            .join()
            .map_err(|_| anyhow!("FLAC encoder thread panicked"))?
    }

    /// Encodes what is left (the last block may be short) and writes the STREAMINFO.
    pub fn finish(mut self) -> Result<()> {
        let last = std::mem::take(&mut self.batch);
        if !last.is_empty() {
            self.send(last)?;
        }
        let Encoded {
            out,
            md5,
            total,
            min_frame,
            max_frame,
        } = self.join()?;
        let block = if total >= BLOCK as u64 {
            BLOCK as u64
        } else {
            total.max(16)
        };
        let (min_frame, max_frame) = if total == 0 {
            (0, 0)
        } else {
            (min_frame as u64, max_frame as u64)
        };
        let mut info = Bits::new();
        info.put(16, block);
        info.put(16, block);
        info.put(24, min_frame.min(0xFF_FFFF));
        info.put(24, max_frame.min(0xFF_FFFF));
        info.put(20, u64::from(self.rate));
        info.put(3, self.channels as u64 - 1);
        info.put(5, u64::from(self.bits) - 1);
        info.put(4, (total >> 32) & 0xF);
        info.put(32, total & 0xFFFF_FFFF);
        for b in md5 {
            info.put(8, u64::from(b));
        }
        info.align();
        debug_assert_eq!(info.bytes.len(), 34);
        let mut file = out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(HEADER.len() as u64))?;
        file.write_all(&info.bytes)?;
        file.sync_all()?;
        Ok(())
    }
}

impl Drop for FlacStream {
    /// An unfinished stream (an error on the caller's side) stops its encoder thread.
    fn drop(&mut self) {
        self.to_encoder = None;
        if let Some(handle) = self.encoder.take() {
            let _ = handle.join();
        }
    }
}
