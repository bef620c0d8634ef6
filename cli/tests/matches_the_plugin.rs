//! `oxide process` produces exactly what the CLAP plugin produces in a host, for the same
//! settings and block size: both run the same chain, and the command sets parameters
//! through the same normalized values a host sends.

use std::process::Command;

use hound::{SampleFormat, WavSpec};
use oxide_host_tests::{clap::ClapInstance, Plugin};

fn write_float_wav(path: &std::path::Path, sample_rate: u32, channels: &[Vec<f32>]) {
    let spec = WavSpec {
        channels: channels.len() as u16,
        sample_rate,
        bits_per_sample: 32,
        sample_format: SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for frame in 0..channels[0].len() {
        for channel in channels {
            writer.write_sample(channel[frame]).unwrap();
        }
    }
    writer.finalize().unwrap();
}

fn read_float_wav(path: &std::path::Path, channel_count: usize) -> Vec<Vec<f32>> {
    let samples: Vec<f32> = hound::WavReader::open(path)
        .unwrap()
        .into_samples::<f32>()
        .map(Result::unwrap)
        .collect();
    (0..channel_count)
        .map(|c| {
            samples
                .iter()
                .skip(c)
                .step_by(channel_count)
                .copied()
                .collect()
        })
        .collect()
}

/// A test signal with some of everything: two tones, a chirp-like sweep and a click.
fn programme(frames: usize, sample_rate: f64, seed: f32) -> Vec<f32> {
    (0..frames)
        .map(|i| {
            let t = i as f64 / sample_rate;
            let x = 0.3 * (std::f64::consts::TAU * 220.0 * t).sin()
                + 0.2 * (std::f64::consts::TAU * (1000.0 + 3000.0 * t) * t).sin()
                + if i % 7919 == 0 { 0.4 } else { 0.0 };
            (x as f32) * seed
        })
        .collect()
}

fn check(plugin: Plugin, kind: &str, sample_rate: u32, block: usize, sets: &[(&str, f64)]) {
    let dir = tempfile::tempdir().unwrap();
    let input_path = dir.path().join("in.wav");
    let output_path = dir.path().join("out.wav");
    let frames = sample_rate as usize; // one second
    let input = vec![
        programme(frames, sample_rate as f64, 1.0),
        programme(frames, sample_rate as f64, -0.7),
    ];
    write_float_wav(&input_path, sample_rate, &input);

    let mut args = vec![
        String::from("process"),
        String::from("--plugin"),
        kind.to_owned(),
        String::from("--block-size"),
        block.to_string(),
    ];
    for (id, value) in sets {
        args.push(String::from("--set"));
        args.push(format!("{id}={value}"));
    }
    args.push(input_path.display().to_string());
    args.push(output_path.display().to_string());
    let run = Command::new(env!("CARGO_BIN_EXE_oxide"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let offline = read_float_wav(&output_path, 2);
    // The host side, with the latency compensated as a host does (and as the command
    // does): the input followed by `latency` samples of silence, the first `latency`
    // output samples dropped.
    let in_host = {
        let mut instance = ClapInstance::new(plugin).unwrap();
        instance.set_plain(plugin, sets).unwrap();
        instance.activate(sample_rate as f64, 1, block).unwrap();
        let latency = instance.latency().unwrap() as usize;
        let padded: Vec<Vec<f32>> = input
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.resize(c.len() + latency, 0.0);
                c
            })
            .collect();
        let mut out = instance.process(&padded, &[block], &[]).unwrap();
        instance.deactivate();
        for c in out.iter_mut() {
            c.drain(..latency);
        }
        out
    };
    assert_eq!(offline.len(), in_host.len());
    for (channel, (a, b)) in offline.iter().zip(&in_host).enumerate() {
        assert_eq!(a.len(), b.len());
        let first_difference = a
            .iter()
            .zip(b)
            .position(|(x, y)| x.to_bits() != y.to_bits());
        assert_eq!(
            first_difference, None,
            "{kind} {sets:?} at {sample_rate} Hz, block {block}: channel {channel} differs"
        );
    }
}

#[test]
fn channel_strip_offline_equals_the_clap_plugin_sample_for_sample() {
    check(
        Plugin::ChannelStrip,
        "channel-strip",
        48_000,
        512,
        &[("out_gain", -6.0)],
    );
    check(
        Plugin::ChannelStrip,
        "channel-strip",
        44_100,
        64,
        &[("in_gain", 7.25), ("phase_r", 1.0), ("out_gain", -13.5)],
    );
}

#[test]
fn mastering_chain_offline_equals_the_clap_plugin_sample_for_sample() {
    check(
        Plugin::MasteringChain,
        "mastering-chain",
        96_000,
        4096,
        &[("in_gain", 3.0), ("out_gain", -6.0)],
    );
}
