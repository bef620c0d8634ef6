//! The whole channel strip, every module on (saturation 4× oversampled, delay, reverb),
//! 48 kHz stereo, 512-frame blocks. Criterion reports the time per block; × real time is
//! 512 / 48 000 s (10.67 ms) divided by it.

use channel_strip::{Chain, Settings};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const FS: f32 = 48_000.0;
const BLOCK: usize = 512;

fn everything_on() -> Settings {
    let mut s = Settings {
        gate_on: true,
        comp_on: true,
        ..Settings::default()
    };
    s.eq.hpf.on = true;
    s.eq.lpf.on = true;
    for band in &mut s.eq.bands {
        band.gain_db = 3.0;
    }
    s.gate.threshold_db = -60.0;
    s.comp.threshold_db = -24.0;
    s.sat.on = true;
    s.sat.drive_db = 9.0;
    s.delay.on = true;
    s.reverb.on = true;
    s.pan.pan = 0.2;
    s.pan.width = 1.3;
    s
}

fn whole_strip(c: &mut Criterion) {
    let settings = everything_on();
    let mut chain = Chain::new(FS, BLOCK, &settings);
    let mut seed = 0x1234_5678u32;
    let noise: Vec<f32> = (0..BLOCK * 2)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed as f32 / u32::MAX as f32 - 0.5) * 0.5
        })
        .collect();
    let (mut left, mut right) = (noise[..BLOCK].to_vec(), noise[BLOCK..].to_vec());
    let mut group = c.benchmark_group("channel_strip");
    group.throughput(Throughput::Elements(BLOCK as u64));
    group.bench_function("whole_strip_all_on_48k_stereo_512", |b| {
        b.iter(|| {
            left.copy_from_slice(&noise[..BLOCK]);
            right.copy_from_slice(&noise[BLOCK..]);
            chain.process(&mut [&mut left, &mut right], black_box(&settings));
            black_box(left[0]);
        })
    });
    group.finish();
}

criterion_group!(benches, whole_strip);
criterion_main!(benches);
