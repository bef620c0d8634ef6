//! Both plugins in a real CLAP host (`clack-host`), loaded from the binaries built with
//! `assert_process_allocs`: any allocation on the audio thread aborts this test process
//! (exit 134, often with no message).
//!
//! Tolerances: where a test compares the plugin's output with `input × gain` computed
//! here, it allows 1e-6 relative. The plugin multiplies by two f32 gains (each within an
//! ulp or two of `10^(dB/20)`, from f32 `exp`) and the dB value itself has passed through
//! the normalized CLAP value and nice-plug's 0.01 dB step snap (good to an f32 ulp): a few
//! times 6e-8 in all. Comparisons between two renders of the same plugin are exact.

use std::collections::BTreeSet;

use oxide_host_tests::clap::{
    clap_param_id, descriptors, host_value, plugin_params, render, render_with_sidechain,
    ClapInstance, ParamEvent,
};
use oxide_host_tests::Plugin;
use shared_dsp::db::db_to_gain_f64;

/// Relative tolerance for `output == input × gain` (see the module docs).
const GAIN_TOLERANCE: f64 = 1e-6;

// ---------------------------------------------------------------------------------------
// Signals and helpers

/// A small seedable PRNG (SplitMix64), so random block sizes and garbage are reproducible.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Block sizes from 1 to 4096, weighted towards small and odd ones.
fn random_block_sizes(seed: u64, count: usize) -> Vec<usize> {
    let mut rng = SplitMix64(seed);
    (0..count)
        .map(|_| {
            let limit = [7, 100, 1000, 4096][rng.below(4) as usize];
            1 + rng.below(limit) as usize
        })
        .collect()
}

/// A stereo test signal: different tones left and right (a swapped or copied channel
/// shows), each riding on a DC offset so that no sample is zero (a gain change shows on
/// every sample). Peak 0.45.
fn test_signal(frames: usize, sample_rate: f64) -> Vec<Vec<f32>> {
    let tone = |freq: f64, offset: f64| -> Vec<f32> {
        (0..frames)
            .map(|i| {
                let t = i as f64 / sample_rate;
                (offset + 0.2 * (std::f64::consts::TAU * freq * t).sin()) as f32
            })
            .collect()
    };
    vec![tone(997.0, 0.25), tone(1499.0, -0.25)]
}

/// A plain sine, for level measurements.
fn sine(frames: usize, freq: f64, sample_rate: f64, amplitude: f64) -> Vec<f32> {
    (0..frames)
        .map(|i| (amplitude * (std::f64::consts::TAU * freq * i as f64 / sample_rate).sin()) as f32)
        .collect()
}

fn rms_db(samples: &[f32]) -> f64 {
    let power = samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / samples.len() as f64;
    10.0 * power.log10()
}

/// The linear gain both chains apply for `in_gain_db` and `out_gain_db`.
fn gain(in_gain_db: f64, out_gain_db: f64) -> f64 {
    db_to_gain_f64(in_gain_db) * db_to_gain_f64(out_gain_db)
}

/// Asserts `output[range] == input[range] × gain` within [`GAIN_TOLERANCE`].
fn assert_gain(
    what: &str,
    input: &[Vec<f32>],
    output: &[Vec<f32>],
    range: std::ops::Range<usize>,
    gains: &[f64],
) {
    assert_eq!(input.len(), output.len(), "{what}: channel count");
    for (ch, ((inp, out), &g)) in input.iter().zip(output).zip(gains).enumerate() {
        for i in range.clone() {
            let expected = inp[i] as f64 * g;
            let got = out[i] as f64;
            assert!(
                (got - expected).abs() <= GAIN_TOLERANCE * expected.abs().max(1e-30),
                "{what}: channel {ch} sample {i}: got {got}, expected {expected} (gain {g})"
            );
        }
    }
}

/// Settings that make the mastering chain a pure gain (besides its latency): the EQ,
/// multiband, imager and limiter off. The tests below that check `output = input × gain`
/// were written when the chain was only gains; the processing blocks have their own
/// tests (chain tests, and the mastering-specific host tests at the end).
const MASTER_GAIN_ONLY: [(&str, f64); 4] = [
    ("eq_on", 0.0),
    ("mb_on", 0.0),
    ("img_on", 0.0),
    ("lim_on", 0.0),
];

/// `instance.process`, with the plugin's reported latency compensated the way a host
/// does: the input is followed by `latency` samples of silence and the first `latency`
/// output samples are dropped, so output sample `n` lines up with input sample `n`.
/// Parameter events keep their input-time positions.
fn aligned(
    instance: &mut ClapInstance,
    input: &[Vec<f32>],
    block_sizes: &[usize],
    events: &[ParamEvent],
) -> anyhow::Result<Vec<Vec<f32>>> {
    let latency = instance.latency().unwrap_or(0) as usize;
    if latency == 0 {
        return instance.process(input, block_sizes, events);
    }
    // Events move with the audio they act on: everything the tests automate acts after
    // the chains' delays (the mastering chain's limiter, the strip's saturation stage:
    // out_gain, bypass) except the input stage (in_gain, the strip's polarity), which
    // acts before them, so input-stage events stay where they are and the others move by
    // the latency.
    let before_the_delay = ["in_gain", "phase_l", "phase_r"].map(clap_param_id);
    let events: Vec<ParamEvent> = events
        .iter()
        .map(|e| ParamEvent {
            sample: if before_the_delay.contains(&e.param_id) {
                e.sample
            } else {
                e.sample + latency
            },
            ..*e
        })
        .collect();
    instance.process_compensated(input, block_sizes, &events)
}

/// An instance activated at `sample_rate` for blocks up to `max_block`, with `settings`
/// (plain values) in place from the first sample.
fn active(
    plugin: Plugin,
    settings: &[(&str, f64)],
    sample_rate: f64,
    max_block: usize,
) -> ClapInstance {
    let mut instance = ClapInstance::new(plugin).expect("instantiate");
    if plugin == Plugin::MasteringChain {
        instance
            .set_plain(plugin, &MASTER_GAIN_ONLY)
            .expect("set params");
    }
    instance.set_plain(plugin, settings).expect("set params");
    instance
        .activate(sample_rate, 1, max_block)
        .expect("activate");
    instance
}

fn event(plugin: Plugin, sample: usize, id: &str, plain: f64) -> ParamEvent {
    ParamEvent::plain(plugin, sample, id, plain).expect("parameter event")
}

/// Samples of a 20 ms gain ramp or a 10 ms bypass fade at `sample_rate` (as the shared
/// smoother rounds them).
fn ramp_samples(ms: f64, sample_rate: f64) -> usize {
    (ms * 1e-3 * sample_rate).round() as usize
}

// ---------------------------------------------------------------------------------------
// Identity, ports, parameters

