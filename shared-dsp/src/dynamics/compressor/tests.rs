//! The compressor's tests: the static curve, ballistics, mix, sidechain, link, and the
//! life cycle.

use super::*;
use crate::dynamics::DetectorMode;
use crate::test_util::{
    amp, assert_block_size_independent, assert_latency, assert_reset_reproduces, program, rms_db,
    sine,
};

const FS: f32 = 48_000.0;

/// A compressor with `settings` applied and settled (no ramps from the defaults).
fn compressor(channels: usize, settings: &CompressorSettings) -> Compressor {
    let mut c = Compressor::new(FS, channels);
    c.set_settings(settings);
    c.reset();
    c
}

fn run_mono(
    c: &mut Compressor,
    input: &[f32],
    sc: Option<&[f32]>,
    s: &CompressorSettings,
) -> Vec<f32> {
    let mut out = input.to_vec();
    for (n, block) in out.chunks_mut(512).enumerate() {
        let range = n * 512..n * 512 + block.len();
        let key = sc.map(|k| [&k[range]]);
        c.process(&mut [block], key.as_ref().map(|k| &k[..]), s);
    }
    out
}

#[test]
fn static_curve_matches_the_formula() {
    // 1 kHz sines (48-sample period) from −60 to 0 dBFS, threshold −30 dBFS.
    // Peak detection: attack 0.05 ms catches each peak, release 5 s droops by
    // GR·(0.5 ms / 2.28 s) ≤ 0.013 dB between peaks (τ = 5 s / ln 9), so the gain is
    // constant to ~0.01 dB and out/in RMS is the static gain.
    // RMS detection: the 10 ms window holds exactly 10 periods, so the detected level
    // has no ripple at all; fast ballistics (1 ms / 50 ms) then settle exactly.
    // Tolerance 0.1 dB: several times the expected error (≤ 0.015 dB), yet a ratio 5 %
    // off already moves the 0 dBFS point by 0.36 dB (at −30 dB, 4:1 against 4.2:1).
    for &(detector, attack, release) in &[
        (DetectorMode::Peak, 0.05, 5000.0),
        (DetectorMode::Rms, 1.0, 50.0),
    ] {
        for &knee in &[0.0f32, 12.0] {
            for &ratio in &[2.0f32, 4.0, f32::INFINITY] {
                let s = CompressorSettings {
                    threshold_db: -30.0,
                    ratio,
                    knee_db: knee,
                    attack_ms: attack,
                    release_ms: release,
                    detector,
                    ..Default::default()
                };
                let curve = s.gain_computer();
                for step in 0..=12 {
                    let level = -60.0 + 5.0 * step as f32;
                    let mut c = compressor(1, &s);
                    let input = sine(amp(level), 48, 2880);
                    let out = run_mono(&mut c, &input, None, &s);
                    // Settled after 40 ms; measure the last 20 ms (20 periods).
                    let measured = rms_db(&out[1920..]) - rms_db(&input[1920..]);
                    let expected = curve.static_gain_db(level) as f64;
                    assert!(
                        (measured - expected).abs() < 0.1,
                        "{detector:?} knee {knee} ratio {ratio} at {level} dBFS: \
                         {measured:.3} dB, formula {expected:.3} dB"
                    );
                }
            }
        }
    }
}

/// Gain reduction (dB, positive) per frame of a processed block.
fn gain_reduction(input: &[f32], output: &[f32]) -> Vec<f32> {
    input
        .iter()
        .zip(output)
        .map(|(&i, &o)| -20.0 * (o / i).abs().log10())
        .collect()
}

/// Samples between the 10 % and 90 % points of a gain-reduction change from `from`
/// to `to` dB, searched from `start`.
fn ten_ninety(gr: &[f32], start: usize, from: f32, to: f32) -> f32 {
    let at = |fraction: f32| {
        let level = from + fraction * (to - from);
        let idx = gr[start..]
            .iter()
            .position(|&g| if to > from { g >= level } else { g <= level })
            .expect("crossing");
        start + idx
    };
    (at(0.9) - at(0.1)) as f32
}

