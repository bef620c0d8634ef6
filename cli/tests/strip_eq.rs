//! `oxide process --plugin channel-strip --set eq3_gain=6 --set eq3_freq=1000` applies the
//! band: +6 dB at 1 kHz, flat far away.

use std::process::Command;

use hound::{SampleFormat, WavSpec};

const RATE: u32 = 48_000;

/// Magnitude in dB of one DFT bin of `x` at `freq` Hz.
fn dft_db(x: &[f32], freq: f64) -> f64 {
    let w = std::f64::consts::TAU * freq / RATE as f64;
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for (n, &v) in x.iter().enumerate() {
        re += v as f64 * (w * n as f64).cos();
        im -= v as f64 * (w * n as f64).sin();
    }
    10.0 * (re * re + im * im).log10()
}

#[test]
fn eq3_plus_6_db_at_1_khz() {
    // The test signal is an impulse (mono, float WAV, 16384 frames): the output is the
    // chain's impulse response, whose DFT is its frequency response. 0.1 dB is issue 3's
    // accuracy bound for a band centred at or below 2 kHz; at 50 Hz and 15 kHz a Q 0.7–1
    // bell at 1 kHz is within 0.1 dB of flat.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("impulse.wav");
    let output = dir.path().join("out.wav");
    let spec = WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(&input, spec).unwrap();
    for n in 0..16_384 {
        writer
            .write_sample(if n == 0 { 1.0f32 } else { 0.0 })
            .unwrap();
    }
    writer.finalize().unwrap();

    let run = Command::new(env!("CARGO_BIN_EXE_oxide"))
        .args(["process", "--plugin", "channel-strip"])
        .args([
            "--set",
            "eq3_gain=6",
            "--set",
            "eq3_freq=1000",
            "--set",
            "eq3_q=1",
        ])
        .arg(&input)
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let response: Vec<f32> = hound::WavReader::open(&output)
        .unwrap()
        .into_samples::<f32>()
        .map(Result::unwrap)
        .collect();
    assert!(response.len() >= 16_384);
    let at_1k = dft_db(&response, 1000.0);
    assert!((at_1k - 6.0).abs() < 0.1, "1 kHz: {at_1k:.3} dB");
    for freq in [50.0, 15_000.0] {
        let db = dft_db(&response, freq);
        assert!(db.abs() < 0.1, "{freq} Hz: {db:.3} dB");
    }
}
