//! `oxide album` as a user runs it: six 4-minute 48 kHz/24-bit stereo WAV mixes to the
//! cd profile (SRC to 44.1 kHz, the mastering chain with its limiter at the album's
//! loudness gain found by search, 16-bit dither, per-track files, image, CUE sheet,
//! HTML report), timed wall-clock as a whole process with `--jobs 2`. The goal:
//! 24 minutes of music in under 10 s (≥ 150× real time) on 2 cores.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

#[path = "../tests/common/mod.rs"]
mod common;

const FS: u32 = 48_000;
const MINUTES: f64 = 4.0;

fn write_24(path: &std::path::Path, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: FS,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for c in channels {
            w.write_sample((c[i].clamp(-1.0, 1.0) * 8_388_607.0).round() as i32)
                .unwrap();
        }
    }
    w.finalize().unwrap();
}

fn album(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    // `OXIDE_BENCH_INPUTS=DIR` writes the six mixes into DIR and keeps them, to time
    // the command with other tools (perf, farm-bench against a peer).
    let keep = std::env::var_os("OXIDE_BENCH_INPUTS").map(PathBuf::from);
    let inputs = keep.clone().unwrap_or_else(|| dir.path().to_path_buf());
    let levels = [-20.0, -16.0, -14.0, -18.0, -12.0, -15.0];
    let files: Vec<PathBuf> = levels
        .iter()
        .enumerate()
        .map(|(i, &lufs)| {
            let path = inputs.join(format!("mix{}.wav", i + 1));
            let audio = common::programme(MINUTES * 60.0, FS, lufs, 0xBE7C + i as u64);
            write_24(&path, &audio);
            path
        })
        .collect();
    if let Some(keep) = keep {
        println!("inputs kept in {}", keep.display());
        return;
    }
    let out = dir.path().join("cd");
    let report = dir.path().join("report.html");
    let mut group = c.benchmark_group("album");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(120));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("six_4min_48k24_to_cd_2_jobs", |b| {
        b.iter(|| {
            let run = Command::new(env!("CARGO_BIN_EXE_oxide"))
                .args([
                    "album",
                    "--profile",
                    "cd",
                    "--jobs",
                    "2",
                    "--force",
                    "--json",
                    "--out",
                ])
                .arg(&out)
                .arg("--report")
                .arg(&report)
                .args(&files)
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
        })
    });
    group.finish();
}

criterion_group!(benches, album);
criterion_main!(benches);
