//! Three-band compressor: the [`Crossover3`] split (Linkwitz–Riley, bands sum to an
//! allpass) and one [`Compressor`] of the dynamics module per band, then the bands
//! summed again.
//!
//! Each band has threshold, ratio, attack, release and make-up (the compressor's own
//! smoothing, ballistics and gain computer), plus:
//!
//! - **bypass**: the band passes uncompressed; a [`SWITCH_FADE_MS`] cross-fade between
//!   the compressed and the uncompressed band (both sample-aligned, no latency);
//! - **solo**: while any band is soloed, only soloed bands are heard; each band's
//!   audibility fades over [`SWITCH_FADE_MS`].
//!
//! With every ratio at 1 and no make-up each compressor is exactly unity gain, so the
//! output is the band sum, an allpass (test: flat within 0.01 dB). `on = false`
//! cross-fades to the untouched input and, once faded, skips all work.
//!
//! The compressors use peak detection, a [`KNEE_DB`] soft knee and full stereo link.

use super::crossover::{Crossover3, CrossoverSettings, DEFAULT_HIGH_HZ, DEFAULT_LOW_HZ};
use super::CHUNK;
use crate::denormal::FlushDenormals;
use crate::dynamics::{Compressor, CompressorSettings, DetectorMode};
use crate::sanitize::replace_non_finite;
use crate::smoother::{Smoother, SmoothingStyle};

/// Cross-fade time of the on, bypass and solo switches.
pub const SWITCH_FADE_MS: f32 = 10.0;
/// Soft-knee width of the band compressors, dB.
pub const KNEE_DB: f32 = 6.0;
/// Number of bands.
pub const NUM_BANDS: usize = 3;

/// One band's compressor controls (the mastering chain's `mb_<band>_*` parameters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandCompressorSettings {
    /// Threshold, −60 … 0 dBFS.
    pub threshold_db: f32,
    /// Ratio, 1 … ∞ (`f32::INFINITY`).
    pub ratio: f32,
    /// Attack (10–90 %), 0.05 … 300 ms.
    pub attack_ms: f32,
    /// Release (10–90 %), 5 … 5000 ms.
    pub release_ms: f32,
    /// Make-up gain, −12 … +36 dB.
    pub makeup_db: f32,
    /// Hear only the soloed bands.
    pub solo: bool,
    /// Pass this band uncompressed.
    pub bypass: bool,
}

impl Default for BandCompressorSettings {
    fn default() -> Self {
        Self {
            threshold_db: -18.0,
            ratio: 1.0,
            attack_ms: 10.0,
            release_ms: 150.0,
            makeup_db: 0.0,
            solo: false,
            bypass: false,
        }
    }
}

impl BandCompressorSettings {
    fn compressor(&self) -> CompressorSettings {
        CompressorSettings {
            threshold_db: self.threshold_db,
            ratio: self.ratio,
            knee_db: KNEE_DB,
            attack_ms: self.attack_ms,
            release_ms: self.release_ms,
            auto_release: false,
            detector: DetectorMode::Peak,
            sidechain_hpf_hz: None,
            external_sidechain: false,
            link: 1.0,
            makeup_db: self.makeup_db,
            auto_makeup: false,
            mix: 1.0,
        }
    }
}

/// Multiband compressor settings (the mastering chain's `mb_*` parameters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultibandSettings {
    /// Multiband on (off cross-fades to the input).
    pub on: bool,
    /// Low/mid crossover, Hz (default 150).
    pub low_hz: f32,
    /// Mid/high crossover, Hz (default 3000).
    pub high_hz: f32,
    /// Low, mid, high band.
    pub bands: [BandCompressorSettings; NUM_BANDS],
}

impl Default for MultibandSettings {
    fn default() -> Self {
        Self {
            on: true,
            low_hz: DEFAULT_LOW_HZ,
            high_hz: DEFAULT_HIGH_HZ,
            bands: [BandCompressorSettings::default(); NUM_BANDS],
        }
    }
}

/// The three-band compressor (see the module notes). No latency.
#[derive(Debug, Clone)]
pub struct MultibandCompressor {
    settings: MultibandSettings,
    crossover: Crossover3,
    compressors: [Compressor; NUM_BANDS],
    compressor_settings: [CompressorSettings; NUM_BANDS],
    /// 1 = compressed, 0 = bypassed, per band.
    compressed: [Smoother; NUM_BANDS],
    /// 1 = heard, 0 = muted by another band's solo.
    audible: [Smoother; NUM_BANDS],
    /// 1 = multiband on.
    on: Smoother,
    /// `bands[b][c]`: band `b` of channel `c`, compressed in place.
    bands: [[[f32; CHUNK]; 2]; NUM_BANDS],
    /// The same bands before compression (for the bypass fade).
    dry: [[[f32; CHUNK]; 2]; NUM_BANDS],
    /// Whether the processing path is idle (off and faded out) and its state cleared.
    idle: bool,
}

