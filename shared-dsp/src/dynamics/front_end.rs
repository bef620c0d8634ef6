//! The front end that the gate and the compressor share: everything between the host's
//! block and the detector powers.
//!
//! ```text
//! block → sanitise (non-finite → silence, ±MAX_SAMPLE) → key: own input, or the
//!   external sidechain when it is switched on and usable → key filters (HPF, LPF)
//!   → detector powers (the processor's own detector) → loudest channel → stereo link
//! ```
//!
//! The key is copied [`PASS_FRAMES`] frames at a time into scratch buffers allocated in
//! `new`, so any block size runs without allocation.

use super::sidechain::{KeyFilter, KeyFilterKind};
use super::PASS_FRAMES;
use crate::sanitize::{finite_sample, replace_non_finite};

/// Key buffers, key filters and the loudest-channel power for up to `max_channels`
/// channels.
#[derive(Debug, Clone)]
pub(crate) struct KeyFrontEnd {
    hpf: KeyFilter,
    lpf: KeyFilter,
    /// Per channel: the key, then (after the owner's detector) its power.
    pub(super) keys: Vec<[f32; PASS_FRAMES]>,
    /// Per frame: the largest power over the channels ([`KeyFrontEnd::find_loudest`]).
    pub(super) loudest: [f32; PASS_FRAMES],
}

impl KeyFrontEnd {
    /// A front end with both key filters off.
    pub(super) fn new(sample_rate: f32, max_channels: usize) -> Self {
        let max_channels = max_channels.max(1);
        Self {
            hpf: KeyFilter::new(KeyFilterKind::Highpass, sample_rate, max_channels),
            lpf: KeyFilter::new(KeyFilterKind::Lowpass, sample_rate, max_channels),
            keys: vec![[0.0; PASS_FRAMES]; max_channels],
            loudest: [0.0; PASS_FRAMES],
        }
    }

    /// The channel count given to `new` (at least 1).
    pub(super) fn max_channels(&self) -> usize {
        self.keys.len()
    }

    /// Sets the key filters' cutoffs (`None` = off; see [`KeyFilter::set`]).
    pub(super) fn set_filters(&mut self, hpf_hz: Option<f32>, lpf_hz: Option<f32>) {
        self.hpf.set(hpf_hz);
        self.lpf.set(lpf_hz);
    }

    /// Clears the key filters' states.
    pub(super) fn reset(&mut self) {
        self.hpf.reset();
        self.lpf.reset();
    }

    /// Sanitises the block in place and returns `(channels, frames)` to process: at most
    /// `max_channels` channels, as many frames as the shortest of them; `None` when there
    /// is no channel.
    #[inline]
    pub(super) fn begin(&self, channels: &mut [&mut [f32]]) -> Option<(usize, usize)> {
        let n_ch = channels.len().min(self.max_channels());
        if n_ch == 0 {
            return None;
        }
        let frames = channels[..n_ch].iter().map(|c| c.len()).min().unwrap_or(0);
        for ch in channels[..n_ch].iter_mut() {
            replace_non_finite(&mut ch[..frames]);
        }
        Some((n_ch, frames))
    }