#[test]
fn attack_and_release_are_ten_to_ninety_percent_times() {
    // A 20 dB step of a constant-magnitude signal (a ±A square wave, so the peak
    // detector sees a clean step) from the threshold to 20 dB over it at ∞:1: the
    // gain reduction steps from 0 to 20 dB and back. Tolerance 10 %: the expected error
    // is ±1 sample (crossings on the sample grid), ≤ 4 % at 0.5 ms, while a time taken
    // as a time constant instead of a 10–90 % time is off by ln 9 ≈ 2.2×.
    for &(attack, release, auto) in &[
        (0.5f32, 5.0f32, false),
        (10.0, 100.0, false),
        (100.0, 1000.0, false),
        (10.0, 400.0, true),
    ] {
        let s = CompressorSettings {
            threshold_db: -30.0,
            ratio: f32::INFINITY,
            knee_db: 0.0,
            attack_ms: attack,
            release_ms: release,
            auto_release: auto,
            ..Default::default()
        };
        let mut c = compressor(1, &s);
        let hold = (attack * 48.0 * 6.0) as usize + 480;
        let tail = (release * 48.0 * 3.0) as usize + 480;
        let square = |level: f32, n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| if i % 48 < 24 { amp(level) } else { -amp(level) })
                .collect()
        };
        let mut input = square(-30.0, 480);
        input.extend(square(-10.0, hold));
        input.extend(square(-30.0, tail));
        let out = run_mono(&mut c, &input, None, &s);
        let gr = gain_reduction(&input, &out);
        let rise = ten_ninety(&gr, 480, 0.0, 20.0) / 48.0;
        assert!(
            (rise / attack - 1.0).abs() < 0.1,
            "attack {attack} ms measured {rise} ms"
        );
        if !auto {
            let fall = ten_ninety(&gr, 480 + hold, 20.0, 0.0) / 48.0;
            assert!(
                (fall / release - 1.0).abs() < 0.1,
                "release {release} ms: {fall} ms"
            );
        }
    }
}

#[test]
fn mix_half_is_the_average_of_dry_and_wet() {
    let input = program(9600, 7);
    let base = CompressorSettings {
        threshold_db: -30.0,
        ratio: 8.0,
        attack_ms: 1.0,
        release_ms: 50.0,
        makeup_db: 6.0,
        ..Default::default()
    };
    let run = |mix: f32| {
        let s = CompressorSettings { mix, ..base };
        let mut c = compressor(1, &s);
        run_mono(&mut c, &input, None, &s)
    };
    let (dry, wet, half) = (run(0.0), run(1.0), run(0.5));
    assert_eq!(dry, input, "mix 0 is the dry signal, untouched");
    assert!(
        wet.iter().zip(&input).any(|(w, i)| (w - i).abs() > 0.01),
        "wet differs"
    );
    for n in 0..input.len() {
        let average = 0.5 * (dry[n] + wet[n]);
        // ±0.01 dB (a relative error of 0.115 %): thousands of times the f32 rounding of
        // `dry + wet·gain`, while an equal-power mix law would be 3 dB off at 0.5; 1e-9
        // absolute covers samples at exact zero.
        let tolerance = average.abs() * (10f32.powf(0.01 / 20.0) - 1.0) + 1e-9;
        assert!((half[n] - average).abs() <= tolerance, "frame {n}");
    }
}

#[test]
fn external_sidechain_ducks_by_the_curve() {
    // Main: a sustained 100 Hz bass at −24 dBFS, below the −20 dBFS threshold, so it
    // is never compressed by itself. Key: silence, then a 1 kHz "kick" at −4 dBFS.
    let s = CompressorSettings {
        threshold_db: -20.0,
        ratio: 4.0,
        knee_db: 6.0,
        attack_ms: 1.0,
        release_ms: 5000.0,
        external_sidechain: true,
        ..Default::default()
    };
    let bass = sine(amp(-24.0), 480, 14_400);
    let mut kick = vec![0.0; 4800];
    kick.extend(sine(amp(-4.0), 48, 9600));
    let mut c = compressor(1, &s);
    let out = run_mono(&mut c, &bass, Some(&kick), &s);
    // Before the kick: untouched (gain exactly 1).
    assert_eq!(&out[..4800], &bass[..4800]);
    // During the kick, after 50 ms to settle: ducked by the curve at −4 dBFS, ±0.1 dB
    // (peak detection; release droop ≤ 0.005 dB, see `static_curve_matches_the_formula`).
    let ducked = rms_db(&out[7200..]) - rms_db(&bass[7200..]);
    let expected = s.gain_computer().static_gain_db(-4.0) as f64;
    assert!(
        (ducked - expected).abs() < 0.1,
        "ducked {ducked} dB, curve {expected} dB"
    );
    assert!(expected < -10.0, "the test ducks by a clear amount");
    // Without the switch the key is ignored.
    let internal = CompressorSettings {
        external_sidechain: false,
        ..s
    };
    let mut c = compressor(1, &internal);
    let out = run_mono(&mut c, &bass, Some(&kick), &internal);
    assert_eq!(out, bass);
}

