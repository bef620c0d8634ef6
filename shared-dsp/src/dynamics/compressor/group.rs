//! [`Compressor::process_group`]: several independent compressors (the multiband
//! compressor's bands) run in one pass, their ballistics recursions interleaved.

use super::{smooth_block, Compressor, CompressorSettings};
use crate::denormal::FlushDenormals;
use crate::dynamics::ballistics::Ballistics;
use crate::dynamics::front_end::{detect_pass, run_passes};
use crate::dynamics::PASS_FRAMES;

impl Compressor {
    /// [`Compressor::process`] (no external sidechain) of `N` independent compressors,
    /// `compressors[k]` on `blocks[k]` with `settings[k]`: the same output, bit for bit,
    /// and the same state afterwards. Where the blocks have one shape and the fast
    /// linked path applies to all, the `N` ballistics recursions run interleaved (see
    /// [`Ballistics::process_interleaved`]), so they overlap instead of queueing.
    ///
    /// With AVX2 the whole group runs compiled for it: the passes that vectorise
    /// (levels, gain computer, exponentials, gains) take eight lanes instead of four.
    /// No FMA is enabled and none is written, so the values are the same bit for bit
    /// (test `a_group_equals_each_compressor_on_its_own`, which runs the group both ways).
    pub fn process_group<const N: usize>(
        compressors: &mut [Compressor; N],
        blocks: [&mut [&mut [f32]]; N],
        settings: &[CompressorSettings; N],
    ) {
        #[cfg(target_arch = "x86_64")]
        if compressors.iter().all(|c| c.use_avx2) {
            // SAFETY: `use_avx2` is true only when the CPU reported AVX2.
            unsafe { Self::process_group_avx2(compressors, blocks, settings) };
            return;
        }
        Self::process_group_body(compressors, blocks, settings);
    }

    /// [`Self::process_group_body`] compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn process_group_avx2<const N: usize>(
        compressors: &mut [Compressor; N],
        blocks: [&mut [&mut [f32]]; N],
        settings: &[CompressorSettings; N],
    ) {
        Self::process_group_body(compressors, blocks, settings);
    }

    #[inline(always)]
    fn process_group_body<const N: usize>(
        compressors: &mut [Compressor; N],
        blocks: [&mut [&mut [f32]]; N],
        settings: &[CompressorSettings; N],
    ) {
        let _ftz = FlushDenormals::new();
        let mut shapes = [None; N];
        for (k, c) in compressors.iter_mut().enumerate() {
            shapes[k] = c.begin(blocks[k], &settings[k]);
        }
        let Some((n_ch, frames)) = shapes[0] else {
            return Self::run_each(compressors, blocks, shapes);
        };
        if shapes.iter().any(|s| *s != shapes[0]) {
            return Self::run_each(compressors, blocks, shapes);
        }
        let mut block_gr = [0.0f32; N];
        let mut start = 0;
        while start < frames {
            let len = (frames - start).min(PASS_FRAMES);
            let mut pending = [false; N];
            for (k, c) in compressors.iter_mut().enumerate() {
                detect_pass(c, &blocks[k][..n_ch], None, start, len);
                match c.prepare_gains(n_ch, len) {
                    Some(gr) => block_gr[k] = block_gr[k].max(gr),
                    None => pending[k] = true,
                }
            }
            if pending.iter().all(|&p| p) && compressors.iter().all(|c| !c.applied.auto_release) {
                let followers = compressors.each_mut().map(|c| {
                    let Compressor {
                        channels, gains, ..
                    } = c;
                    (&mut channels[0].ballistics, &mut gains[0][..len])
                });
                let grs = Ballistics::process_interleaved(followers);
                for (b, gr) in block_gr.iter_mut().zip(grs) {
                    *b = b.max(gr);
                }
            } else {
                for (k, c) in compressors.iter_mut().enumerate() {
                    if pending[k] {
                        let auto = c.applied.auto_release;
                        let gr = smooth_block(&mut c.channels[0], auto, &mut c.gains[0][..len]);
                        block_gr[k] = block_gr[k].max(gr);
                    }
                }
            }
            for (k, c) in compressors.iter_mut().enumerate() {
                if pending[k] {
                    c.finish_linked(n_ch, len);
                }
                c.apply_gains(&mut blocks[k][..n_ch], start, len);
            }
            start += len;
        }
        for (c, gr) in compressors.iter_mut().zip(block_gr) {
            c.gain_reduction_db = gr;
        }
    }

    /// The rest of [`Compressor::process_group`] one compressor after the other.
    fn run_each<const N: usize>(
        compressors: &mut [Compressor; N],
        blocks: [&mut [&mut [f32]]; N],
        shapes: [Option<(usize, usize)>; N],
    ) {
        for ((c, block), shape) in compressors.iter_mut().zip(blocks).zip(shapes) {
            if let Some((n_ch, frames)) = shape {
                c.gain_reduction_db = run_passes(c, &mut block[..n_ch], None, frames);
            }
        }
    }

    /// Applies `settings` and sanitises the block; returns the channels and frames to
    /// process, or `None` (and no gain reduction) when there is no channel.
    #[inline]
    fn begin(
        &mut self,
        channels: &mut [&mut [f32]],
        settings: &CompressorSettings,
    ) -> Option<(usize, usize)> {
        self.set_settings(settings);
        let shape = self.front.begin(channels);
        if shape.is_none() {
            self.gain_reduction_db = 0.0;
        }
        shape
    }
}
