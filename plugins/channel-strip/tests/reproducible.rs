//! Offline renders are reproducible: the whole channel strip, every module on, gives the
//! same bits with the wide builds (AVX2) and with the portable builds, the two paths an
//! x86-64 CPU with and one without AVX2 take (`shared_dsp::cpu`'s reproducibility rule).
//! Its own test binary, because switching the builds off is process-wide.

#[path = "../../../shared-dsp/tests/common/builds.rs"]
mod builds;
#[path = "../../../shared-dsp/tests/reference/mod.rs"]
mod reference;

use builds::assert_builds_render_the_same_bits;
use channel_strip::{Chain, Settings};
use reference::dense_programme;

const FS: f32 = 48_000.0;
const BLOCK: usize = 512;

/// Every module on, each one working (the benchmark's settings).
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

fn render(l: &[f32], r: &[f32]) -> Vec<Vec<f32>> {
    let settings = everything_on();
    let mut chain = Chain::new(FS, BLOCK, &settings);
    let (mut a, mut b) = (l.to_vec(), r.to_vec());
    for (x, y) in a.chunks_mut(BLOCK).zip(b.chunks_mut(BLOCK)) {
        chain.process(&mut [x, y], &settings);
    }
    vec![a, b]
}

#[test]
fn wide_and_portable_builds_render_the_same_bits() {
    // 8 s of a dense programme (kick, bass, hats, noise bed), 2 s in unoptimised builds.
    let seconds = if cfg!(debug_assertions) { 2.0 } else { 8.0 };
    let n = (FS as f64 * seconds) as usize;
    let l = dense_programme(n, FS as f64, 0.5, 1.0, 7);
    let r = dense_programme(n, FS as f64, 0.5, 1.0, 8);
    assert_builds_render_the_same_bits("wide_and_portable_builds_render_the_same_bits", || {
        render(&l, &r)
    });
}
