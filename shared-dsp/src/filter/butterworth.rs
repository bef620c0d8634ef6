//! Butterworth high-pass and low-pass cascades: 6, 12, 18, 24, 36 and 48 dB/oct.
//!
//! An order-`n` Butterworth filter factors into `⌊n/2⌋` second-order sections with pole
//! quality factors `Q_k = 1 / (2·sin θ_k)`, `θ_k = (2k − 1)·π/(2n)`, `k = 1…⌊n/2⌋`,
//! plus one first-order section when `n` is odd (Butterworth 1930; tabulated in
//! Zölzer, "Digital Audio Signal Processing", 2nd ed., §5.1, and in camilladsp's
//! `ButterworthHighpass`). Every section shares the cutoff, and each design is exact
//! at the cutoff (see [`BiquadCoeffs::lowpass`], [`BiquadCoeffs::highpass`]), so the
//! cascade is −3.01 dB there.

use super::coeffs::{analog_butterworth_db, BiquadCoeffs};
use super::svf::Biquad;
use crate::sanitize::finite_sample;

/// The most second-order sections a cascade needs (48 dB/oct = 8th order).
pub const MAX_SECTIONS: usize = 4;

/// High-pass or low-pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassKind {
    /// Removes what is below the cutoff.
    Highpass,
    /// Removes what is above the cutoff.
    Lowpass,
}

/// The slope of a Butterworth high- or low-pass, in dB per octave (6 per order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Slope {
    /// First order.
    Db6,
    /// Second order (the default).
    #[default]
    Db12,
    /// Third order.
    Db18,
    /// Fourth order.
    Db24,
    /// Sixth order.
    Db36,
    /// Eighth order.
    Db48,
}

impl Slope {
    /// Every slope, in increasing order.
    pub const ALL: [Slope; 6] = [
        Slope::Db6,
        Slope::Db12,
        Slope::Db18,
        Slope::Db24,
        Slope::Db36,
        Slope::Db48,
    ];

    /// The filter order (1, 2, 3, 4, 6 or 8).
    pub fn order(self) -> u32 {
        match self {
            Slope::Db6 => 1,
            Slope::Db12 => 2,
            Slope::Db18 => 3,
            Slope::Db24 => 4,
            Slope::Db36 => 6,
            Slope::Db48 => 8,
        }
    }

    /// The nominal slope in dB per octave.
    pub fn db_per_octave(self) -> u32 {
        6 * self.order()
    }

    /// The slope for a dB/oct figure, if it is one of the six.
    pub fn from_db_per_octave(db_per_octave: u32) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.db_per_octave() == db_per_octave)
    }
}

/// The sections of a Butterworth cascade: `len` of them are used, the rest are identity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sections {
    /// The section coefficients, first order (if any) first.
    pub coeffs: [BiquadCoeffs; MAX_SECTIONS],
    /// How many of `coeffs` are in use.
    pub len: usize,
}

impl Sections {
    /// The cascade's magnitude in dB at `freq_hz`.
    pub fn magnitude_db(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        self.coeffs[..self.len]
            .iter()
            .map(|c| c.magnitude_db(freq_hz, sample_rate))
            .sum()
    }
}

/// The pole Q of second-order section `k` (0-based) of an order-`order` Butterworth.
pub fn butterworth_q(order: u32, k: u32) -> f64 {
    let theta = (2 * k + 1) as f64 * std::f64::consts::PI / (2 * order) as f64;
    0.5 / theta.sin()
}

/// Designs the Butterworth cascade for `kind`, `cutoff_hz` and `slope`.
pub fn butterworth(kind: PassKind, cutoff_hz: f64, slope: Slope, sample_rate: f64) -> Sections {
    let order = slope.order();
    let mut coeffs = [BiquadCoeffs::IDENTITY; MAX_SECTIONS];
    let mut len = 0;
    if order % 2 == 1 {
        coeffs[len] = match kind {
            PassKind::Highpass => BiquadCoeffs::highpass_first_order(cutoff_hz, sample_rate),
            PassKind::Lowpass => BiquadCoeffs::lowpass_first_order(cutoff_hz, sample_rate),
        };
        len += 1;
    }
    for k in 0..order / 2 {
        let q = butterworth_q(order, k);
        coeffs[len] = match kind {
            PassKind::Highpass => BiquadCoeffs::highpass(cutoff_hz, q, sample_rate),
            PassKind::Lowpass => BiquadCoeffs::lowpass(cutoff_hz, q, sample_rate),
        };
        len += 1;
    }
    Sections { coeffs, len }
}

