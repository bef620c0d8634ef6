//! Dither and quantisation to 16 or 24 bits: TPDF, flat or noise-shaped, seeded.
//!
//! Each sample is scaled to the target grid (`2^(bits−1)` steps per unit, so ±1.0 is
//! full scale), a triangular-PDF dither of ±1 LSB (the sum of two independent uniform
//! values in ±½ LSB) is added, and the result rounded and clipped to the integer range.
//! The output is the integer divided back, so every output sample lies exactly on the
//! grid (the integers of 24 bits and fewer are exact in `f32`).
//!
//! TPDF dither of 2 LSB peak-to-peak makes the first and second moments of the total
//! error independent of the signal: the error has mean 0 and variance `Δ²/4` (`Δ²/12`
//! rounding + `Δ²/6` dither) whatever the input (Lipshitz, Wannamaker, Vanderkooy,
//! "Quantization and Dither: A Theoretical Survey", JAES 40(5), 1992). The tests check
//! exactly that, for several input levels between grid points.
//!
//! **Noise shaping** (error feedback, same paper, §6): the total error `e` of each
//! sample is fed back through `H(z)`, `v[n] = x[n] − Σ h_k·e[n−k]`, so the output error
//! is `e[n] − Σ h_k·e[n−k]`: white noise shaped by `NTF(z) = 1 − Σ h_k·z^−k`. At 44.1 and
//! 48 kHz `h` is the 5-tap E-weighted filter of Lipshitz, Vanderkooy and Wannamaker,
//! "Minimally Audible Noise Shaping", JAES 39(11), 1991 (the coefficients SoX uses for
//! its "lipshitz" shaping): `2.033, −2.165, 1.959, −1.590, 0.6149`; its NTF is about
//! −16 dB below 3 kHz, −27 dB at 4 kHz and rises to +19 dB at Nyquist. It was designed
//! for 44.1 kHz and is used unchanged at 48 kHz (the notch moves to ≈ 4.4 kHz). At 88.2
//! kHz and above, where everything over 20 kHz is inaudible, the second-order
//! `NTF = (1 − z⁻¹)²` (`h = 2, −1`) pushes the noise up into that region. The fed-back
//! error is clamped to ±[`MAX_FEEDBACK_LSB`] so clipping at full scale cannot make the
//! loop run away.
//!
//! **Digital silence**: a frame whose input is exactly zero on every channel comes out
//! exactly zero, and the feedback state is cleared (no dither noise on silence, no tail
//! of shaped noise after it).
//!
//! Randomness comes from the crate's seedable [`crate::rng::Pcg32`] (the one the reverb's
//! modulation uses), seeded explicitly: the same seed gives the same render.

use crate::rng::Pcg32;
use crate::sanitize::replace_non_finite;

/// The largest fed-back error, in LSB.
pub const MAX_FEEDBACK_LSB: f32 = 4.0;
/// The seed of [`Dither::new`].
pub const DEFAULT_SEED: u64 = 0x005E_ED0F_0D17_4E55;
/// Lipshitz/Vanderkooy/Wannamaker 1991 E-weighted 5-tap error-feedback filter.
pub const LIPSHITZ_44K: [f32; 5] = [2.033, -2.165, 1.959, -1.590, 0.6149];
/// Second-order error feedback, `NTF = (1 − z⁻¹)²`.
pub const SECOND_ORDER: [f32; 5] = [2.0, -1.0, 0.0, 0.0, 0.0];

/// Target word length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DitherBits {
    /// No quantisation: the signal passes untouched (32-bit float output).
    #[default]
    Off,
    /// 16-bit.
    Bits16,
    /// 24-bit.
    Bits24,
}

impl DitherBits {
    /// Word length in bits (`None` when off).
    pub fn bits(self) -> Option<u32> {
        match self {
            Self::Off => None,
            Self::Bits16 => Some(16),
            Self::Bits24 => Some(24),
        }
    }
}

/// Spectrum of the added noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoiseShape {
    /// White TPDF.
    #[default]
    Flat,
    /// TPDF with error-feedback noise shaping (see the module notes).
    Shaped,
}

/// Dither settings (the mastering chain's `dither_bits`, `dither_shape` parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DitherSettings {
    /// Word length (off, 16, 24).
    pub bits: DitherBits,
    /// Flat or shaped.
    pub shape: NoiseShape,
}

