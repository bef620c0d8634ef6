//! The true-peak limiter's promise, held against an independent meter: for any input,
//! the output's true peak at 16× is at most [`OVER_DB`] above the ceiling, at every
//! sample rate and block size. Gaussian noise 20 and 30 dB over full scale (every
//! sample a peak, the gain never still) and dense programmes with loud top octaves are
//! the hardest inputs known for a lookahead limiter: the 12 000 samples of uniform noise
//! in the limiter's unit tests stay under, these did not (issue 18: −0.67 dBTP for a
//! −1 dBTP ceiling).
//!
//! The output is identical at every block size (asserted sample for sample over the
//! first quarter second; the limiter's state does not depend on where blocks end), so
//! each programme is measured once, at 512.

#[path = "../../../tests/reference/mod.rs"]
mod reference;

use super::tests::limit;
use super::LimiterSettings;
use reference::{
    dense_programme, fractional_delay_error, fractional_taps, gaussian_noise, ReferenceMeter, BETA,
    STAGE1_HALF_WIDTH, STAGE2_HALF_WIDTH,
};

/// The promise: at most this far over the ceiling by the 16× reference. The reference
/// itself is accurate to 5e-4 dB on every interpolated value below 0.47·fs (its
/// filters' errors: `reference_filters_meet_their_specification`), so this leaves the
/// limiter nearly the whole 0.05 dB.
const OVER_DB: f64 = 0.05;

const RATES: [f32; 3] = [44_100.0, 48_000.0, 96_000.0];
const BLOCKS: [usize; 4] = [1, 64, 512, 4096];

/// Limits `l`, `r` at every block size with `s`, asserts that the outputs are
/// identical and that the true peak is within [`OVER_DB`] of the ceiling; returns the
/// true peak over the ceiling, dB.
fn check(name: &str, fs: f32, s: &LimiterSettings, l: &[f32], r: &[f32]) -> f64 {
    let out = limit(fs, s, l, r, 512);
    // A quarter of a second: thousands of frames, blocks ending everywhere.
    let prefix = (fs as usize / 4).min(l.len());
    let (l1, r1) = (&l[..prefix], &r[..prefix]);
    for block in BLOCKS {
        if block != 512 {
            let other = limit(fs, s, l1, r1, block);
            assert!(
                other.0 == out.0[..prefix] && other.1 == out.1[..prefix],
                "{name} @ {fs}: block {block} differs from 512"
            );
        }
    }
    let meter = ReferenceMeter::new();
    let over = meter.true_peak_db(&[&out.0, &out.1]) - s.ceiling_db as f64;
    eprintln!("{name} @ {fs} Hz: {over:+.4} dB over the ceiling");
    assert!(
        over <= OVER_DB,
        "{name} @ {fs} Hz: true peak {over:+.4} dB over the ceiling"
    );
    over
}

/// 4 s of programme (the length); 1 s in unoptimised builds, where the limiter
/// and the reference run about 30 times slower (a rate then takes a few seconds).
fn seconds(fs: f32, s: f64) -> usize {
    let s = if cfg!(debug_assertions) { s / 4.0 } else { s };
    (fs as f64 * s) as usize
}

/// Gaussian noise of standard deviation `sd`, independent channels, at every rate.
fn noise_case(name: &str, sd: f64, seeds: (u64, u64)) {
    for fs in RATES {
        let n = seconds(fs, 4.0);
        let l = gaussian_noise(n, sd, seeds.0);
        let r = gaussian_noise(n, sd, seeds.1);
        check(name, fs, &LimiterSettings::default(), &l, &r);
    }
}

#[test]
fn ceiling_holds_on_gaussian_noise_20_db_over() {
    // Standard deviation 3 (+9.5 dBFS RMS, peaks near +20 dBFS): the case.
    noise_case("noise +20 dB", 3.0, (1, 2));
}

#[test]
fn ceiling_holds_on_gaussian_noise_30_db_over() {
    noise_case("noise +30 dB", 9.5, (3, 4));
}

#[test]
fn ceiling_holds_on_dense_programmes_with_loud_top_octaves() {
    for fs in RATES {
        let n = seconds(fs, 4.0);
        let l = dense_programme(n, fs as f64, 2.0, 1.0, 5);
        let r = dense_programme(n, fs as f64, 2.0, 1.0, 6);
        check("programme +6 dB", fs, &LimiterSettings::default(), &l, &r);
        let l = dense_programme(n, fs as f64, 4.0, 3.0, 7);
        let r = dense_programme(n, fs as f64, 4.0, 3.0, 8);
        check(
            "programme +12 dB, loud hats",
            fs,
            &LimiterSettings::default(),
            &l,
            &r,
        );
    }
}

#[test]
fn reference_filters_meet_their_specification() {
    // The meter's claims (see `reference/mod.rs`): its first stage is an ideal
    // reconstruction to 0.47·fs within 5e-6 (images from 0.53·fs more than 110 dB down),
    // its second within 5e-5 to 0.27 of the 2× rate (measured: 2.9e-6 and 3.9e-5).
    let first = fractional_taps(0.5, STAGE1_HALF_WIDTH, BETA);
    let e = fractional_delay_error(&first, 0.5, STAGE1_HALF_WIDTH, 0.47);
    assert!(e < 5e-6, "first stage: {e}");
    for p in 1..8 {
        let frac = p as f64 / 8.0;
        let taps = fractional_taps(frac, STAGE2_HALF_WIDTH, BETA);
        let e = fractional_delay_error(&taps, frac, STAGE2_HALF_WIDTH, 0.27);
        assert!(e < 5e-5, "second stage, phase {p}: {e}");
    }
    // And the meter reads an inter-sample peak: fs/4 at 45° (EBU Tech 3341's case),
    // samples at ±0.707, true peak 1 (the 16× grid hits the crest).
    let x: Vec<f32> = (0..2000)
        .map(|n| {
            (std::f64::consts::FRAC_PI_2 * n as f64 + std::f64::consts::FRAC_PI_4).sin() as f32
        })
        .collect();
    let peak = ReferenceMeter::new().true_peak(&x);
    assert!((peak - 1.0).abs() < 1e-5, "{peak}");
}
