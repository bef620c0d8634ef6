//! Repair benchmark: declick over 10 s of 44.1 kHz stereo music-like material with 60
//! clicks a minute (the speed criterion: at least 200× real time), offline and
//! through the streaming [`Declicker`] in 512-frame blocks.
//!
//! × real time = 10 s / (wall seconds per iteration). Each iteration copies the
//! damaged programme (a few ms, counted in) and declicks it.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shared_dsp::repair::{declick, DeclickSettings, Declicker};
use shared_dsp::rng::Pcg32;
use std::f64::consts::PI;
use std::hint::black_box;

const RATE: f64 = 44_100.0;
const SECONDS: f64 = 10.0;

/// Chords of harmonic partials, a bass, decaying noise hits every 0.25 s and hiss,
/// with a click (1–45 samples, −20 to −2 dBFS) about once a second.
fn programme(seed: u64) -> Vec<f32> {
    let frames = (RATE * SECONDS) as usize;
    let mut rng = Pcg32::new(seed, 3);
    let mut x: Vec<f32> = (0..frames)
        .map(|n| {
            let t = n as f64 / RATE;
            let mut v = 0.3 * (2.0 * PI * 55.0 * t).sin();
            for (k, f) in [220.0, 277.2, 329.6, 440.0, 659.3, 880.0]
                .iter()
                .enumerate()
            {
                v += 0.08 / (1.0 + k as f64) * (2.0 * PI * f * t + k as f64).sin();
            }
            let hit = t % 0.25;
            v += 0.05 * (-hit * 40.0).exp() * rng.next_bipolar() as f64;
            (0.6 * v) as f32 + 1e-4 * rng.next_bipolar()
        })
        .collect();
    let mut start = (0.5 * RATE) as usize;
    while start + 64 < frames {
        let len = 1 + (rng.next_u32() % 45) as usize;
        let amplitude = 10f32.powf((-20.0 + 18.0 * rng.next_f32()) / 20.0);
        for i in 0..len {
            x[start + i] += amplitude * (-3.0 * i as f32 / len as f32).exp() * rng.next_bipolar();
        }
        start += (RATE * (0.6 + 0.8 * rng.next_f32() as f64)) as usize;
    }
    x
}

fn benches(c: &mut Criterion) {
    let left = programme(1);
    let right = programme(2);
    let settings = DeclickSettings::default();
    let mut group = c.benchmark_group("repair");
    group.sample_size(10);
    group.throughput(Throughput::Elements(left.len() as u64));
    let (mut l, mut r) = (left.clone(), right.clone());
    group.bench_function("declick_44k1_stereo_10s", |b| {
        b.iter(|| {
            l.copy_from_slice(&left);
            r.copy_from_slice(&right);
            let spans = declick(&mut [&mut l, &mut r], RATE, &settings);
            black_box(spans);
        })
    });
    let mut declicker = Declicker::new(RATE, 2, &settings);
    group.bench_function("declicker_stream_44k1_stereo_10s_512", |b| {
        b.iter(|| {
            l.copy_from_slice(&left);
            r.copy_from_slice(&right);
            for (lb, rb) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
                declicker.process(&mut [lb, rb]);
            }
            black_box(&l);
        })
    });
    group.finish();
}

criterion_group!(repair, benches);
criterion_main!(repair);
