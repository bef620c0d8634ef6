//! The repair (declick) stage at the head of the mastering chain, through the plain
//! `Chain`/`Settings` API: off it is not there (bit for bit, no latency); on, the
//! signal comes out at the reported latency with its clicks removed.

use mastering_chain::{Chain, Settings};
use shared_dsp::mastering::{limiter, TruePeakLimiter};
use shared_dsp::repair::{DeclickSettings, Declicker};
use shared_dsp::rng::Pcg32;

const BLOCK: usize = 512;

/// Every stage that changes the signal off: the chain is then a pure delay (the
/// limiter's delay stays when it is off), so any sample the repair stage touched shows.
fn transparent(repair_on: bool) -> Settings {
    let mut s = Settings::default();
    s.eq.on = false;
    s.multiband.on = false;
    s.imager.on = false;
    s.limiter.on = false;
    s.repair.on = repair_on;
    s
}

/// The declicker's own latency at `fs` (what the stage must add when on).
fn declicker_latency(fs: f32) -> usize {
    Declicker::new(fs as f64, 2, &DeclickSettings::default()).latency()
}

/// Tonal music-like material: three notes of six harmonic partials each (amplitude
/// 1/k), each note swelling and fading at its own slow rate, and hiss 70 dB below the
/// peak; `seed` varies the hiss so the channels differ. Peak about 0.5. It fades in and
/// out over 100 ms: a cut from music to silence is a click (an edit off the zero
/// crossing), which the stage rightly repairs.
fn programme(frames: usize, fs: f32, seed: u64) -> Vec<f32> {
    let mut rng = Pcg32::new(seed, 3);
    let notes = [(220.0f64, 0.31f64), (277.2, 0.23), (329.6, 0.17)];
    let fade = (0.1 * fs) as usize;
    (0..frames)
        .map(|n| {
            let edge = n.min(frames - 1 - n).min(fade) as f64 / fade as f64;
            let t = n as f64 / fs as f64;
            let tonal: f64 = notes
                .iter()
                .map(|&(f0, rate)| {
                    let swell = 0.6 + 0.4 * (std::f64::consts::TAU * rate * t).sin();
                    let partials: f64 = (1..=6)
                        .map(|k| (std::f64::consts::TAU * f0 * k as f64 * t).sin() / k as f64)
                        .sum();
                    swell * partials
                })
                .sum();
            (0.07 * edge * tonal) as f32 + 1.6e-4 * rng.next_bipolar()
        })
        .collect()
}

/// Adds about one click a second (±30 %) on the left, the right or both channels: 1 to
/// 30 samples, peaking at −20 to −6 dBFS, a sharp onset with a random sign per sample,
/// decaying to 5 % by its end. Returns how many were added.
fn add_clicks(left: &mut [f32], right: &mut [f32], fs: f32, seed: u64) -> usize {
    let mut rng = Pcg32::new(seed, 5);
    let spacing = fs as f64;
    let mut at = 0.5 * spacing;
    let mut count = 0;
    while at + spacing < left.len() as f64 {
        let start = (at + 0.3 * spacing * rng.next_bipolar() as f64) as usize;
        let len = 1 + (rng.next_u32() % 30) as usize;
        let peak = 10f32.powf((-20.0 + 14.0 * rng.next_f32()) / 20.0);
        let which = rng.next_u32() % 3;
        for i in 0..len {
            let sign = if rng.next_u32() & 1 == 0 { 1.0 } else { -1.0 };
            let value = peak * sign * (-3.0 * i as f32 / len as f32).exp();
            if which != 1 {
                left[start + i] += value;
            }
            if which != 0 {
                right[start + i] += value;
            }
        }
        count += 1;
        at += spacing;
    }
    count
}

/// Runs `left`/`right` through `chain` in host-sized blocks.
fn run(chain: &mut Chain, settings: &Settings, left: &mut [f32], right: &mut [f32]) {
    for (l, r) in left.chunks_mut(BLOCK).zip(right.chunks_mut(BLOCK)) {
        chain.process(&mut [l, r], settings);
    }
}

/// The chain's output for the input, latency compensated: the input is followed by
/// `latency` samples of silence and the first `latency` output samples are dropped.
fn render(settings: &Settings, fs: f32, left: &[f32], right: &[f32]) -> (Vec<f32>, Vec<f32>, u64) {
    let mut chain = Chain::new(fs, BLOCK, settings);
    let latency = chain.latency_samples() as usize;
    let mut l = left.to_vec();
    let mut r = right.to_vec();
    l.resize(left.len() + latency, 0.0);
    r.resize(right.len() + latency, 0.0);
    run(&mut chain, settings, &mut l, &mut r);
    l.drain(..latency);
    r.drain(..latency);
    (l, r, chain.repaired_clicks())
}

