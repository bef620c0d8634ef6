//! The channel strip's factory presets: they parse against the real parameters, load
//! the way `--set` sets values, and none makes a −18 LUFS source clip. Bad preset
//! files give errors that name the file and change nothing.

use channel_strip::{Chain, StripParams};
use oxide_plugin_common::param_access;
use oxide_plugin_common::presets::{self, Preset, CHANNEL_STRIP, MASTERING_CHAIN};
use shared_dsp::loudness::{ChannelLayout, LoudnessMeter};
use shared_dsp::rng::Pcg32;

const FS: f32 = 48_000.0;
const BLOCK: usize = 512;

fn factory() -> Vec<Preset> {
    presets::factory(CHANNEL_STRIP, &StripParams::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_factory_preset_parses_with_known_ids_and_in_range_values() {
    // `factory` sets every value through `set_from_text`, which rejects unknown ids,
    // bad names and out-of-range numbers, and refuses two presets of one name: one
    // bad file fails the whole list.
    let all = factory();
    assert!(all.len() >= 16, "{} presets", all.len());
    for p in &all {
        assert!(!p.params.is_empty(), "{}: sets nothing", p.source);
        assert!(
            !p.description.contains('\n'),
            "{}: one-line description",
            p.source
        );
    }
}

#[test]
fn applying_a_preset_sets_its_values_and_resets_everything_else() {
    let all = factory();
    let vocal = presets::find(&all, "  lead VOCAL ").expect("case-insensitive lookup");
    assert_eq!(vocal.name, "Lead Vocal");
    assert!(presets::find(&all, "no such preset").is_none());

    let params = StripParams::default();
    // A leftover from an earlier setting the preset does not mention.
    param_access::set_from_text(&params, "rev_on", "on").unwrap();
    param_access::set_from_text(&params, "pan", "-40").unwrap();
    vocal.apply(&params).unwrap();
    assert!(
        !params.rev_on.value(),
        "unlisted switch back at its default"
    );
    assert_eq!(
        params.pan.value(),
        0.0,
        "unlisted value back at its default"
    );
    // The listed values, as `--set` would have set them (same normalized value).
    let by_set = StripParams::default();
    for (id, text) in &vocal.params {
        param_access::set_from_text(&by_set, id, text).unwrap();
        assert_eq!(
            param_access::plain_value(&params, id).unwrap(),
            param_access::plain_value(&by_set, id).unwrap(),
            "{id}"
        );
    }
    assert!(params.hpf_on.value());
    // Plain → normalized → plain through the frequency's log skew in f32 loses the
    // last digit (89.99999): 1e-4 Hz is far below anything audible.
    assert!((params.hpf_freq.value() - 90.0).abs() < 1e-4);
    assert_eq!(params.comp_ratio.value(), 3.0);
}

/// Writes `text` to a fresh file in the temporary folder and returns its path.
fn temp_file(name: &str, text: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("oxide-preset-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn corrupt_empty_or_foreign_files_give_errors_naming_the_file() {
    let foreign_preset = presets::factory_files(MASTERING_CHAIN)[0].text;
    let cases: [(&str, &[u8], Option<&str>, &str); 8] = [
        ("empty.toml", b"", None, "empty"),
        ("corrupt.toml", b"version = 1\nname = \"Broken\n[params", None, "TOML"),
        ("binary.toml", &[0xff, 0xfe, 0x00, 0x41], None, "UTF-8"),
        ("state.json", b"{\"params\": {\"in_gain\": 0.5}}", None, "TOML"),
        ("mastering.toml", foreign_preset.as_bytes(), Some("plugin"), "mastering-chain"),
        (
            "unknown-id.toml",
            b"version = 1\nplugin = \"channel-strip\"\nname = \"X\"\ncategory = \"C\"\ndescription = \"D\"\n[params]\nfuzz = 3\n",
            Some("params.fuzz"),
            "unknown parameter id",
        ),
        (
            "out-of-range.toml",
            b"version = 1\nplugin = \"channel-strip\"\nname = \"X\"\ncategory = \"C\"\ndescription = \"D\"\n[params]\nhpf_freq = 5000\n",
            Some("params.hpf_freq"),
            "out of range",
        ),
        (
            "future.toml",
            b"version = 2\nplugin = \"channel-strip\"\nname = \"X\"\ncategory = \"C\"\ndescription = \"D\"\n[params]\n",
            Some("version"),
            "not supported",
        ),
    ];
    let params = StripParams::default();
    param_access::set_from_text(&params, "in_gain", "3").unwrap();
    for (name, bytes, key, why) in cases {
        let path = temp_file(name, bytes);
        let err = presets::load_file(&path, CHANNEL_STRIP, &params)
            .expect_err(name)
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{name}: {err}");
        if let Some(key) = key {
            assert!(err.contains(key), "{name}: {err}");
        }
        assert!(err.contains(why), "{name}: {err}");
        // Nothing was changed by the failed load, and the file is untouched.
        assert_eq!(params.in_gain.value(), 3.0, "{name}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name}");
    }
    assert!(presets::load_file(
        &std::env::temp_dir().join("oxide-no-such-preset.toml"),
        CHANNEL_STRIP,
        &params
    )
    .unwrap_err()
    .to_string()
    .contains("cannot read"));
}

#[test]
fn a_user_preset_file_loads_like_a_factory_one() {
    let file = &presets::factory_files(CHANNEL_STRIP)[0];
    let path = temp_file(file.file_name, file.text.as_bytes());
    let params = StripParams::default();
    let loaded = presets::load_file(&path, CHANNEL_STRIP, &params).unwrap();
    let factory = factory().remove(0);
    assert_eq!(loaded.params, factory.params);
    assert_eq!(loaded.name, factory.name);
}

// --- no preset clips a −18 LUFS source ---

/// Sustained tones (55 and 220 Hz) with percussive noise bursts 4 times a second: the
/// kind of source whose transients a compressor's attack lets through.
fn tone_and_transients(frames: usize) -> Vec<f32> {
    let mut rng = Pcg32::new(7, 0);
    (0..frames)
        .map(|n| {
            let t = n as f64 / FS as f64;
            let tau = std::f64::consts::TAU;
            let hit = (-(t * 4.0).fract() * 60.0).exp();
            let tones = 0.3 * (tau * 55.0 * t).sin() + 0.2 * (tau * 220.0 * t).sin();
            (tones + 0.8 * hit * rng.next_bipolar() as f64) as f32
        })
        .collect()
}

fn white_noise(frames: usize) -> Vec<f32> {
    let mut rng = Pcg32::new(12345, 0);
    (0..frames).map(|_| rng.next_bipolar()).collect()
}

/// A voice-like source: a gliding 110–220 Hz pulse (harmonics falling at 6 dB/octave)
/// shaped by three formant peaks (700, 1200, 2600 Hz), in syllables 4 times a second.
fn vocal_like(frames: usize) -> Vec<f32> {
    let formant = |f: f64| {
        [(700.0, 1.0), (1200.0, 0.6), (2600.0, 0.3)]
            .iter()
            .map(|&(fc, a): &(f64, f64)| a / (1.0 + ((f - fc) / 150.0).powi(2)))
            .sum::<f64>()
    };
    let mut phase = 0.0f64;
    (0..frames)
        .map(|n| {
            let t = n as f64 / FS as f64;
            let f0 = 165.0 + 55.0 * (std::f64::consts::TAU * 0.3 * t).sin();
            phase += f0 / FS as f64;
            let mut x = 0.0;
            let mut k = 1.0;
            while k * f0 < 8000.0 {
                x += formant(k * f0) / k * (std::f64::consts::TAU * k * phase).sin();
                k += 1.0;
            }
            let syllable = (std::f64::consts::PI * (t * 4.0).fract()).sin().powi(2);
            (x * syllable) as f32
        })
        .collect()
}

/// `x` scaled so its (mono) integrated loudness is `lufs`.
fn at_loudness(mut x: Vec<f32>, lufs: f64) -> Vec<f32> {
    let mut meter = LoudnessMeter::new(FS as f64, ChannelLayout::Mono);
    meter.process(&[&x]);
    let gain = 10f64.powf((lufs - meter.integrated_lufs()) / 20.0) as f32;
    x.iter_mut().for_each(|v| *v *= gain);
    x
}

/// The largest |sample| of the strip's stereo output for `source` on both channels,
/// followed by a second of silence so delay and reverb tails are included.
fn output_peak(params: &StripParams, source: &[f32]) -> f32 {
    let settings = params.settings();
    let mut chain = Chain::new(FS, BLOCK, &settings);
    let mut left = source.to_vec();
    left.resize(source.len() + FS as usize, 0.0);
    let mut right = left.clone();
    let mut peak = 0.0f32;
    for (l, r) in left.chunks_mut(BLOCK).zip(right.chunks_mut(BLOCK)) {
        chain.process(&mut [&mut *l, &mut *r], &settings);
        peak = l.iter().chain(r.iter()).fold(peak, |m, v| m.max(v.abs()));
    }
    peak
}

#[test]
fn no_strip_preset_makes_a_minus_18_lufs_source_clip() {
    // 3 s: several syllables and hits, long enough for the compressors to settle.
    let frames = 3 * FS as usize;
    let sources = [
        (
            "tone+transients",
            at_loudness(tone_and_transients(frames), -18.0),
        ),
        ("noise", at_loudness(white_noise(frames), -18.0)),
        ("vocal-like", at_loudness(vocal_like(frames), -18.0)),
    ];
    let params = StripParams::default();
    // The check can fail: the same sources through a strip with 18 dB of gain (the
    // peaks of a −18 LUFS source sit about 5 to 15 dB under full scale; uniform
    // noise's crest factor is the smallest) do clip.
    param_access::set_from_text(&params, "in_gain", "18").unwrap();
    for (what, source) in &sources {
        assert!(output_peak(&params, source) >= 1.0, "{what} at +18 dB");
    }
    let mut report = Vec::new();
    let mut loudest = (f32::MIN, String::new());
    for preset in factory() {
        preset.apply(&params).unwrap();
        for (what, source) in &sources {
            let peak = output_peak(&params, source);
            if peak > loudest.0 {
                loudest = (peak, format!("{} on {what}", preset.name));
            }
            // A clip is a sample at or over 0 dBFS (1.0); the check is strict.
            if peak >= 1.0 {
                report.push(format!(
                    "{} on {what}: peak {:+.2} dBFS",
                    preset.name,
                    20.0 * peak.log10()
                ));
            }
        }
    }
    eprintln!(
        "highest peak: {:+.2} dBFS ({})",
        20.0 * loudest.0.log10(),
        loudest.1
    );
    assert!(report.is_empty(), "{report:#?}");
}
