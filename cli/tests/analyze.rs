//! `oxide analyze` on files built from the EBU test signal definitions.

use std::path::Path;
use std::process::{Command, Output};

use hound::{SampleFormat, WavSpec};

fn oxide(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxide"))
        .args(args)
        .output()
        .expect("run oxide")
}

/// A 1 kHz sine at `dbfs` (peak) on every channel, `seconds` long, 24-bit.
fn write_tone(path: &Path, sample_rate: u32, channels: u16, dbfs: f64, seconds: f64) {
    let spec = WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 24,
        sample_format: SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    let amplitude = 10f64.powf(dbfs / 20.0) * 8_388_607.0;
    for i in 0..(sample_rate as f64 * seconds) as usize {
        let x = amplitude * (std::f64::consts::TAU * 1000.0 * i as f64 / sample_rate as f64).sin();
        for _ in 0..channels {
            writer.write_sample(x.round() as i32).unwrap();
        }
    }
    writer.finalize().unwrap();
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

#[test]
fn ebu_3341_case_1_reads_minus_23_lufs_through_the_command() {
    // Tech 3341 case 1: stereo 1 kHz sine at −23 dBFS, 20 s → −23.0 LUFS (±0.1 LU),
    // LRA 0 (±1 LU); its true and sample peak are −23 dB (±0.2/−0.4 dB, 24-bit rounding
    // is far inside that).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case1.wav");
    write_tone(&file, 48_000, 2, -23.0, 20.0);
    let doc = json(&oxide(&["analyze", "--json", file.to_str().unwrap()]));
    let report = &doc["files"][0];
    let number = |key: &str| {
        report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {report}"))
    };
    assert!((number("integrated_lufs") + 23.0).abs() <= 0.1, "{report}");
    assert!((number("momentary_max_lufs") + 23.0).abs() <= 0.1);
    assert!((number("short_term_max_lufs") + 23.0).abs() <= 0.1);
    assert!(number("lra_lu").abs() <= 1.0);
    assert!((number("true_peak_dbtp") + 23.0).abs() <= 0.4);
    assert!((number("sample_peak_dbfs") + 23.0).abs() <= 0.01);
    assert!(
        number("plr_lu").abs() <= 0.4,
        "PLR of a sine at −23 is 0 LU"
    );
    assert_eq!(report["sample_rate_hz"], 48_000);
    assert_eq!(report["channels"], 2);
    assert!((number("duration_s") - 20.0).abs() < 1e-9);
    assert!(doc.get("album").is_none(), "one file has no album figure");

    // The streaming preview: at −23 LUFS with 22 dB of headroom, Spotify and Apple
    // Music raise the track to their references (−14, −16), the others leave it.
    let gain = |service: &str| {
        report["streaming_gain_db"][service]
            .as_f64()
            .unwrap_or_else(|| panic!("{service}: {report}"))
    };
    let integrated = number("integrated_lufs");
    assert!((gain("spotify") - (-14.0 - integrated)).abs() < 1e-9);
    assert!((gain("apple_music") - (-16.0 - integrated)).abs() < 1e-9);
    for service in ["youtube", "amazon_music", "tidal", "deezer"] {
        assert_eq!(gain(service), 0.0, "{service}");
    }
}

#[test]
fn several_files_give_an_album_loudness_and_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let loud = dir.path().join("loud.wav");
    let quieter = dir.path().join("quieter.wav");
    write_tone(&loud, 44_100, 2, -20.0, 6.0);
    write_tone(&quieter, 96_000, 1, -26.0, 6.0);
    let doc = json(&oxide(&[
        "analyze",
        "--json",
        loud.to_str().unwrap(),
        quieter.to_str().unwrap(),
    ]));
    let a = doc["files"][0]["integrated_lufs"].as_f64().unwrap();
    let b = doc["files"][1]["integrated_lufs"].as_f64().unwrap();
    // A stereo tone at −20 dBFS reads −20 LUFS; a mono one at −26 dBFS reads −29 LUFS
    // (one channel carries half the power of two).
    assert!((a + 20.0).abs() <= 0.1, "{a}");
    assert!((b + 29.0).abs() <= 0.1, "{b}");
    // Both tracks are 6 s: the album is the mean of their powers, since the quieter
    // is above the −10 LU relative gate; 0.02 LU for the histogram bins.
    let album = doc["album"]["integrated_lufs"].as_f64().unwrap();
    let expected = 10.0 * ((10f64.powf(a / 10.0) + 10f64.powf(b / 10.0)) / 2.0).log10();
    assert!((album - expected).abs() <= 0.02, "{album} vs {expected}");

    let table = oxide(&["analyze", loud.to_str().unwrap(), quieter.to_str().unwrap()]);
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("integrated") && text.contains("album"),
        "{text}"
    );
    assert!(text.contains("-20.0 LUFS"), "{text}");
    assert!(
        text.contains("playback gain") && text.contains("Apple Music"),
        "the streaming table follows: {text}"
    );
}

#[test]
fn silence_reads_null_and_bad_files_fail_clearly_without_stopping_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let silent = dir.path().join("silent.wav");
    write_tone(&silent, 48_000, 2, -200.0, 1.0);
    let garbage = dir.path().join("garbage.wav");
    std::fs::write(&garbage, b"not audio").unwrap();
    let run = oxide(&[
        "analyze",
        "--json",
        silent.to_str().unwrap(),
        garbage.to_str().unwrap(),
        "/nonexistent.wav",
    ]);
    assert!(!run.status.success(), "bad files make the command fail");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("garbage.wav") && stderr.contains("not a supported audio file"),
        "{stderr}"
    );
    assert!(stderr.contains("2 of 3 files"), "{stderr}");
    // The good file is still reported, with unmeasurable levels as null.
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let report = &doc["files"][0];
    assert!(report["integrated_lufs"].is_null(), "{report}");
    assert!(report["true_peak_dbtp"].is_null());
    assert!(report["plr_lu"].is_null());
}
