//! Offline renders are reproducible: the whole mastering chain gives the same bits with
//! the wide builds (AVX2) and with the portable builds, the two paths an x86-64 CPU with
//! and one without AVX2 take (`shared_dsp::cpu`'s reproducibility rule). Its own test
//! binary, because switching the builds off is process-wide.

#[path = "../../../shared-dsp/tests/common/builds.rs"]
mod builds;
#[path = "../../../shared-dsp/tests/reference/mod.rs"]
mod reference;

use builds::assert_builds_render_the_same_bits;
use mastering_chain::chain::{Chain, Settings};
use reference::dense_programme;

const FS: f32 = 48_000.0;
const BLOCK: usize = 512;

/// Every stage working: tonal EQ, compressing bands, a narrowed and widened image with
/// mono bass, 10 dB into the limiter, 16-bit dither with noise shaping.
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

fn render(l: &[f32], r: &[f32]) -> Vec<Vec<f32>> {
    let settings = settings();
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
    let l = dense_programme(n, FS as f64, 0.5, 1.0, 5);
    let r = dense_programme(n, FS as f64, 0.5, 1.0, 6);
    assert_builds_render_the_same_bits("wide_and_portable_builds_render_the_same_bits", || {
        render(&l, &r)
    });
}