/// SNR of `test` against `reference` over both channels, dB.
fn snr_db(reference: [&[f32]; 2], test: [&[f32]; 2]) -> f64 {
    let (mut signal, mut error) = (0.0f64, 0.0f64);
    for (r, t) in reference.iter().zip(test) {
        for (&a, &b) in r.iter().zip(t) {
            signal += (a as f64).powi(2);
            error += (a as f64 - b as f64).powi(2);
        }
    }
    10.0 * (signal / error.max(1e-300)).log10()
}

#[test]
fn off_the_stage_is_not_there_bit_for_bit_and_adds_no_latency() {
    let fs = 44_100.0;
    let frames = 3 * 44_100;
    let mut left = programme(frames, fs, 1);
    let mut right = programme(frames, fs, 2);
    assert!(add_clicks(&mut left, &mut right, fs, 9) >= 2);

    // Off, the latency is the limiter's alone (the chain's only other latent block), at
    // every lookahead; on, it is that plus the declicker's.
    for lookahead_ms in [limiter::MIN_LOOKAHEAD_MS, 1.5, limiter::MAX_LOOKAHEAD_MS] {
        let mut off = Settings::default();
        off.limiter.lookahead_ms = lookahead_ms;
        off.repair.sensitivity = 100.0;
        let mut lim = TruePeakLimiter::new(fs);
        lim.set_settings(&off.limiter);
        let mut chain = Chain::new(fs, BLOCK, &off);
        assert_eq!(chain.latency_samples() as usize, lim.latency());
        let on = Settings {
            repair: mastering_chain::RepairSettings {
                on: true,
                ..off.repair
            },
            ..off
        };
        assert_eq!(
            chain.update_latency(&on) as usize,
            lim.latency() + declicker_latency(fs)
        );
        assert_eq!(chain.update_latency(&off) as usize, lim.latency());
    }

    // Off, with the most sensitive setting, clicks and all come out as the input
    // delayed, every sample exact: the stage touched nothing (on, it repairs them).
    let settings = Settings {
        repair: mastering_chain::RepairSettings {
            on: false,
            sensitivity: 100.0,
        },
        ..transparent(false)
    };
    let (l, r, repaired) = render(&settings, fs, &left, &right);
    assert!(
        l == left && r == right,
        "the stage changed samples while off"
    );
    assert_eq!(repaired, 0);

    // The whole default chain (every stage on) off at another sensitivity: the same
    // output as the default settings, sample for sample.
    let mut other = Settings::default();
    other.repair.sensitivity = 5.0;
    let (l_other, r_other, _) = render(&other, fs, &left, &right);
    let (l_default, r_default, _) = render(&Settings::default(), fs, &left, &right);
    assert!(l_other == l_default && r_other == r_default);

    // Switched off while running, it is gone at once: once the off latency's worth of
    // samples from before the switch has played out, the output is the input delayed
    // by the off latency, exactly.
    let on = transparent(true);
    let off = transparent(false);
    let mut chain = Chain::new(fs, BLOCK, &on);
    let switch_at = 40 * BLOCK;
    let (mut l, mut r) = (left.clone(), right.clone());
    let (l_on, l_off) = l.split_at_mut(switch_at);
    let (r_on, r_off) = r.split_at_mut(switch_at);
    run(&mut chain, &on, l_on, r_on);
    let latency = chain.update_latency(&off) as usize;
    run(&mut chain, &off, l_off, r_off);
    for n in switch_at + latency..frames {
        assert_eq!(l[n], left[n - latency], "left sample {n}");
        assert_eq!(r[n], right[n - latency], "right sample {n}");
    }
}

#[test]
fn on_a_pulse_lands_at_the_reported_latency() {
    // An isolated impulse on a quiet programme is exactly what a declicker removes, so
    // the timing is measured with a smooth pulse it must leave alone: a Hann pulse 8 ms
    // long (longer than the longest span it repairs, 4 ms, and predictable by its AR
    // model), on hiss 70 dB down. The pulse's peak must come out at its input position
    // plus the reported latency, to the sample.
    for fs in [44_100.0f32, 48_000.0, 96_000.0] {
        let settings = transparent(true);
        let mut chain = Chain::new(fs, BLOCK, &settings);
        let latency = chain.latency_samples() as usize;
        assert!(latency >= declicker_latency(fs));
        let frames = 3 * fs as usize;
        let mut rng = Pcg32::new(4, 1);
        let mut left: Vec<f32> = (0..frames).map(|_| 1.6e-4 * rng.next_bipolar()).collect();
        let width = (0.008 * fs) as usize | 1;
        for i in 0..width {
            let w = (std::f32::consts::PI * i as f32 / (width - 1) as f32).sin();
            left[fs as usize + i] += 0.5 * w * w;
        }
        let mut right = left.clone();
        let input = left.clone();
        run(&mut chain, &settings, &mut left, &mut right);
        let peak = |x: &[f32]| {
            (0..x.len())
                .max_by(|&a, &b| x[a].abs().total_cmp(&x[b].abs()))
                .unwrap()
        };
        // The hiss moves the input's peak a sample or so off the pulse's centre.
        let centre = peak(&input);
        assert_eq!(peak(&left), centre + latency, "{fs} Hz");
        // And the whole programme is the input, delayed: nothing was repaired (hiss and
        // a pulse are not clicks) and the samples are the input's, exactly.
        assert_eq!(chain.repaired_clicks(), 0, "{fs} Hz");
        assert_eq!(&left[latency..], &input[..frames - latency], "{fs} Hz");

        // Bypassed with the stage on, the dry path is delayed by the same latency.
        let bypassed = Settings {
            bypass: true,
            ..settings
        };
        let mut chain = Chain::new(fs, BLOCK, &bypassed);
        let (mut l, mut r) = (input.clone(), input.clone());
        run(&mut chain, &bypassed, &mut l, &mut r);
        assert_eq!(l[centre + latency], input[centre], "{fs} Hz bypassed");
    }
}

