//! Sample-rate conversion with rubato's FFT resampler (a fixed ratio, offline), in
//! `f64`, streaming: the output is aligned to the input to the sample (the filter's
//! delay is dropped from the front) and holds `round(n · ratio)` frames.

use anyhow::{anyhow, Result};
use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler as _, WindowFunction};

use super::read::Sample;

/// Input frames per FFT chunk. Larger means a longer anti-aliasing filter (a narrower
/// transition band) at the cost of delay, which offline does not matter; 8192 at
/// 96 → 44.1 kHz gives a filter of 8 320 taps (see the quality tests).
const CHUNK: usize = 8192;

/// How many of the rates' smallest blocks one FFT chunk holds: the first even count
/// giving at least [`CHUNK`] input frames whose FFT sizes (in and out) have no prime
/// factor above 7, which rustfft runs several times faster than a size with a factor
/// such as 13 (96 → 44.1 kHz: 26 blocks would make FFTs of 8 320 and 3 822 frames,
/// both with 13; 28 blocks make 8 960 and 4 116). A longer chunk only lengthens the
/// anti-aliasing filter. If no such count lies within twice the first, the first is
/// used (rates with a large prime in their ratio).
fn fft_blocks(block_in: usize, block_out: usize) -> usize {
    let first = CHUNK.div_ceil(block_in).next_multiple_of(2);
    (first..=2 * first)
        .step_by(2)
        .find(|&b| seven_smooth(b * block_in) && seven_smooth(b * block_out))
        .unwrap_or(first)
}

/// Whether `n` has no prime factor above 7.
fn seven_smooth(mut n: usize) -> bool {
    for p in [2, 3, 5, 7] {
        while n > 0 && n.is_multiple_of(p) {
            n /= p;
        }
    }
    n == 1
}

/// A streaming converter from `rate_in` to `rate_out` for `channels` channels.
pub struct Resampler {
    inner: Fft<f64>,
    ratio: f64,
    channels: usize,
    /// Output frames still to drop (the filter's delay).
    to_skip: usize,
    input: Vec<Vec<f64>>,
    output: Vec<Vec<f64>>,
    frames_in: u64,
    frames_out: u64,
}

