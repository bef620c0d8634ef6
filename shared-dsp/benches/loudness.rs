//! The full loudness meter (K-weighting, momentary/short-term/integrated/LRA, sample and
//! true peak) on 48 kHz stereo in 512-frame blocks.
//!
//! "× real time" = seconds of audio measured per second = 10 s / the time per iteration.
//! Each case is measured twice: by wall clock (criterion's default) and by the CPU time
//! of the benchmarking thread (the `cpu-time` crate's thread clock), which
//! stays meaningful when the machine is shared and the thread waits for a core.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use shared_dsp::loudness::{ChannelLayout, LoudnessMeter, MeterOptions};
use std::time::{Duration, Instant};

const RATE: f64 = 48_000.0;
const BLOCK: usize = 512;
const SECONDS: usize = 10;

fn signal() -> (Vec<f32>, Vec<f32>) {
    // Deterministic music-like material: two tones and an LCG noise, level changing.
    let mut seed = 0x1234_5678u32;
    let len = RATE as usize * SECONDS;
    let mut left = Vec::with_capacity(len);
    let mut right = Vec::with_capacity(len);
    for n in 0..len {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
        let t = n as f32 / RATE as f32;
        let level = 0.1 + 0.3 * (0.5 + 0.5 * (t * 0.7).sin());
        let tone = (t * 2.0 * std::f32::consts::PI * 220.0).sin() + 0.5 * (t * 6_283.0).sin();
        left.push(level * (0.6 * tone + 0.4 * noise));
        right.push(level * (0.5 * tone - 0.5 * noise));
    }
    (left, right)
}

/// CPU time of this thread so far (`None` where the system has no thread clock).
fn thread_cpu_time() -> Option<Duration> {
    cpu_time::ThreadTime::try_now()
        .ok()
        .map(|t| t.as_duration())
}

fn run(meter: &mut LoudnessMeter, left: &[f32], right: &[f32]) {
    meter.reset();
    for (l, r) in left.chunks(BLOCK).zip(right.chunks(BLOCK)) {
        meter.process(&[l, r]);
    }
    black_box(meter.reading());
}

fn bench(c: &mut Criterion) {
    let (left, right) = signal();
    let mut group = c.benchmark_group("loudness");
    group.throughput(Throughput::Elements((RATE as usize * SECONDS) as u64));
    group.sample_size(10);
    for (name, options) in [
        (
            "full_meter_with_true_peak_48k_stereo_10s",
            MeterOptions { true_peak: true },
        ),
        (
            "loudness_only_48k_stereo_10s",
            MeterOptions { true_peak: false },
        ),
    ] {
        let mut meter = LoudnessMeter::with_options(RATE, ChannelLayout::Stereo, options);
        group.bench_function(format!("{name}/wall"), |b| {
            b.iter(|| run(&mut meter, &left, &right))
        });
        if thread_cpu_time().is_some() {
            group.bench_function(format!("{name}/thread_cpu"), |b| {
                b.iter_custom(|iters| {
                    let wall = Instant::now();
                    let start = thread_cpu_time().unwrap_or_default();
                    for _ in 0..iters {
                        run(&mut meter, &left, &right);
                    }
                    let cpu = thread_cpu_time().unwrap_or_default().saturating_sub(start);
                    if cpu.is_zero() {
                        wall.elapsed()
                    } else {
                        cpu
                    }
                })
            });
        }
    }
    // Two stereo meters on the same grid (a chain's input and output meters): the
    // four channels' K-weighting in one four-lane pass (`process_two`).
    let (mut first, mut second) = (
        LoudnessMeter::new(RATE, ChannelLayout::Stereo),
        LoudnessMeter::new(RATE, ChannelLayout::Stereo),
    );
    group.bench_function("two_meters_48k_stereo_10s/wall", |b| {
        b.iter(|| {
            first.reset();
            second.reset();
            for (l, r) in left.chunks(BLOCK).zip(right.chunks(BLOCK)) {
                LoudnessMeter::process_two(&mut first, &[l, r], &mut second, &[r, l]);
            }
            black_box((first.reading(), second.reading()));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
