//! Sidechain (key) filters: a 12 dB/oct Butterworth high- or low-pass on the detector's
//! input, one per channel, from [`crate::filter`].
//!
//! The filters run the analog-matched designs of [`BiquadCoeffs::highpass`] /
//! [`BiquadCoeffs::lowpass`] (Q = 1/√2) as TPT state-variable filters ([`Biquad`]),
//! which stay well-behaved while their cutoff moves. The cutoff is smoothed
//! logarithmically over [`KEY_FILTER_RAMP_MS`] and the coefficients are recomputed every
//! frame only while it moves. Switching the filter on starts it from rest; the key
//! transient that follows is smoothed by the ballistics like any other level change.
//! They only shape what the detector hears: nothing here touches the audio path, so no
//! latency and no phase change in the output.

use super::PASS_FRAMES;
use crate::filter::{Biquad, BiquadCoeffs, BUTTERWORTH_Q};
use crate::smoother::{Smoother, SmoothingStyle};

/// Ramp time of a key filter's cutoff.
pub const KEY_FILTER_RAMP_MS: f32 = 20.0;

/// Which way a key filter cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFilterKind {
    /// Removes lows (a compressor's sidechain HPF, a gate's key HPF).
    Highpass,
    /// Removes highs (a gate's key LPF).
    Lowpass,
}

/// A switchable, smoothed 12 dB/oct key filter for up to `max_channels` channels.
#[derive(Debug, Clone)]
pub struct KeyFilter {
    kind: KeyFilterKind,
    sample_rate: f32,
    enabled: bool,
    cutoff_hz: Smoother,
    filters: Vec<Biquad>,
}

impl KeyFilter {
    /// An off filter for up to `max_channels` channels.
    pub fn new(kind: KeyFilterKind, sample_rate: f32, max_channels: usize) -> Self {
        let initial = match kind {
            KeyFilterKind::Highpass => 100.0,
            KeyFilterKind::Lowpass => 10_000.0,
        };
        let mut f = Self {
            kind,
            sample_rate,
            enabled: false,
            cutoff_hz: Smoother::new(
                SmoothingStyle::Logarithmic,
                KEY_FILTER_RAMP_MS,
                sample_rate,
                initial,
            ),
            filters: vec![Biquad::default(); max_channels.max(1)],
        };
        f.update_coeffs(initial);
        f
    }

    fn update_coeffs(&mut self, cutoff_hz: f32) {
        let (f, fs) = (cutoff_hz as f64, self.sample_rate as f64);
        let coeffs = match self.kind {
            KeyFilterKind::Highpass => BiquadCoeffs::highpass(f, BUTTERWORTH_Q, fs),
            KeyFilterKind::Lowpass => BiquadCoeffs::lowpass(f, BUTTERWORTH_Q, fs),
        };
        for filter in &mut self.filters {
            filter.set_coeffs(&coeffs);
        }
    }

    /// Sets the cutoff (`None` = off). Same value again: nothing happens. Turning on
    /// jumps to the cutoff from rest; a new cutoff while on ramps logarithmically.
    pub fn set(&mut self, cutoff_hz: Option<f32>) {
        match cutoff_hz {
            None => self.enabled = false,
            Some(f) if !self.enabled => {
                self.enabled = true;
                self.cutoff_hz.reset_to(f);
                self.update_coeffs(f);
                self.filters.iter_mut().for_each(Biquad::reset);
            }
            Some(f) => self.cutoff_hz.set_target(f),
        }
    }

    /// Whether the filter is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Clears the filter states; a ramping cutoff jumps to its target.
    pub fn reset(&mut self) {
        self.cutoff_hz.reset_to(self.cutoff_hz.target());
        self.update_coeffs(self.cutoff_hz.current());
        self.filters.iter_mut().for_each(Biquad::reset);
    }

    /// Runs several key filters in series (e.g. a gate's HPF then LPF, a band-pass) over
    /// `len` frames of the first `n_ch` key buffers. While no cutoff moves, the frames are
    /// the outer loop and every channel's and filter's state advances in the same loop
    /// body: the SVF recursions are latency-bound, and independent ones interleaved this
    /// way overlap in the CPU instead of running one after the other. The arithmetic per
    /// sample is the same as filtering each channel on its own.
    #[inline]
    pub fn process_chain(
        filters: &mut [&mut KeyFilter],
        keys: &mut [[f32; PASS_FRAMES]],
        n_ch: usize,
        len: usize,
    ) {
        let len = len.min(PASS_FRAMES);
        let n_ch = filters
            .iter()
            .fold(n_ch.min(keys.len()), |n, f| n.min(f.filters.len()));
        let mut active = [0usize; 4];
        let mut count = 0;
        let mut moving = false;
        for (index, f) in filters.iter().enumerate() {
            if f.enabled && count < active.len() {
                active[count] = index;
                count += 1;
                moving |= f.cutoff_hz.is_smoothing();
            }
        }
        if count == 0 {
            return;
        }
        if moving || n_ch > 2 || count > 2 {
            for &index in &active[..count] {
                filters[index].process_alone(keys, n_ch, len);
            }
            return;
        }
        // Static cutoffs, at most two filters on at most two channels.
        let (first, second) = match count {
            1 => (active[0], None),
            _ => (active[0], Some(active[1])),
        };
        let (keys_a, keys_b) = keys.split_at_mut(1);
        let key_a = &mut keys_a[0][..len];
        let mut a = filters[first].filters[0];
        let mut b = if n_ch > 1 {
            filters[first].filters[1]
        } else {
            a
        };
        match second {
            None if n_ch > 1 => {
                let key_b = &mut keys_b[0][..len];
                for (x, y) in key_a.iter_mut().zip(key_b.iter_mut()) {
                    *x = a.tick(*x);
                    *y = b.tick(*y);
                }
            }
            None => key_a.iter_mut().for_each(|x| *x = a.tick(*x)),
            Some(second) => {
                let mut c = filters[second].filters[0];
                let mut d = if n_ch > 1 {
                    filters[second].filters[1]
                } else {
                    c
                };
                if n_ch > 1 {
                    let key_b = &mut keys_b[0][..len];
                    for (x, y) in key_a.iter_mut().zip(key_b.iter_mut()) {
                        *x = c.tick(a.tick(*x));
                        *y = d.tick(b.tick(*y));
                    }
                } else {
                    key_a.iter_mut().for_each(|x| *x = c.tick(a.tick(*x)));
                }
                filters[second].filters[0] = c;
                if n_ch > 1 {
                    filters[second].filters[1] = d;
                }
            }
        }
        filters[first].filters[0] = a;
        if n_ch > 1 {
            filters[first].filters[1] = b;
        }
    }

    /// This filter alone, channel by channel (or frame by frame while the cutoff moves).
    fn process_alone(&mut self, keys: &mut [[f32; PASS_FRAMES]], n_ch: usize, len: usize) {
        if self.cutoff_hz.is_smoothing() {
            for i in 0..len {
                let f = self.cutoff_hz.next();
                self.update_coeffs(f);
                for (key, filter) in keys[..n_ch].iter_mut().zip(&mut self.filters) {
                    key[i] = filter.tick(key[i]);
                }
            }
        } else {
            for (key, filter) in keys[..n_ch].iter_mut().zip(&mut self.filters) {
                for x in &mut key[..len] {
                    *x = filter.tick(*x);
                }
            }
        }
    }
}
