//! Both editors in a real host: opened and closed 50 times each in DawDreamer (PyPI,
//! JUCE-based, loading the `.vst3` bundle) on a private Xvfb display with openbox as its
//! window manager, closed the way a user closes a window (the window manager's close:
//! `wmctrl -c`, which makes openbox send the window WM_DELETE_WINDOW). Between the
//! cycles the host renders audio through the plugin, and it must be bit for bit the
//! first render. `tests/python/editor_cycle.py` drives the host and says how; this side
//! judges its report:
//!
//! - nothing crashed and every window was closed by the window manager;
//! - the audio after every cycle is exactly the audio before the first one;
//! - no thread is left behind: the host's thread count after the last cycle is the
//!   count after the warm-up cycles, exactly (an editor whose window thread outlived its
//!   close would add one per cycle: 45 more);
//! - resident memory, the C heap in use and the thread count are reported per cycle;
//!   the heap grows per cycle by no more than the keyboard map baseview 0.4.2 leaks for
//!   each window it opens (measured on the same display; see
//!   `oxide_host_tests::xkb_keymap`) plus `HEAP_MARGIN_KIB` (see there); see
//!   [`WARM_UP`] for what else the heap took and gave back;
//! - the only X protocol errors are the host's own (see the script: JUCE asks for its
//!   frame's tree while openbox destroys the frame).
//!
//! The audio renders between the cycles, not while the window is up: DawDreamer's
//! `open_editor` holds Python's interpreter lock until the window closes. The plugin's
//! audio path is the same either way; the CLAP host tests (`clap_host.rs`) cover
//! processing on its own thread.
//!
//! `cargo test -p oxide-host-tests --test editor_host -- --ignored screenshots` (or
//! `cargo xtask screenshots`) writes the pictures of `docs/images/` from the same host.

use std::process::Command;
use std::time::{Duration, Instant};

use oxide_host_tests::display::VirtualDisplay;
use oxide_host_tests::proc_stats::slope;
use oxide_host_tests::python::{python, python_dir, run_with_timeout};
use oxide_host_tests::xkb_keymap::{self, HEAP_MARGIN_KIB};
use oxide_host_tests::{workspace_root, Plugin};
use serde_json::Value;

/// Open/close cycles per editor.
const CYCLES: usize = 50;
/// Open/close cycles with a UI scale change in each.
const SCALE_CYCLES: usize = 6;
/// Cycles before the memory and thread baseline: the first opens load what stays
/// loaded for the life of the process (the GL driver, fonts, JUCE's window classes;
/// about 95 MB, all in the first two), so leaks are measured from here.
///
/// Measured on 2026-12-05 (heaptrack on this test's host): the heap grew by 245 KiB per
/// cycle at first, of which about 164 KiB was nice-plug's VST3 run-loop handler, never
/// released (with two file descriptors), now released by
/// `oxide_plugin_common::vst3_view`; 82 KiB per cycle remain, nearly all baseview's
/// keyboard map, which the heap check allows for.
const WARM_UP: usize = 5;
/// How long one run of the script may take before it counts as hung (a window that
/// never closes hangs the host); a run takes about 25 s.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);
/// X_QueryTree and BadWindow: the host's frame race, the one X error allowed.
const X_QUERY_TREE: u64 = 15;
const BAD_WINDOW: u64 = 3;

#[test]
fn channel_strip_editor_opens_and_closes_in_dawdreamer() {
    cycle_editor(Plugin::ChannelStrip);
}

#[test]
fn mastering_chain_editor_opens_and_closes_in_dawdreamer() {
    cycle_editor(Plugin::MasteringChain);
}

/// Changing the UI scale, then closing: [`SCALE_CYCLES`] opens, each picking a scale in
/// the editor's menu (200 %, then 100 %, ...; clicked through XTest, while the host
/// grants them) before the window manager closes the window, the audio checked after
/// each cycle as in the other tests.
///
/// Ignored: DawDreamer crashes (SIGSEGV in its main thread, a virtual call on a freed
/// 96-byte object, while baseview's window thread is still tearing down) in about half
/// of the runs, at a close after the scale was changed, also in a later cycle that
/// changed nothing. Found on 2026-12-06; not ours as far as measured: it crashes as often
/// with nice-plug's VST3 view as the host's view (without `vst3_view`'s wrapper, 3 of 5
/// runs), and more often, not less, when the close waits 400 ms for the window thread
/// (5 of 6). At the default scale, the 50 cycles above have never crashed. Kept to
/// reproduce it: `cargo test -p oxide-host-tests --test editor_host -- --ignored
/// the_ui_scale`.
#[test]
#[ignore = "reproduces a DawDreamer crash on close after a UI scale change (see the doc)"]
fn the_ui_scale_changes_and_the_editor_closes_in_dawdreamer() {
    let display = VirtualDisplay::start().unwrap_or_else(|e| panic!("{e:#}"));
    for plugin in Plugin::ALL {
        let mut command = host_command(plugin, &display);
        command
            .args(["--cycles", &SCALE_CYCLES.to_string()])
            .args(["--scale-entry", "5"]);
        let report = run(plugin, command);
        let name = plugin.display_name();
        assert_eq!(
            report["cycles"].as_u64(),
            Some(SCALE_CYCLES as u64),
            "{report:#}"
        );
        // DawDreamer's window sometimes puts its old size back (the script picks again,
        // up to four times); after a refusal the script stops picking, so most changes
        // must have been granted for the closes to follow real resizes.
        let changes = report["scale_changes"].as_u64().unwrap_or(0);
        assert!(
            changes >= SCALE_CYCLES as u64 / 2,
            "{name}: {changes} of {SCALE_CYCLES} scale changes granted: {report:#}"
        );
        eprintln!("{name}: {SCALE_CYCLES} closes after {changes} scale changes");
    }
}

