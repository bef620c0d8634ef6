//! Gate + compressor, stereo linked, 48 kHz, 512-frame blocks.
//!
//! × real time = seconds of audio per CPU second = (512 / 48 000) / (time per block).
//! Time is the benchmark thread's CPU time (see `common/thread_cpu.rs`): this machine is
//! shared, and wall time would count the waits for a core.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shared_dsp::dynamics::{Compressor, CompressorSettings, DetectorMode, Gate, GateSettings};

#[path = "common/thread_cpu.rs"]
mod thread_cpu;
use thread_cpu::ThreadCpuTime;

const FS: f32 = 48_000.0;
const BLOCK: usize = 512;

/// Drum-like material: decaying noise bursts every 100 ms over a quiet bed, so the gate
/// opens and closes and the compressor attacks and releases (xorshift32 noise).
fn program(frames: usize, seed: u32) -> Vec<f32> {
    let mut state = seed;
    let mut env = 0.0f32;
    (0..frames)
        .map(|n| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            if n % 4_800 == 0 {
                env = 1.0;
            }
            env *= 0.9995;
            ((state as f32 / u32::MAX as f32) * 2.0 - 1.0) * (0.002 + 0.9 * env)
        })
        .collect()
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let seconds = 2;
    let frames = 48_000 * seconds;
    let left = program(frames, 1);
    let right = program(frames, 2);
    let gate_settings = GateSettings {
        threshold_db: -40.0,
        hold_ms: 10.0,
        release_ms: 80.0,
        ..Default::default()
    };
    let gate_filtered = GateSettings {
        key_hpf_hz: Some(80.0),
        key_lpf_hz: Some(8000.0),
        ..gate_settings
    };
    let rms_auto = CompressorSettings {
        threshold_db: -24.0,
        detector: DetectorMode::Rms,
        auto_release: true,
        makeup_db: 6.0,
        mix: 0.7,
        ..Default::default()
    };
    let variants = [
        (
            "peak",
            gate_settings,
            CompressorSettings {
                threshold_db: -24.0,
                ..Default::default()
            },
        ),
        ("rms_auto_mix", gate_settings, rms_auto),
        (
            "rms_auto_mix_with_key_filters",
            gate_filtered,
            CompressorSettings {
                sidechain_hpf_hz: Some(100.0),
                ..rms_auto
            },
        ),
    ];
    let mut group = c.benchmark_group("dynamics");
    group.throughput(Throughput::Elements(frames as u64));
    for (name, gate_settings, comp_settings) in variants {
        let mut gate = Gate::new(FS, 2);
        let mut comp = Compressor::new(FS, 2);
        let mut l = left.clone();
        let mut r = right.clone();
        group.bench_function(format!("gate+compressor_stereo_linked_{name}_2s"), |b| {
            b.iter(|| {
                l.copy_from_slice(&left);
                r.copy_from_slice(&right);
                for (lb, rb) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
                    let mut block = [lb, rb];
                    gate.process(&mut block, None, &gate_settings);
                    comp.process(&mut block, None, &comp_settings);
                }
                std::hint::black_box(&l);
            })
        });
    }
    // The two halves on their own, to see where the time goes.
    let mut gate = Gate::new(FS, 2);
    let (mut l, mut r) = (left.clone(), right.clone());
    group.bench_function("gate_stereo_2s", |b| {
        b.iter(|| {
            l.copy_from_slice(&left);
            r.copy_from_slice(&right);
            for (lb, rb) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
                gate.process(&mut [lb, rb], None, &variants[0].1);
            }
            std::hint::black_box(&l);
        })
    });
    let mut comp = Compressor::new(FS, 2);
    let comp_settings = variants[0].2;
    group.bench_function("compressor_stereo_linked_peak_2s", |b| {
        b.iter(|| {
            l.copy_from_slice(&left);
            r.copy_from_slice(&right);
            for (lb, rb) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
                comp.process(&mut [lb, rb], None, &comp_settings);
            }
            std::hint::black_box(&l);
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench
}
criterion_main!(benches);
