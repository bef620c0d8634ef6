//! The tone section's settings: plain `Copy` values in Hz, dB and Q, with the
//! magnitude response they describe (for the editor's curve).

use super::NUM_BANDS;
use crate::filter::band::BandCoeffs;
use crate::filter::butterworth::{butterworth, PassKind, Slope};

/// The shape of a parametric band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BandKind {
    /// Peaking filter around `freq_hz`.
    #[default]
    Bell,
    /// Raises or lowers everything below `freq_hz`.
    LowShelf,
    /// Raises or lowers everything above `freq_hz`.
    HighShelf,
}

/// One parametric band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandSettings {
    /// Band on; off ramps the band to 0 dB.
    pub on: bool,
    /// Bell or shelf.
    pub kind: BandKind,
    /// Centre (bell) or mid-point (shelves), Hz.
    pub freq_hz: f32,
    /// Gain at the centre (bell) or of the shelf, dB.
    pub gain_db: f32,
    /// Quality factor (bell bandwidth; shelf resonance, 0.707 = no overshoot).
    pub q: f32,
}

/// A high-pass or low-pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PassSettings {
    /// Filter in the path.
    pub on: bool,
    /// Cutoff (−3 dB), Hz.
    pub freq_hz: f32,
    /// Butterworth slope.
    pub slope: Slope,
}

/// Everything the tone section needs: a plain `Copy` value, compared each block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EqSettings {
    /// High-pass (off, 80 Hz, 12 dB/oct by default).
    pub hpf: PassSettings,
    /// Low-pass (off, 18 kHz, 12 dB/oct by default).
    pub lpf: PassSettings,
    /// Master switch of the six bands (the pass filters have their own).
    pub eq_on: bool,
    /// Bands 1…6.
    pub bands: [BandSettings; NUM_BANDS],
}

impl Default for EqSettings {
    /// Band 1 low shelf 80 Hz, bands 2–5 bells at 250 Hz, 1 kHz, 3 kHz, 6 kHz, band 6
    /// high shelf 12 kHz, all 0 dB (shelves Q 0.707, bells Q 1); both pass filters off.
    fn default() -> Self {
        let band = |kind, freq_hz, q| BandSettings {
            on: true,
            kind,
            freq_hz,
            gain_db: 0.0,
            q,
        };
        Self {
            hpf: PassSettings {
                on: false,
                freq_hz: 80.0,
                slope: Slope::Db12,
            },
            lpf: PassSettings {
                on: false,
                freq_hz: 18_000.0,
                slope: Slope::Db12,
            },
            eq_on: true,
            bands: [
                band(BandKind::LowShelf, 80.0, 0.707),
                band(BandKind::Bell, 250.0, 1.0),
                band(BandKind::Bell, 1000.0, 1.0),
                band(BandKind::Bell, 3000.0, 1.0),
                band(BandKind::Bell, 6000.0, 1.0),
                band(BandKind::HighShelf, 12_000.0, 0.707),
            ],
        }
    }
}

pub(super) fn design_band(
    kind: BandKind,
    freq_hz: f64,
    q: f64,
    gain_db: f64,
    fs: f64,
) -> BandCoeffs {
    match kind {
        BandKind::Bell => BandCoeffs::bell(freq_hz, q, gain_db, fs),
        BandKind::LowShelf => BandCoeffs::low_shelf(freq_hz, q, gain_db, fs),
        BandKind::HighShelf => BandCoeffs::high_shelf(freq_hz, q, gain_db, fs),
    }
}

impl EqSettings {
    /// Every number finite and inside its range (a non-finite one takes a neutral
    /// value): what the processor runs.
    pub(super) fn sanitized(&self) -> EqSettings {
        let mut s = *self;
        for p in [&mut s.hpf, &mut s.lpf] {
            p.freq_hz = clean(p.freq_hz, 1.0, 1.0e6, 1000.0);
        }
        for b in s.bands.iter_mut() {
            b.freq_hz = clean(b.freq_hz, 1.0, 1.0e6, 1000.0);
            b.gain_db = clean(b.gain_db, -48.0, 48.0, 0.0);
            b.q = clean(b.q, 0.025, 100.0, 0.707);
        }
        s
    }

    /// The magnitude in dB these settings describe (all switches settled), from the
    /// same designs the processor runs: for the editor's curve.
    pub fn magnitude_db(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        let mut db = 0.0;
        for (p, kind) in [
            (&self.hpf, PassKind::Highpass),
            (&self.lpf, PassKind::Lowpass),
        ] {
            if p.on {
                db += butterworth(kind, p.freq_hz as f64, p.slope, sample_rate)
                    .magnitude_db(freq_hz, sample_rate);
            }
        }
        if self.eq_on {
            for b in self.bands.iter().filter(|b| b.on && b.gain_db != 0.0) {
                db += design_band(
                    b.kind,
                    b.freq_hz as f64,
                    b.q as f64,
                    b.gain_db as f64,
                    sample_rate,
                )
                .magnitude_db(freq_hz, sample_rate);
            }
        }
        db
    }
}

/// Replaces a non-finite parameter with `fallback` and clamps it.
#[inline]
fn clean(x: f32, lo: f32, hi: f32, fallback: f32) -> f32 {
    if x.is_finite() {
        x.clamp(lo, hi)
    } else {
        fallback
    }
}