#[test]
fn descriptors_identify_both_plugins() {
    for plugin in Plugin::ALL {
        let listed = descriptors(&plugin.clap_path()).expect("read the factory");
        assert_eq!(listed.len(), 1, "one plugin per .clap: {listed:?}");
        let descriptor = &listed[0];
        assert_eq!(descriptor.id, plugin.clap_id());
        assert_eq!(descriptor.name, plugin.display_name());
        assert_eq!(descriptor.vendor, "Oxide");
        assert_eq!(descriptor.version, env!("CARGO_PKG_VERSION"));
        assert!(!descriptor.description.is_empty());
        let features: BTreeSet<&str> = descriptor.features.iter().map(String::as_str).collect();
        let expected: BTreeSet<&str> = match plugin {
            Plugin::ChannelStrip => [
                "audio-effect",
                "mixing",
                "equalizer",
                "compressor",
                "stereo",
                "mono",
            ]
            .into(),
            Plugin::MasteringChain => {
                ["audio-effect", "mastering", "limiter", "stereo", "mono"].into()
            }
        };
        assert_eq!(features, expected, "{}", plugin.display_name());
        assert_eq!(
            descriptor.features.first().map(String::as_str),
            Some("audio-effect"),
            "the main category comes first"
        );

        // The instance reports the same descriptor.
        let instance = ClapInstance::new(plugin).expect("instantiate");
        assert_eq!(&instance.descriptor(), descriptor);
    }
}

#[test]
fn ports_are_stereo_and_a_mono_configuration_exists() {
    for plugin in Plugin::ALL {
        let name = plugin.display_name();
        let mut instance = ClapInstance::new(plugin).expect("instantiate");

        // The default configuration: one stereo main port each way, processable in place;
        // the channel strip also has a stereo sidechain input.
        let sidechain_ports = usize::from(plugin == Plugin::ChannelStrip);
        let inputs = instance.audio_ports(true).unwrap();
        let outputs = instance.audio_ports(false).unwrap();
        assert_eq!(inputs.len(), 1 + sidechain_ports, "{name}: {inputs:?}");
        assert_eq!(outputs.len(), 1, "{name}: {outputs:?}");
        if sidechain_ports == 1 {
            let sidechain = &inputs[1];
            assert!(!sidechain.is_main(), "{name}: {sidechain:?}");
            assert_eq!(sidechain.name, "Sidechain");
            assert_eq!(sidechain.channel_count, 2);
        }
        for port in inputs[..1].iter().chain(&outputs) {
            assert!(port.is_main(), "{name}: {port:?}");
            assert_eq!(port.channel_count, 2, "{name}: {port:?}");
            assert_eq!(port.port_type, "stereo", "{name}: {port:?}");
        }
        assert_eq!(inputs[0].in_place_pair, outputs[0].id);
        assert_eq!(outputs[0].in_place_pair, inputs[0].id);
        assert_eq!(instance.channels(), 2);

        // The audio-ports-config extension offers stereo and mono.
        let configs = instance.audio_ports_configs().unwrap();
        let layout = |c: &oxide_host_tests::clap::AudioPortsConfig| {
            (
                c.main_input.clone(),
                c.main_output.clone(),
                c.input_port_count,
                c.output_port_count,
            )
        };
        let layouts: Vec<_> = configs.iter().map(layout).collect();
        let stereo = (
            Some((2, "stereo".to_owned())),
            Some((2, "stereo".to_owned())),
            1 + sidechain_ports as u32,
            1,
        );
        let mono = (
            Some((1, "mono".to_owned())),
            Some((1, "mono".to_owned())),
            1 + sidechain_ports as u32,
            1,
        );
        assert_eq!(layouts, vec![stereo, mono], "{name}: {configs:?}");

        // Selecting mono changes the ports, and a mono signal is processed as such.
        instance.use_channels(1).unwrap();
        let inputs = instance.audio_ports(true).unwrap();
        assert_eq!(inputs.len(), 1 + sidechain_ports);
        assert_eq!(inputs[0].channel_count, 1);
        assert!(
            inputs.iter().all(|p| p.channel_count == 1),
            "{name}: {inputs:?}"
        );
        assert_eq!(inputs[0].port_type, "mono");
        assert_eq!(instance.audio_ports(false).unwrap()[0].channel_count, 1);

        if plugin == Plugin::MasteringChain {
            instance.set_plain(plugin, &MASTER_GAIN_ONLY).unwrap();
        }
        instance
            .set_plain(plugin, &[("in_gain", 3.0), ("out_gain", -9.0)])
            .unwrap();
        instance.activate(48_000.0, 1, 256).unwrap();
        let input = vec![test_signal(2000, 48_000.0).remove(0)];
        let output = aligned(&mut instance, &input, &[256], &[]).unwrap();
        assert_eq!(output.len(), 1);
        assert_gain(
            &format!("{name} mono"),
            &input,
            &output,
            0..2000,
            &[gain(3.0, -9.0)],
        );
    }
}

/// Bitwig's device knobs: every page reaches the host with at most eight knobs, each a
/// listed parameter; every automatable parameter but the bypass is on exactly one page.
#[test]
fn remote_control_pages_cover_every_parameter() {
    for plugin in Plugin::ALL {
        let name = plugin.display_name();
        let mut instance = ClapInstance::new(plugin).expect("instantiate");
        let listed = instance.params().unwrap();
        let pages = instance.remote_control_pages().unwrap();
        assert!(pages.len() >= 8, "{name}: {} pages", pages.len());
        let mut placed = BTreeSet::new();
        for page in &pages {
            assert!(
                !page.section.is_empty() && !page.name.is_empty(),
                "{name}: {page:?}"
            );
            assert_eq!(page.param_ids.len(), 8, "{name}: {page:?}");
            for id in page.param_ids.iter().flatten() {
                assert!(
                    listed.iter().any(|p| p.id == *id),
                    "{name}: page {} names unknown parameter {id}",
                    page.name
                );
                assert!(placed.insert(*id), "{name}: parameter {id} on two pages");
            }
        }
        for param in listed.iter().filter(|p| !p.is_bypass()) {
            assert!(
                placed.contains(&param.id),
                "{name}: '{}' is on no page",
                param.name
            );
        }
    }
}

#[test]
fn parameters_are_listed_as_the_plugin_defines_them() {
    for plugin in Plugin::ALL {
        let name = plugin.display_name();
        let mut instance = ClapInstance::new(plugin).expect("instantiate");
        let listed = instance.params().unwrap();
        let defined = plugin_params(plugin);
        assert_eq!(listed.len(), defined.len(), "{name}: {listed:?}");

        let ids: BTreeSet<u32> = listed.iter().map(|p| p.id).collect();
        assert_eq!(ids.len(), listed.len(), "{name}: CLAP ids are unique");

        for def in &defined {
            let clap_id = clap_param_id(&def.id);
            let info = listed
                .iter()
                .find(|p| p.id == clap_id)
                .unwrap_or_else(|| panic!("{name}: '{}' is not listed as {clap_id}", def.id));
            assert_eq!(info.name, def.name, "{name}: '{}'", def.id);
            assert_eq!(info.module, def.group, "{name}: '{}' in its group", def.id);
            assert!(info.is_automatable(), "{name}: '{}'", def.id);
            assert_eq!(info.min, 0.0, "{name}: '{}'", def.id);
            // nice-plug: floats as normalized 0..1, switches as stepped 0..1, choices as
            // their index 0..=last.
            let is_choice = def.kind == oxide_plugin_common::param_access::ParamKind::Choice;
            let max = if is_choice { def.max } else { 1.0 };
            assert_eq!(info.max, max, "{name}: '{}'", def.id);
            let (_, default_value) = host_value(plugin, &def.id, def.default).unwrap();
            assert!(
                (info.default - default_value).abs() < 1e-7,
                "{name}: '{}' default {} vs {default_value}",
                def.id,
                info.default
            );
            assert_eq!(
                instance.param_value(clap_id).unwrap(),
                info.default,
                "{name}: '{}' starts at its default",
                def.id
            );
            let is_switch = def.kind == oxide_plugin_common::param_access::ParamKind::Bool;
            assert_eq!(
                info.is_stepped(),
                is_switch || is_choice,
                "{name}: '{}'",
                def.id
            );
            assert_eq!(info.is_bypass(), def.id == "bypass", "{name}: '{}'", def.id);
        }

        // The gains read in dB, and the values a host sends land where they should.
        let (out_id, minus_six) = host_value(plugin, "out_gain", -6.0).unwrap();
        assert_eq!(
            instance.value_to_text(out_id, minus_six).unwrap(),
            "-6.00 dB",
            "{name}"
        );
        instance.set_plain(plugin, &[("out_gain", -6.0)]).unwrap();
        assert!((instance.param_value(out_id).unwrap() - minus_six).abs() < 1e-7);
        assert!(
            host_value(plugin, "out_gain", 13.0).is_err(),
            "out of range"
        );
        assert!(host_value(plugin, "no_such_param", 0.0).is_err());
    }
}

