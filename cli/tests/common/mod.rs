//! Helpers the `oxide` command's integration tests share: running the command, test
//! programmes, WAV files and an independent loudness meter (the `ebur128` crate).

// Not every test file uses every helper.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use ebur128::{EbuR128, Mode};
use hound::{SampleFormat, WavSpec};

/// Runs the built `oxide` with `args`.
pub fn oxide(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxide"))
        .args(args)
        .output()
        .expect("run oxide")
}

/// The command's stderr, for failure messages.
pub fn stderr(run: &Output) -> String {
    String::from_utf8_lossy(&run.stderr).into_owned()
}

/// Uniform noise in ±1 from a seeded LCG (Knuth's MMIX constants).
pub fn uniform(seed: u64) -> impl FnMut() -> f32 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    }
}

/// (integrated LUFS, true peak dBTP by ebur128's 4× oversampling) of planar `channels`.
pub fn loudness(channels: &[Vec<f32>], rate: u32) -> (f64, f64) {
    let mut m = EbuR128::new(channels.len() as u32, rate, Mode::I | Mode::TRUE_PEAK).unwrap();
    let views: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
    m.add_frames_planar_f32(&views).unwrap();
    let tp = (0..channels.len() as u32)
        .map(|c| m.true_peak(c).unwrap())
        .fold(0.0, f64::max);
    (m.loudness_global().unwrap(), 20.0 * tp.log10())
}

/// `channels` scaled so that ebur128 reads `lufs`.
pub fn scaled_to(mut channels: Vec<Vec<f32>>, rate: u32, lufs: f64) -> Vec<Vec<f32>> {
    let scale = 10f64.powf((lufs - loudness(&channels, rate).0) / 20.0) as f32;
    channels.iter_mut().flatten().for_each(|x| *x *= scale);
    channels
}

/// A music-like stereo programme of `seconds` at `rate`: two noise bands with a slow
/// level movement and drum-like transients (a seeded variety), scaled so that ebur128
/// reads `lufs`.
pub fn programme(seconds: f64, rate: u32, lufs: f64, seed: u64) -> Vec<Vec<f32>> {
    let frames = (seconds * rate as f64) as usize;
    let mut rand = uniform(seed);
    let (mut lp_l, mut lp_r) = (0.0f32, 0.0f32);
    let beat_len = rate as usize / 2 + (seed % 7) as usize * 1000;
    let mut l = Vec::with_capacity(frames);
    let mut r = Vec::with_capacity(frames);
    for i in 0..frames {
        let (a, b) = (rand(), rand());
        lp_l += 0.05 * (a - lp_l);
        lp_r += 0.05 * (b - lp_r);
        let t = i as f32 / rate as f32;
        let env = 0.6 + 0.4 * (std::f32::consts::TAU * 0.5 * t).sin();
        let beat = (i % beat_len) as f32 / rate as f32;
        let kick = 3.0 * (-beat * 30.0).exp() * (std::f32::consts::TAU * 60.0 * beat).sin();
        l.push(env * (2.0 * lp_l + 0.3 * a) + kick * 0.2);
        r.push(env * (2.0 * lp_r + 0.3 * b) + kick * 0.2);
    }
    scaled_to(vec![l, r], rate, lufs)
}

/// Writes planar `channels` as a 32-bit float WAV.
pub fn write_wav(path: &Path, channels: &[Vec<f32>], rate: u32) {
    let spec = WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for c in channels {
            w.write_sample(c[i]).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// A WAV file's spec, planar samples as f32 and, for integer files, the integers
/// (interleaved).
pub fn read_wav(path: &Path) -> (WavSpec, Vec<Vec<f32>>, Vec<i32>) {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    let n = spec.channels as usize;
    let (floats, ints): (Vec<f32>, Vec<i32>) = match spec.sample_format {
        SampleFormat::Float => (r.samples::<f32>().map(|s| s.unwrap()).collect(), vec![]),
        SampleFormat::Int => {
            let ints: Vec<i32> = r.samples::<i32>().map(|s| s.unwrap()).collect();
            let full = (1i64 << (spec.bits_per_sample - 1)) as f32;
            (ints.iter().map(|&i| i as f32 / full).collect(), ints)
        }
    };
    let planar = (0..n)
        .map(|c| floats.iter().skip(c).step_by(n).copied().collect())
        .collect();
    (spec, planar, ints)
}

/// Runs a Python snippet: in the test environment `.ci/run` makes, else the `python3`
/// on PATH.
pub fn python(script: &str) -> Output {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/host-tests/venv/bin/python");
    let python = if venv.exists() {
        venv.to_str().unwrap().to_owned()
    } else {
        "python3".to_owned()
    };
    Command::new(python)
        .args(["-c", script])
        .output()
        .expect("run python")
}