/// Writes `docs/images/<package>.png` and `<package>-200.png`: each editor at its
/// default size as the host shows it, then after 200 % is picked in its UI scale menu
/// (clicked through XTest, as a user's clicks).
#[test]
#[ignore = "writes docs/images/: run by `cargo xtask screenshots`"]
fn screenshots() {
    let out_dir = workspace_root().join("docs").join("images");
    std::fs::create_dir_all(&out_dir).expect("create docs/images");
    let display = VirtualDisplay::start().unwrap_or_else(|e| panic!("{e:#}"));
    for plugin in Plugin::ALL {
        // The editor at its default size; then at 200 %, picked in its UI scale menu
        // (the menu's last entry) as a user does.
        let mut default_size = (0, 0);
        for (suffix, scale_entry) in [("", -1), ("-200", 5)] {
            let out = out_dir.join(format!("{}{suffix}.png", plugin.package()));
            let mut command = host_command(plugin, &display);
            command
                .arg("--scale-entry")
                .arg(scale_entry.to_string())
                .arg("--screenshot")
                .arg(&out)
                .arg("--framebuffer")
                .arg(display.framebuffer())
                // Long enough for the editor to draw its first frames in full.
                .args(["--hold", "1.5"]);
            let report = run(plugin, command);
            let shot = &report["screenshot"];
            eprintln!(
                "{}{suffix}: {} × {} → {}",
                plugin.display_name(),
                shot["width"],
                shot["height"],
                out.display()
            );
            assert!(out.is_file(), "{} was not written", out.display());
            let size = (
                shot["width"].as_u64().unwrap(),
                shot["height"].as_u64().unwrap(),
            );
            if scale_entry < 0 {
                default_size = size;
            } else {
                // At 200 % the host's window is twice the default size (the editor's
                // layout in points the same), or the picture is not what it claims.
                assert_eq!(
                    size,
                    (default_size.0 * 2, default_size.1 * 2),
                    "{}: the window did not grow to 200 % ({})",
                    plugin.display_name(),
                    report["scale"]
                );
            }
        }
    }
}

/// The script's command for `plugin` on `display`.
fn host_command(plugin: Plugin, display: &VirtualDisplay) -> Command {
    let python = python().clone();
    let bundle = plugin.vst3_path();
    let (min_width, min_height) = plugin.editor_min_size();
    let mut command = Command::new(python);
    command
        .arg(python_dir().join("editor_cycle.py"))
        .arg(bundle)
        .arg("--min-size")
        .arg(format!("{min_width},{min_height}"))
        .env("DISPLAY", display.name())
        .env_remove("WAYLAND_DISPLAY")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    command
}

/// Runs the script and returns its report, failing on a crash or a failed check.
fn run(plugin: Plugin, command: Command) -> Value {
    let started = Instant::now();
    let output = run_with_timeout(command, SCRIPT_TIMEOUT)
        .unwrap_or_else(|e| panic!("editor_cycle.py for {}: {e}", plugin.display_name()));
    eprintln!(
        "--- editor_cycle.py {} ({:.1} s) stderr ---\n{}",
        plugin.package(),
        started.elapsed().as_secs_f64(),
        output.stderr
    );
    let report = output
        .stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .and_then(|line| serde_json::from_str::<Value>(line).ok())
        .unwrap_or_else(|| {
            panic!(
                "the host printed no report ({}: it crashed or was killed); stdout:\n{}\n\
                 stderr:\n{}",
                output.status, output.stdout, output.stderr
            )
        });
    assert!(
        output.status.success() && report["ok"] == Value::Bool(true),
        "{} in DawDreamer failed ({}): {report:#}",
        plugin.display_name(),
        output.status
    );
    report
}