#[test]
fn strip_fader_floor_is_silence() {
    let input = test_signal(1000, 48_000.0);
    let output = render(
        Plugin::ChannelStrip,
        48_000.0,
        128,
        &[("in_gain", 24.0), ("out_gain", -80.0)],
        &input,
    );
    assert!(output.iter().flatten().all(|&s| s == 0.0));
}

// ---------------------------------------------------------------------------------------
// Activation, block sizes, levels

#[test]
fn activates_at_44_1_48_and_96_khz_with_the_chains_latency_and_the_set_gain() {
    for plugin in Plugin::ALL {
        for sample_rate in [44_100.0, 48_000.0, 96_000.0] {
            let what = format!("{} at {sample_rate} Hz", plugin.display_name());
            let mut instance = active(
                plugin,
                &[("in_gain", 4.5), ("out_gain", -7.25)],
                sample_rate,
                512,
            );
            // The mastering chain's latency is its limiter's (detector, lookahead, hold),
            // present even with the limiter off so switching it never moves the audio.
            // The strip's is its saturation oversampler's, present with saturation off.
            let expected = match plugin {
                Plugin::ChannelStrip => channel_strip::Chain::new(
                    sample_rate as f32,
                    512,
                    &channel_strip::Settings::default(),
                )
                .latency_samples(),
                Plugin::MasteringChain => mastering_chain::Chain::new(
                    sample_rate as f32,
                    512,
                    &mastering_chain::Settings::default(),
                )
                .latency_samples(),
            };
            assert_eq!(instance.latency().unwrap(), expected, "{what}");
            let input = test_signal(4000, sample_rate);
            let output = aligned(&mut instance, &input, &[512], &[]).unwrap();
            let g = gain(4.5, -7.25);
            assert_gain(&what, &input, &output, 0..4000, &[g, g]);
            // Parameters flushed while active (on the audio thread, between two runs) are
            // in place from the first sample of the next run.
            instance.set_plain(plugin, &[("out_gain", -1.0)]).unwrap();
            let output = aligned(&mut instance, &input, &[512], &[]).unwrap();
            let g = gain(4.5, -1.0);
            assert_gain(
                &format!("{what}, flushed while active"),
                &input,
                &output,
                0..4000,
                &[g, g],
            );
            // Reactivation at another rate works too.
            instance.deactivate();
            instance.activate(sample_rate * 2.0, 1, 64).unwrap();
            let output = aligned(&mut instance, &input, &[64], &[]).unwrap();
            assert_gain(
                &format!("{what}, reactivated"),
                &input,
                &output,
                0..4000,
                &[g, g],
            );
        }
    }
}

#[test]
fn output_is_identical_for_every_block_size() {
    const FRAMES: usize = 24_000;
    let sample_rate = 48_000.0;
    let input = test_signal(FRAMES, sample_rate);
    let random_sizes = random_block_sizes(0x0C1A_B5EE, 400);
    // Parameter changes scattered across the render, so ramps and fades cross block
    // boundaries differently for every block size.
    for plugin in Plugin::ALL {
        let name = plugin.display_name();
        let settings = [("in_gain", 4.5), ("out_gain", -7.25)];
        let mut events = vec![
            event(plugin, 3001, "out_gain", -12.0),
            event(plugin, 7777, "in_gain", 6.0),
            event(plugin, 12_000, "bypass", 1.0),
            event(plugin, 12_345, "out_gain", -3.0),
            event(plugin, 18_000, "bypass", 0.0),
        ];
        if plugin == Plugin::ChannelStrip {
            events.push(event(plugin, 5000, "phase_l", 1.0));
            events.push(event(plugin, 20_001, "phase_r", 1.0));
        }

        let run = |max_block: usize, sizes: &[usize]| {
            let mut instance = active(plugin, &settings, sample_rate, max_block);
            aligned(&mut instance, &input, sizes, &events).unwrap()
        };
        let reference = run(1, &[1]);
        for block in [64, 512, 4096] {
            let output = run(block, &[block]);
            assert!(
                output == reference,
                "{name}: block size {block} differs from 1"
            );
        }
        let output = run(4096, &random_sizes);
        assert!(
            output == reference,
            "{name}: random block sizes differ from 1"
        );

        // Before the first change: the set gain, exactly from the first sample.
        let g = gain(4.5, -7.25);
        assert_gain(name, &input, &reference, 0..3001, &[g, g]);
        // Long after the last change: the final settings.
        let g = gain(6.0, -3.0);
        let (gl, gr) = match plugin {
            Plugin::ChannelStrip => (-g, -g),
            Plugin::MasteringChain => (g, g),
        };
        assert_gain(name, &input, &reference, 22_000..FRAMES, &[gl, gr]);
    }
}

#[test]
fn out_gain_minus_6_db_lowers_the_level_by_6_db() {
    let sample_rate = 48_000.0;
    let tone = sine(48_000, 997.0, sample_rate, 0.5);
    let input = vec![tone.clone(), tone];
    for plugin in Plugin::ALL {
        let run = |settings: &[(&str, f64)]| {
            let mut instance = active(plugin, settings, sample_rate, 512);
            aligned(&mut instance, &input, &[512], &[]).unwrap()
        };
        let unity = run(&[]);
        let lowered = run(&[("out_gain", -6.0)]);
        for ch in 0..2 {
            let change = rms_db(&lowered[ch]) - rms_db(&unity[ch]);
            assert!(
                (change + 6.0).abs() <= 0.01,
                "{}: channel {ch} changed by {change:.4} dB",
                plugin.display_name()
            );
        }
        // The default settings are transparent, bit for bit.
        assert!(unity == input, "{}: unity gain", plugin.display_name());
    }
}

