//! Test programmes and damage for the repair tests: music-like material, a piano-like
//! tone, inserted clicks, and the SNR measure.

use crate::rng::Pcg32;
use std::f64::consts::PI;

/// Music-like material: a bass line, chords of detuned harmonic partials with vibrato
/// changing every bar, drums (kick, snare, hats) whose hits rise over about 1 ms like a
/// miked drum, and hiss 70 dB below the peak; peak `peak`. The drums' noise sits
/// about 25 dB below the peak (a mix, not a drum stem): no method can restore noise
/// under a click, so a click in a loud noise burst is restored only to the burst's
/// level, and louder drums would measure the drums, not the repair. `seed` varies the noise so
/// two channels differ.
pub fn music(frames: usize, fs: f64, peak: f32, seed: u64) -> Vec<f32> {
    music_with(frames, fs, peak, seed, 1.0)
}

/// [`music`] with the drums scaled by `drums` (0 leaves the tonal parts and hiss).
pub fn music_with(frames: usize, fs: f64, peak: f32, seed: u64, drums: f64) -> Vec<f32> {
    let mut rng = Pcg32::new(seed, 7);
    let notes = [110.0, 130.8, 146.8, 98.0];
    let beat = 0.5; // 120 bpm
    let bar = 4.0 * beat;
    let mut hp_prev = 0.0f64;
    let mut snare_lp = 0.0f64;
    let mut out: Vec<f64> = (0..frames)
        .map(|n| {
            let t = n as f64 / fs;
            // Each bar's chord starts from phase zero and fades in and out over 20 ms
            // (sin² ramps), so a chord change is a re-articulation, not a step.
            let tb = t % bar;
            let f0 = notes[((t / bar) as usize) % notes.len()];
            let edge = (tb.min(bar - tb) / 0.02).min(1.0);
            let env = (0.5 * PI * edge).sin().powi(2);
            let vibrato = 0.003 / (2.0 * PI * 5.0) * (1.0 - (2.0 * PI * 5.0 * tb).cos());
            let bass =
                0.4 * (2.0 * PI * f0 / 2.0 * tb).sin() + 0.15 * (2.0 * PI * f0 * tb + 0.3).sin();
            let mut chord = 0.0;
            for (v, ratio) in [1.0, 1.26, 1.5, 2.0].iter().enumerate() {
                for h in 1..=8 {
                    let f = f0 * 2.0 * ratio * h as f64 * (1.0 + 0.0007 * v as f64);
                    if f < 0.45 * fs {
                        // Phase of a 5 Hz, 0.3 % vibrato: 2π f (t + ∫ 0.003 sin).
                        chord += 0.08 / h as f64
                            * (2.0 * PI * f * (tb + vibrato) + (v * h) as f64).sin();
                    }
                }
            }
            let white = rng.next_bipolar() as f64;
            let pos = t % (2.0 * beat);
            // Hits rise as 1 − e^{−t/τ} (τ ≈ 0.4 ms) before they decay.
            let rise = |dt: f64| 1.0 - (-dt / 0.0004).exp();
            let kick = rise(pos)
                * (-pos * 14.0).exp()
                * (2.0 * PI * (50.0 * pos + 2.0 * (1.0 - (-pos * 30.0).exp()))).sin();
            let ps = (pos - beat).max(0.0);
            snare_lp += 0.5 * (white - snare_lp);
            let snare = rise(ps)
                * (-ps * 22.0).exp()
                * (0.1 * snare_lp + 0.15 * (2.0 * PI * 190.0 * ps).sin());
            let ph = t % (beat / 2.0);
            let hp = white - hp_prev;
            hp_prev = white;
            let hat = rise(ph) * (-ph * 60.0).exp() * 0.03 * hp;
            env * (bass + chord) + drums * (0.8 * kick + snare + hat)
        })
        .collect();
    with_hiss(&mut out, peak, -70.0, &mut rng)
}