/// The analog Butterworth magnitude the cascade approximates, in dB.
pub fn analog_db(kind: PassKind, freq_hz: f64, cutoff_hz: f64, slope: Slope) -> f64 {
    analog_butterworth_db(
        freq_hz,
        cutoff_hz,
        slope.order(),
        kind == PassKind::Highpass,
    )
}

/// One channel of a Butterworth high- or low-pass (for sidechains and feedback paths;
/// the channel strip's smoothed stereo version is [`super::ChannelEq`]).
#[derive(Debug, Clone)]
pub struct ButterworthFilter {
    kind: PassKind,
    sample_rate: f64,
    cutoff_hz: f64,
    slope: Slope,
    sections: [Biquad; MAX_SECTIONS],
    len: usize,
}

impl ButterworthFilter {
    /// A filter at rest.
    pub fn new(kind: PassKind, cutoff_hz: f64, slope: Slope, sample_rate: f64) -> Self {
        let mut f = Self {
            kind,
            sample_rate,
            cutoff_hz: f64::NAN,
            slope,
            sections: [Biquad::default(); MAX_SECTIONS],
            len: 0,
        };
        f.set(cutoff_hz, slope);
        f
    }

    /// Changes cutoff and slope; recomputes only when they differ. A change of slope
    /// clears the state (the sections change meaning).
    pub fn set(&mut self, cutoff_hz: f64, slope: Slope) {
        if cutoff_hz == self.cutoff_hz && slope == self.slope && self.len > 0 {
            return;
        }
        if slope != self.slope {
            self.reset();
        }
        self.cutoff_hz = cutoff_hz;
        self.slope = slope;
        let s = butterworth(self.kind, cutoff_hz, slope, self.sample_rate);
        for (section, c) in self.sections.iter_mut().zip(s.coeffs.iter()) {
            section.set_coeffs(c);
        }
        self.len = s.len;
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.sections.iter_mut().for_each(Biquad::reset);
    }

    /// One `f32` sample; non-finite input counts as silence.
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        let mut y = finite_sample(x) as f64;
        for s in self.sections[..self.len].iter_mut() {
            y = s.process_sample(y);
        }
        y as f32
    }

    /// Filters a block in place.
    pub fn process(&mut self, block: &mut [f32]) {
        for s in block.iter_mut() {
            *s = self.tick(*s);
        }
    }

    /// The magnitude of the current design in dB.
    pub fn magnitude_db(&self, freq_hz: f64) -> f64 {
        butterworth(self.kind, self.cutoff_hz, self.slope, self.sample_rate)
            .magnitude_db(freq_hz, self.sample_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::approx_constant)] // 0.7071 is the table value, rounded like its neighbours
    fn pole_qs_are_the_textbook_values() {
        // Butterworth pole Qs (Zölzer table 5.1), rounded to 4 decimals.
        let expect: [(u32, &[f64]); 5] = [
            (2, &[0.7071]),
            (3, &[1.0]),
            (4, &[1.3066, 0.5412]),
            (6, &[1.9319, 0.7071, 0.5176]),
            (8, &[2.5629, 0.9000, 0.6013, 0.5098]),
        ];
        for (order, qs) in expect {
            for (k, &q) in qs.iter().enumerate() {
                let got = butterworth_q(order, k as u32);
                assert!((got - q).abs() < 5e-5, "order {order} section {k}: {got}");
            }
        }
    }

    #[test]
    fn minus_three_db_at_the_cutoff_for_every_slope() {
        for fs in [44_100.0, 48_000.0, 96_000.0] {
            for slope in Slope::ALL {
                for (kind, fc) in [
                    (PassKind::Highpass, 80.0),
                    (PassKind::Highpass, 2000.0),
                    (PassKind::Lowpass, 1000.0),
                    (PassKind::Lowpass, 18_000.0),
                ] {
                    let db = butterworth(kind, fc, slope, fs).magnitude_db(fc, fs);
                    // ±0.1 dB is the tolerance; 10·log10(2) = 3.0103 dB.
                    assert!(
                        (db + 3.0103).abs() < 0.1,
                        "{kind:?} {fc} Hz {slope:?} @ {fs}: {db}"
                    );
                }
            }
        }
    }
}