/// The PCG stream the dither draws from: the reference implementation's default
/// increment (1442695040888963407 = 2·721347520444481703 + 1).
const DITHER_STREAM: u64 = 721_347_520_444_481_703;

/// The quantiser with dither (see the module notes). No latency.
#[derive(Debug, Clone)]
pub struct Dither {
    seed: u64,
    rng: Pcg32,
    feedback: [f32; 5],
    /// Past total errors per channel, newest first.
    errors: [[f32; 5]; 2],
}

impl Dither {
    /// A dither at `sample_rate` with [`DEFAULT_SEED`].
    pub fn new(sample_rate: f32) -> Self {
        Self::with_seed(sample_rate, DEFAULT_SEED)
    }

    /// A dither with an explicit seed (same seed, same noise).
    pub fn with_seed(sample_rate: f32, seed: u64) -> Self {
        Self {
            seed,
            rng: Pcg32::new(seed, DITHER_STREAM),
            feedback: if sample_rate < 88_000.0 {
                LIPSHITZ_44K
            } else {
                SECOND_ORDER
            },
            errors: [[0.0; 5]; 2],
        }
    }

    /// No latency.
    pub fn latency(&self) -> usize {
        0
    }

    /// The error-feedback coefficients in use when shaping.
    pub fn feedback_coefficients(&self) -> [f32; 5] {
        self.feedback
    }

    /// Clears the feedback state and restarts the generator from the seed (so a reset
    /// render repeats exactly).
    pub fn reset(&mut self) {
        self.rng = Pcg32::new(self.seed, DITHER_STREAM);
        self.errors = [[0.0; 5]; 2];
    }

    /// Quantises 1 or 2 channels in place (further channels untouched; the shortest
    /// sets the length). Non-finite samples become silence.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &DitherSettings) {
        let Some(bits) = settings.bits.bits() else {
            return;
        };
        let n_ch = channels.len().min(2);
        if n_ch == 0 {
            return;
        }
        let frames = channels[..n_ch].iter().map(|c| c.len()).min().unwrap_or(0);
        for c in channels[..n_ch].iter_mut() {
            replace_non_finite(&mut c[..frames]);
        }
        let scale = (1u32 << (bits - 1)) as f32;
        let inv = 1.0 / scale;
        let (lo, hi) = (-scale, scale - 1.0);
        let shaped = settings.shape == NoiseShape::Shaped;
        if !shaped {
            // Plain TPDF: the same arithmetic and random sequence as the general loop
            // below (channel 0's two draws, then channel 1's, frame by frame), without
            // its per-frame channel indexing: the common case (every 16- and 24-bit
            // file `oxide` writes) at about half the cost.
            // A stereo frame takes four draws, drawn together (`next_f32x4`: the same
            // values as four `next_f32` in a row).
            let rng = &mut self.rng;
            let quantise = |x: &mut f32, u: f32, v: f32| {
                let d = (u - 0.5) + (v - 0.5);
                *x = round_half_away(*x * scale + d).clamp(lo, hi) * inv;
            };
            let mut silence = false;
            match channels {
                [l] => {
                    for x in l[..frames].iter_mut() {
                        if *x == 0.0 {
                            silence = true;
                        } else {
                            quantise(x, rng.next_f32(), rng.next_f32());
                        }
                    }
                }
                [l, r, ..] => {
                    for (x, y) in l[..frames].iter_mut().zip(r[..frames].iter_mut()) {
                        if *x == 0.0 && *y == 0.0 {
                            silence = true;
                        } else {
                            let [a, b, c, d] = rng.next_f32x4();
                            quantise(x, a, b);
                            quantise(y, c, d);
                        }
                    }
                }
                [] => {}
            }
            if silence {
                self.errors = [[0.0; 5]; 2];
            }
            return;
        }
        let h = self.feedback;
        for i in 0..frames {
            if channels[..n_ch].iter().all(|c| c[i] == 0.0) {
                self.errors = [[0.0; 5]; 2];
                continue;
            }
            for (c, ch) in channels[..n_ch].iter_mut().enumerate() {
                let e = &mut self.errors[c];
                let target = ch[i] * scale;
                let v = if shaped {
                    // The older errors are summed first, off the loop's critical path
                    // (the newest error arrives one quantisation after the last one).
                    let older = h[1] * e[1] + h[2] * e[2] + h[3] * e[3] + h[4] * e[4];
                    target - (h[0] * e[0] + older)
                } else {
                    target
                };
                let d = (self.rng.next_f32() - 0.5) + (self.rng.next_f32() - 0.5);
                let q = round_half_away(v + d).clamp(lo, hi);
                if shaped {
                    let err = (q - v).clamp(-MAX_FEEDBACK_LSB, MAX_FEEDBACK_LSB);
                    *e = [err, e[0], e[1], e[2], e[3]];
                }
                ch[i] = q * inv;
            }
        }
    }
}

