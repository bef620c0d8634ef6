//! FLAC written as it goes: one frame per block of 4096 frames (see [`super::flac_frame`]
//! for the encoder), the STREAMINFO (with the MD5 of the samples) patched in at the end,
//! so memory stays flat.
//!
//! It runs on the caller's thread: [`super::write::Writer`] calls it from the thread
//! that quantises and writes, which runs behind the decoding and resampling.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};

use anyhow::{bail, Result};
use md5::{Digest, Md5};

use super::flac_frame::{Bits, FrameEncoder};
use super::write::OutputSpec;

/// Frames per FLAC block: the reference encoder's default at 44.1/48 kHz.
const BLOCK: usize = 4096;
/// "fLaC", the STREAMINFO block's header (last metadata block, type 0, 34 bytes).
const HEADER: [u8; 8] = [b'f', b'L', b'a', b'C', 0x80, 0, 0, 34];

pub struct FlacStream {
    out: BufWriter<File>,
    channels: usize,
    bits: u32,
    rate: u32,
    frames: FrameEncoder,
    bytes: Bits,
    md5: Md5,
    md5_bytes: Vec<u8>,
    /// Interleaved samples of the block being filled (less than a whole block).
    pending: Vec<i32>,
    number: u64,
    total: u64,
    min_frame: usize,
    max_frame: usize,
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
        Ok(Self {
            out,
            channels: spec.channels,
            bits,
            rate: spec.sample_rate,
            frames: FrameEncoder::new(),
            bytes: Bits::new(),
            md5: Md5::new(),
            md5_bytes: Vec::new(),
            pending: Vec::with_capacity(BLOCK * spec.channels),
            number: 0,
            total: 0,
            min_frame: usize::MAX,
            max_frame: 0,
        })
    }

    /// Appends interleaved integer samples; whole blocks are encoded as they fill.
    pub fn write_interleaved(&mut self, mut samples: &[i32]) -> Result<()> {
        let block = BLOCK * self.channels;
        if !self.pending.is_empty() {
            let take = (block - self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.pending.len() < block {
                return Ok(());
            }
            let pending = std::mem::take(&mut self.pending);
            let result = self.encode(&pending);
            self.pending = pending;
            self.pending.clear();
            result?;
        }
        let whole = samples.len() / block * block;
        self.encode(&samples[..whole])?;
        self.pending.extend_from_slice(&samples[whole..]);
        Ok(())
    }

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

    /// Encodes what is left (the last block may be short) and writes the STREAMINFO.
    pub fn finish(mut self) -> Result<()> {
        let last = std::mem::take(&mut self.pending);
        self.encode(&last)?;
        let Self {
            out,
            channels,
            bits,
            rate,
            md5,
            total,
            min_frame,
            max_frame,
            ..
        } = self;
        let md5: [u8; 16] = md5.finalize().into();
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
        info.put(20, u64::from(rate));
        info.put(3, channels as u64 - 1);
        info.put(5, u64::from(bits) - 1);
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