    /// The external key to use for a block of `frames` frames: `sidechain` when
    /// `external` is on and it has at least one channel, each at least `frames` long;
    /// otherwise `None` (the processor keys from its own input).
    #[inline]
    pub(super) fn key_source<'a, 'b>(
        sidechain: Option<&'a [&'b [f32]]>,
        external: bool,
        frames: usize,
    ) -> Option<&'a [&'b [f32]]> {
        sidechain.filter(|sc| external && !sc.is_empty() && sc.iter().all(|c| c.len() >= frames))
    }

    /// Fills the first `channels.len()` key buffers with frames `start..start + len`
    /// (`len ≤ PASS_FRAMES`) of the key, after the key filters: channel `c` is keyed by
    /// sidechain channel `min(c, sidechain.len() − 1)`, or by itself without a sidechain.
    /// Non-finite sidechain samples count as silence.
    #[inline(always)]
    pub(super) fn load(
        &mut self,
        channels: &[&mut [f32]],
        sidechain: Option<&[&[f32]]>,
        start: usize,
        len: usize,
    ) {
        let n_ch = channels.len().min(self.keys.len());
        let end = start + len;
        for (c, key) in self.keys[..n_ch].iter_mut().enumerate() {
            let key = &mut key[..len];
            match sidechain {
                Some(sc) => {
                    let src = &sc[c.min(sc.len() - 1)][start..end];
                    for (k, &s) in key.iter_mut().zip(src) {
                        *k = finite_sample(s);
                    }
                }
                None => key.copy_from_slice(&channels[c][start..end]),
            }
        }
        KeyFilter::process_chain(
            &mut [&mut self.hpf, &mut self.lpf],
            &mut self.keys,
            n_ch,
            len,
        );
    }

    /// After the owner turned the first `n_ch` keys into powers: `loudest[..len]` = the
    /// largest power over those channels, frame by frame.
    #[inline(always)]
    pub(super) fn find_loudest(&mut self, n_ch: usize, len: usize) {
        let loudest = &mut self.loudest[..len];
        loudest.copy_from_slice(&self.keys[0][..len]);
        for key in &self.keys[1..n_ch] {
            for (l, &k) in loudest.iter_mut().zip(&key[..len]) {
                *l = l.max(k);
            }
        }
    }
}

/// A processor behind the front end: what it does with each pass of at most
/// [`PASS_FRAMES`] frames.
pub(super) trait KeyedProcessor {
    /// Its front end.
    fn front_end(&mut self) -> &mut KeyFrontEnd;

    /// Turns the first `n_ch` keys (`len` frames, filtered) into detector powers, in
    /// place.
    fn detect(&mut self, n_ch: usize, len: usize);

    /// From the detector powers and the loudest one, computes the gains of the pass and
    /// applies them to frames `start..start + len` of `channels`; returns the largest
    /// gain reduction (dB, ≥ 0) of the pass.
    fn apply_pass(&mut self, channels: &mut [&mut [f32]], start: usize, len: usize) -> f32;
}

/// Processes a block in place through the front end and `p`: sanitises it, picks the key
/// (`sidechain` when `external` is on and it is usable), and runs the passes. Returns
/// the largest gain reduction over the block, or `None` when there is no channel.
#[inline(always)]
pub(super) fn process_keyed<P: KeyedProcessor>(
    p: &mut P,
    channels: &mut [&mut [f32]],
    sidechain: Option<&[&[f32]]>,
    external: bool,
) -> Option<f32> {
    let (n_ch, frames) = p.front_end().begin(channels)?;
    let sidechain = KeyFrontEnd::key_source(sidechain, external, frames);
    Some(run_passes(p, &mut channels[..n_ch], sidechain, frames))
}

/// The passes over `frames` frames of `channels` (already sanitised; all of them are
/// processed); returns the largest gain reduction.
#[inline(always)]
pub(super) fn run_passes<P: KeyedProcessor>(
    p: &mut P,
    channels: &mut [&mut [f32]],
    sidechain: Option<&[&[f32]]>,
    frames: usize,
) -> f32 {
    let mut block_gr = 0.0f32;
    let mut start = 0;
    while start < frames {
        let len = (frames - start).min(PASS_FRAMES);
        detect_pass(p, channels, sidechain, start, len);
        block_gr = block_gr.max(p.apply_pass(channels, start, len));
        start += len;
    }
    block_gr
}

/// The front half of a pass: the key of frames `start..start + len` loaded and
/// filtered, turned into powers by `p`, and the loudest channel's found.
#[inline(always)]
pub(super) fn detect_pass<P: KeyedProcessor>(
    p: &mut P,
    channels: &[&mut [f32]],
    sidechain: Option<&[&[f32]]>,
    start: usize,
    len: usize,
) {
    let n_ch = channels.len();
    p.front_end().load(channels, sidechain, start, len);
    p.detect(n_ch, len);
    p.front_end().find_loudest(n_ch, len);
}

/// The power a channel's gain computer sees under a stereo link of `link` (0 = its own
/// power, 1 = the loudest channel's, exactly, so fully linked channels share one gain).
#[inline(always)]
pub(super) fn linked_power(own: f32, loudest: f32, link: f32) -> f32 {
    if link >= 1.0 {
        loudest
    } else {
        own + link * (loudest - own)
    }
}
