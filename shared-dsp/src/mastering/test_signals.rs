//! Signals and measurements shared by the mastering tests.

use std::f64::consts::PI;

/// A small seedable PRNG for test noise (xorshift32).
pub struct Xorshift(pub u32);

impl Xorshift {
    /// Uniform in [−1, 1).
    pub fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 as f64 / u32::MAX as f64 * 2.0 - 1.0) as f32
    }
}

/// Uniform white noise of peak `amplitude`.
pub fn noise(frames: usize, amplitude: f32, seed: u32) -> Vec<f32> {
    let mut r = Xorshift(seed.max(1));
    (0..frames).map(|_| amplitude * r.next()).collect()
}

/// A sine of `amplitude` at `freq_hz`, starting at `phase` radians.
pub fn sine(frames: usize, freq_hz: f64, amplitude: f32, phase: f64, fs: f64) -> Vec<f32> {
    (0..frames)
        .map(|n| amplitude * (2.0 * PI * freq_hz * n as f64 / fs + phase).sin() as f32)
        .collect()
}

/// A naive full-scale square wave (samples ±amplitude) at `freq_hz`.
pub fn square(frames: usize, freq_hz: f64, amplitude: f32, fs: f64) -> Vec<f32> {
    (0..frames)
        .map(|n| {
            let phase = (freq_hz * n as f64 / fs).fract();
            if phase < 0.5 {
                amplitude
            } else {
                -amplitude
            }
        })
        .collect()
}

/// Synthesised drums, then hard-clipped at ±1: kick (decaying 55 Hz sine with a pitch
/// drop), snare (noise burst plus 190 Hz body) and hats (high-passed noise ticks), driven
/// `drive` times before the clip.
pub fn clipped_drums(frames: usize, fs: f64, drive: f32, seed: u32) -> Vec<f32> {
    let mut r = Xorshift(seed.max(1));
    let beat = (fs * 0.25) as usize; // 240 bpm sixteenth grid: dense hits
    let mut hp_prev = 0.0f32;
    (0..frames)
        .map(|n| {
            let pos = n % (4 * beat);
            let t_kick = (pos % (2 * beat)) as f64 / fs;
            let kick = (-t_kick * 18.0).exp()
                * (2.0 * PI * (55.0 * t_kick + 60.0 * (1.0 - (-t_kick * 30.0).exp()) / 30.0)).sin();
            let t_snare = ((pos + 4 * beat - beat) % (2 * beat)) as f64 / fs;
            let white = r.next();
            let snare = (-t_snare * 25.0).exp()
                * (0.6 * white as f64 + 0.5 * (2.0 * PI * 190.0 * t_snare).sin());
            let t_hat = (pos % (beat / 2)) as f64 / fs;
            let hp = white - hp_prev;
            hp_prev = white;
            let hat = (-t_hat * 120.0).exp() * 0.4 * hp as f64;
            let x = drive * (kick + snare + hat) as f32;
            x.clamp(-1.0, 1.0)
        })
        .collect()
}

/// Music-like material: a bass line, chords (detuned partials up to 10 kHz), a noisy
/// percussive layer, with an envelope; peaks near `peak`.
pub fn music(frames: usize, fs: f64, peak: f32, seed: u32) -> Vec<f32> {
    let mut r = Xorshift(seed.max(1));
    let notes = [55.0, 65.4, 73.4, 49.0];
    let mut out: Vec<f32> = (0..frames)
        .map(|n| {
            let t = n as f64 / fs;
            let bar = ((t * 2.0) as usize) % notes.len();
            let f0 = notes[bar];
            let bass = 0.5 * (2.0 * PI * f0 * t).sin() + 0.2 * (2.0 * PI * 2.0 * f0 * t).sin();
            let mut chord = 0.0;
            for (k, ratio) in [4.0, 5.0, 6.0, 8.0, 12.0, 24.0, 48.0, 96.0]
                .iter()
                .enumerate()
            {
                let f = f0 * ratio * (1.0 + 0.002 * k as f64);
                if f < 0.45 * fs {
                    chord += 0.25 / (1.0 + k as f64) * (2.0 * PI * f * t + k as f64).sin();
                }
            }
            let beat = (t * 8.0).fract();
            let perc = (-beat * 40.0).exp() * r.next() as f64;
            bass + chord + 0.6 * perc
        })
        .map(|v| v as f32)
        .collect();
    let max = out.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
    if max > 0.0 {
        out.iter_mut().for_each(|v| *v *= peak / max);
    }
    out
}

