//! `oxide process` against the built CLAP plugin in a host: the command's output file
//! and the plugin's output for the same settings and block size are the same, sample for
//! sample.
//!
//! The command is built with cargo from this test (`oxide_host_tests::oxide_cli`) and
//! run as a user runs it, with its settings as text (`--set dither_bits=16`); the plugin
//! is the bundled `.clap`, loaded by clack-host and set through the normalized values a
//! host sends. What is compared is everything between a file and a host: argument and
//! value parsing, parameter mapping, WAV reading and writing, latency compensation,
//! block splitting, and the plugin's own parameter, latency and processing paths.
//!
//! Tolerance: none (bit-identical). Both sides run the same chain code, built by the same
//! compiler at the same optimisation level (debug) for the same CPU, over the same
//! block size, and 32-bit float WAV stores every f32 exactly: any difference is a
//! plumbing fault, not rounding.

use std::process::Command;

use oxide_host_tests::{clap::ClapInstance, oxide_cli, read_float_wav, write_float_wav, Plugin};

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

/// One setting: the parameter id, the text a user types on the command line, and the
/// plain value a host's normalized value stands for.
struct Set(&'static str, &'static str, f64);

fn check(plugin: Plugin, kind: &str, sample_rate: u32, block: usize, sets: &[Set]) {
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
        String::from("--bits"),
        String::from("32f"),
    ];
    for Set(id, text, _) in sets {
        args.push(String::from("--set"));
        args.push(format!("{id}={text}"));
    }
    args.push(input_path.display().to_string());
    args.push(output_path.display().to_string());
    let run = Command::new(oxide_cli()).args(&args).output().unwrap();
    assert!(
        run.status.success(),
        "oxide {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&run.stderr)
    );
    let offline = read_float_wav(&output_path, 2);
    // The command renders the effects' tails after the input (the strip's delay and
    // reverb): the host plays silence for as long.
    let rendered = offline[0].len();
    assert!(rendered >= frames, "{rendered} frames rendered of {frames}");
    let input: Vec<Vec<f32>> = input
        .into_iter()
        .map(|mut c| {
            c.resize(rendered, 0.0);
            c
        })
        .collect();
    // The host side, with the latency compensated as a host does (and as the command
    // does).
    let plain: Vec<(&str, f64)> = sets.iter().map(|Set(id, _, value)| (*id, *value)).collect();
    let in_host = {
        let mut instance = ClapInstance::new(plugin).unwrap();
        instance.set_plain(plugin, &plain).unwrap();
        instance.activate(sample_rate as f64, 1, block).unwrap();
        let out = instance.process_compensated(&input, &[block], &[]).unwrap();
        instance.deactivate();
        out
    };
    assert_eq!(offline.len(), in_host.len());
    for (channel, (a, b)) in offline.iter().zip(&in_host).enumerate() {
        assert_eq!(a.len(), b.len());
        // Not vacuous: the settings change the signal.
        assert!(a.iter().zip(&input[channel]).any(|(x, y)| x != y));
        let first_difference = a
            .iter()
            .zip(b)
            .position(|(x, y)| x.to_bits() != y.to_bits());
        assert_eq!(
            first_difference, None,
            "{kind} at {sample_rate} Hz, block {block}: channel {channel} differs"
        );
    }
}

#[test]
fn channel_strip_offline_equals_the_clap_plugin_sample_for_sample() {
    // Every stage that has settings of its own: filters, an EQ band, gate, compressor
    // (pre-EQ), saturation (latency), delay and reverb (tails, a seeded modulation), pan,
    // width and the fader; choices typed as a user types them.
    check(
        Plugin::ChannelStrip,
        "channel-strip",
        48_000,
        512,
        &[
            Set("hpf_on", "on", 1.0),
            Set("hpf_freq", "80 Hz", 80.0),
            Set("hpf_slope", "24", 3.0),
            Set("eq3_gain", "4.5", 4.5),
            Set("eq3_type", "low", 1.0),
            Set("gate_on", "on", 1.0),
            Set("gate_thresh", "-50", -50.0),
            Set("comp_on", "on", 1.0),
            Set("comp_thresh", "-20", -20.0),
            Set("comp_ratio", "4", 4.0),
            Set("comp_detector", "rms", 1.0),
            Set("sat_on", "on", 1.0),
            Set("sat_drive", "9", 9.0),
            Set("sat_type", "TUBE", 1.0),
            Set("dly_on", "on", 1.0),
            Set("dly_time", "125", 125.0),
            Set("rev_on", "on", 1.0),
            Set("pan", "-20", -20.0),
            Set("pan_law", "-4.5", 2.0),
            Set("width", "130", 130.0),
            Set("out_gain", "-6", -6.0),
        ],
    );
    check(
        Plugin::ChannelStrip,
        "channel-strip",
        44_100,
        64,
        &[
            Set("in_gain", "7.25", 7.25),
            Set("phase_r", "on", 1.0),
            Set("dyn_pre_eq", "off", 0.0),
            Set("comp_on", "on", 1.0),
            Set("comp_sc_hpf", "120", 120.0),
            Set("out_gain", "-13.5", -13.5),
        ],
    );
}

#[test]
fn mastering_chain_offline_equals_the_clap_plugin_sample_for_sample() {
    check(
        Plugin::MasteringChain,
        "mastering-chain",
        96_000,
        4096,
        &[
            Set("in_gain", "3", 3.0),
            Set("eq_tilt", "1.5", 1.5),
            Set("mb_on", "on", 1.0),
            Set("img_mono_below", "120 Hz", 120.0),
            Set("lim_ceiling", "-1.5", -1.5),
            Set("out_gain", "-6", -6.0),
        ],
    );
    check(
        Plugin::MasteringChain,
        "mastering-chain",
        44_100,
        512,
        &[
            Set("target", "apple", 1.0),
            Set("dither_bits", "16", 1.0),
            Set("dither_shape", "noise", 1.0),
        ],
    );
}