impl MultibandCompressor {
    /// A multiband compressor at rest, default settings (every ratio 1).
    pub fn new(sample_rate: f32) -> Self {
        let fs = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate
        } else {
            48_000.0
        };
        let s = MultibandSettings::default();
        let fade = |v| Smoother::new(SmoothingStyle::Linear, SWITCH_FADE_MS, fs, v);
        let mut m = Self {
            settings: s,
            crossover: Crossover3::new(fs),
            compressors: std::array::from_fn(|_| Compressor::new(fs, 2)),
            compressor_settings: s.bands.map(|b| b.compressor()),
            compressed: std::array::from_fn(|_| fade(1.0)),
            audible: std::array::from_fn(|_| fade(1.0)),
            on: fade(1.0),
            bands: [[[0.0; CHUNK]; 2]; NUM_BANDS],
            dry: [[[0.0; CHUNK]; 2]; NUM_BANDS],
            idle: false,
        };
        m.set_settings_immediately(&s);
        m
    }

    /// No latency.
    pub fn latency(&self) -> usize {
        0
    }

    /// Gain reduction of band `band` (0 low, 1 mid, 2 high) in dB (positive), the
    /// largest of the last block; 0 for an out-of-range band.
    pub fn gain_reduction_db(&self, band: usize) -> f32 {
        self.compressors
            .get(band)
            .map_or(0.0, |c| c.gain_reduction_db())
    }

    /// Clears all signal state; ramps jump to their targets.
    pub fn reset(&mut self) {
        self.crossover.reset();
        for c in self.compressors.iter_mut() {
            c.reset();
        }
        for s in self
            .compressed
            .iter_mut()
            .chain(self.audible.iter_mut())
            .chain(std::iter::once(&mut self.on))
        {
            s.reset_to(s.target());
        }
        self.idle = false;
    }

    /// Applies settings with no ramps (before audio starts).
    pub fn set_settings_immediately(&mut self, settings: &MultibandSettings) {
        self.set_settings(settings);
        self.crossover
            .set_settings_immediately(&self.crossover.settings());
        for (c, s) in self.compressors.iter_mut().zip(&self.compressor_settings) {
            c.set_settings(s);
            c.reset();
        }
        for s in self
            .compressed
            .iter_mut()
            .chain(self.audible.iter_mut())
            .chain(std::iter::once(&mut self.on))
        {
            s.reset_to(s.target());
        }
    }

    /// Applies settings (ramped). The same settings again cost one comparison.
    pub fn set_settings(&mut self, settings: &MultibandSettings) {
        if *settings == self.settings {
            return;
        }
        self.settings = *settings;
        self.crossover.set_settings(&CrossoverSettings {
            low_hz: settings.low_hz,
            high_hz: settings.high_hz,
        });
        let any_solo = settings.bands.iter().any(|b| b.solo);
        for (k, b) in settings.bands.iter().enumerate() {
            self.compressor_settings[k] = b.compressor();
            self.compressed[k].set_target(if b.bypass { 0.0 } else { 1.0 });
            self.audible[k].set_target(if !any_solo || b.solo { 1.0 } else { 0.0 });
        }
        self.on.set_target(if settings.on { 1.0 } else { 0.0 });
    }

    /// Compresses 1 or 2 channels in place (further channels are left untouched; the
    /// shortest channel sets the length). Non-finite samples become silence.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &MultibandSettings) {
        let _ftz = FlushDenormals::new();
        self.set_settings(settings);
        let n_ch = channels.len().min(2);
        if n_ch == 0 {
            return;
        }
        let frames = channels[..n_ch].iter().map(|c| c.len()).min().unwrap_or(0);
        if !self.on.is_smoothing() && self.on.current() == 0.0 {
            if !self.idle {
                self.crossover.reset();
                for c in self.compressors.iter_mut() {
                    c.reset();
                }
                self.idle = true;
            }
            return;
        }
        self.idle = false;
        for ch in channels[..n_ch].iter_mut() {
            replace_non_finite(&mut ch[..frames]);
        }
        let mut start = 0;
        while start < frames {
            let len = (frames - start).min(CHUNK);
            self.run_chunk(channels, n_ch, start, len);
            start += len;
        }
    }

    fn run_chunk(&mut self, channels: &mut [&mut [f32]], n_ch: usize, start: usize, len: usize) {
        if n_ch == 2 {
            let left = &channels[0][start..start + len];
            let right = &channels[1][start..start + len];
            self.crossover
                .split_stereo_chunk(left, right, &mut self.bands);
        } else {
            for i in 0..len {
                self.crossover.step();
                let b = self.crossover.split(0, channels[0][start + i] as f64);
                for k in 0..NUM_BANDS {
                    self.bands[k][0][i] = b[k] as f32;
                }
            }
        }
        for k in 0..NUM_BANDS {
            let fading = self.compressed[k].is_smoothing() || self.compressed[k].current() < 1.0;
            if fading {
                for c in 0..n_ch {
                    self.dry[k][c][..len].copy_from_slice(&self.bands[k][c][..len]);
                }
            }
        }
        // The three bands' compressors together: their ballistics recursions overlap.
        let [low, mid, high] = &mut self.bands;
        let mut views = [low, mid, high].map(|[l, r]| [&mut l[..len], &mut r[..len]]);
        let [low, mid, high] = &mut views;
        Compressor::process_group(
            &mut self.compressors,
            [&mut low[..n_ch], &mut mid[..n_ch], &mut high[..n_ch]],
            &self.compressor_settings,
        );
        let steady = |s: &Smoother| !s.is_smoothing();
        let all_steady = self.compressed.iter().all(steady)
            && self.audible.iter().all(steady)
            && steady(&self.on);
        if all_steady {
            let mix = self.compressed.each_ref().map(|s| s.current());
            let gain = self.audible.each_ref().map(|s| s.current());
            let on = self.on.current();
            if mix == [1.0; NUM_BANDS] && on == 1.0 {
                // The usual state (every band compressed, multiband on): the band sum as
                // a straight loop that vectorises, the same sum in the same order.
                for c in 0..n_ch {
                    let out = &mut channels[c][start..start + len];
                    let [low, mid, high] = [0, 1, 2].map(|k| &self.bands[k][c][..len]);
                    let bands = low.iter().zip(mid).zip(high);
                    for (x, ((&l, &m), &h)) in out.iter_mut().zip(bands) {
                        let mut sum = 0.0;
                        sum += gain[0] * l;
                        sum += gain[1] * m;
                        sum += gain[2] * h;
                        *x = sum;
                    }
                }
                return;
            }
            for c in 0..n_ch {
                for i in 0..len {
                    let mut sum = 0.0;
                    for k in 0..NUM_BANDS {
                        let wet = self.bands[k][c][i];
                        let band = if mix[k] == 1.0 {
                            wet
                        } else {
                            let dry = self.dry[k][c][i];
                            dry + mix[k] * (wet - dry)
                        };
                        sum += gain[k] * band;
                    }
                    let x = &mut channels[c][start + i];
                    *x = if on == 1.0 { sum } else { *x + on * (sum - *x) };
                }
            }
        } else {
            for i in 0..len {
                let mix = [0, 1, 2].map(|k| self.compressed[k].next());
                let gain = [0, 1, 2].map(|k| self.audible[k].next());
                let on = self.on.next();
                for c in 0..n_ch {
                    let mut sum = 0.0;
                    for k in 0..NUM_BANDS {
                        let wet = self.bands[k][c][i];
                        let dry = self.dry[k][c][i];
                        sum += gain[k] * (dry + mix[k] * (wet - dry));
                    }
                    let x = &mut channels[c][start + i];
                    *x += on * (sum - *x);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mastering::test_signals::{impulse_response_db, noise, sine};
    use crate::test_util::assert_block_size_independent;

    const FS: f32 = 48_000.0;

    fn run(m: &mut MultibandCompressor, s: &MultibandSettings, l: &mut [f32], r: &mut [f32]) {
        for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
            m.process(&mut [a, b], s);
        }
    }

    #[test]
    fn ratio_one_without_makeup_is_flat_within_a_hundredth_of_a_db() {
        let s = MultibandSettings {
            bands: [BandCompressorSettings {
                threshold_db: -40.0,
                ratio: 1.0,
                ..Default::default()
            }; 3],
            ..Default::default()
        };
        let mut m = MultibandCompressor::new(FS);
        m.set_settings_immediately(&s);
        let mut l = vec![0.0f32; 8192];
        let mut r = vec![0.0f32; 8192];
        l[0] = 1.0;
        r[0] = 0.5;
        run(&mut m, &s, &mut l, &mut r);
        for k in 0..50 {
            let f = 20.0 * 1000f64.powf(k as f64 / 50.0);
            if f > 0.49 * FS as f64 {
                break;
            }
            let dl = impulse_response_db(&l, f, FS as f64);
            let dr = impulse_response_db(&r, f, FS as f64) - 20.0 * 0.5f64.log10();
            // 0.01 dB: far below audibility, while a band summed with the wrong polarity
            // notches by tens of dB; the sum is an allpass in f64, the bands f32 (~1e-6 dB).
            assert!(dl.abs() < 0.01 && dr.abs() < 0.01, "{f} Hz: {dl} / {dr}");
        }
        assert_eq!(m.gain_reduction_db(0), 0.0);
    }

    #[test]
    fn a_loud_band_is_compressed_and_reports_its_gain_reduction() {
        let s = MultibandSettings {
            bands: [
                BandCompressorSettings {
                    threshold_db: -20.0,
                    ratio: 4.0,
                    attack_ms: 1.0,
                    ..Default::default()
                },
                BandCompressorSettings::default(),
                BandCompressorSettings::default(),
            ],
            ..Default::default()
        };
        let mut m = MultibandCompressor::new(FS);
        m.set_settings_immediately(&s);
        // 60 Hz at −6 dBFS: 14 dB over a −20 dB threshold in the low band → about
        // 14·(1 − 1/4) = 10.5 dB of reduction (knee 6 dB is passed).
        let mut l = sine(9600, 60.0, 0.5, 0.0, FS as f64);
        let mut r = l.clone();
        run(&mut m, &s, &mut l, &mut r);
        let gr = m.gain_reduction_db(0);
        assert!((gr - 10.5).abs() < 1.0, "low band GR {gr}");
        assert_eq!(m.gain_reduction_db(1), 0.0);
        assert_eq!(m.gain_reduction_db(2), 0.0);
        let peak = l[4800..].iter().fold(0.0f32, |a, &v| a.max(v.abs()));
        let db = 20.0 * peak.log10();
        // Output peak ≈ −6 − 10.5 = −16.5 dB; ±1 dB for ripple of the peak detector.
        assert!((db + 16.5).abs() < 1.0, "{db}");
    }

    #[test]
    fn solo_hears_only_the_soloed_band_and_bypass_passes_it_uncompressed() {
        let mut s = MultibandSettings::default();
        s.bands[2].solo = true;
        let mut m = MultibandCompressor::new(FS);
        m.set_settings_immediately(&s);
        // 100 Hz (low band) is muted: LR4 high-pass at 3 kHz + 150 Hz leaves it at
        // far below −60 dB; 10 kHz (high band) passes at ≈ 0 dB.
        for (f, want) in [(100.0, None), (10_000.0, Some(0.0))] {
            m.reset();
            let mut l = sine(4800, f, 0.5, 0.0, FS as f64);
            let mut r = l.clone();
            run(&mut m, &s, &mut l, &mut r);
            let peak = l[2400..].iter().fold(0.0f32, |a, &v| a.max(v.abs()));
            let db = 20.0 * (peak / 0.5).log10();
            match want {
                None => assert!(db < -60.0, "{f} Hz: {db} dB"),
                // 0.05 dB: the high band's LR4 low skirt at 10 kHz is −0.003 dB.
                Some(w) => assert!((db - w).abs() < 0.05, "{f} Hz: {db} dB"),
            }
        }
        // Bypass: a compressing band set to bypass is unity again.
        let mut s = MultibandSettings::default();
        s.bands[1] = BandCompressorSettings {
            threshold_db: -40.0,
            ratio: 10.0,
            bypass: true,
            ..Default::default()
        };
        let mut m = MultibandCompressor::new(FS);
        m.set_settings_immediately(&s);
        let mut l = sine(4800, 1000.0, 0.5, 0.0, FS as f64);
        let mut r = l.clone();
        run(&mut m, &s, &mut l, &mut r);
        let peak = l[2400..].iter().fold(0.0f32, |a, &v| a.max(v.abs()));
        assert!((20.0 * (peak / 0.5).log10()).abs() < 0.05);
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        let mut s = MultibandSettings::default();
        s.bands[0].ratio = 3.0;
        s.bands[1].ratio = 2.0;
        s.bands[1].threshold_db = -30.0;
        let x = noise(6000, 0.7, 11);
        // Identical: every part runs per sample on fixed grids; the settings changed
        // before the first sample in all runs.
        assert_block_size_independent(
            || MultibandCompressor::new(FS),
            &[x.clone(), x],
            &[],
            |m, block, _| m.process(block, &s),
        );
    }
}
