//! Third-party plug-ins in `oxide process --chain`: LV2 plug-ins from Debian's
//! `lsp-plugins-lv2` compared with lilv's own `lv2apply`, Oxide's `.clap` hosted as a
//! third-party CLAP plug-in compared with the built-in stage, latency compensation, and
//! the errors a bad chain gets before any audio is processed.
//!
//! Needs `lsp-plugins-lv2` and `lilv-utils` installed (`.ci/run` installs them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hound::{SampleFormat, WavSpec};

const RATE: u32 = 48_000;
const EQ: &str = "http://lsp-plug.in/plugins/lv2/para_equalizer_x16_stereo";
const LIMITER: &str = "http://lsp-plug.in/plugins/lv2/limiter_stereo";

fn oxide(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxide"))
        .args(args)
        .output()
        .expect("run oxide")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Writes stereo 32-bit float `channels` (equal lengths) at [`RATE`].
fn write_wav(path: &Path, channels: &[Vec<f32>; 2]) {
    let spec = WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for (&left, &right) in channels[0].iter().zip(&channels[1]) {
        writer.write_sample(left).unwrap();
        writer.write_sample(right).unwrap();
    }
    writer.finalize().unwrap();
}

/// Reads a float WAV into one `Vec` per channel.
fn read_wav(path: &Path) -> Vec<Vec<f32>> {
    let reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    assert_eq!(
        spec.sample_format,
        SampleFormat::Float,
        "{}",
        path.display()
    );
    let n = spec.channels as usize;
    let samples: Vec<f32> = reader.into_samples::<f32>().map(|s| s.unwrap()).collect();
    (0..n)
        .map(|c| samples.iter().skip(c).step_by(n).copied().collect())
        .collect()
}

/// Two channels of different white noise at about −15 dBFS RMS (a fixed LCG).
fn noise(frames: usize) -> [Vec<f32>; 2] {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.6
    };
    let left = (0..frames).map(|_| next()).collect();
    let right = (0..frames).map(|_| next()).collect();
    [left, right]
}

fn write_chain(dir: &Path, name: &str, toml: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, toml).unwrap();
    path
}

fn run_chain(chain: &Path, input: &Path, output: &Path) -> Output {
    oxide(&[
        "process",
        "--chain",
        chain.to_str().unwrap(),
        input.to_str().unwrap(),
        output.to_str().unwrap(),
    ])
}

fn db(x: f64) -> f64 {
    20.0 * x.max(1e-30).log10()
}

#[test]
fn lsp_parametric_eq_in_a_chain_matches_lv2apply() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let frames = RATE as usize;
    write_wav(&input, &noise(frames));
    // A +6 dB bell at 1 kHz (gain 2.0 linear, the port's unit), Q 1.5, IIR mode.
    let settings = [
        ("mode", "0"),
        ("ft_0", "1"),
        ("f_0", "1000"),
        ("g_0", "2"),
        ("q_0", "1.5"),
    ];
    let reference = dir.path().join("lv2apply.wav");
    let mut lv2apply = Command::new("lv2apply");
    lv2apply.arg("-i").arg(&input).arg("-o").arg(&reference);
    for (symbol, value) in settings {
        lv2apply.args(["-c", symbol, value]);
    }
    let status = lv2apply
        .arg(EQ)
        .status()
        .expect("run lv2apply (Debian's lilv-utils)");
    assert!(status.success(), "lv2apply failed");

    // The same settings by symbol, and one by its name and one as a scale-point label.
    let chain = write_chain(
        dir.path(),
        "eq.toml",
        &format!(
            "[[stage]]\nlv2 = \"{EQ}\"\nparams = {{ mode = \"IIR\", \"Filter type 0\" = \"Bell\", f_0 = 1000, g_0 = 2.0, q_0 = 1.5 }}\n"
        ),
    );
    let output = dir.path().join("out.wav");
    let result = run_chain(&chain, &input, &output);
    assert!(result.status.success(), "{}", stderr(&result));

    let ours = read_wav(&output);
    let theirs = read_wav(&reference);
    assert_eq!(theirs[0].len(), frames);
    assert!(
        ours[0].len() >= frames,
        "the output is shorter than the input"
    );
    let (mut peak_diff, mut peak_ref, mut changed) = (0f64, 0f64, 0f64);
    let input_signal = noise(frames);
    for c in 0..2 {
        for i in 0..frames {
            let (a, b) = (ours[c][i] as f64, theirs[c][i] as f64);
            peak_diff = peak_diff.max((a - b).abs());
            peak_ref = peak_ref.max(b.abs());
            changed = changed.max((b - input_signal[c][i] as f64).abs());
        }
    }
    // The EQ really changed the signal (so matching means something) …
    assert!(
        db(changed) > -30.0,
        "the EQ changed the signal by only {:.1} dB",
        db(changed)
    );
    // … and both hosts agree to −120 dB relative to the output's peak: the limit the
    // issue sets; both run the same plug-in code on the same samples, so only the
    // block sizes differ (lv2apply runs one sample at a time).
    let diff_db = db(peak_diff / peak_ref);
    println!(
        "LSP EQ, oxide vs lv2apply: largest difference {peak_diff:e} ({diff_db:.1} dB re peak)"
    );
    assert!(diff_db <= -120.0, "differs by {diff_db:.1} dB");
}

