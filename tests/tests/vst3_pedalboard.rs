//! Loads each plugin's `.vst3` bundle in pedalboard (PyPI; a JUCE-based VST3 host) and
//! checks it through `tests/python/vst3_check.py`: name, parameter list, latency, level
//! changes in dB for set gains, polarity, bypass, block sizes 1/37/512/4096, mono and
//! stereo, finite output, and the strip's inactive sidechain bus read as silence. It also
//! loads the strip in DawDreamer (PyPI; JUCE-based too), which connects the sidechain bus,
//! through `tests/python/vst3_sidechain.py`. The plugins are the debug builds with
//! `assert_process_allocs`, so an allocation on the audio thread aborts the host.
//!
//! The test provisions its own Python: a virtual environment in
//! `target/host-tests/venv` with the pinned packages of `tests/python/requirements.txt`,
//! made on first use and reused while it still imports them and was made from the same
//! requirements. `OXIDE_PYTHON=/path/to/python` uses that interpreter instead (it must
//! import pedalboard, dawdreamer and numpy). If PyPI cannot be reached the test fails and says so:
//! it never passes without having run the host.
//!
//! The script runs with no `DISPLAY`, so the plugins must load headless.

use std::process::ExitStatus;
use std::time::{Duration, Instant};

use oxide_host_tests::python::{python, run_with_timeout, script_command};
use oxide_host_tests::Plugin;
use serde_json::Value;

/// The brief's tolerance for a set gain's measured level change (see the script's doc).
const GAIN_TOL_DB: f64 = 0.05;
/// How long one run of the script may take before it counts as hung.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(600);

#[test]
fn channel_strip_in_pedalboard() {
    check_in_pedalboard(Plugin::ChannelStrip);
}

#[test]
fn mastering_chain_in_pedalboard() {
    check_in_pedalboard(Plugin::MasteringChain);
}

/// The strip's VST3 sidechain bus, connected: DawDreamer plays a kick into it and the
/// bass on the main input is ducked by the curve's amount (`tests/python/vst3_sidechain.py`
/// says how much and why; this side checks its numbers again).
#[test]
fn channel_strip_sidechain_in_dawdreamer() {
    let (command, script, _) = script_command(Plugin::ChannelStrip, "vst3_sidechain.py");
    let output = run_with_timeout(command, SCRIPT_TIMEOUT)
        .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
    let report = output
        .stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<Value>(line).ok())
        .unwrap_or_else(|| {
            panic!(
                "vst3_sidechain.py printed no report ({}); stderr:\n{}",
                describe_status(output.status),
                output.stderr
            )
        });
    assert!(
        output.status.success() && report["ok"] == Value::Bool(true),
        "sidechain check failed ({}): {report:#}\nstderr:\n{}",
        describe_status(output.status),
        output.stderr
    );
    // Ratio 4, threshold -30 dB, hard knee, 0 dBFS key: -22.5 dB; 0.2 dB as the chain's
    // own test allows (curve accuracy plus the release's droop over a key cycle).
    let ducked = report["ducked_db"].as_f64().expect("ducked_db");
    assert!((ducked + 22.5).abs() <= 0.2, "ducked by {ducked:+.3} dB");
    let alone = report["keyed_by_itself_db"]
        .as_f64()
        .expect("keyed_by_itself_db");
    assert!(
        alone.abs() <= 0.05,
        "unkeyed bass changed by {alone:+.3} dB"
    );
}

/// The latency the plugin reports at the script's 48 kHz with default settings: none for
/// the strip, the limiter's for the mastering chain (the chain computes it).
fn expected_latency(plugin: Plugin) -> u32 {
    match plugin {
        // Constant whatever switches move: the saturation's oversampler, or the delay
        // that stands in for it while saturation is off.
        Plugin::ChannelStrip => {
            channel_strip::Chain::new(48_000.0, 512, &channel_strip::Settings::default())
                .latency_samples()
        }
        Plugin::MasteringChain => {
            mastering_chain::Chain::new(48_000.0, 512, &mastering_chain::Settings::default())
                .latency_samples()
        }
    }
}

fn check_in_pedalboard(plugin: Plugin) {
    let (mut command, script, bundle) = script_command(plugin, "vst3_check.py");
    command
        .arg("--plugin")
        .arg(plugin.package())
        .arg("--expect-latency")
        .arg(expected_latency(plugin).to_string());
    let started = Instant::now();
    let output = run_with_timeout(command, SCRIPT_TIMEOUT).unwrap_or_else(|e| {
        panic!(
            "could not run {} {}: {e}",
            python().display(),
            script.display()
        )
    });
    eprintln!(
        "--- vst3_check.py {} ({:.1} s) stderr ---\n{}",
        plugin.package(),
        started.elapsed().as_secs_f64(),
        output.stderr
    );

    let status = output.status;
    let report = output
        .stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .and_then(|line| serde_json::from_str::<Value>(line).ok());
    if !status.success() {
        let failures = report
            .as_ref()
            .map(|r| {
                let mut text = String::new();
                if let Some(error) = r["error"].as_str() {
                    text.push_str(&format!("\n  error: {error}"));
                }
                for failure in r["failures"].as_array().into_iter().flatten() {
                    text.push_str(&format!("\n  - {}", failure.as_str().unwrap_or("?")));
                }
                text
            })
            .unwrap_or_default();
        // The JSON report repeats what stderr says: show the rest of stdout only.
        let stdout: Vec<&str> = output
            .stdout
            .lines()
            .filter(|line| !line.trim_start().starts_with('{'))
            .collect();
        panic!(
            "pedalboard check of {} failed ({}){failures}\nstderr:\n{}\nstdout (less the \
             JSON report):\n{}",
            bundle.display(),
            describe_status(status),
            output.stderr,
            stdout.join("\n"),
        );
    }
    let report = report.unwrap_or_else(|| {
        panic!(
            "vst3_check.py exited 0 but printed no JSON report; stdout:\n{}",
            output.stdout
        )
    });
    assert_report(plugin, &report);
}

