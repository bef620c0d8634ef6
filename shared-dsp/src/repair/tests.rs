//! Tests of the repair module: the AR fit and interpolation on their own, then declick,
//! the pencil and declip on test programmes.

use super::burg::{ar_order, Burg};
use super::lsar::Interpolator;
use super::test_signals::{add_clicks, music, piano, snr_db_all, Click};
use super::*;
use crate::rng::Pcg32;
use std::f64::consts::PI;

const FS: f64 = 44_100.0;

fn refs(channels: &mut [Vec<f32>]) -> Vec<&mut [f32]> {
    channels.iter_mut().map(|c| c.as_mut_slice()).collect()
}

#[test]
fn burg_recovers_a_known_ar2_process() {
    // x[n] = 1.6·x[n−1] − 0.8·x[n−2] + e[n]: a = [1, −1.6, 0.8].
    let mut rng = Pcg32::new(3, 1);
    let mut x = vec![0.0f64; 20_000];
    for n in 2..x.len() {
        x[n] = 1.6 * x[n - 1] - 0.8 * x[n - 2] + rng.next_bipolar() as f64;
    }
    let mut burg = Burg::new(x.len(), 2);
    let mut a = [0.0; 3];
    // Two segments with a gap, as around a damaged span.
    burg.fit(&x, [0..9_000, 11_000..20_000], 2, &mut a);
    // The estimate's standard error is about sqrt((1 − a2²)/N) ≈ 0.005 for N = 18 000;
    // 0.02 is four of them.
    assert!((a[1] + 1.6).abs() < 0.02 && (a[2] - 0.8).abs() < 0.02, "{a:?}");
}

#[test]
fn interpolation_restores_a_gap_in_a_two_tone_signal() {
    let x: Vec<f64> = (0..1_200)
        .map(|n| {
            let t = n as f64 / FS;
            0.5 * (2.0 * PI * 440.0 * t).sin() + 0.2 * (2.0 * PI * 1_870.0 * t + 1.0).sin()
        })
        .collect();
    let mut burg = Burg::new(x.len(), 2);
    let mut a = vec![0.0; 17];
    burg.fit(&x, [0..560, 600..1_200], 16, &mut a);
    let mut damaged = x.clone();
    let mut unknown = vec![false; x.len()];
    for n in 560..600 {
        damaged[n] = 0.9;
        unknown[n] = true;
    }
    let mut interp = Interpolator::new(x.len(), 40);
    assert!(interp.interpolate(&mut damaged, &unknown, &a));
    let err = (560..600).map(|n| (damaged[n] - x[n]).abs()).fold(0.0, f64::max);
    // A sum of two sinusoids is an exact AR(4) process, so a fitted order-16 model
    // predicts it to rounding; 1e-6 of a 0.7 peak leaves room for the fit's rounding.
    assert!(err < 1e-6, "largest error {err}");
    assert!((0..x.len()).filter(|&n| !unknown[n]).all(|n| damaged[n] == x[n]));
}

#[test]
fn ar_order_scales_with_the_rate() {
    assert_eq!(ar_order(44_100.0), 32);
    assert_eq!(ar_order(22_050.0), 16);
    assert_eq!(ar_order(384_000.0), burg::MAX_ORDER / 2);
}

/// The detected share of `clicks` on each channel: a click counts as found when a
/// repaired span of its channel overlaps it.
fn detected_share(clicks: &[Click], spans: &[RepairedSpan]) -> f64 {
    let mut total = 0;
    let mut found = 0;
    for click in clicks {
        for &c in &click.channels {
            total += 1;
            let hit = spans.iter().any(|s| {
                s.channel == c && s.start < click.start + click.len && click.start < s.end
            });
            found += hit as usize;
        }
    }
    found as f64 / total as f64
}

/// Runs declick on a programme with clicks and returns (detected share, SNR of the
/// damaged signal, SNR of the restored one) against the clean programme.
fn declick_programme(clean: &[Vec<f32>], seed: u64) -> (f64, f64, f64) {
    let mut damaged = clean.to_vec();
    let clicks = add_clicks(&mut damaged, FS, 60.0, seed);
    let before = snr_db_all(clean, &damaged);
    let mut restored = damaged.clone();
    let spans = declick(&mut refs(&mut restored), FS, &DeclickSettings::default());
    let after = snr_db_all(clean, &restored);
    let share = detected_share(&clicks, &spans);
    eprintln!(
        "clicks {} spans {} detected {:.1} % SNR {before:.1} → {after:.1} dB",
        clicks.len(),
        spans.len(),
        100.0 * share
    );
    (share, before, after)
}

#[test]
fn declick_finds_and_removes_clicks_in_music_and_piano() {
    let seconds = 30.0;
    let frames = (FS * seconds) as usize;
    let stereo = vec![music(frames, FS, 0.7, 1), music(frames, FS, 0.7, 2)];
    let mono = vec![piano(frames, FS, 0.7, 3)];
    for (name, clean, seed) in [("music", stereo, 21), ("piano", mono, 22)] {
        let (share, before, after) = declick_programme(&clean, seed);
        // The criteria: 95 % found, 20 dB better.
        assert!(share >= 0.95, "{name}: {:.1} % of clicks found", 100.0 * share);
        assert!(
            after - before >= 20.0,
            "{name}: SNR {before:.1} dB → {after:.1} dB"
        );
    }
}

#[test]
fn declick_leaves_clean_programmes_untouched() {
    let frames = (FS * 30.0) as usize;
    for (name, clean) in [
        ("music", vec![music(frames, FS, 0.7, 1), music(frames, FS, 0.7, 2)]),
        ("piano", vec![piano(frames, FS, 0.7, 3)]),
    ] {
        let mut out = clean.clone();
        let spans = declick(&mut refs(&mut out), FS, &DeclickSettings::default());
        let snr = snr_db_all(&clean, &out);
        eprintln!("{name}: {} spans, SNR {snr:.1} dB", spans.len());
        // The criterion: a detector that repairs good music is worse than none.
        assert!(snr >= 70.0, "{name}: {} spans repaired, SNR {snr:.1} dB", spans.len());
    }
}