/// |DFT| in dB of the (decayed) impulse response `h` at `f`.
pub fn impulse_response_db(h: &[f32], f: f64, fs: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &v) in h.iter().enumerate() {
        let w = 2.0 * PI * f * n as f64 / fs;
        re += v as f64 * w.cos();
        im -= v as f64 * w.sin();
    }
    10.0 * (re * re + im * im).max(1e-300).log10()
}

/// The reference true-peak meter of the tests: 16× oversampling, in `f64`, with a
/// Kaiser-windowed sinc of 64 taps per phase, β = 10, cut-off fs/2: flat (±1e-5) to
/// 0.45·fs, −6 dB at fs/2, more than 100 dB down from 0.55·fs. That is the response of
/// a real reconstruction (BS.1770's filter and a DAC's half-band filter have the same
/// transition band), with a stop band 25 dB deeper than the crate's 48-tap one and 16
/// points per sample. Returns the largest absolute value of the oversampled signal
/// (and of the samples themselves), in dB.
///
/// Interpolated values are computed only where the whole filter lies inside the slice
/// (an end of the slice is a cut, not part of the signal), and, to keep debug-build
/// tests fast, only where a sample within ±3 reaches half the sample peak: a
/// band-limited peak 6 dB above every sample around it needs energy at Nyquist that no
/// test signal here has.
pub fn true_peak_16x_db(x: &[f32]) -> f64 {
    true_peak_16x_db_cut(x, 0.5)
}

/// As [`true_peak_16x_db`] with the cut-off at `cut` × the sample rate.
fn true_peak_16x_db_cut(x: &[f32], cut: f64) -> f64 {
    const L: usize = 16;
    const HALF: usize = 32; // taps each side per phase
    fn i0(x: f64) -> f64 {
        let (mut sum, mut term) = (1.0, 1.0);
        for k in 1..200 {
            term *= (x / 2.0 / k as f64).powi(2);
            sum += term;
            if term < 1e-18 * sum {
                break;
            }
        }
        sum
    }
    let beta = 10.0;
    // Phase p (fractional offset p/L): taps for samples n − HALF + 1 … n + HALF.
    let mut phases = vec![[0.0f64; 2 * HALF]; L];
    for (p, taps) in phases.iter_mut().enumerate().skip(1) {
        let frac = p as f64 / L as f64;
        let mut sum = 0.0;
        for (j, t) in taps.iter_mut().enumerate() {
            let m = j as f64 - (HALF as f64 - 1.0) - frac; // sample offset − position
            let r = m / (HALF as f64 + 1.0);
            let w = i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0(beta);
            // Cut-off 0.5·fs (the signal's own band limit).
            let s = if m == 0.0 {
                1.0
            } else {
                (2.0 * PI * cut * m).sin() / (PI * m)
            };
            *t = w * s;
            sum += *t;
        }
        taps.iter_mut().for_each(|t| *t /= sum);
    }
    let mut peak = x.iter().fold(0.0f64, |m, &v| m.max(v.abs() as f64));
    let n = x.len();
    let floor = 0.5 * peak;
    // Only where the whole filter lies inside the signal: the end of a slice is a cut,
    // not part of the signal, and would ring like a switched-off tone.
    for i in HALF - 1..n.saturating_sub(HALF) {
        let near = x[i.saturating_sub(3)..(i + 4).min(n)]
            .iter()
            .any(|&v| v.abs() as f64 >= floor);
        if !near {
            continue;
        }
        for taps in phases.iter().skip(1) {
            // Interpolated value between x[i] and x[i+1].
            let mut acc = 0.0;
            for (j, &t) in taps.iter().enumerate() {
                acc += t * x[i + j + 1 - HALF] as f64;
            }
            peak = peak.max(acc.abs());
        }
    }
    20.0 * peak.max(1e-30).log10()
}
