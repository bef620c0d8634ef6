//! The `oxide` binary, run as a user runs it, on real WAV files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hound::{SampleFormat, WavSpec};

fn oxide(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxide"))
        .args(args)
        .output()
        .expect("run oxide")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes a 997 Hz sine at −6 dBFS: 1 s, `channels` channels, the given format.
fn write_sine(path: &Path, sample_rate: u32, channels: u16, bits: u16, float: bool) {
    let spec = WavSpec {
        channels,
        sample_rate,
        bits_per_sample: bits,
        sample_format: if float {
            SampleFormat::Float
        } else {
            SampleFormat::Int
        },
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..sample_rate {
        let x = 0.5 * (std::f64::consts::TAU * 997.0 * i as f64 / sample_rate as f64).sin();
        for _ in 0..channels {
            if float {
                writer.write_sample(x as f32).unwrap();
            } else {
                let full = (1i64 << (bits - 1)) as f64;
                writer.write_sample((x * full).round() as i32).unwrap();
            }
        }
    }
    writer.finalize().unwrap();
}

/// Reads any WAV as f64 samples, interleaved, with its spec.
fn read(path: &Path) -> (WavSpec, Vec<f64>) {
    let reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let samples = match spec.sample_format {
        SampleFormat::Float => reader
            .into_samples::<f32>()
            .map(|s| s.unwrap() as f64)
            .collect(),
        SampleFormat::Int => {
            let full = (1i64 << (spec.bits_per_sample - 1)) as f64;
            reader
                .into_samples::<i32>()
                .map(|s| s.unwrap() as f64 / full)
                .collect()
        }
    };
    (spec, samples)
}

fn rms(samples: &[f64]) -> f64 {
    (samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64).sqrt()
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn out_gain_minus_six_lowers_the_level_by_six_db_in_every_format() {
    let dir = temp_dir();
    for (bits, float, rate, channels) in [
        (16, false, 44_100, 2),
        (24, false, 48_000, 1),
        (32, true, 96_000, 2),
        (24, false, 22_050, 2),
    ] {
        let input = path(&dir, &format!("in-{bits}-{rate}.wav"));
        let output = path(&dir, &format!("out-{bits}-{rate}.wav"));
        write_sine(&input, rate, channels, bits, float);
        let run = oxide(&[
            "process",
            "--plugin",
            "channel-strip",
            "--set",
            "out_gain=-6",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
        let (in_spec, in_samples) = read(&input);
        let (out_spec, out_samples) = read(&output);
        assert_eq!(in_spec, out_spec, "same format unless told otherwise");
        assert_eq!(in_samples.len(), out_samples.len(), "same length");
        let change_db = 20.0 * (rms(&out_samples) / rms(&in_samples)).log10();
        // ±0.01 dB is the issue's figure; 16-bit rounding of a −12 dBFS sine moves its RMS
        // by about 1e-5 dB, far inside it.
        assert!(
            (change_db + 6.0).abs() <= 0.01,
            "{bits}-bit {rate} Hz: {change_db:.4} dB"
        );
    }
}

#[test]
fn bits_converts_the_output_format() {
    let dir = temp_dir();
    let input = path(&dir, "in.wav");
    let output = path(&dir, "out.wav");
    write_sine(&input, 48_000, 2, 24, false);
    let run = oxide(&[
        "process",
        "--plugin",
        "mastering-chain",
        "--bits",
        "32f",
        // The processing blocks off: what is left is gains at 0 dB and the limiter's
        // delay, which the command compensates.
        "--set",
        "eq_on=off",
        "--set",
        "mb_on=off",
        "--set",
        "img_on=off",
        "--set",
        "lim_on=off",
        input.to_str().unwrap(),
        output.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let (spec, out) = read(&output);
    assert_eq!(spec.sample_format, SampleFormat::Float);
    let (_, original) = read(&input);
    // Unity gain through the chain, latency compensated: the 24-bit input comes back
    // exactly as floats.
    assert_eq!(out, original);
}

#[test]
fn never_overwrites_without_force() {
    let dir = temp_dir();
    let input = path(&dir, "in.wav");
    let output = path(&dir, "out.wav");
    write_sine(&input, 48_000, 1, 16, false);
    std::fs::write(&output, b"precious").unwrap();
    let args = |force: bool| {
        let mut args = vec![
            "process",
            "--plugin",
            "channel-strip",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
        ];
        if force {
            args.push("--force");
        }
        oxide(&args)
    };
    let refused = args(false);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert_eq!(std::fs::read(&output).unwrap(), b"precious");
    let forced = args(true);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(read(&output).1.len() == 48_000);
    // The output can never be the input.
    let same = oxide(&[
        "process",
        "--plugin",
        "channel-strip",
        "--force",
        input.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(!same.status.success());
    assert!(stderr(&same).contains("is the input"));
}

#[test]
fn bad_arguments_get_clear_errors_and_write_nothing() {
    let dir = temp_dir();
    let input = path(&dir, "in.wav");
    write_sine(&input, 44_100, 2, 16, false);
    let garbage = path(&dir, "garbage.wav");
    std::fs::write(&garbage, b"RIFF but not really").unwrap();
    let empty = path(&dir, "empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let bad_preset = path(&dir, "preset.json");
    std::fs::write(
        &bad_preset,
        br#"{"params": {"out_gain": {"f32": 99.0}}, "fields": {}}"#,
    )
    .unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&["--set", "nope=1"], "unknown parameter id 'nope'"),
        (&["--set", "out_gain=-100"], "out of range"),
        (&["--set", "out_gain=loud"], "not a valid value"),
        (&["--set", "phase_l=maybe"], "on or off"),
        (&["--set", "out_gain"], "ID=VALUE"),
        (
            &["--preset", "/nonexistent/preset.json"],
            "could not read the preset",
        ),
        (&["--preset", bad_preset.to_str().unwrap()], "out of range"),
        (&["--block-size", "0"], "block-size"),
        (&["--bits", "12"], "unsupported bit depth"),
    ];
    for (extra, expected) in cases {
        let output = path(&dir, "out.wav");
        let mut args = vec!["process", "--plugin", "channel-strip"];
        args.extend_from_slice(extra);
        args.push(input.to_str().unwrap());
        args.push(output.to_str().unwrap());
        let run = oxide(&args);
        assert!(!run.status.success(), "{extra:?} should fail");
        assert!(
            stderr(&run).contains(expected),
            "{extra:?}: expected '{expected}' in: {}",
            stderr(&run)
        );
        assert!(!output.exists(), "{extra:?} must not write");
    }
    for (file, expected) in [
        ("/nonexistent/in.wav", "cannot read '/nonexistent/in.wav'"),
        (garbage.to_str().unwrap(), "not a supported audio file"),
        (empty.to_str().unwrap(), "is empty"),
    ] {
        let output = path(&dir, "out.wav");
        let run = oxide(&[
            "process",
            "--plugin",
            "channel-strip",
            file,
            output.to_str().unwrap(),
        ]);
        assert!(!run.status.success());
        assert!(stderr(&run).contains(expected), "{}", stderr(&run));
        assert!(!output.exists());
    }
    let missing_folder = oxide(&[
        "process",
        "--plugin",
        "channel-strip",
        input.to_str().unwrap(),
        "/nonexistent/folder/out.wav",
    ]);
    assert!(stderr(&missing_folder).contains("does not exist"));
}

#[test]
fn params_lists_every_parameter_with_units_and_ranges() {
    let run = oxide(&["params", "--plugin", "channel-strip", "--json"]);
    assert!(run.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let params = doc["params"].as_array().unwrap();
    let out_gain = params.iter().find(|p| p["id"] == "out_gain").unwrap();
    assert_eq!(out_gain["unit"], "dB");
    assert_eq!(out_gain["min"], -80.0);
    assert_eq!(out_gain["max"], 12.0);
    assert_eq!(out_gain["default"], 0.0);
    for id in ["in_gain", "phase_l", "phase_r", "bypass"] {
        assert!(params.iter().any(|p| p["id"] == id), "{id} listed");
    }
    let table = oxide(&["params", "--plugin", "mastering-chain"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("Oxide Mastering Chain"));
    assert!(
        text.contains("out_gain") && text.contains("-24 … 0"),
        "{text}"
    );
}

#[test]
fn presets_and_switches_are_applied_in_order() {
    let dir = temp_dir();
    let input = path(&dir, "in.wav");
    write_sine(&input, 48_000, 2, 32, true);
    let preset = path(&dir, "preset.json");
    std::fs::write(
        &preset,
        br#"{"version": "0.1.0", "params": {"out_gain": {"f32": -12.0}, "phase_r": {"bool": true}}, "fields": {}}"#,
    )
    .unwrap();
    let output = path(&dir, "out.wav");
    // The --set after the preset wins for out_gain; phase_r stays inverted.
    let run = oxide(&[
        "process",
        "--plugin",
        "channel-strip",
        "--preset",
        preset.to_str().unwrap(),
        "--set",
        "out_gain=-6",
        input.to_str().unwrap(),
        output.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let (_, original) = read(&input);
    let (_, out) = read(&output);
    let gain = 10f64.powf(-6.0 / 20.0);
    for (frame, (o, i)) in out.chunks(2).zip(original.chunks(2)).enumerate() {
        // f32 arithmetic on the way: 1e-6 absolute on a 0.5-peak sine.
        assert!((o[0] - i[0] * gain).abs() < 1e-6, "left at {frame}");
        assert!(
            (o[1] + i[1] * gain).abs() < 1e-6,
            "right inverted at {frame}"
        );
    }
}
