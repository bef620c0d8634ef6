//! `oxide presets` and `--preset NAME|FILE` on `process` and `master`, run as a user runs
//! them, with the user folder in a temporary directory (`OXIDE_PRESET_DIR`).

use std::path::Path;
use std::process::{Command, Output};

use channel_strip::StripParams;
use oxide_plugin_common::param_access;
use oxide_plugin_common::presets::{self, CHANNEL_STRIP, MASTERING_CHAIN};
use oxide_plugin_common::user_presets::{Library, DIR_ENV};

fn oxide(user_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxide"))
        .args(args)
        .env(DIR_ENV, user_dir)
        .output()
        .expect("run oxide")
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A stereo float WAV of `frames` frames at 48 kHz: a 220 Hz tone and a rising tone at about −18 dBFS.
fn write_input(path: &Path, frames: usize) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..frames {
        let t = i as f64 / 48_000.0;
        let x = 0.12 * (std::f64::consts::TAU * 220.0 * t).sin()
            + 0.06 * (std::f64::consts::TAU * (500.0 + 6000.0 * t) * t).sin();
        writer.write_sample(x as f32).unwrap();
        writer.write_sample(-0.8 * x as f32).unwrap();
    }
    writer.finalize().unwrap();
}

fn samples(path: &Path) -> Vec<u32> {
    hound::WavReader::open(path)
        .unwrap()
        .into_samples::<f32>()
        .map(|s| s.unwrap().to_bits())
        .collect()
}

#[test]
fn presets_lists_factory_and_user_presets_and_reports_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let params = StripParams::default();
    let mut library =
        Library::load_from(CHANNEL_STRIP, Some(dir.path().join(CHANNEL_STRIP)), &params).unwrap();
    param_access::set_from_text(&params, "out_gain", "-4").unwrap();
    library
        .save("Quiet one", "Mine", "Four down", &params)
        .unwrap();
    let bad = dir.path().join(CHANNEL_STRIP).join("empty.toml");
    std::fs::write(&bad, "").unwrap();

    let run = oxide(
        dir.path(),
        &["presets", "--plugin", "channel-strip", "--json"],
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&run)).unwrap();
    let listed = json["presets"].as_array().unwrap();
    let factory = presets::factory(CHANNEL_STRIP, &StripParams::default()).unwrap();
    assert_eq!(listed.len(), factory.len() + 1);
    for (entry, preset) in listed.iter().zip(&factory) {
        assert_eq!(entry["name"], preset.name.as_str());
        assert_eq!(entry["category"], preset.category.as_str());
        assert_eq!(entry["description"], preset.description.as_str());
        assert_eq!(entry["user"], false);
    }
    let mine = listed.last().unwrap();
    assert_eq!(mine["name"], "Quiet one");
    assert_eq!(mine["category"], "Mine");
    assert_eq!(mine["user"], true);
    // The empty file is reported (in the JSON and on stderr), skipped, and untouched.
    let skipped = json["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0].as_str().unwrap().contains("empty"),
        "{skipped:?}"
    );
    assert!(String::from_utf8_lossy(&run.stderr).contains("the file is empty"));
    assert_eq!(std::fs::read(&bad).unwrap(), b"");

    // The text list groups by category.
    let text = ok(&oxide(
        dir.path(),
        &["presets", "--plugin", "mastering-chain"],
    ));
    assert!(text.contains("Broadcast\n  EBU R 128"), "{text}");
    assert!(text.contains("Speech\n  Podcast (-16 LUFS)"), "{text}");
}

