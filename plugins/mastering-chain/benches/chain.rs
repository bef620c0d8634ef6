//! The whole mastering chain with its meters (output loudness + true peak, input
//! loudness) at 48 kHz stereo in 512-frame blocks, default settings with the multiband
//! compressing (ratio 2.5 in every band) and the limiter working (+10 dB into it).
//! Goal: ≥ 150× real time. The × real time figure is printed from both wall time
//! (criterion) and this thread's CPU time (the machine may be loaded).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use mastering_chain::{Chain, Settings};

const FS: f32 = 48_000.0;
const BLOCK: usize = 512;

/// This thread's CPU time in seconds (wall time where the system has no thread clock).
fn thread_cpu_seconds() -> f64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    match cpu_time::ThreadTime::try_now() {
        Ok(t) => t.as_duration().as_secs_f64(),
        Err(_) => START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_secs_f64(),
    }
}

fn settings() -> Settings {
    let mut s = Settings::default();
    for band in s.multiband.bands.iter_mut() {
        band.ratio = 2.5;
        band.threshold_db = -24.0;
    }
    s.loud_gain_db = 10.0;
    s.imager.widths_percent = [80.0, 110.0, 120.0];
    s.imager.mono_below_hz = Some(100.0);
    s.eq.tilt_db = 1.0;
    s
}

fn input(frames: usize) -> (Vec<f32>, Vec<f32>) {
    let mut state = 1u64;
    let mut lp = [0.0f32; 2];
    let mut l = Vec::with_capacity(frames);
    let mut r = Vec::with_capacity(frames);
    for _ in 0..frames {
        for (c, out) in [&mut l, &mut r].into_iter().enumerate() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let x = ((state >> 40) as f32 / (1u64 << 23) as f32) - 1.0;
            lp[c] += 0.05 * (x - lp[c]);
            out.push(0.2 * (2.0 * lp[c] + 0.3 * x));
        }
    }
    (l, r)
}

fn bench_chain(c: &mut Criterion) {
    let s = settings();
    let mut chain = Chain::new(FS, BLOCK, &s);
    let (src_l, src_r) = input(BLOCK * 94); // ~1 s
    let (mut l, mut r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    let mut pos = 0;
    let mut block = || {
        let start = pos * BLOCK;
        l.copy_from_slice(&src_l[start..start + BLOCK]);
        r.copy_from_slice(&src_r[start..start + BLOCK]);
        chain.process(&mut [&mut l, &mut r], &s);
        black_box(l[0]);
        pos = (pos + 1) % 94;
    };

    // CPU-time figure: 20 s of audio.
    let blocks = (20.0 * FS) as usize / BLOCK;
    let (cpu0, wall0) = (thread_cpu_seconds(), std::time::Instant::now());
    for _ in 0..blocks {
        block();
    }
    let (cpu, wall) = (thread_cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    let audio = (blocks * BLOCK) as f64 / FS as f64;
    eprintln!(
        "mastering chain with meters, 48 kHz stereo, 512 frames: {:.0}x real time on CPU, {:.0}x wall",
        audio / cpu,
        audio / wall
    );

    c.bench_function("mastering_chain_48k_stereo_512", |b| b.iter(&mut block));
}

criterion_group!(benches, bench_chain);
criterion_main!(benches);
