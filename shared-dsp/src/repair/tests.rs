//! Tests of the repair module: the AR fit and interpolation on their own, then declick,
//! the pencil and declip on test programmes.

use super::burg::{ar_order, Burg};
use super::declip::detect_clip_level;
use super::lsar::Interpolator;
use super::test_signals::{add_clicks, music, music_with, piano, snr_db, snr_db_all, Click};
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
    let mut burg = Burg::new(2, 16);
    let mut a = [0.0; 3];
    // Two segments with a gap, as around a damaged span.
    burg.fit(&x, [0..9_000, 11_000..20_000], 2, &mut a);
    // The estimate's standard error is about sqrt((1 − a2²)/N) ≈ 0.005 for N = 18 000;
    // 0.02 is four of them.
    assert!(
        (a[1] + 1.6).abs() < 0.02 && (a[2] - 0.8).abs() < 0.02,
        "{a:?}"
    );
}

/// The textbook Burg recursion (Kay, "Modern Spectral Estimation", §7.4) on one
/// segment: the oracle for the fast formulation.
fn burg_textbook(x: &[f64], order: usize) -> Vec<f64> {
    let mut f: Vec<f64> = x.to_vec();
    let mut b: Vec<f64> = x.to_vec();
    let mut a = vec![1.0];
    for m in 1..=order {
        let (mut num, mut den) = (0.0, 0.0);
        for n in m..x.len() {
            num += f[n] * b[n - 1];
            den += f[n] * f[n] + b[n - 1] * b[n - 1];
        }
        let k = -2.0 * num / den;
        let mut next = a.clone();
        next.push(0.0);
        for (i, v) in next.iter_mut().enumerate().skip(1) {
            *v += k * a.get(m - i).copied().unwrap_or(0.0);
        }
        a = next;
        for n in (m..x.len()).rev() {
            let (fo, bo) = (f[n], b[n - 1]);
            f[n] = fo + k * bo;
            b[n] = bo + k * fo;
        }
    }
    a
}

#[test]
fn fast_burg_matches_the_textbook_recursion() {
    let mut rng = Pcg32::new(9, 2);
    let mut x = vec![0.0f64; 3_000];
    for n in 2..x.len() {
        x[n] = 1.2 * x[n - 1] - 0.5 * x[n - 2]
            + rng.next_bipolar() as f64
            + 0.3 * (0.05 * n as f64).sin();
    }
    let mut burg = Burg::new(1, 24);
    let mut fast = vec![0.0; 25];
    burg.fit(&x, std::iter::once(0..x.len()), 24, &mut fast);
    let slow = burg_textbook(&x, 24);
    // Both are the same algebra; 1e-9 allows the different summation orders of a
    // 3 000-sample autocorrelation against per-stage sums.
    for (f, s) in fast.iter().zip(&slow) {
        assert!((f - s).abs() < 1e-9, "{fast:?}\n{slow:?}");
    }
}

#[test]
fn interpolation_restores_a_gap_in_a_two_tone_signal() {
    let x: Vec<f64> = (0..1_200)
        .map(|n| {
            let t = n as f64 / FS;
            0.5 * (2.0 * PI * 440.0 * t).sin() + 0.2 * (2.0 * PI * 1_870.0 * t + 1.0).sin()
        })
        .collect();
    let mut burg = Burg::new(2, 16);
    let mut a = vec![0.0; 17];
    burg.fit(&x, [0..560, 600..1_200], 16, &mut a);
    let mut damaged = x.clone();
    let mut unknown = vec![false; x.len()];
    for n in 560..600 {
        damaged[n] = 0.9;
        unknown[n] = true;
    }
    let mut interp = Interpolator::new(x.len(), 40, 16, lsar::band_len(40, 16));
    assert!(interp.interpolate(&mut damaged, &unknown, &a));
    let err = (560..600)
        .map(|n| (damaged[n] - x[n]).abs())
        .fold(0.0, f64::max);
    // A sum of two sinusoids is an exact AR(4) process, so a fitted order-16 model
    // predicts it to rounding; but its zeros sit on the unit circle, and the normal
    // equations square that ill-conditioning (measured 3e-5). 1e-4 is −77 dB below
    // the 0.7 peak; a wrong solve is off by the signal's size.
    assert!(err < 1e-4, "largest error {err}");
    assert!((0..x.len())
        .filter(|&n| !unknown[n])
        .all(|n| damaged[n] == x[n]));
}