impl Resampler {
    pub fn new(rate_in: u32, rate_out: u32, channels: usize) -> Result<Self> {
        // The FFT sizes are whole multiples of the rates' smallest block; the filter's
        // delay is half the output FFT, a whole number of output frames only when that
        // multiple is even (48 → 88.2 kHz has an odd smallest output block, 147).
        let g = gcd(rate_in, rate_out).max(1);
        let (block_in, block_out) = ((rate_in / g) as usize, (rate_out / g) as usize);
        let blocks = fft_blocks(block_in, block_out);
        let inner = Fft::<f64>::new_custom(
            rate_in as usize,
            rate_out as usize,
            blocks * block_in,
            1,
            channels,
            WindowFunction::BlackmanHarris2,
            FixedSync::Input,
        )
        .map_err(|e| anyhow!("cannot convert {rate_in} Hz to {rate_out} Hz: {e}"))?;
        let to_skip = inner.output_delay();
        let out_max = inner.output_frames_max();
        Ok(Self {
            ratio: rate_out as f64 / rate_in as f64,
            channels,
            to_skip,
            input: vec![Vec::with_capacity(inner.input_frames_max()); channels],
            output: vec![vec![0.0; out_max]; channels],
            inner,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Output frames for `frames` input frames: `round(n · ratio)`.
    pub fn output_len(&self, frames: u64) -> u64 {
        (frames as f64 * self.ratio).round() as u64
    }

    /// Converts one chunk from `self.input`, handing the kept output to `emit`, at most
    /// `limit` frames in all.
    fn run_chunk(
        &mut self,
        limit: Option<u64>,
        emit: &mut dyn FnMut(&[&[f64]]) -> Result<()>,
    ) -> Result<()> {
        let frames = self.input[0].len();
        let input = SequentialSliceOfVecs::new(&self.input, self.channels, frames)
            .map_err(|e| anyhow!("resampler input: {e:?}"))?;
        let out_frames = self.output[0].len();
        let mut output =
            SequentialSliceOfVecs::new_mut(&mut self.output, self.channels, out_frames)
                .map_err(|e| anyhow!("resampler output: {e:?}"))?;
        let (_, produced) = self
            .inner
            .process_into_buffer(&input, &mut output, None)
            .map_err(|e| anyhow!("resampler: {e}"))?;
        let skip = self.to_skip.min(produced);
        self.to_skip -= skip;
        let mut end = produced;
        if let Some(limit) = limit {
            end = end.min(skip + (limit - self.frames_out) as usize);
        }
        if end > skip {
            let views: Vec<&[f64]> = self.output.iter().map(|c| &c[skip..end]).collect();
            emit(&views)?;
            self.frames_out += (end - skip) as u64;
        }
        self.input.iter_mut().for_each(Vec::clear);
        Ok(())
    }

    /// Feeds input frames (planar); converted frames go to `emit` as they come.
    pub fn push(
        &mut self,
        channels: &[&[f64]],
        emit: &mut dyn FnMut(&[&[f64]]) -> Result<()>,
    ) -> Result<()> {
        let frames = channels.first().map_or(0, |c| c.len());
        self.frames_in += frames as u64;
        let mut at = 0;
        while at < frames {
            let need = self.inner.input_frames_next() - self.input[0].len();
            let take = need.min(frames - at);
            for (dst, src) in self.input.iter_mut().zip(channels) {
                dst.extend_from_slice(&src[at..at + take]);
            }
            at += take;
            if self.input[0].len() == self.inner.input_frames_next() {
                self.run_chunk(None, emit)?;
            }
        }
        Ok(())
    }

    /// Flushes the filter with silence until `round(n · ratio)` frames are out.
    pub fn finish(&mut self, emit: &mut dyn FnMut(&[&[f64]]) -> Result<()>) -> Result<()> {
        let target = self.output_len(self.frames_in);
        while self.frames_out < target {
            let need = self.inner.input_frames_next();
            for c in self.input.iter_mut() {
                c.resize(need, 0.0);
            }
            self.run_chunk(Some(target), emit)?;
        }
        Ok(())
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Converts whole channels at once (in f64, a block at a time: only a block is ever
/// held in f64 when the samples are `f32`).
pub fn convert<S: Sample>(channels: &[Vec<S>], rate_in: u32, rate_out: u32) -> Result<Vec<Vec<S>>> {
    const BLOCK: usize = 1 << 14;
    let mut resampler = Resampler::new(rate_in, rate_out, channels.len())?;
    let frames = channels.first().map_or(0, Vec::len);
    let expected = resampler.output_len(frames as u64) as usize;
    let mut out = vec![Vec::with_capacity(expected); channels.len()];
    let mut emit = |block: &[&[f64]]| -> Result<()> {
        for (o, b) in out.iter_mut().zip(block) {
            o.extend(b.iter().map(|&x| S::from_f64(x)));
        }
        Ok(())
    };
    let mut wide = vec![Vec::with_capacity(BLOCK); channels.len()];
    let mut start = 0;
    while start < frames {
        let end = (start + BLOCK).min(frames);
        for (w, c) in wide.iter_mut().zip(channels) {
            w.clear();
            w.extend(c[start..end].iter().map(|&x| x.to_f64()));
        }
        let views: Vec<&[f64]> = wide.iter().map(Vec::as_slice).collect();
        resampler.push(&views, &mut emit)?;
        start = end;
    }
    resampler.finish(&mut emit)?;
    Ok(out)
}

#[cfg(test)]
mod fft_size_tests {
    use super::*;

    #[test]
    fn every_common_pair_gets_seven_smooth_even_fft_chunks_of_at_least_chunk_frames() {
        let rates = [44_100u32, 48_000, 88_200, 96_000, 176_400, 192_000];
        for &a in &rates {
            for &b in &rates {
                let g = gcd(a, b);
                let (bi, bo) = ((a / g) as usize, (b / g) as usize);
                let blocks = fft_blocks(bi, bo);
                assert!(
                    blocks.is_multiple_of(2) && blocks * bi >= CHUNK,
                    "{a} → {b}: {blocks}"
                );
                assert!(
                    seven_smooth(blocks * bi) && seven_smooth(blocks * bo),
                    "{a} → {b}: {} and {}",
                    blocks * bi,
                    blocks * bo
                );
            }
        }
        // 96 → 44.1 kHz: 28 blocks of 320 → 147, not the 26 (with a factor 13) before.
        assert_eq!(fft_blocks(320, 147), 28);
        assert!(!seven_smooth(26 * 320) && seven_smooth(28 * 320));
    }
}