/// A piano-like tone: notes struck every 1.5 s, each a set of slightly inharmonic
/// partials (B = 0.0004) decaying exponentially, the higher ones faster, with a 2 ms
/// hammer rise; hiss 90 dB below the peak (a 16-bit-quiet recording).
pub fn piano(frames: usize, fs: f64, peak: f32, seed: u64) -> Vec<f32> {
    let mut rng = Pcg32::new(seed, 9);
    let notes = [261.6, 329.6, 392.0, 220.0, 174.6];
    let period = 1.5;
    let note = |k: usize, dt: f64| {
        let f0 = notes[k % notes.len()];
        let rise = 1.0 - (-dt / 0.002).exp();
        let mut v = 0.0;
        for h in 1..=12 {
            let hf = h as f64;
            let f = f0 * hf * (1.0 + 0.0004 * hf * hf).sqrt();
            if f < 0.45 * fs {
                v += (-dt * (1.5 + 0.8 * hf)).exp() / hf * (2.0 * PI * f * dt + hf).sin();
            }
        }
        rise * v
    };
    let mut out: Vec<f64> = (0..frames)
        .map(|n| {
            let t = n as f64 / fs;
            let k = (t / period) as usize;
            let dt = t - k as f64 * period;
            // The previous note rings on under the new one.
            let previous = if k > 0 { note(k - 1, dt + period) } else { 0.0 };
            note(k, dt) + previous
        })
        .collect();
    with_hiss(&mut out, peak, -90.0, &mut rng)
}

/// Scales `x` to `peak` and adds uniform hiss `hiss_db` below the peak, in f32.
fn with_hiss(x: &mut [f64], peak: f32, hiss_db: f64, rng: &mut Pcg32) -> Vec<f32> {
    let max = x.iter().fold(0.0f64, |m, &v| m.max(v.abs()));
    let gain = if max > 0.0 { peak as f64 / max } else { 0.0 };
    let hiss = peak as f64 * 10f64.powf(hiss_db / 20.0);
    x.iter()
        .map(|&v| (v * gain + hiss * rng.next_bipolar() as f64) as f32)
        .collect()
}

/// One inserted click.
#[derive(Debug, Clone)]
pub struct Click {
    /// The channels it is on.
    pub channels: Vec<usize>,
    pub start: usize,
    pub len: usize,
}

/// Adds clicks at `per_minute` (one per 60/per_minute s, jittered by ±40 %), each 1–45
/// samples long, peaking between −20 and −2 dBFS (uniform in dB), on the first
/// channel, the second or both (with stereo input): a sharp onset, random polarity
/// per sample, decaying to 5 % by its end (the shape of a scratch's impulse).
pub fn add_clicks(channels: &mut [Vec<f32>], fs: f64, per_minute: f64, seed: u64) -> Vec<Click> {
    let mut rng = Pcg32::new(seed, 11);
    let frames = channels[0].len();
    let spacing = fs * 60.0 / per_minute;
    let mut clicks = Vec::new();
    let mut centre = 0.5 * spacing;
    while centre + 0.5 * spacing < frames as f64 {
        let start = (centre + 0.4 * spacing * rng.next_bipolar() as f64) as usize;
        let len = 1 + (rng.next_f32() * 45.0) as usize % 45;
        let peak_db = -20.0 + 18.0 * rng.next_f32() as f64;
        let amplitude = 10f64.powf(peak_db / 20.0);
        let on: Vec<usize> = if channels.len() == 1 {
            vec![0]
        } else {
            match rng.next_u32() % 3 {
                0 => vec![0],
                1 => vec![1],
                _ => vec![0, 1],
            }
        };
        let shape: Vec<f64> = (0..len)
            .map(|i| {
                let decay = (-3.0 * i as f64 / len as f64).exp();
                let sign = if rng.next_u32() & 1 == 0 { 1.0 } else { -1.0 };
                let size = if i == 0 {
                    1.0
                } else {
                    0.5 + 0.5 * rng.next_f32() as f64
                };
                decay * sign * size
            })
            .collect();
        for (k, &c) in on.iter().enumerate() {
            let gain = if k == 0 {
                1.0
            } else {
                0.5 + 0.5 * rng.next_f32() as f64
            };
            for (i, &s) in shape.iter().enumerate() {
                if start + i < frames {
                    channels[c][start + i] += (amplitude * gain * s) as f32;
                }
            }
        }
        clicks.push(Click {
            channels: on,
            start,
            len,
        });
        centre += spacing;
    }
    clicks
}

/// SNR of `test` against `reference`, in dB: 10·log10(Σ ref² / Σ (ref − test)²).
pub fn snr_db(reference: &[f32], test: &[f32]) -> f64 {
    let (mut signal, mut error) = (0.0f64, 0.0f64);
    for (&r, &t) in reference.iter().zip(test) {
        signal += r as f64 * r as f64;
        error += (r as f64 - t as f64).powi(2);
    }
    10.0 * (signal / error.max(1e-300)).log10()
}

/// SNR over several channels together.
pub fn snr_db_all(reference: &[Vec<f32>], test: &[Vec<f32>]) -> f64 {
    let r: Vec<f32> = reference.iter().flatten().copied().collect();
    let t: Vec<f32> = test.iter().flatten().copied().collect();
    snr_db(&r, &t)
}