#[test]
fn sidechain_hpf_keeps_lows_out_of_the_detector() {
    // A 40 Hz tone at −6 dBFS, threshold −20 dBFS, 4:1. Without the HPF it is
    // compressed by the curve (−10.5 dB); with a 500 Hz 12 dB/oct HPF the detector sees
    // it 3.6 octaves down, about −44 dB, i.e. at −50 dBFS: no gain reduction at all.
    // A 4 kHz tone is compressed the same with or without the filter (the filter's
    // gain there is −0.0002 dB). Peak detection, 5 s release: ripple < 0.02 dB at
    // 40 Hz (τ 2.3 s vs 12.5 ms between peaks), so ±0.1 dB is 5× the ripple and a
    // hundredth of the 10.5 dB the filter decides about.
    let run = |period: usize, hpf: Option<f32>| {
        let s = CompressorSettings {
            threshold_db: -20.0,
            ratio: 4.0,
            knee_db: 0.0,
            attack_ms: 0.05,
            release_ms: 5000.0,
            sidechain_hpf_hz: hpf,
            ..Default::default()
        };
        let mut c = compressor(1, &s);
        let input = sine(amp(-6.0), period, 19_200);
        let out = run_mono(&mut c, &input, None, &s);
        rms_db(&out[9600..]) - rms_db(&input[9600..])
    };
    assert!((run(1200, None) + 10.5).abs() < 0.1, "40 Hz, HPF off");
    assert!(run(1200, Some(500.0)).abs() < 1e-4, "40 Hz, HPF 500 Hz");
    assert!(
        (run(12, Some(500.0)) + 10.5).abs() < 0.1,
        "4 kHz, HPF 500 Hz"
    );
}

#[test]
fn stereo_link_shares_the_loudest_channels_gain() {
    let loud = sine(amp(-6.0), 48, 4800);
    let quiet = sine(amp(-40.0), 48, 4800);
    let run = |link: f32| {
        let s = CompressorSettings {
            threshold_db: -20.0,
            ratio: 4.0,
            knee_db: 0.0,
            attack_ms: 1.0,
            release_ms: 5000.0,
            link,
            ..Default::default()
        };
        let mut c = compressor(2, &s);
        let (mut l, mut r) = (loud.clone(), quiet.clone());
        c.process(&mut [&mut l, &mut r], None, &s);
        (
            rms_db(&l[2400..]) - rms_db(&loud[2400..]),
            rms_db(&r[2400..]) - rms_db(&quiet[2400..]),
        )
    };
    let (l, r) = run(1.0);
    // Linked: both channels get the loud channel's 10.5 dB (14 dB over at 4:1).
    // 0.02 dB: release droop between the peaks of the sine (5 s release: at most
    // 10.5 dB · 0.5 ms / 2.28 s = 0.0023 dB) and the 50 ms settling window.
    assert!((l + 10.5).abs() < 0.02 && (r - l).abs() < 1e-4, "{l} {r}");
    let (l, r) = run(0.0);
    assert!(
        (l + 10.5).abs() < 0.02 && r.abs() < 1e-6,
        "independent: {l} {r}"
    );
    let (l, r) = run(0.5);
    assert!(
        (l + 10.5).abs() < 0.02 && r < -3.0 && r > l,
        "half linked: {l} {r}"
    );
}

