//! The mastering chain's factory presets: they parse against the real parameters, and
//! each lands a music-like programme on its own loudness target within ±0.1 LU with
//! the true peak under its own ceiling.
//!
//! The loudness gain is found the way `oxide master` finds it (not by learn mode, whose
//! short-term convergence is tested elsewhere): render with `loud_gain` 0 dB and the
//! limiter off, measure the integrated loudness `L0`, set `loud_gain = target − L0`,
//! then render with the limiter on and correct the gain by the remaining error, up to
//! five limited passes (the command allows three; the loud presets' heavier limiting
//! takes away a little more loudness with each correction, so they converge slower). The last pass uses the preset's own dither, and that output is the
//! one checked.

use mastering_chain::{Chain, MasterParams};
use oxide_plugin_common::param_access;
use oxide_plugin_common::presets::{self, Preset, CHANNEL_STRIP, MASTERING_CHAIN};
use shared_dsp::loudness::{ChannelLayout, LoudnessMeter};
use shared_dsp::rng::Pcg32;

const FS: f32 = 48_000.0;
const BLOCK: usize = 512;

fn factory() -> Vec<Preset> {
    presets::factory(MASTERING_CHAIN, &MasterParams::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_factory_preset_parses_with_known_ids_and_in_range_values() {
    // `factory` sets every value through `set_from_text`, which rejects unknown ids,
    // bad names and out-of-range numbers, and refuses two presets of one name: one
    // bad file fails the whole list.
    let all = factory();
    assert!(all.len() >= 10, "{} presets", all.len());
    assert!(presets::find(&all, "ebu r 128").is_some());
    // A channel-strip preset is foreign here, and says so.
    let strip = presets::factory_files(CHANNEL_STRIP)[0];
    let err = presets::parse(
        strip.text,
        strip.file_name,
        MASTERING_CHAIN,
        &MasterParams::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(strip.file_name) && err.contains("channel-strip"),
        "{err}"
    );
}

/// A stereo mix-like programme: a bass line changing every half second, a chord of
/// partials up to ~5 kHz, a kick-like thump and a noisy hat on the beat, quieter in
/// the second half (so the gating and the limiter both have something to do); peaks
/// at −6 dBFS as a pre-master delivered for mastering would.
fn programme(seconds: usize) -> [Vec<f32>; 2] {
    let frames = seconds * FS as usize;
    let tau = std::f64::consts::TAU;
    let bass_notes = [55.0, 65.4, 73.4, 49.0];
    let mut rng = Pcg32::new(99, 0);
    let mut channels = [Vec::with_capacity(frames), Vec::with_capacity(frames)];
    for n in 0..frames {
        let t = n as f64 / FS as f64;
        let f0 = bass_notes[(t * 2.0) as usize % bass_notes.len()];
        let bass = 0.5 * (tau * f0 * t).sin();
        let chord: f64 = [4.0, 5.0, 6.0, 8.0, 16.0, 32.0, 64.0]
            .iter()
            .enumerate()
            .map(|(k, r)| 0.2 / (1.0 + k as f64) * (tau * f0 * r * t + k as f64).sin())
            .sum();
        let beat = (t * 2.0).fract();
        let kick = (-beat * 30.0).exp() * (tau * 50.0 * beat).sin();
        let hat = (-(t * 8.0).fract() * 80.0).exp() * 0.3 * rng.next_bipolar() as f64;
        let section = if t < seconds as f64 / 2.0 { 1.0 } else { 0.5 };
        let mid = section * (bass + kick + chord);
        // A little width: the hat and one partial differ between the channels.
        let side = 0.1 * (tau * f0 * 12.0 * t).sin();
        channels[0].push((mid + hat + side) as f32);
        channels[1].push((mid - hat - side) as f32);
    }
    let peak = channels
        .iter()
        .flatten()
        .fold(0.0f32, |m, v| m.max(v.abs()));
    let gain = 0.5 / peak; // −6 dBFS
    channels.iter_mut().flatten().for_each(|v| *v *= gain);
    channels
}

/// The chain's output for `input` (the chain's latency of zeros appended so nothing
/// is cut off): integrated loudness and true peak by the crate's BS.1770 meter.
fn render_and_measure(params: &MasterParams, input: &[Vec<f32>; 2]) -> (f64, f64) {
    let settings = params.settings();
    let mut chain = Chain::with_channels(FS, 2, BLOCK, &settings);
    let tail = chain.latency_samples() as usize;
    let [mut left, mut right] = input.clone();
    left.resize(left.len() + tail, 0.0);
    right.resize(right.len() + tail, 0.0);
    for (l, r) in left.chunks_mut(BLOCK).zip(right.chunks_mut(BLOCK)) {
        chain.process(&mut [&mut *l, &mut *r], &settings);
    }
    let mut meter = LoudnessMeter::new(FS as f64, ChannelLayout::Stereo);
    meter.process(&[&left, &right]);
    (meter.integrated_lufs(), meter.true_peak_dbtp())
}

fn set(params: &MasterParams, id: &str, value: &str) {
    param_access::set_from_text(params, id, value).unwrap_or_else(|e| panic!("{e}"));
}

/// The loudness pass search; returns the final (dithered) output's loudness and peak.
fn master(params: &MasterParams, input: &[Vec<f32>; 2], target: f64) -> (f64, f64) {
    let dither = param_access::plain_value(params, "dither_bits").unwrap();
    let limiter = params.lim_on.value();
    set(params, "learn", "off");
    set(params, "dither_bits", "off");
    set(params, "loud_gain", "0");
    set(params, "lim_on", "off");
    let (l0, _) = render_and_measure(params, input);
    set(params, "lim_on", if limiter { "on" } else { "off" });
    let mut gain = target - l0;
    // Up to five limited passes; a pass within 0.02 LU ends the search (the goal is
    // ±0.1 LU, and the 0.01 dB gain step moves the result by at most 0.005 LU).
    for _ in 0..5 {
        set(params, "loud_gain", &format!("{gain:.2}"));
        let (lufs, _) = render_and_measure(params, input);
        if (target - lufs).abs() <= 0.02 {
            break;
        }
        gain += target - lufs;
    }
    let normalized = param_access::normalized_for(params, "dither_bits", dither).unwrap();
    param_access::set_normalized(params, "dither_bits", normalized).unwrap();
    render_and_measure(params, input)
}

#[test]
fn every_mastering_preset_lands_on_its_target_under_its_ceiling() {
    // 6 s: 57 overlapping 400 ms blocks for the gated integration, two sections of
    // level; short because the debug build renders each preset up to seven times.
    let input = programme(6);
    let params = MasterParams::default();
    let mut report = Vec::new();
    for preset in factory() {
        preset.apply(&params).unwrap();
        let target = params.target_lufs() as f64;
        let ceiling = params.lim_ceiling.value() as f64;
        let (lufs, true_peak) = master(&params, &input, target);
        eprintln!(
            "{:<26} target {target:6.1} LUFS → {lufs:7.2} LUFS, true peak {true_peak:6.2} dBTP (ceiling {ceiling:.1})",
            preset.name
        );
        // ±0.1 LU is the requirement; the meter agrees with libebur128
        // within 0.02 LU, so a pass here is not the meter's error.
        if (lufs - target).abs() > 0.1 {
            report.push(format!("{}: {lufs:.2} LUFS for {target} LUFS", preset.name));
        }
        // The limiter keeps the true peak under the ceiling by this meter; 16-bit
        // dither after it adds at most a few LSB (3e-5 each, under 0.01 dB at the
        // ceiling), the only slack allowed.
        if true_peak > ceiling + 0.01 {
            report.push(format!(
                "{}: true peak {true_peak:.2} dBTP over {ceiling} dBTP",
                preset.name
            ));
        }
    }
    assert!(report.is_empty(), "{report:#?}");
}