/// `render` claims its output equals an offline chain built with the same settings:
/// check it, bit for bit, with the chain and parameter code the plugins are built from.
#[test]
fn render_matches_the_offline_chain() {
    use oxide_plugin_common::param_access::set_normalized;

    let sample_rate = 44_100.0;
    let block = 300;
    let input = test_signal(5000, sample_rate);
    let settings = [("in_gain", -3.3), ("out_gain", -6.0), ("bypass", 0.0)];

    let offline = |plugin: Plugin| -> Vec<Vec<f32>> {
        let mut output = input.clone();
        macro_rules! run_chain {
            ($params:expr, $chain:path) => {{
                let params = $params;
                for &(id, plain) in &settings {
                    let (_, value) = host_value(plugin, id, plain).unwrap();
                    set_normalized(&params, id, value as f32).unwrap();
                }
                let settings = params.settings();
                let mut chain = <$chain>::new(sample_rate as f32, block, &settings);
                let (left, right) = output.split_at_mut(1);
                for (l, r) in left[0].chunks_mut(block).zip(right[0].chunks_mut(block)) {
                    chain.process(&mut [l, r], &settings);
                }
            }};
        }
        match plugin {
            Plugin::ChannelStrip => {
                run_chain!(channel_strip::StripParams::default(), channel_strip::Chain)
            }
            Plugin::MasteringChain => run_chain!(
                mastering_chain::MasterParams::default(),
                mastering_chain::Chain
            ),
        }
        output
    };

    for plugin in Plugin::ALL {
        let hosted = render(plugin, sample_rate, block, &settings, &input);
        assert!(
            hosted == offline(plugin),
            "{}: the CLAP render differs from the offline chain",
            plugin.display_name()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Sample-accurate automation and the host bypass

#[test]
fn parameter_event_mid_block_takes_effect_at_its_sample() {
    let sample_rate = 48_000.0;
    let block = 512;
    let frames = 4096;
    let input = test_signal(frames, sample_rate);
    let gain_ramp = ramp_samples(20.0, sample_rate);
    let fade = ramp_samples(10.0, sample_rate);
    for plugin in Plugin::ALL {
        let name = plugin.display_name();
        let settings = [("in_gain", 2.0), ("out_gain", -6.0)];
        let unchanged = {
            let mut instance = active(plugin, &settings, sample_rate, block);
            aligned(&mut instance, &input, &[block], &[]).unwrap()
        };
        let g = gain(2.0, -6.0);

        // (parameter, new plain value, ramp length, gains [L, R] once settled)
        let mut changes = vec![
            ("out_gain", -12.0, gain_ramp, [gain(2.0, -12.0); 2]),
            ("in_gain", 8.0, gain_ramp, [gain(8.0, -6.0); 2]),
            ("bypass", 1.0, fade, [1.0; 2]),
        ];
        if plugin == Plugin::ChannelStrip {
            changes.push(("phase_l", 1.0, gain_ramp, [-g, g]));
        }
        // Sample 300 of the first block, and sample 300 of the fourth.
        for at in [300, 3 * block + 300] {
            for &(id, value, ramp, settled) in &changes {
                let what = format!("{name}: {id} → {value} at sample {at}");
                let mut instance = active(plugin, &settings, sample_rate, block);
                let output = aligned(
                    &mut instance,
                    &input,
                    &[block],
                    &[event(plugin, at, id, value)],
                )
                .unwrap();
                for ch in 0..2 {
                    assert!(
                        output[ch][..at] == unchanged[ch][..at],
                        "{what}: channel {ch} changed before the event"
                    );
                }
                // The ramp starts at the event's sample: every ramp sample differs (a
                // polarity flip leaves the other channel alone).
                for ch in 0..2 {
                    if id == "phase_l" && ch == 1 {
                        assert!(output[1] == unchanged[1], "{what}: right channel moved");
                        continue;
                    }
                    for i in at..at + ramp {
                        assert_ne!(
                            output[ch][i], unchanged[ch][i],
                            "{what}: channel {ch} sample {i} is unchanged"
                        );
                    }
                }
                // The ramp lands on its target at its last sample, and stays there.
                let settled_from = at + ramp - 1;
                assert_gain(&what, &input, &output, settled_from..frames, &settled);
            }
        }
    }
}

#[test]
fn host_bypass_cross_fades_to_the_exact_input() {
    for plugin in Plugin::ALL {
        for sample_rate in [44_100.0, 48_000.0, 96_000.0] {
            let what = format!("{} at {sample_rate} Hz", plugin.display_name());
            let frames = (0.2 * sample_rate) as usize;
            let input = test_signal(frames, sample_rate);
            let fade = ramp_samples(10.0, sample_rate);
            let settings = [("out_gain", -12.0)];
            let processed = {
                let mut instance = active(plugin, &settings, sample_rate, 512);
                aligned(&mut instance, &input, &[512], &[]).unwrap()
            };

            let on = 1000;
            let off = on + 3 * fade + 77;
            let mut instance = active(plugin, &settings, sample_rate, 512);
            let output = aligned(
                &mut instance,
                &input,
                &[512],
                &[
                    event(plugin, on, "bypass", 1.0),
                    event(plugin, off, "bypass", 0.0),
                ],
            )
            .unwrap();

            for ch in 0..2 {
                let (inp, out, wet) = (&input[ch], &output[ch], &processed[ch]);
                assert!(out[..on] == wet[..on], "{what}: processed before bypass");
                // The fade takes 10 ms and ends on the input itself, bit for bit.
                let bypassed_from = on + fade - 1;
                assert_ne!(
                    out[bypassed_from - 1],
                    inp[bypassed_from - 1],
                    "{what}: fade too short"
                );
                assert!(
                    out[bypassed_from..off] == inp[bypassed_from..off],
                    "{what}: channel {ch} is not exactly the input once bypassed"
                );
                // And back: processed again, exactly, after the fade.
                let processed_from = off + fade - 1;
                assert_ne!(
                    out[processed_from - 1],
                    wet[processed_from - 1],
                    "{what}: fade back too short"
                );
                assert!(
                    out[processed_from..] == wet[processed_from..],
                    "{what}: channel {ch} is not processed again after un-bypassing"
                );
                // No click: no step larger than the signal's own plus the fade's.
                let steepest = |s: &[f32]| {
                    s.windows(2)
                        .map(|w| (w[1] - w[0]).abs())
                        .fold(0.0f32, f32::max)
                };
                let peak = inp.iter().fold(0.0f32, |m, s| m.max(s.abs()));
                let fade_step = peak * (1.0 - db_to_gain_f64(-12.0) as f32) / fade as f32;
                // 1 % for f32 rounding in the estimate.
                let limit = (steepest(inp) + fade_step) * 1.01;
                assert!(
                    steepest(out) <= limit,
                    "{what}: a step of {} > {limit}",
                    steepest(out)
                );
            }

            // Bypassed from the start: the input, exactly, from the first sample.
            let mut instance = active(
                plugin,
                &[("out_gain", -12.0), ("bypass", 1.0)],
                sample_rate,
                512,
            );
            let output = aligned(&mut instance, &input, &[512], &[]).unwrap();
            assert!(output == input, "{what}: bypassed from the start");
        }
    }
}

/// Every module on, at the edges of the supported range: 22.05 and 384 kHz, and an odd
/// rate between, with blocks from 1 to 8192 frames varying call to call. Full-scale
/// input (a square wave and loud tones) must come out finite and bounded: the strip
/// within +12 dB of full scale (its fader's most; the delay's feedback and the reverb
/// are bounded), the mastering chain under its -1 dBTP ceiling in sample peak (plus the
/// dither's two 16-bit steps).
#[test]
fn every_module_on_at_extreme_rates_and_block_sizes_stays_finite_and_bounded() {
    let strip: &[(&str, f64)] = &[
        ("hpf_on", 1.0),
        ("lpf_on", 1.0),
        ("lpf_freq", 22_000.0),
        ("eq_on", 1.0),
        ("eq3_gain", 18.0),
        ("eq6_gain", 18.0),
        ("eq6_freq", 20_000.0),
        ("gate_on", 1.0),
        ("comp_on", 1.0),
        ("sat_on", 1.0),
        ("sat_drive", 24.0),
        ("dly_on", 1.0),
        ("dly_feedback", 95.0),
        ("rev_on", 1.0),
        ("rev_decay", 10.0),
        ("width", 200.0),
        ("out_gain", 12.0),
    ];
    let master: &[(&str, f64)] = &[
        ("eq_on", 1.0),
        ("eq_high_gain", 6.0),
        ("mb_on", 1.0),
        ("img_on", 1.0),
        ("img_high_width", 200.0),
        ("img_mono_below", 120.0),
        ("loud_gain", 12.0),
        ("lim_on", 1.0),
        ("dither_bits", 1.0), // the choice "16"
    ];
    let mut sizes = random_block_sizes(23, 60);
    sizes.extend([1, 8192, 3, 8192]);
    for sample_rate in [22_050.0, 37_800.0, 384_000.0] {
        let frames = (sample_rate as usize) / 2;
        let square: Vec<f32> = (0..frames)
            .map(|n| if (n / 50) % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let tones = sine(frames, 997.0, sample_rate, 1.0);
        let input = vec![square, tones];
        for (plugin, settings, limit) in [
            (
                Plugin::ChannelStrip,
                strip,
                db_to_gain_f64(12.0) as f32 * 1.001,
            ),
            // The ceiling, plus the 16-bit TPDF dither after the limiter (at most 2 LSB).
            (
                Plugin::MasteringChain,
                master,
                (db_to_gain_f64(-1.0) + 2.0 / 32_768.0) as f32,
            ),
        ] {
            let what = format!("{} at {sample_rate} Hz", plugin.display_name());
            let mut instance = ClapInstance::new(plugin).expect("instantiate");
            instance.set_plain(plugin, settings).expect("set params");
            instance.activate(sample_rate, 1, 8192).expect("activate");
            let output = instance.process(&input, &sizes, &[]).expect("process");
            let peak = output.iter().flatten().fold(0.0f32, |m, &s| {
                if s.is_finite() {
                    m.max(s.abs())
                } else {
                    f32::INFINITY
                }
            });
            assert!(peak.is_finite(), "{what}: non-finite output");
            assert!(peak > 0.0, "{what}: silent output");
            assert!(peak <= limit, "{what}: peak {peak} over {limit}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// State

fn state_settings(plugin: Plugin) -> Vec<(&'static str, f64)> {
    let mut settings = vec![("in_gain", 4.5), ("out_gain", -7.25), ("bypass", 0.0)];
    if plugin == Plugin::ChannelStrip {
        settings.push(("phase_r", 1.0));
    }
    settings
}

fn param_values(instance: &mut ClapInstance) -> Vec<(u32, f64)> {
    let ids: Vec<u32> = instance.params().unwrap().iter().map(|p| p.id).collect();
    ids.into_iter()
        .map(|id| (id, instance.param_value(id).unwrap()))
        .collect()
}

#[test]
fn state_restores_into_a_new_instance_with_identical_output() {
    let sample_rate = 48_000.0;
    let input = test_signal(6000, sample_rate);
    let sizes = random_block_sizes(7, 50);
    for plugin in Plugin::ALL {
        let name = plugin.display_name();
        let settings = state_settings(plugin);

        let mut original = ClapInstance::new(plugin).unwrap();
        original.set_plain(plugin, &settings).unwrap();
        let state = original.save_state().unwrap();
        // Presets name parameters by their frozen string ids.
        let text = String::from_utf8_lossy(&state);
        for (id, _) in &settings {
            assert!(
                text.contains(&format!("\"{id}\"")),
                "{name}: state lacks '{id}': {text}"
            );
        }
        let values = param_values(&mut original);
        original.activate(sample_rate, 1, 4096).unwrap();
        let expected = aligned(&mut original, &input, &sizes, &[]).unwrap();

        // Loaded into a fresh instance before activation.
        let mut restored = ClapInstance::new(plugin).unwrap();
        restored.load_state(&state).unwrap();
        assert_eq!(
            param_values(&mut restored),
            values,
            "{name}: parameter values"
        );
        restored.activate(sample_rate, 1, 4096).unwrap();
        let output = aligned(&mut restored, &input, &sizes, &[]).unwrap();
        assert!(output == expected, "{name}: restored output differs");

        // Loaded into an instance that is already active (between two runs): the next run
        // starts at the loaded values too.
        let mut reloaded = active(plugin, &[], sample_rate, 4096);
        aligned(&mut reloaded, &input, &[4096], &[]).unwrap();
        reloaded.load_state(&state).unwrap();
        let output = aligned(&mut reloaded, &input, &sizes, &[]).unwrap();
        assert!(
            output == expected,
            "{name}: state loaded while active differs"
        );

        // A saved state saves the same again.
        assert_eq!(
            restored.save_state().unwrap(),
            state,
            "{name}: state round trip"
        );
    }
}

/// Learn without the editor: the mastering chain learns a gain, learning stops, and the
/// saved project brings that gain back in a new instance, though `loud_gain` itself was
/// never written (only an open editor can write it).
#[test]
fn a_learned_gain_survives_save_and_reload_without_the_editor() {
    let plugin = Plugin::MasteringChain;
    let sample_rate = 48_000.0;
    let second = sample_rate as usize;
    // Quiet noise (about -30 LUFS) that learning lifts towards -14 LUFS.
    let mut rng = SplitMix64(17);
    let noise: Vec<f32> = (0..9 * second)
        .map(|_| (rng.next_u64() as f64 / u64::MAX as f64 - 0.5) as f32 * 0.08)
        .collect();
    let input = [noise.clone(), noise];
    let learning = 6 * second;
    let (learn, tail) = (
        input
            .iter()
            .map(|c| c[..learning].to_vec())
            .collect::<Vec<_>>(),
        input
            .iter()
            .map(|c| c[learning..].to_vec())
            .collect::<Vec<_>>(),
    );

    let mut original = active(plugin, &[], sample_rate, 512);
    let events = [
        ParamEvent::plain(plugin, 0, "learn", 1.0).unwrap(),
        ParamEvent::plain(plugin, learning - 1, "learn", 0.0).unwrap(),
    ];
    original.process(&learn, &[512], &events).unwrap();
    let held = original.process(&tail, &[512], &[]).unwrap();
    let state = original.save_state().unwrap();
    let text = String::from_utf8_lossy(&state);
    assert!(text.contains(r#""held-gain-on":"true""#), "{text}");

    let mut restored = ClapInstance::new(plugin).unwrap();
    restored.load_state(&state).unwrap();
    restored.activate(sample_rate, 1, 512).unwrap();
    let reloaded = restored.process(&tail, &[512], &[]).unwrap();
    let fresh = active(plugin, &[], sample_rate, 512)
        .process(&tail, &[512], &[])
        .unwrap();

    // The last second: the limiter and meters of both runs have settled. 0.05 dB: the
    // limiter's gain over one second of noise from a fresh start against a running one.
    let last = |x: &[Vec<f32>]| rms_db(&x[0][2 * second..]);
    let learned_db = last(&held) - last(&fresh);
    assert!(
        learned_db > 6.0,
        "learning lifted the noise by only {learned_db:.2} dB"
    );
    let difference = last(&reloaded) - last(&held);
    assert!(
        difference.abs() < 0.05,
        "reloaded {difference:+.3} dB from the held gain (learned {learned_db:+.2} dB)"
    );
}

/// A state blob as nice-plug frames it: the JSON's length (u64, little endian), the JSON.
fn framed(json: &[u8]) -> Vec<u8> {
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(json);
    bytes
}

#[test]
fn garbage_state_is_refused_and_the_plugin_keeps_working() {
    let sample_rate = 48_000.0;
    let input = test_signal(2048, sample_rate);
    let mut rng = SplitMix64(0xBAD_5EED);
    for plugin in Plugin::ALL {
        let name = plugin.display_name();
        let mut instance = active(
            plugin,
            &[("in_gain", 4.5), ("out_gain", -7.25)],
            sample_rate,
            512,
        );
        let good = instance.save_state().unwrap();
        let json = &good[8..];
        let values = param_values(&mut instance);

        let mut garbage: Vec<(String, Vec<u8>)> = vec![
            ("nothing".into(), Vec::new()),
            ("three bytes".into(), vec![1, 2, 3]),
            ("random bytes".into(), rng.bytes(4096)),
            (
                "random bytes, plausible length".into(),
                framed(&rng.bytes(1000)),
            ),
            ("a length beyond the limit".into(), {
                let mut b = (1u64 << 40).to_le_bytes().to_vec();
                b.extend_from_slice(json);
                b
            }),
            ("truncated JSON".into(), framed(&json[..json.len() / 2])),
            (
                "JSON cut short of its length".into(),
                good[..good.len() - 10].to_vec(),
            ),
            ("not JSON at all".into(), framed(b"\xff\xfe<xml/>")),
        ];
        for (what, json) in [
            ("null", "null"),
            ("an array", "[1, 2, 3]"),
            ("a string", "\"preset\""),
            (
                "params as an array",
                r#"{"version":"0.1.0","params":[],"fields":{}}"#,
            ),
            (
                "version as a number",
                r#"{"version":5,"params":{},"fields":{}}"#,
            ),
            ("no params", r#"{"version":"0.1.0","fields":{}}"#),
            (
                "a value as a bare string",
                r#"{"version":"0.1.0","params":{"in_gain":"loud"},"fields":{}}"#,
            ),
            (
                "a value of an unknown type",
                r#"{"version":"0.1.0","params":{"in_gain":{"f64":1.0}},"fields":{}}"#,
            ),
            (
                "a number as text",
                r#"{"version":"0.1.0","params":{"in_gain":{"f32":"-6"}},"fields":{}}"#,
            ),
            (
                "fields as a list",
                r#"{"version":"0.1.0","params":{},"fields":[1]}"#,
            ),
        ] {
            garbage.push((format!("JSON with {what}"), framed(json.as_bytes())));
        }

        for (what, bytes) in &garbage {
            assert!(
                instance.load_state(bytes).is_err(),
                "{name}: accepted a state with {what}"
            );
            assert_eq!(
                param_values(&mut instance),
                values,
                "{name}: {what} changed a parameter"
            );
            let output = aligned(&mut instance, &input, &[512], &[]).unwrap();
            let g = gain(4.5, -7.25);
            assert_gain(
                &format!("{name} after {what}"),
                &input,
                &output,
                0..2048,
                &[g, g],
            );
        }
        // And a good state still loads afterwards.
        instance.load_state(&good).unwrap();
    }
}

/// States that parse but hold values a parameter cannot take: a value of the wrong type,
/// or a number outside the parameter's range (or beyond f32). nice-plug skips a wrongly
/// typed value and loads the rest, so such a value must leave its parameter as it was.
/// An out-of-range number must be refused or brought into range: either way it must never
/// reach the audio. Every case is tried and the problems are reported together.
#[test]
fn bad_values_in_a_state_never_reach_the_audio() {
    let sample_rate = 48_000.0;
    let input = test_signal(2048, sample_rate);
    // (what, the state's "params", the parameter concerned, whether the type is wrong)
    let cases = [
        (
            "a switch value for a gain",
            r#"{"in_gain":{"bool":true}}"#,
            "in_gain",
            true,
        ),
        (
            "a gain value for a switch",
            r#"{"bypass":{"f32":0.5}}"#,
            "bypass",
            true,
        ),
        (
            "an integer for a gain",
            r#"{"out_gain":{"i32":-6}}"#,
            "out_gain",
            true,
        ),
        (
            "a gain far above its range",
            r#"{"out_gain":{"f32":1000.0}}"#,
            "out_gain",
            false,
        ),
        (
            "a gain far below its range",
            r#"{"in_gain":{"f32":-1000.0}}"#,
            "in_gain",
            false,
        ),
        (
            "a gain beyond f32",
            r#"{"in_gain":{"f32":1e39}}"#,
            "in_gain",
            false,
        ),
    ];
    let mut problems = Vec::new();
    for plugin in Plugin::ALL {
        let name = plugin.display_name();
        // Within the parameter ranges the loudest the chain can be is +36 dB (strip) or
        // +24 dB (mastering); the test signal peaks at 0.45.
        let max_gain = match plugin {
            Plugin::ChannelStrip => db_to_gain_f64(36.0),
            Plugin::MasteringChain => db_to_gain_f64(24.0),
        };
        for (what, params, id, wrong_type) in cases {
            let mut instance = active(
                plugin,
                &[("in_gain", 4.5), ("out_gain", -7.25)],
                sample_rate,
                512,
            );
            let before = param_values(&mut instance);
            let json = format!(r#"{{"version":"0.1.0","params":{params},"fields":{{}}}}"#);
            let loaded = instance.load_state(&framed(json.as_bytes()));
            let verdict = if loaded.is_ok() {
                "accepted"
            } else {
                "refused"
            };
            let mut problem =
                |text: String| problems.push(format!("{name}, {what} ({verdict}): {text}"));
            let after = param_values(&mut instance);
            let clap_id = clap_param_id(id);
            let value = after.iter().find(|(i, _)| *i == clap_id).unwrap().1;
            if !(0.0..=1.0).contains(&value) {
                problem(format!("the host now sees '{id}' = {value}"));
            }
            if (loaded.is_err() || wrong_type) && after != before {
                problem(format!("parameters changed: {before:?} → {after:?}"));
            }
            let output = aligned(&mut instance, &input, &[512], &[]).unwrap();
            let peak = output.iter().flatten().fold(0.0f32, |m, s| {
                if s.is_finite() {
                    m.max(s.abs())
                } else {
                    f32::INFINITY
                }
            });
            if !output.iter().flatten().all(|s| s.is_finite()) {
                problem(String::from("non-finite output"));
            } else if peak as f64 > 0.45 * max_gain * 1.0001 {
                problem(format!(
                    "output peak {peak} lies beyond what the parameters allow"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Hostile audio

#[test]
fn non_finite_input_never_makes_the_output_non_finite() {
    let sample_rate = 48_000.0;
    let frames = 4096;
    let clean = test_signal(frames, sample_rate);
    let mut input = clean.clone();
    let hostile = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e-40, -1e-42];
    let mut rng = SplitMix64(99);
    let mut bad_samples = BTreeSet::new();
    for k in 0..300 {
        let i = rng.below(frames as u64 - 600) as usize;
        input[k % 2][i] = hostile[k % hostile.len()];
        bad_samples.insert(i);
    }
    // A run of NaN across a whole block.
    input[0][1024..1536].fill(f32::NAN);
    bad_samples.extend(1024..1536);

    for plugin in Plugin::ALL {
        let name = plugin.display_name();
        let max_out = match plugin {
            Plugin::ChannelStrip => 12.0,
            Plugin::MasteringChain => 0.0,
        };
        let settings = [("in_gain", 24.0), ("out_gain", max_out)];
        let events = [
            event(plugin, 1000, "bypass", 1.0),
            event(plugin, 2000, "bypass", 0.0),
            event(plugin, 2500, "out_gain", max_out - 20.0),
        ];
        for sizes in [vec![512], random_block_sizes(3, 100)] {
            let mut instance = active(plugin, &settings, sample_rate, 4096);
            let output = aligned(&mut instance, &input, &sizes, &events).unwrap();
            assert!(
                output.iter().flatten().all(|s| s.is_finite()),
                "{name}: non-finite output"
            );
            // The signal state recovers: past the last hostile sample and the last ramp,
            // the output is the clean input times the gain.
            let last_bad = *bad_samples.iter().max().unwrap();
            let from = (last_bad + 1).max(2500 + ramp_samples(20.0, sample_rate));
            let g = gain(24.0, max_out - 20.0);
            assert_gain(name, &clean, &output, from..frames, &[g, g]);
        }

        // Mono too, bypassed from the start (the dry path must be clean as well).
        let mut instance = ClapInstance::new(plugin).unwrap();
        instance.use_channels(1).unwrap();
        instance.set_plain(plugin, &[("bypass", 1.0)]).unwrap();
        instance.activate(sample_rate, 1, 512).unwrap();
        let output = aligned(&mut instance, &input[..1], &[512], &[]).unwrap();
        assert!(
            output[0].iter().all(|s| s.is_finite()),
            "{name}: non-finite output when bypassed"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Channel strip modules through the CLAP plugin

/// Magnitude in dB of one DFT bin of `x` at `freq` Hz.
fn dft_db(x: &[f32], freq: f64, sample_rate: f64) -> f64 {
    let w = std::f64::consts::TAU * freq / sample_rate;
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for (n, &v) in x.iter().enumerate() {
        re += v as f64 * (w * n as f64).cos();
        im -= v as f64 * (w * n as f64).sin();
    }
    10.0 * (re * re + im * im).log10()
}

#[test]
fn strip_eq_band_shapes_the_response_through_clap() {
    // eq3 at +6 dB, 1 kHz (Q defaults to the band's): the impulse response through the
    // plugin has +6 dB at 1 kHz and ~0 dB at 50 Hz and 15 kHz. Tolerance 0.1 dB: the
    // chain tests hold the band to 0.1 dB of its analytic curve; far from a Q 1 bell the
    // curve itself is within 0.05 dB of flat.
    let sample_rate = 48_000.0;
    let mut impulse = vec![0.0f32; 16_384];
    impulse[0] = 1.0;
    let settings = [("eq3_gain", 6.0), ("eq3_freq", 1000.0), ("eq3_q", 1.0)];
    let output = render(
        Plugin::ChannelStrip,
        sample_rate,
        512,
        &settings,
        &[impulse.clone(), impulse],
    );
    let at_1k = dft_db(&output[0], 1000.0, sample_rate);
    assert!((at_1k - 6.0).abs() < 0.1, "1 kHz: {at_1k:.3} dB");
    for freq in [50.0, 15_000.0] {
        let db = dft_db(&output[0], freq, sample_rate);
        assert!(db.abs() < 0.1, "{freq} Hz: {db:.3} dB");
    }
    assert_eq!(output[0], output[1]);
}

#[test]
fn strip_external_sidechain_ducks_the_bass_through_clap() {
    // A −40 dBFS 100 Hz bass on the main input (below the −30 dB threshold) and a 0 dBFS
    // 60 Hz "kick" (100 ms bursts) on the sidechain port: with comp_sc_ext the bass is
    // ducked by the curve's gain for a 0 dBFS key (ratio 4, hard knee: −22.5 dB) within
    // 0.2 dB (the curve's 0.1 dB plus the release's droop between key peaks); with the
    // port silent (nothing connected) nothing happens.
    let sample_rate = 48_000.0;
    let frames = 48_000;
    let bass: Vec<f32> = (0..frames)
        .map(|n| 0.01 * (std::f64::consts::TAU * (n % 480) as f64 / 480.0).sin() as f32)
        .collect();
    let kick: Vec<f32> = (0..frames)
        .map(|n| {
            if n % 24_000 < 4800 {
                (std::f64::consts::TAU * (n % 800) as f64 / 800.0).sin() as f32
            } else {
                0.0
            }
        })
        .collect();
    let settings = [
        ("comp_on", 1.0),
        ("comp_sc_ext", 1.0),
        ("comp_thresh", -30.0),
        ("comp_ratio", 4.0),
        ("comp_knee", 0.0),
        ("comp_attack", 0.1),
        ("comp_release", 5000.0),
    ];
    let input = vec![bass.clone(), bass.clone()];
    let ducked = render_with_sidechain(
        Plugin::ChannelStrip,
        sample_rate,
        256,
        &settings,
        &input,
        &[kick.clone(), kick],
    );
    let range = 24_000 + 1920..24_000 + 4800;
    let measured = rms_db(&ducked[0][range.clone()]) - rms_db(&bass[range]);
    assert!(
        (measured + 22.5).abs() < 0.2,
        "ducked by {measured:.2} dB, the curve says -22.5 dB"
    );
    // Nothing on the sidechain port (the harness gives it silence, as a host does).
    let alone = render(Plugin::ChannelStrip, sample_rate, 256, &settings, &input);
    let change = rms_db(&alone[0][24_000..]) - rms_db(&bass[24_000..]);
    assert!(change.abs() < 0.01, "{change}");
    // Mono layout with a mono sidechain.
    let mono = render_with_sidechain(
        Plugin::ChannelStrip,
        sample_rate,
        256,
        &settings,
        &input[..1],
        &[ducked[0].iter().map(|_| 0.0).collect()],
    );
    assert_eq!(mono.len(), 1);
}

/// A −26 dBFS 17-sample Hann click centred on `centre`: band-limited, so the strip's
/// oversampler delays it by exactly its latency (see the chain test), and quiet enough
/// that the saturation's drive stays on the curve's linear part.
fn hann_click(frames: usize, centre: usize) -> Vec<f32> {
    let mut click = vec![0.0f32; frames];
    for k in 0..17 {
        let w = 0.5 - 0.5 * (std::f32::consts::TAU * (k + 1) as f32 / 18.0).cos();
        click[centre - 8 + k] = 0.05 * w;
    }
    click
}

/// The lag (0..32) at which `output` correlates best with a [`hann_click`] at `centre`.
fn lag_of_click(click: &[f32], output: &[f32], centre: usize) -> usize {
    let corr = |lag: usize| -> f64 {
        (centre - 20..centre + 20)
            .map(|n| click[n] as f64 * output[n + lag] as f64)
            .sum()
    };
    (0..32)
        .max_by(|&a, &b| corr(a).total_cmp(&corr(b)))
        .unwrap()
}

#[test]
fn strip_reports_the_saturation_latency_and_every_module_runs() {
    // Saturation on: the plugin reports the oversampler's latency through CLAP (the
    // same the chain states), and a band-limited click through every module lands there.
    let sample_rate = 48_000.0;
    let expected = channel_strip::Chain::new(
        sample_rate as f32,
        512,
        &channel_strip::Settings {
            sat: shared_dsp::saturation::SaturationSettings {
                on: true,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .latency_samples();
    assert!(expected > 0);
    let all_on = [
        ("sat_on", 1.0),
        ("sat_drive", 3.0),
        ("gate_on", 1.0),
        ("gate_range", 0.0),
        ("comp_on", 1.0),
        ("comp_thresh", -6.0),
        ("dly_on", 1.0),
        ("dly_sync", 14.0),
        ("rev_on", 1.0),
        ("hpf_on", 1.0),
        ("hpf_freq", 20.0),
    ];
    let mut instance = active(Plugin::ChannelStrip, &all_on, sample_rate, 512);
    assert_eq!(instance.latency().unwrap(), expected);
    let click = hann_click(4096, 1000);
    let output = instance
        .process(&[click.clone(), click.clone()], &[512], &[])
        .unwrap();
    assert_eq!(lag_of_click(&click, &output[0], 1000) as u32, expected);
    // Saturation off: the same latency (a delay stands in for the oversampler).
    drop(instance);
    let instance = &mut active(Plugin::ChannelStrip, &[("sat_on", 0.0)], sample_rate, 512);
    assert_eq!(instance.latency().unwrap(), expected);
}

#[test]
fn strip_sat_toggles_keep_the_latency_and_ask_for_no_restart() {
    // Automating `sat_on` used to move the latency with it, so the plugin asked the CLAP
    // host for a restart on every toggle. Now the latency stays and no restart is asked
    // for; a click through each state lands at that latency.
    let sample_rate = 48_000.0;
    let mut instance = active(Plugin::ChannelStrip, &[("sat_on", 0.0)], sample_rate, 512);
    let latency = instance.latency().unwrap();
    assert!(latency > 0);
    let frames = 4096;
    for (block, on) in [0.0f64, 1.0, 0.0, 1.0].into_iter().enumerate() {
        let (id, value) = host_value(Plugin::ChannelStrip, "sat_on", on).unwrap();
        // The click well after the 20 ms switch fade.
        let click = hann_click(frames, 3000);
        let output = instance
            .process(
                &[click.clone(), click.clone()],
                &[512],
                &[ParamEvent {
                    sample: 0,
                    param_id: id,
                    value,
                }],
            )
            .unwrap();
        assert!(
            !instance.restart_requested(),
            "toggle {block} (sat_on = {on}) asked for a restart"
        );
        assert_eq!(instance.latency().unwrap(), latency, "toggle {block}");
        let lag = lag_of_click(&click, &output[0], 3000);
        assert_eq!(
            lag as u32, latency,
            "sat_on = {on}: the click lands {lag} late"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The mastering chain with its limiter on: latency through CLAP

#[test]
fn mastering_limiter_latency_is_reported_and_updated_through_clap() {
    let plugin = Plugin::MasteringChain;
    for sample_rate in [44_100.0, 48_000.0, 96_000.0] {
        for lookahead_ms in [0.5, 1.5, 5.0] {
            let what = format!("{sample_rate} Hz, lookahead {lookahead_ms} ms");
            let mut instance = active(
                plugin,
                &[
                    ("lim_on", 1.0),
                    ("lim_lookahead", lookahead_ms),
                    ("loud_gain", 12.0),
                ],
                sample_rate,
                512,
            );
            let mut settings = mastering_chain::Settings::default();
            settings.limiter.lookahead_ms = lookahead_ms as f32;
            let expected =
                mastering_chain::Chain::new(sample_rate as f32, 512, &settings).latency_samples();
            assert_eq!(instance.latency().unwrap(), expected, "{what}");
            // An impulse (under the ceiling even with +12 dB: 0.05 → 0.2) comes out at
            // the reported latency (EQ, multiband and imager off: their allpasses are
            // phase, not delay; see the chain test).
            let frames = 4096;
            let mut input = vec![vec![0.0f32; frames]; 2];
            input[0][100] = 0.05;
            input[1][100] = 0.05;
            let output = instance.process(&input, &[512], &[]).unwrap();
            let peak = output[0]
                .iter()
                .enumerate()
                .fold(
                    (0, 0.0f32),
                    |m, (i, &x)| if x.abs() > m.1 { (i, x.abs()) } else { m },
                );
            assert_eq!(peak.0, 100 + expected as usize, "{what}");
            // Loud noise stays under the ceiling after the limiter (sample peak here;
            // the true-peak guarantee is tested on the chain).
            let noise: Vec<Vec<f32>> = (0..2)
                .map(|c| {
                    (0..frames)
                        .map(|i| (((i * 7919 + c * 104_729) % 1000) as f32 / 500.0 - 1.0) * 0.9)
                        .collect()
                })
                .collect();
            let output = instance.process(&noise, &[512], &[]).unwrap();
            let peak = output.iter().flatten().fold(0.0f32, |m, &x| m.max(x.abs()));
            assert!(
                20.0 * peak.log10() <= -1.0 + 1e-4,
                "{what}: sample peak {peak}"
            );
        }
    }
    // A lookahead change while active: the plugin asks the host for the new latency.
    let mut instance = active(plugin, &[("lim_lookahead", 1.5)], 48_000.0, 512);
    let before = instance.latency().unwrap();
    let input = vec![vec![0.0f32; 1024]; 2];
    let (id, value) = host_value(plugin, "lim_lookahead", 5.0).unwrap();
    instance
        .process(
            &input,
            &[512],
            &[ParamEvent {
                sample: 0,
                param_id: id,
                value,
            }],
        )
        .unwrap();
    // 3.5 ms more at 48 kHz.
    let after_expected = before + 168;
    let restarted = instance.restart_requested();
    assert!(
        restarted || instance.latency().unwrap() == after_expected,
        "latency {} after the lookahead change, expected {after_expected} or a restart request",
        instance.latency().unwrap()
    );
    instance.deactivate();
    instance.activate(48_000.0, 1, 512).unwrap();
    assert_eq!(instance.latency().unwrap(), after_expected);
}