/// `x.round()` (half away from zero) bit for bit once clamped to the 24-bit range or
/// narrower: on baseline x86_64 (no SSE4.1) `f32::round` is a call into libm, which was
/// a third of the dither's time. Adding `0.5 − 2⁻²⁵` and truncating rounds every float
/// correctly (the sum's own rounding carries exact halves up; floats from 2²³ up are
/// integers and stay unchanged); the conversion saturates beyond ±2³¹, where the clamp
/// decides anyway. Checked exhaustively over all 2³² bit patterns against
/// `f32::round().clamp(−2²³, 2²³ − 1)` (test below samples it).
#[inline(always)]
fn round_half_away(x: f32) -> f32 {
    const HALF_BELOW: f32 = 0.499_999_97; // 0.5 − 2⁻²⁵, the float just below ½
    let t = (x.abs() + HALF_BELOW) as i32 as f32;
    t.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mastering::test_signals::sine;

    const FS: f32 = 44_100.0;
    const LSB16: f64 = 1.0 / 32_768.0;

    fn run(d: &mut Dither, s: &DitherSettings, x: &[f32]) -> Vec<f32> {
        let mut y = x.to_vec();
        let mut z = x.to_vec();
        for (a, b) in y.chunks_mut(500).zip(z.chunks_mut(500)) {
            d.process(&mut [a, b], s);
        }
        y
    }

    /// Error `y − x` in LSB.
    fn error_lsb(x: &[f32], y: &[f32]) -> Vec<f64> {
        x.iter()
            .zip(y)
            .map(|(&a, &b)| (b as f64 - a as f64) / LSB16)
            .collect()
    }

    fn mean_var(e: &[f64]) -> (f64, f64) {
        let n = e.len() as f64;
        let mean = e.iter().sum::<f64>() / n;
        let var = e.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    }

    const FLAT16: DitherSettings = DitherSettings {
        bits: DitherBits::Bits16,
        shape: NoiseShape::Flat,
    };
    const SHAPED16: DitherSettings = DitherSettings {
        bits: DitherBits::Bits16,
        shape: NoiseShape::Shaped,
    };

    #[test]
    fn every_sample_is_on_the_16_bit_grid() {
        let x = sine(20_000, 997.0, 0.9, 0.1, FS as f64);
        for s in [FLAT16, SHAPED16] {
            let y = run(&mut Dither::new(FS), &s, &x);
            for &v in &y {
                let q = v as f64 * 32_768.0;
                assert_eq!(q, q.round(), "{v} is not on the grid");
                assert!((-32_768.0..=32_767.0).contains(&q));
            }
        }
        // 24 bits: on the 2^-23 grid.
        let s = DitherSettings {
            bits: DitherBits::Bits24,
            ..FLAT16
        };
        for &v in &run(&mut Dither::new(FS), &s, &x) {
            let q = v as f64 * 8_388_608.0;
            assert_eq!(q, q.round());
        }
    }

    #[test]
    fn tpdf_error_moments_do_not_depend_on_the_signal() {
        // Constant inputs at several positions between two grid points, and sines at
        // −90 and −6 dBFS: error mean 0 and variance 1/4 LSB² (1/12 rounding + 1/6 TPDF)
        // for each. With 20 000 samples the mean's standard error is 0.0035 LSB and the
        // variance's about 0.0025 (TPDF error kurtosis), so 0.02 and 0.015 are > 5σ;
        // an undithered quantiser misses by up to 0.5 LSB in mean, RPDF dither by up to
        // 0.17 LSB² in variance.
        let n = 20_000;
        let mut signals: Vec<Vec<f32>> = [0.0, 0.25, 0.5, 0.77]
            .iter()
            .map(|frac| vec![((100.0 + frac) * LSB16) as f32; n])
            .collect();
        signals.push(sine(n, 441.0, 1e-90f32.max(3.1623e-5), 0.2, FS as f64));
        signals.push(sine(n, 441.0, 0.5, 0.2, FS as f64));
        for (k, x) in signals.iter().enumerate() {
            let y = run(&mut Dither::with_seed(FS, 100 + k as u64), &FLAT16, x);
            let e = error_lsb(x, &y);
            let (mean, var) = mean_var(&e);
            assert!(mean.abs() < 0.02, "signal {k}: mean {mean}");
            assert!((var - 0.25).abs() < 0.015, "signal {k}: variance {var}");
            // Uncorrelated with the signal (for the sines): |ρ| < 0.03 (1/√n = 0.007).
            if k >= 4 {
                let (xm, xv) = mean_var(&x.iter().map(|&v| v as f64).collect::<Vec<_>>());
                let cov = x
                    .iter()
                    .zip(&e)
                    .map(|(&a, &b)| (a as f64 - xm) * (b - mean))
                    .sum::<f64>()
                    / n as f64;
                let rho = cov / (xv * var).sqrt();
                assert!(rho.abs() < 0.03, "signal {k}: correlation {rho}");
            }
        }
    }

    /// Normalised autocorrelation of `e` at lags 0..=6 (in LSB²).
    fn autocorrelation(e: &[f64]) -> Vec<f64> {
        (0..=6)
            .map(|k| e.iter().zip(&e[k..]).map(|(a, b)| a * b).sum::<f64>() / (e.len() - k) as f64)
            .collect()
    }

    /// The error-feedback taps as published, typed from the paper and not read from the
    /// code under test: Lipshitz, Vanderkooy and Wannamaker, "Minimally Audible Noise
    /// Shaping", JAES 39(11), 1991, the 5-tap E-weighted design for 44.1 kHz (the same
    /// values as SoX's `lip44` shaper).
    const PUBLISHED_E_WEIGHTED: [f64; 5] = [2.033, -2.165, 1.959, -1.590, 0.6149];

    /// `|NTF(e^jω)|²` of error feedback with taps `h`: `|1 − Σ h_k·e^(−jωk)|²`.
    fn ntf_power(h: &[f64], w: f64) -> f64 {
        let (mut re, mut im) = (1.0, 0.0);
        for (k, &c) in h.iter().enumerate() {
            let phase = w * (k + 1) as f64;
            re -= c * phase.cos();
            im += c * phase.sin();
        }
        re * re + im * im
    }

    /// Welch estimate of the power spectral density of `e` (LSB² per unit of normalised
    /// angular frequency over 2π, so white noise of variance σ² reads σ²) averaged over
    /// the 17 bins around each of `freqs`, and the same average of `model(ω)`: 1024-frame
    /// Hann segments with 50 % overlap.
    fn welch_vs_model(
        e: &[f64],
        fs: f64,
        freqs: &[f64],
        model: impl Fn(f64) -> f64,
    ) -> Vec<(f64, f64)> {
        let n = 1024;
        let window: Vec<f64> = (0..n)
            .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
            .collect();
        let power: f64 = window.iter().map(|w| w * w).sum();
        freqs
            .iter()
            .map(|&f| {
                let centre = (f / fs * n as f64).round() as i64;
                let bins: Vec<i64> = (centre - 8..=centre + 8).collect();
                let tables: Vec<Vec<(f64, f64)>> = bins
                    .iter()
                    .map(|&b| {
                        let w = std::f64::consts::TAU * b as f64 / n as f64;
                        (0..n)
                            .map(|i| ((w * i as f64).cos(), (w * i as f64).sin()))
                            .collect()
                    })
                    .collect();
                let (mut measured, mut segments) = (0.0, 0);
                for start in (0..e.len() - n).step_by(n / 2) {
                    let seg = &e[start..start + n];
                    for table in &tables {
                        let (mut re, mut im) = (0.0, 0.0);
                        for ((x, w), (c, s)) in seg.iter().zip(&window).zip(table) {
                            re += x * w * c;
                            im -= x * w * s;
                        }
                        measured += (re * re + im * im) / power;
                    }
                    segments += 1;
                }
                measured /= (segments * bins.len()) as f64;
                let expected = bins
                    .iter()
                    .map(|&b| model(std::f64::consts::TAU * b as f64 / n as f64))
                    .sum::<f64>()
                    / bins.len() as f64;
                (measured, expected)
            })
            .collect()
    }

    #[test]
    fn flat_is_white_and_shaped_follows_its_noise_transfer_function() {
        // The spectrum is the Fourier transform of the autocorrelation, so checking the
        // autocorrelation checks the whole spectrum. Flat TPDF: r(0) = 1/4, r(k≠0) = 0.
        // Shaped: r(k) = 1/4·Σ_j n_j·n_{j+k} with n = (1, −h1, …, −h5), the taps of the
        // published NTF. 40 000 samples: standard error of r(k) ≈ r(0)·√(Σ n²)/√N; the
        // tolerance is 6 of them.
        let n = 40_000;
        let x = sine(n, 1000.0, 0.25, 0.4, FS as f64);
        let flat = error_lsb(&x, &run(&mut Dither::new(FS), &FLAT16, &x));
        let r = autocorrelation(&flat);
        let tol = 6.0 * 0.25 / (n as f64).sqrt();
        assert!((r[0] - 0.25).abs() < 0.015, "{r:?}");
        for k in 1..=6 {
            assert!(r[k].abs() < tol, "flat lag {k}: {}", r[k]);
        }
        let taps: Vec<f64> = std::iter::once(1.0)
            .chain(PUBLISHED_E_WEIGHTED.iter().map(|&c| -c))
            .collect();
        let shaped = error_lsb(&x, &run(&mut Dither::new(FS), &SHAPED16, &x));
        let r = autocorrelation(&shaped);
        let energy: f64 = taps.iter().map(|t| t * t).sum();
        let tol = 6.0 * 0.25 * energy / (n as f64).sqrt();
        for k in 0..=6 {
            let want: f64 = 0.25
                * taps
                    .iter()
                    .zip(taps.iter().skip(k))
                    .map(|(a, b)| a * b)
                    .sum::<f64>();
            assert!(
                (r[k] - want).abs() < tol,
                "shaped lag {k}: {} vs {want}",
                r[k]
            );
        }
        // And the published shape is the one the module notes describe: about 16 dB
        // less noise than flat below 3 kHz, a notch near 4 kHz, +19 dB at Nyquist.
        let ntf_db = |f: f64| {
            10.0 * ntf_power(&PUBLISHED_E_WEIGHTED, std::f64::consts::TAU * f / FS as f64).log10()
        };
        assert!(ntf_db(1000.0) < -15.0 && ntf_db(4000.0) < -25.0 && ntf_db(22_050.0) > 18.0);
    }

    #[test]
    fn measured_noise_spectra_match_the_published_shapers() {
        // The error spectrum measured with a Welch estimate (2^17 frames, 255 segments,
        // 17 bins per point: about 4000 χ²₂ values, though neighbouring Hann bins are
        // correlated, so about 1100 independent ones: 1σ ≈ 3 %, 0.13 dB) against
        // 1/4 LSB² × |NTF|², written here from the published filters:
        // - 44.1 kHz: the E-weighted 5-tap filter of Lipshitz et al. (1991);
        // - 96 kHz: second-order error feedback, NTF = (1 − z⁻¹)², so
        //   |NTF|² = (2·sin(ω/2))⁴ (Lipshitz, Wannamaker, Vanderkooy, JAES 40(5), 1992, §6).
        // Tolerance 0.75 dB (about 6σ; measured within 0.3 dB). Shaping with the other
        // filter misses by more than 6 dB at 500 Hz, 2 and 4 kHz at either rate, and flat
        // dither by more than 15 dB below 4 kHz.
        let n = 1 << 17;
        let cases: [(f32, &dyn Fn(f64) -> f64); 2] = [
            (44_100.0, &|w| 0.25 * ntf_power(&PUBLISHED_E_WEIGHTED, w)),
            (96_000.0, &|w: f64| 0.25 * (2.0 * (w / 2.0).sin()).powi(4)),
        ];
        for (fs, model) in cases {
            let x = sine(n, 997.0, 0.25, 0.4, fs as f64);
            let e = error_lsb(&x, &run(&mut Dither::new(fs), &SHAPED16, &x));
            let freqs = [500.0, 2000.0, 4000.0, 8000.0, 15_000.0, 20_000.0];
            for (&f, (measured, expected)) in freqs
                .iter()
                .zip(welch_vs_model(&e, fs as f64, &freqs, model))
            {
                let db = 10.0 * (measured / expected).log10();
                assert!(
                    db.abs() < 0.75,
                    "{fs} Hz, {f} Hz: measured {measured:.3e}, published filter {expected:.3e} ({db:+.2} dB)"
                );
            }
        }
    }

    #[test]
    fn digital_silence_stays_silent_and_seed_reproduces() {
        let mut x = vec![0.0f32; 3000];
        x[1000..1100].copy_from_slice(&sine(100, 1000.0, 0.3, 0.1, FS as f64));
        for s in [FLAT16, SHAPED16] {
            let mut d = Dither::new(FS);
            let y = run(&mut d, &s, &x);
            assert!(y[..1000].iter().all(|&v| v == 0.0));
            assert!(y[1100..].iter().all(|&v| v == 0.0));
            d.reset();
            assert_eq!(run(&mut d, &s, &x), y, "reset reproduces");
        }
        let off = DitherSettings::default();
        let y = run(&mut Dither::new(FS), &off, &x);
        assert_eq!(y, x, "off passes untouched");
    }

    #[test]
    fn round_half_away_equals_f32_round_within_the_clamp() {
        let (lo, hi) = (-8_388_608.0f32, 8_388_607.0f32);
        let check = |x: f32| {
            let want = x.round().clamp(lo, hi);
            let got = round_half_away(x).clamp(lo, hi);
            assert_eq!(want.to_bits(), got.to_bits(), "{x:e}");
        };
        // A stride over all bit patterns (both signs, zeros, tiny values), then every
        // half-integer in ±70 000 and its two neighbours (the cases `+ ½` gets wrong).
        for bits in (0..=u32::MAX).step_by(40_009) {
            let x = f32::from_bits(bits);
            if x.is_finite() {
                check(x);
            }
        }
        for k in -70_000i32..70_000 {
            let x = k as f32 + 0.5;
            check(x);
            check(f32::from_bits(x.to_bits() + 1));
            check(f32::from_bits(x.to_bits() - 1));
        }
    }

    /// The plain TPDF path gives bit for bit what the general per-sample loop gave
    /// before it (written out here as it was), mono and stereo, with digital silence in
    /// one and in both channels, across blocks.
    #[test]
    fn the_tpdf_path_matches_the_per_sample_loop_bit_for_bit() {
        fn reference(rng: &mut Pcg32, channels: &mut [Vec<f32>], bits: u32) {
            let scale = (1u32 << (bits - 1)) as f32;
            let (inv, lo, hi) = (1.0 / scale, -scale, scale - 1.0);
            for i in 0..channels[0].len() {
                if channels.iter().all(|c| c[i] == 0.0) {
                    continue;
                }
                for ch in channels.iter_mut() {
                    let d = (rng.next_f32() - 0.5) + (rng.next_f32() - 0.5);
                    ch[i] = round_half_away(ch[i] * scale + d).clamp(lo, hi) * inv;
                }
            }
        }
        let x = sine(4_000, 997.0, 0.5, 0.0, FS as f64);
        let mut left = x.clone();
        left[1_000..1_500].fill(0.0);
        let mut right: Vec<f32> = x.iter().map(|v| -0.7 * v).collect();
        right[1_200..1_800].fill(0.0);
        for (settings, bits) in [
            (FLAT16, 16),
            (
                DitherSettings {
                    bits: DitherBits::Bits24,
                    shape: NoiseShape::Flat,
                },
                24,
            ),
        ] {
            for stereo in [false, true] {
                let input: Vec<Vec<f32>> = if stereo {
                    vec![left.clone(), right.clone()]
                } else {
                    vec![left.clone()]
                };
                let mut expected = input.clone();
                let mut d = Dither::new(FS);
                let mut rng = d.rng.clone();
                reference(&mut rng, &mut expected, bits);
                let mut got = input.clone();
                for start in (0..got[0].len()).step_by(333) {
                    let end = (start + 333).min(got[0].len());
                    let mut views: Vec<&mut [f32]> =
                        got.iter_mut().map(|c| &mut c[start..end]).collect();
                    d.process(&mut views, &settings);
                }
                for (g, e) in got.iter().zip(&expected) {
                    assert!(
                        g.iter().zip(e).all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{bits} bits, stereo {stereo}"
                    );
                }
            }
        }
    }
}
