//! ChannelEq throughput: HPF 24 dB/oct + LPF 24 dB/oct + six bands with non-zero gains,
//! 48 kHz stereo, 512-frame blocks, static settings (the common case: coefficients are
//! not recomputed). Report × real time = 512 / 48 000 s ÷ time per iteration.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use shared_dsp::filter::{ChannelEq, EqSettings, Slope};

const SAMPLE_RATE: f32 = 48_000.0;
const FRAMES: usize = 512;

fn settings() -> EqSettings {
    let mut s = EqSettings::default();
    s.hpf.on = true;
    s.hpf.freq_hz = 60.0;
    s.hpf.slope = Slope::Db24;
    s.lpf.on = true;
    s.lpf.freq_hz = 16_000.0;
    s.lpf.slope = Slope::Db24;
    for (i, b) in s.bands.iter_mut().enumerate() {
        b.gain_db = if i % 2 == 0 { 3.0 } else { -4.5 };
    }
    s
}

/// CPU time this thread has run, in ns (the `cpu-time` crate's thread clock); `None`
/// where there is none. The machine is shared, so wall time overstates the cost; CPU
/// time does not count the time the thread waited for a core.
fn thread_cpu_ns() -> Option<u64> {
    cpu_time::ThreadTime::try_now()
        .ok()
        .map(|t| t.as_duration().as_nanos() as u64)
}

/// Prints × real time by CPU time for `iterations` blocks of `run`.
fn report_cpu_time(name: &str, iterations: u32, mut run: impl FnMut()) {
    let (Some(start), wall) = (thread_cpu_ns(), std::time::Instant::now()) else {
        return;
    };
    for _ in 0..iterations {
        run();
    }
    let wall = wall.elapsed().as_secs_f64();
    let Some(end) = thread_cpu_ns() else {
        return;
    };
    let cpu = (end - start) as f64 * 1e-9;
    let audio = iterations as f64 * FRAMES as f64 / SAMPLE_RATE as f64;
    println!(
        "{name}: {:.0}× real time by CPU time ({:.2} µs CPU per block), {:.0}× by wall time",
        audio / cpu,
        cpu / iterations as f64 * 1e6,
        audio / wall
    );
}

fn bench_eq(c: &mut Criterion) {
    let settings = settings();
    let mut eq = ChannelEq::new(SAMPLE_RATE, 2);
    // Deterministic noise-like input, copied in fresh each iteration (a memcpy of 4 KiB,
    // negligible) so the signal never grows or decays through repeated filtering.
    let source: Vec<f32> = (0..FRAMES)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    let mut left = source.clone();
    let mut right = source.clone();
    // Settle all ramps so the benchmark measures the static path.
    for _ in 0..200 {
        eq.process(&mut [&mut left[..], &mut right[..]], &settings);
    }
    report_cpu_time("static", 20_000, || {
        left.copy_from_slice(&source);
        right.copy_from_slice(&source);
        eq.process(&mut [&mut left[..], &mut right[..]], black_box(&settings));
    });
    let mut group = c.benchmark_group("channel_eq");
    group.throughput(Throughput::Elements(FRAMES as u64));
    group.bench_function("hpf24_lpf24_6bands_48k_stereo_512", |b| {
        b.iter(|| {
            left.copy_from_slice(&source);
            right.copy_from_slice(&source);
            eq.process(&mut [&mut left[..], &mut right[..]], black_box(&settings));
        })
    });
    let mut moving = settings;
    let mut toggle = false;
    report_cpu_time("sweeping band 3", 2_000, || {
        toggle = !toggle;
        moving.bands[2].freq_hz = if toggle { 800.0 } else { 1200.0 };
        left.copy_from_slice(&source);
        right.copy_from_slice(&source);
        eq.process(&mut [&mut left[..], &mut right[..]], black_box(&moving));
    });
    group.bench_function("same_while_sweeping_band3", |b| {
        b.iter(|| {
            toggle = !toggle;
            moving.bands[2].freq_hz = if toggle { 800.0 } else { 1200.0 };
            left.copy_from_slice(&source);
            right.copy_from_slice(&source);
            eq.process(&mut [&mut left[..], &mut right[..]], black_box(&moving));
        })
    });
    group.finish();
}

criterion_group!(benches, bench_eq);
criterion_main!(benches);