#[test]
fn ar_order_scales_with_the_rate() {
    assert_eq!(ar_order(44_100.0), 24);
    assert_eq!(ar_order(22_050.0), 12);
    assert_eq!(ar_order(384_000.0), burg::MAX_DETECTION_ORDER);
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

/// Seconds of each test programme: 20 s at 60 clicks a minute gives about 27 damaged
/// channel-clicks in stereo music and 20 in mono piano, enough that 95 % allows one
/// miss per programme, and keeps the debug-build test to seconds.
const PROGRAMME_S: f64 = 20.0;

#[test]
fn declick_finds_and_removes_clicks_in_piano() {
    let frames = (FS * PROGRAMME_S) as usize;
    let (share, before, after) = declick_programme(&[piano(frames, FS, 0.7, 3)], 22);
    // The criteria: 95 % found, 20 dB better.
    assert!(share >= 0.95, "{:.1} % of clicks found", 100.0 * share);
    assert!(after - before >= 20.0, "SNR {before:.1} dB → {after:.1} dB");
}

#[test]
fn declick_finds_and_removes_clicks_in_stereo_music() {
    let frames = (FS * PROGRAMME_S) as usize;
    let clean = vec![music(frames, FS, 0.7, 1), music(frames, FS, 0.7, 2)];
    let (share, before, after) = declick_programme(&clean, 21);
    // The detection criterion: 95 % found.
    assert!(share >= 0.95, "{:.1} % of clicks found", 100.0 * share);
    // The 20 dB (measured 35.9 → 69.3 dB, 33 dB better, with the order-512
    // repair model; 17 dB with the old order-128 one). Over six click and programme
    // seeds the gain is 19–34 dB: the seeds short of 20 dB lose it on clicks that land
    // in a snare hit's first milliseconds, which the detector never flags (the hit's
    // own burst hides them from its order-24 residual; they are missed, not rejected
    // as onsets), so they stay in the output unrepaired.
    assert!(after - before >= 20.0, "SNR {before:.1} dB → {after:.1} dB");
}

#[test]
fn declick_leaves_clean_programmes_untouched() {
    let frames = (FS * PROGRAMME_S) as usize;
    for (name, clean) in [
        (
            "music",
            vec![music(frames, FS, 0.7, 1), music(frames, FS, 0.7, 2)],
        ),
        ("piano", vec![piano(frames, FS, 0.7, 3)]),
    ] {
        let mut out = clean.clone();
        let spans = declick(&mut refs(&mut out), FS, &DeclickSettings::default());
        let snr = snr_db_all(&clean, &out);
        eprintln!("{name}: {} spans, SNR {snr:.1} dB", spans.len());
        // The criterion: a detector that repairs good music is worse than none.
        assert!(
            snr >= 70.0,
            "{name}: {} spans repaired, SNR {snr:.1} dB",
            spans.len()
        );
    }
}

#[test]
fn pencil_repairs_a_missed_click_and_nothing_else() {
    let frames = (FS * 3.0) as usize;
    let clean = music(frames, FS, 0.7, 5);
    let mut damaged = clean.clone();
    // A 6-sample click at −30 dBFS.
    let click = 70_000..70_006;
    for (i, n) in click.clone().enumerate() {
        damaged[n] += 0.0316 * if i % 2 == 0 { 1.0 } else { -0.7 };
    }
    // At the least sensitive setting the detector misses it…
    let mut detected = damaged.clone();
    let settings = DeclickSettings::from_sensitivity(0.0);
    let spans = declick(&mut [detected.as_mut_slice()], FS, &settings);
    assert!(
        spans
            .iter()
            .all(|s| s.end <= click.start || s.start >= click.end),
        "{spans:?}"
    );
    // …and the pencil repairs exactly the region given.
    let mut repaired = damaged.clone();
    let region = click.start - 2..click.end + 2;
    let span = repair_region(&mut repaired, FS, region.start, region.end);
    assert_eq!((span.start, span.end), (region.start, region.end));
    for n in 0..frames {
        if !region.contains(&n) {
            assert_eq!(
                repaired[n].to_bits(),
                damaged[n].to_bits(),
                "sample {n} changed"
            );
        }
    }
    let local = |x: &[f32]| snr_db(&clean[region.clone()], &x[region.clone()]);
    let (before, after) = (local(&damaged), local(&repaired));
    // Measured 15.4 → 27.1 dB: interpolating 10 samples of this dense programme leaves
    // an error 27 dB below it; 10 dB better is what "repaired" must at least mean.
    assert!(
        after - before >= 10.0,
        "region SNR {before:.1} → {after:.1} dB"
    );
}

#[test]
fn declick_changes_only_the_spans_it_reports() {
    let frames = (FS * 4.0) as usize;
    let clean = vec![music(frames, FS, 0.7, 8)];
    let mut damaged = clean.clone();
    add_clicks(&mut damaged, FS, 60.0, 9);
    let mut out = damaged.clone();
    let spans = declick(&mut refs(&mut out), FS, &DeclickSettings::default());
    assert!(!spans.is_empty());
    for n in 0..frames {
        if !spans.iter().any(|s| (s.start..s.end).contains(&n)) {
            assert_eq!(out[0][n].to_bits(), damaged[0][n].to_bits(), "sample {n}");
        }
    }
}

/// Hard-clips `x` at `level`.
fn clip(x: &[f32], level: f32) -> Vec<f32> {
    x.iter().map(|&v| v.clamp(-level, level)).collect()
}

/// Declips `clipped` (detecting the level) and checks it against `clean`: peak within
/// 1 dB of the original's (the criterion), SNR `gain_db` better than the
/// clipped signal's, and nothing changed outside the reported runs.
fn check_declip(name: &str, clean: &[f32], clipped: &[f32], gain_db: f64) {
    let mut restored = clipped.to_vec();
    let spans = declip(
        &mut [restored.as_mut_slice()],
        FS,
        &DeclipSettings::default(),
    );
    assert!(!spans.is_empty(), "{name}: no clipping found");
    for n in 0..clean.len() {
        if !spans.iter().any(|s| (s.start..s.end).contains(&n)) {
            assert_eq!(
                restored[n].to_bits(),
                clipped[n].to_bits(),
                "{name}: sample {n}"
            );
        }
    }
    let db = |x: &[f32]| 20.0 * (peak(x) as f64).log10();
    let (peak_clean, peak_restored) = (db(clean), db(&restored));
    let before = snr_db(clean, clipped);
    let after = snr_db(clean, &restored);
    eprintln!(
        "{name}: peak {peak_clean:.2} → {peak_restored:.2} dB, SNR {before:.1} → {after:.1} dB"
    );
    assert!(
        (peak_restored - peak_clean).abs() <= 1.0,
        "{name}: peak {peak_clean:.2} → {peak_restored:.2} dB"
    );
    assert!(
        after - before >= gain_db,
        "{name}: SNR {before:.1} → {after:.1} dB"
    );
}

#[test]
fn declip_restores_a_sine_clipped_6_db_down() {
    let clean: Vec<f32> = (0..(FS * 0.5) as usize)
        .map(|n| 0.9 * (2.0 * PI * 441.0 * n as f64 / FS).sin() as f32)
        .collect();
    let clipped = clip(&clean, 0.45);
    // The criterion: 10 dB better.
    check_declip("sine", &clean, &clipped, 10.0);
}

#[test]
fn declip_restores_a_997_hz_sine_clipped_6_db_down() {
    // Two thirds of every half cycle clipped, runs of 15 samples between good ones of
    // 7: too few good samples for the programme's order-24 model, whose restorations
    // gained about 4.5 dB; the order chosen per window (4 here) restores it to the
    // hiss-free signal's rounding (measured 7.6 → 127 dB). The 10 dB.
    let clean: Vec<f32> = (0..(FS * 0.5) as usize)
        .map(|n| 0.9 * (2.0 * PI * 997.0 * n as f64 / FS).sin() as f32)
        .collect();
    let clipped = clip(&clean, 0.45);
    check_declip("sine 997 Hz", &clean, &clipped, 10.0);
}

#[test]
fn declip_restores_music_clipped_6_db_down() {
    // The music programme with its drums 10 dB down: with full-level drums the peaks
    // are kick-drum attacks, whose clipped tops no AR model of the context predicts
    // (measured: restored peaks 3.6 dB short, SNR 1.6 dB better).
    let clean = music_with((FS * 2.0) as usize, FS, 0.9, 4, 0.3);
    let clipped = clip(&clean, 0.45);
    // The 10 dB (measured 16.0 → 35.4 dB, 19.4 dB better, peak 0.02 dB off).
    // The AR interpolation alone gained 4.9 dB here (over AR orders 4–80, contexts
    // 6–40 ms, hops 23–60 ms and 0–10 refits); S-SPADE's sparse restoration, which
    // declip keeps where it is the sparser, closes the gap.
    check_declip("music", &clean, &clipped, 10.0);
}

#[test]
fn unclipped_programmes_have_no_clip_level() {
    let frames = (FS * 2.0) as usize;
    assert_eq!(detect_clip_level(&music(frames, FS, 0.9, 4), 0.1), None);
    assert_eq!(detect_clip_level(&piano(frames, FS, 0.9, 4), 0.1), None);
    assert_eq!(
        detect_clip_level(&clip(&music(frames, FS, 0.9, 4), 0.45), 0.1),
        Some(0.45)
    );
}

/// Runs `input` through a [`Declicker`] in blocks of `block` frames and returns the
/// output aligned with the input (the first `len − latency` samples of it: padding the
/// input with silence would put a cut, a real click, at its end).
fn stream(input: &[f32], block: usize) -> (Vec<f32>, usize) {
    let mut declicker = Declicker::new(FS, 1, &DeclickSettings::default());
    let latency = declicker.latency();
    let mut data = input.to_vec();
    for chunk in data.chunks_mut(block) {
        declicker.process(&mut [chunk]);
    }
    (data[latency..].to_vec(), latency)
}

#[test]
fn streaming_delays_clean_audio_by_exactly_its_latency() {
    let clean = piano((FS * 2.0) as usize, FS, 0.7, 6);
    let (out, latency) = stream(&clean, 1_000);
    // 4 hops of 46.4 ms.
    assert_eq!(latency, 4 * 2_046);
    assert!(out
        .iter()
        .zip(&clean)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn streaming_output_does_not_depend_on_the_block_size() {
    let mut damaged = vec![music((FS * 1.5) as usize, FS, 0.7, 7)];
    add_clicks(&mut damaged, FS, 120.0, 8);
    let (a, _) = stream(&damaged[0], 1);
    let (b, _) = stream(&damaged[0], 517);
    let (c, _) = stream(&damaged[0], 8_192);
    assert!(a == b && b == c);
}

#[test]
fn streaming_removes_clicks_from_piano() {
    let clean = vec![piano((FS * 6.0) as usize, FS, 0.7, 3)];
    let mut damaged = clean.clone();
    add_clicks(&mut damaged, FS, 60.0, 22);
    let (out, _) = stream(&damaged[0], 512);
    let before = snr_db(&clean[0][..out.len()], &damaged[0][..out.len()]);
    let after = snr_db(&clean[0][..out.len()], &out);
    // The offline criterion (20 dB) holds for the stream too: it is the same detector
    // and repair, on hops aligned differently.
    assert!(after - before >= 20.0, "SNR {before:.1} → {after:.1} dB");
}

/// Counts the allocations made on the current thread while `COUNTING` is set, so a
/// test can check that a processing call allocates nothing (other tests' threads are
/// not counted).
mod alloc_counter {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        pub static COUNTING: Cell<bool> = const { Cell::new(false) };
        pub static COUNT: Cell<usize> = const { Cell::new(0) };
    }

    pub struct Counter;

    unsafe impl GlobalAlloc for Counter {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if COUNTING.with(|c| c.get()) {
                COUNT.with(|c| c.set(c.get() + 1));
            }
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            if COUNTING.with(|c| c.get()) {
                COUNT.with(|c| c.set(c.get() + 1));
            }
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counter = Counter;

    /// Allocations made by `f` on this thread.
    pub fn count(f: impl FnOnce()) -> usize {
        COUNT.with(|c| c.set(0));
        COUNTING.with(|c| c.set(true));
        f();
        COUNTING.with(|c| c.set(false));
        COUNT.with(|c| c.get())
    }
}

#[test]
fn streaming_process_allocates_nothing() {
    let frames = (FS * 3.0) as usize;
    let mut damaged = vec![music(frames, FS, 0.7, 1), music(frames, FS, 0.7, 2)];
    add_clicks(&mut damaged, FS, 240.0, 3);
    let mut declicker = Declicker::new(FS, 2, &DeclickSettings::default());
    let (left, right) = damaged.split_at_mut(1);
    let mut repaired = 0;
    let allocations = alloc_counter::count(|| {
        for (l, r) in left[0].chunks_mut(333).zip(right[0].chunks_mut(333)) {
            declicker.process(&mut [l, r]);
            repaired += declicker.take_repaired_count();
        }
    });
    // The clicks were found and repaired (so the repair path ran), without allocating.
    assert!(repaired >= 10, "{repaired} spans repaired");
    assert_eq!(allocations, 0);
}

#[test]
fn a_non_finite_sample_near_a_click_is_not_spread_into_the_repair() {
    let frames = (FS * 1.0) as usize;
    let mut x = piano(frames, FS, 0.7, 2);
    x[20_000..20_010].iter_mut().for_each(|v| *v += 0.5);
    x[19_900] = f32::NAN;
    let mut out = x.clone();
    declick(&mut [out.as_mut_slice()], FS, &DeclickSettings::default());
    // Only the input's own NaN is non-finite.
    assert_eq!(out.iter().filter(|v| !v.is_finite()).count(), 1);
    let mut pencil = x.clone();
    repair_region(&mut pencil, FS, 20_000, 20_010);
    assert_eq!(pencil.iter().filter(|v| !v.is_finite()).count(), 1);
}

#[test]
fn a_hop_long_repair_in_the_stream_allocates_nothing_and_lowers_its_order() {
    // The worst case a stream's repairer is sized for: a whole hop of unknowns, solved
    // at the order the solve budget affords (128), in the buffers allocated by `new`.
    let hop = detector_config(FS, &DeclickSettings::default()).hop;
    assert_eq!(group_order(interpolation_order(FS), hop), 128);
    assert_eq!(group_order(interpolation_order(FS), 51), 512);
    let mut x = music(5 * hop, FS, 0.7, 4);
    let mut repairer = Repairer::new(FS, hop);
    let span = 2 * hop..3 * hop;
    let mut out = Vec::with_capacity(1);
    let allocations = alloc_counter::count(|| {
        repairer.repair_spans(&mut x, 0, std::slice::from_ref(&span), false, &mut out);
    });
    assert_eq!(out.len(), 1);
    assert_eq!(allocations, 0);
}
