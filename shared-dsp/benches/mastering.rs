//! Mastering DSP throughput, 48 kHz stereo, 512-frame blocks, static settings.
//!
//! - `limiter`: the true-peak limiter alone (8× + emphasised 4× detection), on loud
//!   noise-like material so it limits all the time.
//! - `stage_*`: each of the chain's other stages alone, on the same material.
//! - `chain`: tonal EQ (tilt, shelves, bell) → multiband (three compressing bands) →
//!   imager (widths, mono below 120 Hz) → limiter → dither (16-bit shaped) → the BS.1770
//!   loudness meter with true peak.
//!
//! × real time = (512 / 48 000 s) ÷ time per iteration.
//!
//! Time is the benchmark thread's **CPU time** (the `cpu-time` crate's thread clock), so
//! a machine shared with other jobs does not count the time the thread waits for a
//! core (wall time where there is no thread clock). It still includes cache and SMT contention.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use shared_dsp::loudness::{ChannelLayout, LoudnessMeter};
use shared_dsp::mastering::{
    BandCompressorSettings, Dither, DitherBits, DitherSettings, ImagerSettings, LimiterSettings,
    MultibandCompressor, MultibandSettings, NoiseShape, StereoImager, TonalEq, TonalEqSettings,
    TruePeakLimiter,
};

#[path = "common/thread_cpu.rs"]
mod thread_cpu;
use thread_cpu::ThreadCpuTime;

const SAMPLE_RATE: f32 = 48_000.0;
const FRAMES: usize = 512;
const SOURCE_BLOCKS: usize = 94; // ≈ 1 s of material, cycled

/// Deterministic programme-like stereo material: a bass tone, a chord and noise bursts,
/// peaking around +3 dBFS so the limiter works.
fn source() -> (Vec<f32>, Vec<f32>) {
    let n = FRAMES * SOURCE_BLOCKS;
    let mut state = 0x1234_5678u32;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as f32 / u32::MAX as f32 * 2.0 - 1.0
    };
    let mut l = Vec::with_capacity(n);
    let mut r = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f32 / SAMPLE_RATE;
        let env = (-(t * 8.0).fract() * 30.0).exp();
        let bass = 0.6 * (std::f32::consts::TAU * 55.0 * t).sin();
        let chord = 0.2 * (std::f32::consts::TAU * 440.0 * t).sin()
            + 0.15 * (std::f32::consts::TAU * 660.0 * t + 0.5).sin();
        l.push(bass + chord + 0.8 * env * noise());
        r.push(bass - chord + 0.8 * env * noise());
    }
    (l, r)
}

fn bench_mastering(c: &mut Criterion<ThreadCpuTime>) {
    let (src_l, src_r) = source();
    let mut left = vec![0.0f32; FRAMES];
    let mut right = vec![0.0f32; FRAMES];
    let mut group = c.benchmark_group("mastering");
    group.throughput(Throughput::Elements(FRAMES as u64));

    let lim_settings = LimiterSettings::default();
    let mut limiter = TruePeakLimiter::new(SAMPLE_RATE);
    let mut block = 0;
    group.bench_function("limiter_48k_stereo_512", |b| {
        b.iter(|| {
            let at = (block % SOURCE_BLOCKS) * FRAMES;
            block += 1;
            left.copy_from_slice(&src_l[at..at + FRAMES]);
            right.copy_from_slice(&src_r[at..at + FRAMES]);
            limiter.process(
                &mut [&mut left[..], &mut right[..]],
                black_box(&lim_settings),
            );
        })
    });

    let eq_settings = TonalEqSettings {
        tilt_db: 1.5,
        low_gain_db: 2.0,
        mid_gain_db: -1.5,
        high_gain_db: 1.0,
        ..Default::default()
    };
    let band = |threshold_db, ratio| BandCompressorSettings {
        threshold_db,
        ratio,
        ..Default::default()
    };
    let mb_settings = MultibandSettings {
        bands: [band(-12.0, 3.0), band(-18.0, 2.0), band(-20.0, 2.5)],
        ..Default::default()
    };
    let img_settings = ImagerSettings {
        widths_percent: [60.0, 110.0, 130.0],
        mono_below_hz: Some(120.0),
        ..Default::default()
    };
    let dither_settings = DitherSettings {
        bits: DitherBits::Bits16,
        shape: NoiseShape::Shaped,
    };
    let mut eq = TonalEq::new(SAMPLE_RATE);
    let mut mb = MultibandCompressor::new(SAMPLE_RATE);
    let mut imager = StereoImager::new(SAMPLE_RATE);
    let mut limiter = TruePeakLimiter::new(SAMPLE_RATE);
    let mut dither = Dither::new(SAMPLE_RATE);
    let mut meter = LoudnessMeter::new(SAMPLE_RATE as f64, ChannelLayout::Stereo);
    eq.set_settings_immediately(&eq_settings);
    mb.set_settings_immediately(&mb_settings);
    imager.set_settings_immediately(&img_settings);
    // Each stage alone on the same material (to see where the chain's time goes).
    macro_rules! stage {
        ($name:expr, $run:expr) => {{
            let mut block = 0;
            let mut run = $run;
            group.bench_function($name, |b| {
                b.iter(|| {
                    let at = (block % SOURCE_BLOCKS) * FRAMES;
                    block += 1;
                    left.copy_from_slice(&src_l[at..at + FRAMES]);
                    right.copy_from_slice(&src_r[at..at + FRAMES]);
                    run(&mut left[..], &mut right[..]);
                })
            });
        }};
    }
    stage!("stage_eq", |l: &mut [f32], r: &mut [f32]| eq
        .process(&mut [l, r], black_box(&eq_settings)));
    stage!("stage_multiband", |l: &mut [f32], r: &mut [f32]| mb
        .process(&mut [l, r], black_box(&mb_settings)));
    stage!("stage_imager", |l: &mut [f32], r: &mut [f32]| imager
        .process(&mut [l, r], black_box(&img_settings)));
    stage!("stage_dither", |l: &mut [f32], r: &mut [f32]| dither
        .process(&mut [l, r], black_box(&dither_settings)));
    stage!("stage_meter", |l: &mut [f32], r: &mut [f32]| meter
        .process(&[&l[..], &r[..]]));
    // The chain starts from rest, as it did before the stage cases existed.
    eq.reset();
    mb.reset();
    imager.reset();
    dither.reset();
    meter.reset();
    let mut block = 0;
    group.bench_function("chain_with_meter_48k_stereo_512", |b| {
        b.iter(|| {
            let at = (block % SOURCE_BLOCKS) * FRAMES;
            block += 1;
            left.copy_from_slice(&src_l[at..at + FRAMES]);
            right.copy_from_slice(&src_r[at..at + FRAMES]);
            let chans = &mut [&mut left[..], &mut right[..]];
            eq.process(chans, black_box(&eq_settings));
            mb.process(chans, black_box(&mb_settings));
            imager.process(chans, black_box(&img_settings));
            limiter.process(chans, black_box(&lim_settings));
            dither.process(chans, black_box(&dither_settings));
            meter.process(&[&left[..], &right[..]]);
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench_mastering
}
criterion_main!(benches);