/// Settings of the channel strip, as (string id, plain value): the same values set on
/// the built-in stage by id and on the CLAP plug-in by its parameter names.
const STRIP_SETTINGS: [(&str, f64); 3] = [("out_gain", -4.5), ("in_gain", 3.0), ("eq1_gain", 5.0)];

#[test]
fn oxide_clap_as_a_third_party_plugin_is_bit_identical_to_the_built_in_stage() {
    use oxide_host_tests::Plugin;
    // Builds the plug-ins' debug .clap in its own target dir (shared with the host tests).
    let clap_path = Plugin::ChannelStrip.clap_path();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_wav(&input, &noise(RATE as usize / 2));

    let names: Vec<(String, f64)> = {
        let list = oxide_host_tests::clap::plugin_params(Plugin::ChannelStrip);
        STRIP_SETTINGS
            .iter()
            .map(|&(id, v)| {
                let info = list.iter().find(|p| p.id == id).expect("a strip parameter");
                (info.name.clone(), v)
            })
            .collect()
    };
    let by_id: Vec<String> = STRIP_SETTINGS
        .iter()
        .map(|(id, v)| format!("{id} = {v:?}"))
        .collect();
    let by_name: Vec<String> = names
        .iter()
        .map(|(name, v)| format!("\"{name}\" = {v:?}"))
        .collect();
    let built_in = write_chain(
        dir.path(),
        "built-in.toml",
        &format!(
            "[[stage]]\nplugin = \"oxide:channel-strip\"\nparams = {{ {} }}\n",
            by_id.join(", ")
        ),
    );
    let hosted = write_chain(
        dir.path(),
        "hosted.toml",
        &format!(
            "[[stage]]\nclap = \"{}\"\nid = \"{}\"\nparams = {{ {} }}\n",
            clap_path.display(),
            Plugin::ChannelStrip.clap_id(),
            by_name.join(", ")
        ),
    );
    let out_built_in = dir.path().join("built-in.wav");
    let out_hosted = dir.path().join("hosted.wav");
    let a = run_chain(&built_in, &input, &out_built_in);
    assert!(a.status.success(), "{}", stderr(&a));
    let b = run_chain(&hosted, &input, &out_hosted);
    assert!(b.status.success(), "{}", stderr(&b));
    let a = read_wav(&out_built_in);
    let b = read_wav(&out_hosted);
    let input_signal = noise(RATE as usize / 2);
    assert!(
        (a[0][1000] - input_signal[0][1000]).abs() > 1e-3,
        "the settings changed nothing"
    );
    assert_eq!(a[0].len(), b[0].len(), "lengths differ");
    for c in 0..2 {
        let first = a[c]
            .iter()
            .zip(&b[c])
            .position(|(x, y)| x.to_bits() != y.to_bits());
        assert_eq!(first, None, "channel {c} differs from sample {first:?} on");
    }
}