/// Opens and closes `plugin`'s editor [`CYCLES`] times and checks what must hold.
fn cycle_editor(plugin: Plugin) {
    let display = VirtualDisplay::start().unwrap_or_else(|e| panic!("{e:#}"));
    let keymap_kib = xkb_keymap::leaked_per_window_kib(&display.name())
        .unwrap_or_else(|e| panic!("{e:#}"))
        .unwrap_or(0.0);
    let mut command = host_command(plugin, &display);
    command.arg("--cycles").arg(CYCLES.to_string());
    let report = run(plugin, command);
    let name = plugin.display_name();

    assert_eq!(report["cycles"].as_u64(), Some(CYCLES as u64), "{report:#}");
    assert!(
        report["failures"].as_array().is_some_and(Vec::is_empty),
        "{name}: {:#}",
        report["failures"]
    );
    // The audio: exactly the first render after every cycle, and that one right. At its
    // defaults each plugin passes the tone unchanged: the strip bit for bit (the input
    // delayed by its latency, as the pedalboard test finds too); the mastering chain,
    // whose 162 samples of latency DawDreamer lines up its own way, is held to the
    // tone's level within 0.01 dB (measured: 2e-7 dB), which a gain slip, silence or a
    // doubled signal would miss by far.
    assert_eq!(report["worst_render_diff"].as_f64(), Some(0.0), "{name}");
    let level = report["level_change_db"].as_f64().expect("level_change_db");
    if plugin == Plugin::ChannelStrip {
        assert_eq!(report["reference_max_diff"].as_f64(), Some(0.0), "{name}");
    }
    assert!(
        level.abs() <= 0.01,
        "{name}: level changed by {level:+.4} dB"
    );

    // X errors: only the host's frame race.
    for error in report["x_errors"].as_array().expect("x_errors") {
        assert!(
            error["error_code"].as_u64() == Some(BAD_WINDOW)
                && error["request_code"].as_u64() == Some(X_QUERY_TREE),
            "{name}: an X error other than the host's frame race: {error}"
        );
    }

    // One sample before each cycle and one after the last.
    let threads = series(&report, "threads");
    let rss = series(&report, "rss_kib");
    let heap = series(&report, "heap_kib");
    let fds = series(&report, "fds");
    for values in [&threads, &rss, &heap, &fds] {
        assert_eq!(values.len(), CYCLES + 1, "{name}: {values:?}");
    }
    assert_eq!(
        threads[CYCLES], threads[WARM_UP],
        "{name}: threads after the warm-up {} and after {CYCLES} cycles {}: {threads:?}",
        threads[WARM_UP], threads[CYCLES]
    );
    // Open file descriptors: none left behind by an editor (nice-plug's VST3 view made
    // a socket pair per open and never closed it; `vst3_view` releases it).
    assert_eq!(
        fds[CYCLES], fds[WARM_UP],
        "{name}: open files after the warm-up {} and after {CYCLES} cycles {}: {fds:?}",
        fds[WARM_UP], fds[CYCLES]
    );
    let heap_slope = slope(&heap[WARM_UP..]);
    eprintln!(
        "{name}: {CYCLES} cycles in {:.1} s; threads {} → {} → {}; RSS {:.1} → {:.1} → \
         {:.1} MB ({:.0} KiB per cycle after the warm-up); heap in use {:.1} → {:.1} → \
         {:.1} MB ({heap_slope:.0} KiB per cycle; baseview's keymap {keymap_kib:.0} KiB); \
         open files {} → {}; {} X errors of the host's frame race",
        report["seconds"].as_f64().unwrap_or(f64::NAN),
        threads[0],
        threads[WARM_UP],
        threads[CYCLES],
        rss[0] / 1024.0,
        rss[WARM_UP] / 1024.0,
        rss[CYCLES] / 1024.0,
        slope(&rss[WARM_UP..]),
        heap[0] / 1024.0,
        heap[WARM_UP] / 1024.0,
        heap[CYCLES] / 1024.0,
        fds[WARM_UP],
        fds[CYCLES],
        report["x_errors"].as_array().map_or(0, Vec::len),
    );
    assert!(
        heap_slope <= keymap_kib + HEAP_MARGIN_KIB,
        "{name}: the heap in use grows by {heap_slope:.0} KiB per open/close, more than \
         baseview's keymap ({keymap_kib:.0} KiB) and {HEAP_MARGIN_KIB} KiB: {heap:?}"
    );
}

/// The report's per-cycle samples of `key`.
fn series(report: &Value, key: &str) -> Vec<f64> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key}"))
        .iter()
        .map(|v| v.as_f64().unwrap_or_else(|| panic!("{key}: {v}")))
        .collect()
}