#[test]
fn auto_makeup_formula() {
    // −gain(0 dBFS)/2: 20 dB over at 4:1 is 15 dB of reduction → 7.5 dB.
    assert!((auto_makeup_db(-20.0, 4.0, 0.0) - 7.5).abs() < 1e-5);
    assert!((auto_makeup_db(-30.0, f32::INFINITY, 0.0) - 15.0).abs() < 1e-5);
    assert_eq!(auto_makeup_db(-20.0, 1.0, 12.0), 0.0);
    // Applied: a level below the threshold comes out 7.5 dB louder.
    let s = CompressorSettings {
        threshold_db: -20.0,
        ratio: 4.0,
        knee_db: 0.0,
        auto_makeup: true,
        ..Default::default()
    };
    let mut c = compressor(1, &s);
    let input = sine(amp(-40.0), 48, 960);
    let out = run_mono(&mut c, &input, None, &s);
    // f32 gain: 1e-4 dB.
    assert!((rms_db(&out) - rms_db(&input) - 7.5).abs() < 1e-4);
}

#[test]
fn hostile_input_stays_finite_and_the_next_clean_block_is_clean() {
    let s = CompressorSettings {
        threshold_db: -40.0,
        ratio: 10.0,
        makeup_db: 36.0,
        detector: DetectorMode::Rms,
        auto_release: true,
        link: 0.3,
        ..Default::default()
    };
    let clean = program(512, 3);
    let hostile: Vec<Vec<f32>> = vec![
        (0..512)
            .map(|n| if n % 64 < 32 { 1.0 } else { -1.0 })
            .collect(),
        vec![0.0; 512],
        vec![1e-40; 512],
        (0..512)
            .map(|n| [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.5][n % 4])
            .collect(),
        vec![f32::NAN; 512],
    ];
    for bad in &hostile {
        let mut c = compressor(2, &s);
        let (mut l, mut r) = (bad.clone(), bad.clone());
        c.process(&mut [&mut l, &mut r], Some(&[bad]), &s);
        assert!(l.iter().chain(&r).all(|x| x.is_finite()), "finite output");
        assert!(c.gain_reduction_db().is_finite());
        let (mut l, mut r) = (clean.clone(), clean.clone());
        c.process(&mut [&mut l, &mut r], None, &s);
        assert!(l.iter().chain(&r).all(|x| x.is_finite() && x.abs() < 100.0));
    }
    // A block of nothing but NaN/Inf is treated exactly as silence: the clean block
    // after it is bit-identical to the clean block after a silent block.
    let mut after_nan = compressor(1, &s);
    let mut after_silence = compressor(1, &s);
    run_mono(&mut after_nan, &[f32::NAN; 512], None, &s);
    run_mono(&mut after_silence, &[0.0; 512], None, &s);
    assert_eq!(
        run_mono(&mut after_nan, &clean, None, &s),
        run_mono(&mut after_silence, &clean, None, &s)
    );
}

#[test]
fn block_size_does_not_change_the_output() {
    // Everything (detectors, link, smoothers, ballistics) advances per frame and the
    // 64-frame passes only lay out scratch memory, so any block split gives
    // bit-identical output, including across a settings ramp from frame 4800 on (with
    // the right channel as the external key).
    let input = vec![
        program(9600, 11),
        program(9600, 12).iter().map(|x| 0.3 * x).collect(),
    ];
    let a = CompressorSettings {
        threshold_db: -30.0,
        link: 0.4,
        detector: DetectorMode::Rms,
        auto_release: true,
        sidechain_hpf_hz: Some(150.0),
        ..Default::default()
    };
    let b = CompressorSettings {
        threshold_db: -12.0,
        sidechain_hpf_hz: Some(60.0),
        ratio: f32::INFINITY,
        knee_db: 18.0,
        link: 1.0,
        makeup_db: 4.0,
        mix: 0.7,
        external_sidechain: true,
        ..a
    };
    let process = |c: &mut Compressor, block: &mut [&mut [f32]], start: usize| {
        let key = [&input[1][start..start + block[0].len()]];
        let s = if start < 4800 { &a } else { &b };
        c.process(block, Some(&key), s);
    };
    assert_block_size_independent(|| compressor(2, &a), &input, &[4800], process);
}

#[test]
fn reset_reproduces_the_output() {
    let s = CompressorSettings {
        threshold_db: -30.0,
        auto_release: true,
        ..Default::default()
    };
    let input = vec![program(4800, 5)];
    let mut c = compressor(1, &s);
    let process = |c: &mut Compressor, block: &mut [&mut [f32]], _| c.process(block, None, &s);
    assert_reset_reproduces(&mut c, &input, &[], process, Compressor::reset);
}