#[test]
fn a_high_latency_lv2_limiter_then_oxide_keeps_an_impulse_at_time_zero() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("impulse.wav");
    let frames = RATE as usize / 2;
    let mut impulse = vec![0.0f32; frames];
    impulse[0] = 0.25;
    write_wav(&input, &[impulse.clone(), impulse]);
    // A 20 ms look-ahead (`lk`, ms): the limiter delays its output by ~1000 samples.
    let chain = write_chain(
        dir.path(),
        "latency.toml",
        &format!(
            "[[stage]]\nlv2 = \"{LIMITER}\"\nparams = {{ lk = 20 }}\n\n\
             [[stage]]\nplugin = \"oxide:channel-strip\"\nparams = {{ out_gain = -6 }}\n"
        ),
    );
    let output = dir.path().join("out.wav");
    let result = run_chain(&chain, &input, &output);
    assert!(result.status.success(), "{}", stderr(&result));
    let text = stderr(&result);
    let latency: u64 = text
        .split("latency ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no latency in: {text}"));
    println!("chain latency: {latency} samples");
    assert!(
        latency >= 480,
        "the limiter reported only {latency} samples"
    );
    let out = read_wav(&output);
    assert!(out[0].len() >= frames);
    for channel in &out {
        let peak = channel
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap();
        assert_eq!(peak.0, 0, "the impulse came out at sample {}", peak.0);
        // 0.25 through −6 dB: 0.125 (the limiter leaves a −12 dBFS peak alone).
        assert!((peak.1 - 0.125).abs() < 0.01, "impulse height {}", peak.1);
    }
}

