//! The plugins' presets as a VST3 host sees them: `oxide presets --vst3 DIR` writes one
//! `.vstpreset` file per factory preset (in a folder per category) whose component
//! state holds exactly the values the preset names; pedalboard (a JUCE-based VST3 host)
//! loads each file into one instance of the built `.vst3`, in turn, and renders a
//! programme; the output is bit for bit what `oxide process --preset` writes.
//!
//! Tolerance: none (see `cli_matches_the_plugin.rs`: the same chain code built the same
//! way on both sides, 32-bit float files). A preset file the host refused (a wrong
//! class id, a state the plugin did not take) would leave the previous settings in
//! place and fail the comparison.

use std::time::Duration;

use nice_plug::prelude::PluginState;
use oxide_host_tests::python::{run_with_timeout, script_command};
use oxide_host_tests::{
    assert_bit_identical, read_float_wav, run_oxide, write_stereo_programme, Plugin,
};
use oxide_plugin_common::param_access;
use oxide_plugin_common::presets;
use oxide_plugin_common::vst3_preset::{self, COMPONENT_CHUNK};

const RATE: u32 = 48_000;

fn check(plugin: Plugin) {
    let dir = tempfile::tempdir().unwrap();
    // No user presets: the folder is empty, so the files are the factory's.
    let user_dir = dir.path().join("user");
    let preset_dir = dir.path().join("vst3");
    run_oxide(
        &[
            "presets",
            "--plugin",
            plugin.preset_id(),
            "--vst3",
            preset_dir.to_str().unwrap(),
        ],
        &user_dir,
    );
    let factory = presets::factory(plugin.preset_id(), plugin.default_params().as_ref()).unwrap();
    let written = walk(&preset_dir);
    assert_eq!(written.len(), factory.len(), "{written:?}");

    let input_path = dir.path().join("in.wav");
    write_stereo_programme(&input_path, RATE);

    let mut jobs = Vec::new();
    let mut expected = Vec::new();
    for (i, preset) in factory.iter().enumerate() {
        let file = preset_dir
            .join(vst3_preset::file_name(&preset.category))
            .join(format!(
                "{}.vstpreset",
                vst3_preset::file_name(&preset.name)
            ));
        // The component state is the preset's values, as the plugin saves them.
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let read = vst3_preset::read(&bytes).expect("a .vstpreset file");
        let state: PluginState =
            serde_json::from_slice(read.chunk(COMPONENT_CHUNK).expect("a component chunk"))
                .unwrap();
        let values = plugin.default_params();
        preset.apply(values.as_ref()).unwrap();
        assert_eq!(
            format!("{:?}", state.params),
            format!("{:?}", param_access::state_values(values.as_ref())),
            "{}",
            preset.name
        );

        let offline = dir.path().join(format!("oxide-{i}.wav"));
        run_oxide(
            &[
                "process",
                "--plugin",
                plugin.preset_id(),
                "--preset",
                &preset.name,
                "--block-size",
                "512",
                "--bits",
                "32f",
                input_path.to_str().unwrap(),
                offline.to_str().unwrap(),
            ],
            &user_dir,
        );
        let offline = read_float_wav(&offline, 2);
        jobs.push(serde_json::json!({
            "preset": file,
            "frames": offline[0].len(),
            "output": dir.path().join(format!("host-{i}.wav")),
        }));
        expected.push((preset.name.clone(), offline));
    }
    let jobs_path = dir.path().join("jobs.json");
    let spec = serde_json::json!({ "input": input_path, "jobs": jobs });
    std::fs::write(&jobs_path, spec.to_string()).unwrap();

    let (mut command, script, _) = script_command(plugin, "vst3_presets.py");
    command.arg(&jobs_path);
    let run = run_with_timeout(command, Duration::from_secs(600))
        .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
    assert!(
        run.status.success(),
        "vst3_presets.py failed: {}\n{}",
        run.stdout,
        run.stderr
    );

    for (i, (name, offline)) in expected.iter().enumerate() {
        let in_host = read_float_wav(&dir.path().join(format!("host-{i}.wav")), 2);
        assert_bit_identical(offline, &in_host, name);
    }
}

/// Every file under `dir`, sorted.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn channel_strip_vst3_presets_sound_as_oxide_process_preset() {
    check(Plugin::ChannelStrip);
}

#[test]
fn mastering_chain_vst3_presets_sound_as_oxide_process_preset() {
    check(Plugin::MasteringChain);
}