#[test]
fn an_impulse_comes_out_undelayed() {
    // Below the threshold the compressor is a wire: the click's peak stays in place.
    let s = CompressorSettings::default();
    let mut c = compressor(1, &s);
    assert_eq!(c.latency(), 0);
    assert_latency(c.latency(), amp(-40.0), |x| c.process(&mut [x], None, &s));
}

#[test]
fn settings_are_sanitised() {
    let s = CompressorSettings {
        threshold_db: f32::NAN,
        ratio: 0.5,
        attack_ms: 0.0,
        release_ms: 1e9,
        sidechain_hpf_hz: Some(f32::NAN),
        mix: 1.5,
        ..Default::default()
    }
    .sanitized();
    assert_eq!(s.threshold_db, CompressorSettings::default().threshold_db);
    assert_eq!((s.ratio, s.attack_ms, s.release_ms), (1.0, 0.05, 5000.0));
    assert_eq!((s.sidechain_hpf_hz, s.mix), (None, 1.0));
    let mut c = Compressor::new(FS, 2);
    let mut block = vec![0.1f32; 8192];
    c.process(&mut [&mut block], None, &s);
    c.process(&mut [], None, &s);
    assert!(block.iter().all(|x| x.is_finite()));
}

#[test]
fn a_group_equals_each_compressor_on_its_own() {
    // Three stereo compressors, one with auto release (not interleaved), one whose
    // settings change mid-stream (per-frame path while they ramp): the group gives
    // the same samples, gain reductions and state as separate calls.
    let settings = |step: usize| {
        let mut s = [
            CompressorSettings {
                threshold_db: -30.0,
                ratio: 3.0,
                attack_ms: 1.0,
                ..Default::default()
            },
            CompressorSettings {
                threshold_db: -24.0,
                ratio: 8.0,
                release_ms: 40.0,
                ..Default::default()
            },
            CompressorSettings {
                threshold_db: -20.0,
                link: 1.0,
                ..Default::default()
            },
        ];
        if step >= 5 {
            s[1].threshold_db = -12.0;
            s[2].auto_release = true;
        }
        s
    };
    let inputs: Vec<Vec<f32>> = (0..6).map(|k| program(5000, 3 + k)).collect();
    let mut alone: [Compressor; 3] = std::array::from_fn(|_| Compressor::new(FS, 2));
    let mut group = alone.clone();
    // The group once more without the AVX2 build (where the CPU has it, `group`
    // takes it; `alone` never does).
    let mut plain = alone.clone();
    plain.iter_mut().for_each(|c| c.use_avx2 = false);
    let (mut a, mut g, mut p) = (inputs.clone(), inputs.clone(), inputs.clone());
    let mut pos = 0;
    for (step, len) in [512usize, 100, 7, 64, 65, 512, 1000, 333]
        .iter()
        .enumerate()
    {
        let s = settings(step);
        let end = (pos + len).min(5000);
        for (k, c) in alone.iter_mut().enumerate() {
            let (l, r) = a.split_at_mut(2 * k + 1);
            let block = &mut [&mut l[2 * k][pos..end], &mut r[0][pos..end]];
            c.process(block, None, &s[k]);
        }
        for (compressors, buffers) in [(&mut group, &mut g), (&mut plain, &mut p)] {
            let [g0, g1, g2, g3, g4, g5] = &mut buffers[..] else {
                unreachable!()
            };
            Compressor::process_group(
                compressors,
                [
                    &mut [&mut g0[pos..end], &mut g1[pos..end]],
                    &mut [&mut g2[pos..end], &mut g3[pos..end]],
                    &mut [&mut g4[pos..end], &mut g5[pos..end]],
                ],
                &s,
            );
        }
        for k in 0..3 {
            assert_eq!(alone[k].gain_reduction_db(), group[k].gain_reduction_db());
            assert_eq!(alone[k].gain_reduction_db(), plain[k].gain_reduction_db());
        }
        pos = end;
    }
    assert_eq!(a, g);
    assert_eq!(a, p);
    assert!(alone.iter().all(|c| c.gain_reduction_db() > 0.0));
}