#[test]
fn on_clicks_are_removed_and_clean_music_is_left_alone() {
    let fs = 44_100.0;
    let frames = 10 * 44_100;
    let clean_l = programme(frames, fs, 1);
    let clean_r = programme(frames, fs, 2);
    let (mut damaged_l, mut damaged_r) = (clean_l.clone(), clean_r.clone());
    let clicks = add_clicks(&mut damaged_l, &mut damaged_r, fs, 7);

    let on = transparent(true);
    let (l, r, repaired) = render(&on, fs, &damaged_l, &damaged_r);
    let before = snr_db([&clean_l, &clean_r], [&damaged_l, &damaged_r]);
    let after = snr_db([&clean_l, &clean_r], [&l, &r]);
    // Every click is on one channel or both, so at least one repaired span each; the
    // detector may split or merge a few, hence the 90 %.
    assert!(
        repaired as f64 >= 0.9 * clicks as f64,
        "{repaired} spans repaired for {clicks} clicks"
    );
    // 20 dB is the bar for the repair on music-like material (removing 90 % of
    // the click energy); a stage that missed the clicks or repaired them badly (say,
    // with zeros or a straight line across a 30-sample gap in 1 kHz partials) does
    // not reach it.
    assert!(
        after >= before + 20.0,
        "SNR {before:.1} dB damaged, {after:.1} dB repaired"
    );

    // The input gain comes before the stage, and the detection is relative to the
    // programme's own residual: the same clicks are found at any input gain.
    for in_gain_db in [-12.0, 12.0] {
        let gained = Settings { in_gain_db, ..on };
        let (_, _, found) = render(&gained, fs, &damaged_l, &damaged_r);
        assert_eq!(found, repaired, "input gain {in_gain_db} dB");
    }

    // The same music without clicks comes out essentially untouched: a detector that
    // "repairs" good music is worse than none. 70 dB is the bar (repairing even
    // one 45-sample span of it badly would cost more).
    let (l, r, repaired) = render(&on, fs, &clean_l, &clean_r);
    let untouched = snr_db([&clean_l, &clean_r], [&l, &r]);
    assert!(
        untouched >= 70.0,
        "clean SNR {untouched:.1} dB, {repaired} repaired"
    );
}

#[test]
fn the_sensitivity_reaches_the_running_stage() {
    // Quiet clicks, single samples about 11 hiss standard deviations high (hiss σ is
    // 1.6e-4/√3; the AR residual of this programme is about the hiss): over the 4 σ
    // threshold of sensitivity 100, under the 16 σ of sensitivity 0. A chain started at
    // 0 and turned to 100 while running must find them; one left at 0 must not.
    let fs = 44_100.0;
    let frames = 3 * 44_100;
    let mut left = programme(frames, fs, 1);
    let mut right = programme(frames, fs, 2);
    for n in (22_050..frames - 22_050).step_by(11_025) {
        left[n] += 1.0e-3;
        right[n] -= 1.0e-3;
    }
    let mut dull = transparent(true);
    dull.repair.sensitivity = 0.0;
    let keen = Settings {
        repair: mastering_chain::RepairSettings {
            on: true,
            sensitivity: 100.0,
        },
        ..dull
    };
    let (_, _, at_zero) = render(&dull, fs, &left, &right);
    let mut chain = Chain::new(fs, BLOCK, &dull);
    let (mut l, mut r) = (left.clone(), right.clone());
    run(&mut chain, &keen, &mut l, &mut r);
    assert_eq!(at_zero, 0, "sensitivity 0 repaired the quiet clicks");
    assert!(
        chain.repaired_clicks() >= 8,
        "{} repaired",
        chain.repaired_clicks()
    );
}