/// The Rust side's own reading of the script's report, so a script that skipped its
/// checks cannot pass.
fn assert_report(plugin: Plugin, report: &Value) {
    assert_eq!(report["ok"], Value::Bool(true), "report not ok: {report:#}");
    assert!(
        report["failures"].as_array().is_some_and(|f| f.is_empty()),
        "failures: {:#}",
        report["failures"]
    );
    assert_eq!(report["type"].as_str(), Some("VST3Plugin"));
    assert_eq!(report["name"].as_str(), Some(plugin.display_name()));
    assert_eq!(report["manufacturer"].as_str(), Some("Oxide"));
    assert_eq!(
        report["latency_samples"].as_i64(),
        Some(expected_latency(plugin) as i64),
        "latency"
    );

    let keys: Vec<&str> = report["parameters"]
        .as_object()
        .expect("parameters")
        .keys()
        .map(String::as_str)
        .collect();
    let expected_keys: &[&str] = match plugin {
        Plugin::ChannelStrip => &[
            "input_gain_db",
            "polarity_l",
            "polarity_r",
            "output_gain_db",
            "bypass",
        ],
        Plugin::MasteringChain => &["input_gain_db", "output_gain_db", "bypass"],
    };
    // The level and bypass keys the checks use (the strip has many more: filters, EQ,
    // dynamics, space).
    for key in expected_keys {
        assert!(keys.contains(key), "pedalboard lacks '{key}': {keys:?}");
    }
    if plugin == Plugin::ChannelStrip {
        for key in ["eq_3_gain_db", "eq_3_freq_hz"] {
            assert!(keys.contains(&key), "pedalboard lacks '{key}': {keys:?}");
        }
        let at_1k = report["eq3_at_1k_db"].as_f64().expect("eq3 measured");
        assert!((at_1k - 6.0).abs() <= 0.1, "eq3 at 1 kHz: {at_1k:+.3} dB");
    }

    // Every gain case, stereo and mono, measured within tolerance.
    let gains = report["gains"].as_array().expect("gains");
    let min_cases = match plugin {
        Plugin::ChannelStrip => 8,
        Plugin::MasteringChain => 7,
    };
    assert!(
        gains.len() >= 2 * min_cases,
        "only {} gain measurements",
        gains.len()
    );
    for layout in ["stereo", "mono"] {
        assert!(
            gains.iter().any(|g| g["layout"] == layout),
            "no {layout} gain measurement"
        );
    }
    for gain in gains {
        let expected = gain["expected_db"].as_f64().expect("expected_db");
        let measured = gain["measured_db"].as_array().expect("measured_db");
        assert!(!measured.is_empty());
        for m in measured {
            let m = m
                .as_f64()
                .unwrap_or_else(|| panic!("non-finite level in {gain}"));
            assert!(
                (m - expected).abs() <= GAIN_TOL_DB,
                "{}: measured {m:+.4} dB, expected {expected:+.2} dB",
                gain["case"]
            );
        }
    }

    let checks = report["checks"].as_array().expect("checks");
    let passed = |prefix: &str| {
        let matching: Vec<&Value> = checks
            .iter()
            .filter(|c| c["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
            .collect();
        assert!(!matching.is_empty(), "no check named {prefix:?} ran");
        for c in matching {
            assert_eq!(c["ok"], Value::Bool(true), "check failed: {c}");
        }
    };
    passed("bypass returns the input (stereo");
    passed("bypass returns the input (mono");
    passed("bypass toggles without a click");
    passed("defaults are transparent");
    passed("gain change mid-stream");
    passed("NaN/inf input gives finite output");
    for size in [1, 37, 512, 4096] {
        passed(&format!("block size {size}"));
    }
    if plugin == Plugin::ChannelStrip {
        passed("polarity_l inverts");
        passed("polarity_r inverts");
        passed("silence");
        passed("inactive sidechain keys nothing");
        passed("own input keys the compressor");
    }
}

fn describe_status(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let hint = if signal == 6 {
                " (SIGABRT: with assert_process_allocs this usually means an allocation on \
                 the audio thread; its message may not reach stderr)"
            } else {
                ""
            };
            return format!("killed by signal {signal}{hint}");
        }
    }
    match status.code() {
        Some(1) => "exit 1: a check failed".to_owned(),
        Some(2) => "exit 2: the plugin could not be loaded or the script crashed".to_owned(),
        Some(code) => format!("exit {code}"),
        None => status.to_string(),
    }
}