#[test]
fn process_preset_by_name_or_file_equals_its_settings_and_set_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_input(&input, 12_000);
    let render = |name: &str, extra: &[&str]| -> Vec<u32> {
        let out = dir.path().join(format!("{name}.wav"));
        let mut args = vec!["process", "--plugin", "channel-strip", "--bits", "32f"];
        args.extend_from_slice(extra);
        args.push(input.to_str().unwrap());
        args.push(out.to_str().unwrap());
        ok(&oxide(dir.path(), &args));
        samples(&out)
    };
    let preset = presets::factory(CHANNEL_STRIP, &StripParams::default())
        .unwrap()
        .into_iter()
        .find(|p| p.name == "Snare")
        .unwrap();
    let sets: Vec<String> = preset
        .params
        .iter()
        .map(|(id, value)| format!("{id}={value}"))
        .collect();
    let mut set_args: Vec<&str> = Vec::new();
    for s in &sets {
        set_args.extend(["--set", s.as_str()]);
    }
    let by_sets = render("sets", &set_args);
    let by_name = render("name", &["--preset", "snare"]);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../presets/channel-strip/snare.toml");
    let by_file = render("file", &["--preset", file.to_str().unwrap()]);
    assert_eq!(by_name, by_sets, "--preset snare is its own --set list");
    assert_eq!(by_file, by_name);
    assert_ne!(
        by_name,
        render("plain", &[]),
        "the preset changes the sound"
    );

    // `--set` comes after the preset: the same as the list with one value changed.
    let overridden = render("override", &["--preset", "Snare", "--set", "out_gain=-7.5"]);
    let mut changed = set_args.clone();
    changed.extend(["--set", "out_gain=-7.5"]);
    assert_eq!(overridden, render("changed", &changed));
    assert_ne!(overridden, by_name);
}

#[test]
fn an_unknown_or_foreign_preset_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_input(&input, 12_000);
    let out = dir.path().join("out.wav");
    let run = oxide(
        dir.path(),
        &[
            "process",
            "--plugin",
            "channel-strip",
            "--preset",
            "Tuba",
            input.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    );
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("'Tuba'") && err.contains("Lead Vocal"),
        "{err}"
    );
    assert!(!out.exists());

    // A mastering-chain preset file is not a channel-strip preset.
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../presets/mastering-chain/podcast.toml");
    let run = oxide(
        dir.path(),
        &[
            "process",
            "--plugin",
            "channel-strip",
            "--preset",
            file.to_str().unwrap(),
            input.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    );
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains(MASTERING_CHAIN), "{err}");
}

#[test]
fn master_starts_from_the_preset_and_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    // Three seconds: integrated loudness is measured over 400 ms blocks.
    write_input(&input, 144_000);
    let out = dir.path().join("out.wav");
    let run = oxide(
        dir.path(),
        &[
            "master",
            "--preset",
            "Podcast (-16 LUFS)",
            "--json",
            input.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&run)).unwrap();
    // The preset's target, not the default's (−14 LUFS).
    assert_eq!(json["target_lufs"].as_f64(), Some(-16.0), "{json}");
}

/// Two presets whose names make the same file name ("/" and ":" both become "_") get a
/// `.vstpreset` file each: the later does not replace the earlier, and each file holds
/// its own values.
#[test]
fn presets_whose_file_names_collide_get_a_vst3_file_each() {
    use oxide_plugin_common::vst3_preset::{self, COMPONENT_CHUNK};
    let dir = tempfile::tempdir().unwrap();
    let params = StripParams::default();
    let mut library =
        Library::load_from(CHANNEL_STRIP, Some(dir.path().join(CHANNEL_STRIP)), &params).unwrap();
    for (name, gain) in [("Lead/Dry", "-4"), ("Lead:Dry", "-8")] {
        param_access::set_from_text(&params, "out_gain", gain).unwrap();
        library.save(name, "Mine", "", &params).unwrap();
    }
    let out = dir.path().join("vst3");
    ok(&oxide(
        dir.path(),
        &[
            "presets",
            "--plugin",
            "channel-strip",
            "--vst3",
            out.to_str().unwrap(),
        ],
    ));
    let factory = presets::factory(CHANNEL_STRIP, &StripParams::default()).unwrap();
    let mut files = 0;
    for category in std::fs::read_dir(&out).unwrap() {
        files += std::fs::read_dir(category.unwrap().path()).unwrap().count();
    }
    assert_eq!(files, factory.len() + 2);
    let out_gain_db = |name: &str| -> f64 {
        let bytes = std::fs::read(out.join("Mine").join(name)).unwrap();
        let read = vst3_preset::read(&bytes).expect("a .vstpreset file");
        let state: serde_json::Value =
            serde_json::from_slice(read.chunk(COMPONENT_CHUNK).unwrap()).unwrap();
        state["params"]["out_gain"]["f32"].as_f64().unwrap()
    };
    // One file each, whichever the library lists first.
    let mut gains = [
        out_gain_db("Lead_Dry.vstpreset"),
        out_gain_db("Lead_Dry (2).vstpreset"),
    ];
    gains.sort_by(f64::total_cmp);
    assert_eq!(gains, [-8.0, -4.0]);
}