/// Runs a bad chain over a file that is not audio at all: the chain's error comes first
/// (so it is found before any audio is read), the command fails, nothing is written.
fn assert_refused(toml: &str, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("not-audio.wav");
    std::fs::write(&input, b"this is not a WAV file").unwrap();
    let chain = write_chain(dir.path(), "bad.toml", toml);
    let output = dir.path().join("out.wav");
    let result = run_chain(&chain, &input, &output);
    let text = stderr(&result);
    assert!(!result.status.success(), "accepted: {toml}");
    for part in expected {
        assert!(text.contains(part), "'{part}' not in: {text}");
    }
    assert!(text.contains("stage 1"), "the stage is not named: {text}");
    assert!(!output.exists(), "an output was written");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("out"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

#[test]
fn bad_chains_get_clear_errors_before_any_audio_and_write_nothing() {
    // A CLAP file that does not exist.
    assert_refused(
        "[[stage]]\nclap = \"/nonexistent/Nothing.clap\"\n",
        &["/nonexistent/Nothing.clap", "does not exist"],
    );
    // An LV2 plug-in that is not installed.
    assert_refused(
        "[[stage]]\nlv2 = \"http://example.org/plugins/not-installed\"\n",
        &["no LV2 plug-in http://example.org/plugins/not-installed is installed"],
    );
    // Not a URI at all.
    assert_refused(
        "[[stage]]\nlv2 = \"para equalizer\"\n",
        &["'para equalizer' is not a URI"],
    );
    // A parameter name the plug-in does not have (LV2 and Oxide's own).
    assert_refused(
        &format!("[[stage]]\nlv2 = \"{EQ}\"\nparams = {{ warmth = 3 }}\n"),
        &["has no parameter 'warmth'"],
    );
    assert_refused(
        "[[stage]]\nplugin = \"oxide:channel-strip\"\nparams = { warmth = 3 }\n",
        &["has no parameter 'warmth'"],
    );
    // Values out of range: an LV2 gain of 100 (the port takes 0.01585 … 63.1), a label
    // the port does not have, Oxide's output gain at +99 dB.
    assert_refused(
        &format!("[[stage]]\nlv2 = \"{EQ}\"\nparams = {{ g_0 = 100 }}\n"),
        &["g_0", "outside its range"],
    );
    assert_refused(
        &format!("[[stage]]\nlv2 = \"{EQ}\"\nparams = {{ ft_0 = \"Wobble\" }}\n"),
        &["ft_0", "Bell"],
    );
    assert_refused(
        "[[stage]]\nplugin = \"oxide:channel-strip\"\nparams = { out_gain = 99 }\n",
        &["out_gain"],
    );
}

#[test]
fn a_third_party_clap_refuses_unknown_and_out_of_range_parameters() {
    use oxide_host_tests::Plugin;
    let clap_path = Plugin::ChannelStrip.clap_path();
    let path = clap_path.display();
    assert_refused(
        &format!("[[stage]]\nclap = \"{path}\"\nparams = {{ Warmth = 1 }}\n"),
        &["has no parameter 'Warmth'"],
    );
    let out_gain = oxide_host_tests::clap::plugin_params(Plugin::ChannelStrip)
        .into_iter()
        .find(|p| p.id == "out_gain")
        .unwrap();
    assert_refused(
        &format!(
            "[[stage]]\nclap = \"{path}\"\nparams = {{ \"{}\" = 99 }}\n",
            out_gain.name
        ),
        &["outside its range"],
    );
}

#[test]
fn plugins_and_params_show_third_party_plugins() {
    use oxide_host_tests::Plugin;
    let clap_path = Plugin::ChannelStrip.clap_path();
    let folder = clap_path.parent().unwrap();
    let listed = Command::new(env!("CARGO_BIN_EXE_oxide"))
        .arg("plugins")
        .env("CLAP_PATH", folder)
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    assert!(text.contains(EQ), "the LSP EQ is not listed");
    assert!(
        text.contains(Plugin::ChannelStrip.clap_id()),
        "the CLAP is not listed"
    );

    let lv2 = oxide(&["params", "--plugin", EQ]);
    assert!(lv2.status.success(), "{}", stderr(&lv2));
    let text = stdout(&lv2);
    assert!(text.contains("g_0") && text.contains("Gain 0"), "{text}");
    assert!(
        text.contains("0=Off | 1=Bell"),
        "scale points not shown: {text}"
    );

    let clap = oxide(&["params", "--plugin", clap_path.to_str().unwrap(), "--json"]);
    assert!(clap.status.success(), "{}", stderr(&clap));
    let json: serde_json::Value = serde_json::from_slice(&clap.stdout).unwrap();
    let params = json["params"].as_array().unwrap();
    let out_gain = oxide_host_tests::clap::plugin_params(Plugin::ChannelStrip)
        .into_iter()
        .find(|p| p.id == "out_gain")
        .unwrap();
    assert!(
        params.iter().any(|p| p["name"] == out_gain.name.as_str()),
        "no '{}' in {json}",
        out_gain.name
    );
    // The built-in names still work as before.
    assert!(oxide(&["params", "--plugin", "channel-strip"])
        .status
        .success());
}

#[test]
fn master_with_a_chain_masters_what_the_chain_gives() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_wav(&input, &noise(3 * RATE as usize));
    let chain = write_chain(
        dir.path(),
        "eq.toml",
        &format!(
            "[[stage]]\nlv2 = \"{EQ}\"\nparams = {{ ft_0 = \"Lo-shelf\", f_0 = 200, g_0 = 1.5 }}\n"
        ),
    );
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    // The chain alone, then `master` on its output …
    let equalized = dir.path().join("eq.wav");
    let r = run_chain(&chain, &input, &equalized);
    assert!(r.status.success(), "{}", stderr(&r));
    let two_steps = dir.path().join("two-steps.wav");
    let master_args = ["--target", "-16", "--bits", "32f"];
    let mut args = vec![String::from("master"), s(&equalized), s(&two_steps)];
    args.extend(master_args.iter().map(|a| a.to_string()));
    let r = oxide(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(r.status.success(), "{}", stderr(&r));
    // … is what `master --chain` writes in one go: the hosted stages run first.
    let one_step = dir.path().join("one-step.wav");
    let mut args = vec![String::from("master"), s(&input), s(&one_step)];
    args.extend(master_args.iter().map(|a| a.to_string()));
    args.extend([String::from("--chain"), s(&chain)]);
    let r = oxide(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(r.status.success(), "{}", stderr(&r));
    let a = read_wav(&two_steps);
    let b = read_wav(&one_step);
    let plain = dir.path().join("plain.wav");
    let mut args = vec![String::from("master"), s(&input), s(&plain)];
    args.extend(master_args.iter().map(|a| a.to_string()));
    let r = oxide(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(r.status.success(), "{}", stderr(&r));
    assert_ne!(read_wav(&plain), b, "the chain changed nothing");
    assert_eq!(a.len(), b.len());
    for c in 0..2 {
        assert_eq!(a[c].len(), b[c].len(), "lengths differ");
        let first = a[c]
            .iter()
            .zip(&b[c])
            .position(|(x, y)| x.to_bits() != y.to_bits());
        assert_eq!(first, None, "channel {c} differs from sample {first:?} on");
    }
}

#[test]
fn an_lv2_plugin_that_requires_a_feature_we_lack_is_refused_by_name() {
    // A bundle that declares a required feature no host provides (its binary is never
    // loaded: the refusal comes from the plug-in's description).
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("needs-unobtainium.lv2");
    std::fs::create_dir(&bundle).unwrap();
    std::fs::write(
        bundle.join("manifest.ttl"),
        r#"@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix doap: <http://usefulinc.com/ns/doap#> .
<urn:oxide:test:needs-unobtainium>
    a lv2:Plugin ;
    lv2:binary <needs-unobtainium.so> ;
    doap:name "Needs Unobtainium" ;
    lv2:requiredFeature <http://example.org/ns#unobtainium> ;
    lv2:port [ a lv2:AudioPort , lv2:InputPort ; lv2:index 0 ; lv2:symbol "in" ; lv2:name "In" ] ,
             [ a lv2:AudioPort , lv2:OutputPort ; lv2:index 1 ; lv2:symbol "out" ; lv2:name "Out" ] .
"#,
    )
    .unwrap();
    let input = dir.path().join("in.wav");
    write_wav(&input, &noise(4800));
    let chain = write_chain(
        dir.path(),
        "c.toml",
        "[[stage]]\nlv2 = \"urn:oxide:test:needs-unobtainium\"\n",
    );
    let output = dir.path().join("out.wav");
    let result = Command::new(env!("CARGO_BIN_EXE_oxide"))
        .args(["process", "--chain"])
        .arg(&chain)
        .arg(&input)
        .arg(&output)
        .env("LV2_PATH", dir.path())
        .output()
        .unwrap();
    let text = stderr(&result);
    assert!(!result.status.success());
    assert!(
        text.contains(
            "requires features oxide does not provide: http://example.org/ns#unobtainium"
        ),
        "{text}"
    );
    assert!(!output.exists());
}

#[test]
fn a_clap_state_file_sets_the_plugin_as_its_parameters_do() {
    use oxide_host_tests::clap::ClapInstance;
    use oxide_host_tests::Plugin;
    let clap_path = Plugin::ChannelStrip.clap_path();
    let dir = tempfile::tempdir().unwrap();
    // The state a host saves after setting the strip (through the test host).
    let mut instance = ClapInstance::new(Plugin::ChannelStrip).unwrap();
    instance
        .set_plain(Plugin::ChannelStrip, &STRIP_SETTINGS)
        .unwrap();
    let state = dir.path().join("strip.state");
    std::fs::write(&state, instance.save_state().unwrap()).unwrap();
    drop(instance);

    let input = dir.path().join("in.wav");
    write_wav(&input, &noise(RATE as usize / 4));
    let by_id: Vec<String> = STRIP_SETTINGS
        .iter()
        .map(|(id, v)| format!("{id} = {v:?}"))
        .collect();
    let built_in = write_chain(
        dir.path(),
        "built-in.toml",
        &format!(
            "[[stage]]\nplugin = \"oxide:channel-strip\"\nparams = {{ {} }}\n",
            by_id.join(", ")
        ),
    );
    // The state path is relative: it is found beside the chain file.
    let hosted = write_chain(
        dir.path(),
        "hosted.toml",
        &format!(
            "[[stage]]\nclap = \"{}\"\nstate = \"strip.state\"\n",
            clap_path.display()
        ),
    );
    let (a, b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    let r = run_chain(&built_in, &input, &a);
    assert!(r.status.success(), "{}", stderr(&r));
    let r = run_chain(&hosted, &input, &b);
    assert!(r.status.success(), "{}", stderr(&r));
    let (a, b) = (read_wav(&a), read_wav(&b));
    assert_eq!(a[0].len(), b[0].len());
    for c in 0..2 {
        assert!(
            a[c].iter()
                .zip(&b[c])
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "channel {c} differs"
        );
    }
}

#[test]
fn a_file_that_is_not_a_plugin_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.clap");
    std::fs::write(&broken, b"not a shared library").unwrap();
    assert_refused(
        &format!("[[stage]]\nclap = \"{}\"\n", broken.display()),
        &["could not load the CLAP plug-in", "broken.clap"],
    );
}
