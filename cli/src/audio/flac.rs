//! FLAC written as it goes with `flacenc`: one frame per block, the STREAMINFO (with
//! the MD5 of the samples) patched in at the end, so memory stays flat.

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
/// "fLaC", the STREAMINFO block's header (last metadata block, type 0, 34 bytes).
const HEADER: [u8; 8] = [b'f', b'L', b'a', b'C', 0x80, 0, 0, 34];

pub struct FlacStream {
    out: BufWriter<File>,
    config: Verified<flacenc::config::Encoder>,
    info: StreamInfo,
    frame: FrameBuf,
    context: Context,
    channels: usize,
    bits: u32,
    pending: Vec<i32>,
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
            frame: FrameBuf::with_size(spec.channels, BLOCK).map_err(encode_error)?,
            context: Context::new(bits as usize, spec.channels),
            channels: spec.channels,
            bits,
            pending: Vec::with_capacity(BLOCK * spec.channels),
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

    fn encode_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.frame
            .fill_interleaved(&self.pending)
            .map_err(encode_error)?;
        self.context
            .fill_interleaved(&self.pending)
            .map_err(encode_error)?;
        let number = self.context.current_frame_number().unwrap_or(0);
        let frame = flacenc::encode_fixed_size_frame(&self.config, &self.frame, number, &self.info)
            .map_err(encode_error)?;
        self.info.update_frame_info(&frame);
        self.sink.clear();
        frame.write(&mut self.sink).map_err(encode_error)?;
        self.out.write_all(self.sink.as_slice())?;
        self.pending.clear();
        Ok(())
    }

    /// Encodes the last block and writes the STREAMINFO.
    pub fn finish(mut self) -> Result<()> {
        self.encode_pending()?;
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
