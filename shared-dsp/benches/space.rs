//! Space and colour benchmarks: the reverb alone, and saturation (4×) + delay + reverb
//! + pan/width, at 48 kHz stereo in 512-frame blocks.
//!
//! × real time = (audio seconds processed) / (wall seconds): one iteration is one
//! 512-frame block = 512 / 48 000 s of audio.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shared_dsp::delay::{DelaySettings, StereoDelay};
use shared_dsp::oversample::OversampleFactor;
use shared_dsp::reverb::{Reverb, ReverbSettings};
use shared_dsp::rng::Pcg32;
use shared_dsp::saturation::{SaturationKind, SaturationSettings, Saturator};
use shared_dsp::stereo::{PanSettings, PanWidth};
use std::hint::black_box;

const RATE: f32 = 48_000.0;
const BLOCK: usize = 512;

fn noise_block(seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Pcg32::new(seed, 1);
    let left: Vec<f32> = (0..BLOCK).map(|_| rng.next_bipolar() * 0.25).collect();
    let right: Vec<f32> = (0..BLOCK).map(|_| rng.next_bipolar() * 0.25).collect();
    (left, right)
}

fn benches(c: &mut Criterion) {
    let (src_l, src_r) = noise_block(1);
    let mut group = c.benchmark_group("space");
    group.throughput(Throughput::Elements(BLOCK as u64));

    let reverb_settings = ReverbSettings {
        decay_s: 2.5,
        mix: 0.3,
        ..ReverbSettings::default()
    };
    let mut reverb = Reverb::new(RATE);
    reverb.set_settings(&reverb_settings);
    let (mut l, mut r) = (src_l.clone(), src_r.clone());
    group.bench_function("reverb_48k_stereo_512", |b| {
        b.iter(|| {
            l.copy_from_slice(&src_l);
            r.copy_from_slice(&src_r);
            reverb.set_settings(&reverb_settings);
            reverb.process(&mut [&mut l, &mut r]);
            black_box(&l);
        })
    });

    let sat_settings = SaturationSettings {
        on: true,
        drive_db: 12.0,
        kind: SaturationKind::Tube,
        mix: 1.0,
    };
    let mut saturator = Saturator::new(RATE, OversampleFactor::X4);
    saturator.set_settings(&sat_settings);
    group.bench_function("saturation_4x_48k_stereo_512", |b| {
        b.iter(|| {
            l.copy_from_slice(&src_l);
            r.copy_from_slice(&src_r);
            saturator.set_settings(&sat_settings);
            saturator.process(&mut [&mut l, &mut r]);
            black_box(&l);
        })
    });

    let delay_settings = DelaySettings {
        feedback: 0.5,
        ping_pong: true,
        mix: 0.3,
        ..DelaySettings::default()
    };
    let mut delay = StereoDelay::new(RATE, 2000.0);
    delay.set_settings(&delay_settings);
    group.bench_function("delay_48k_stereo_512", |b| {
        b.iter(|| {
            l.copy_from_slice(&src_l);
            r.copy_from_slice(&src_r);
            delay.set_settings(&delay_settings);
            delay.process(&mut [&mut l, &mut r]);
            black_box(&l);
        })
    });

    let pan_settings = PanSettings {
        pan: 0.3,
        width: 1.4,
        ..PanSettings::default()
    };
    let mut panner = PanWidth::new(RATE);
    panner.set_settings(&pan_settings);
    group.bench_function("sat4x_delay_reverb_pan_48k_stereo_512", |b| {
        b.iter(|| {
            l.copy_from_slice(&src_l);
            r.copy_from_slice(&src_r);
            saturator.set_settings(&sat_settings);
            delay.set_settings(&delay_settings);
            reverb.set_settings(&reverb_settings);
            panner.set_settings(&pan_settings);
            saturator.process(&mut [&mut l, &mut r]);
            delay.process(&mut [&mut l, &mut r]);
            reverb.process(&mut [&mut l, &mut r]);
            panner.process(&mut [&mut l, &mut r]);
            black_box(&l);
        })
    });
    group.finish();
}

/// This thread's on-CPU time in ns (the `cpu-time` crate's thread clock), or `None`
/// where there is none. On a shared, overloaded machine wall-clock figures include time
/// spent waiting for a core; the on-CPU figure printed next to them is what the code
/// itself costs.
fn thread_cpu_ns() -> Option<u64> {
    cpu_time::ThreadTime::try_now()
        .ok()
        .map(|t| t.as_duration().as_nanos() as u64)
}

/// Prints × real time per on-CPU second for `blocks` blocks of `f`.
fn cpu_time_report(name: &str, blocks: usize, mut f: impl FnMut()) {
    for _ in 0..blocks / 10 {
        f();
    }
    let (Some(start), wall) = (thread_cpu_ns(), std::time::Instant::now()) else {
        return;
    };
    for _ in 0..blocks {
        f();
    }
    let wall = wall.elapsed().as_secs_f64();
    let Some(end) = thread_cpu_ns() else {
        return;
    };
    let audio = (blocks * BLOCK) as f64 / RATE as f64;
    let cpu = (end - start) as f64 * 1e-9;
    eprintln!(
        "{name}: {:.0}x real time per on-CPU second ({:.0}x wall)",
        audio / cpu,
        audio / wall
    );
}

fn cpu_reports(_: &mut Criterion) {
    let (src_l, src_r) = noise_block(2);
    let (mut l, mut r) = (src_l.clone(), src_r.clone());
    let mut reverb = Reverb::new(RATE);
    reverb.set_settings(&ReverbSettings {
        decay_s: 2.5,
        mix: 0.3,
        ..ReverbSettings::default()
    });
    let mut saturator = Saturator::new(RATE, OversampleFactor::X4);
    saturator.set_settings(&SaturationSettings {
        on: true,
        drive_db: 12.0,
        kind: SaturationKind::Tube,
        mix: 1.0,
    });
    let mut delay = StereoDelay::new(RATE, 2000.0);
    delay.set_settings(&DelaySettings {
        feedback: 0.5,
        ping_pong: true,
        mix: 0.3,
        ..DelaySettings::default()
    });
    let mut panner = PanWidth::new(RATE);
    panner.set_settings(&PanSettings {
        pan: 0.3,
        width: 1.4,
        ..PanSettings::default()
    });
    let blocks = 2000;
    cpu_time_report("reverb", blocks, || {
        l.copy_from_slice(&src_l);
        r.copy_from_slice(&src_r);
        reverb.process(&mut [&mut l, &mut r]);
    });
    cpu_time_report("saturation 4x", blocks, || {
        l.copy_from_slice(&src_l);
        r.copy_from_slice(&src_r);
        saturator.process(&mut [&mut l, &mut r]);
    });
    cpu_time_report("delay", blocks, || {
        l.copy_from_slice(&src_l);
        r.copy_from_slice(&src_r);
        delay.process(&mut [&mut l, &mut r]);
    });
    cpu_time_report("sat4x + delay + reverb + pan", blocks, || {
        l.copy_from_slice(&src_l);
        r.copy_from_slice(&src_r);
        saturator.process(&mut [&mut l, &mut r]);
        delay.process(&mut [&mut l, &mut r]);
        reverb.process(&mut [&mut l, &mut r]);
        panner.process(&mut [&mut l, &mut r]);
    });
    black_box(&l);
}

criterion_group!(space, benches, cpu_reports);
criterion_main!(space);
