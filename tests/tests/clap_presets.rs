//! The plugins' presets as a CLAP host sees them: the preset-discovery factory lists
//! every factory preset (and the user's) with its name, description, category and
//! plugin id; the preset-load extension loads each one to exactly the values the preset
//! names; and the loaded plugin's output is bit for bit what `oxide process --preset`
//! writes for the same preset.
//!
//! Tolerance: none. The values are compared as nice-plug saves them (plain values and
//! choice ids, from the plugin's own state), the audio as f32 bits: both sides run the
//! same chain code built the same way (see `cli_matches_the_plugin.rs`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap_sys::factory::preset_discovery::{
    CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT, CLAP_PRESET_DISCOVERY_IS_USER_CONTENT,
    CLAP_PRESET_DISCOVERY_LOCATION_FILE, CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
};
use std::collections::BTreeMap;

use nice_plug::plugin::ParamValue;
use nice_plug::prelude::PluginState;
use oxide_host_tests::clap::ClapInstance;
use oxide_host_tests::preset_discovery::{self, Crawl};
use oxide_host_tests::{
    assert_bit_identical, read_float_wav, run_oxide, write_stereo_programme, Plugin,
};
use oxide_plugin_common::param_access;
use oxide_plugin_common::presets::{self, Preset};
use oxide_plugin_common::user_presets::{self, Library};

/// The user folder every test in this process uses (`OXIDE_PRESET_DIR`, set once before
/// any plugin reads it): per plugin, one user preset saved through the library and one
/// corrupt file, whose bytes are kept to check nothing writes to it.
struct UserFolder {
    dir: tempfile::TempDir,
    corrupt: Vec<(PathBuf, Vec<u8>)>,
}

fn user_folder() -> &'static UserFolder {
    static FOLDER: OnceLock<UserFolder> = OnceLock::new();
    FOLDER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: set once, before any test of this process reads the environment.
        unsafe { std::env::set_var(user_presets::DIR_ENV, dir.path()) };
        let mut corrupt = Vec::new();
        for plugin in Plugin::ALL {
            let params = plugin.default_params();
            let mut library = Library::load(plugin.preset_id(), params.as_ref()).unwrap();
            // A factory preset with two values changed, saved as the user's.
            library.entries[1].preset.apply(params.as_ref()).unwrap();
            param_access::set_from_text(params.as_ref(), "out_gain", "-2.5").unwrap();
            param_access::set_from_text(params.as_ref(), "in_gain", "1.25").unwrap();
            library
                .save("My Preset", "Mine", "Saved by the test", params.as_ref())
                .unwrap();
            let bad = library.dir.clone().unwrap().join("broken.toml");
            let bytes = b"version = 1\nplugin = \"".to_vec();
            std::fs::write(&bad, &bytes).unwrap();
            corrupt.push((bad, bytes));
        }
        UserFolder { dir, corrupt }
    })
}

fn crawl(plugin: Plugin) -> Crawl {
    user_folder();
    preset_discovery::crawl(&plugin.clap_path()).unwrap()
}

fn factory(plugin: Plugin) -> Vec<Preset> {
    presets::factory(plugin.preset_id(), plugin.default_params().as_ref()).unwrap()
}

#[test]
fn discovery_lists_every_factory_and_user_preset_with_its_metadata() {
    for plugin in Plugin::ALL {
        let crawl = crawl(plugin);
        assert_eq!(crawl.providers, [format!("{}.presets", plugin.clap_id())]);
        assert_eq!(crawl.file_extensions, ["toml"]);
        let user_dir = user_folder().dir.path().join(plugin.preset_id());
        assert_eq!(crawl.locations.len(), 2, "{:?}", crawl.locations);
        assert_eq!(
            crawl.locations[0].kind,
            CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN
        );
        assert_eq!(
            crawl.locations[0].flags,
            CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT
        );
        assert_eq!(crawl.locations[1].kind, CLAP_PRESET_DISCOVERY_LOCATION_FILE);
        assert_eq!(
            crawl.locations[1].flags,
            CLAP_PRESET_DISCOVERY_IS_USER_CONTENT
        );
        assert_eq!(
            crawl.locations[1].path.as_deref().map(Path::new),
            Some(user_dir.as_path())
        );

        let files = presets::factory_files(plugin.preset_id());
        let expected = factory(plugin);
        let (in_plugin, in_files): (Vec<_>, Vec<_>) = crawl
            .presets
            .iter()
            .partition(|p| p.location_kind == CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN);
        assert_eq!(in_plugin.len(), expected.len());
        for ((found, preset), file) in in_plugin.iter().zip(&expected).zip(files) {
            assert_eq!(found.name.as_deref(), Some(preset.name.as_str()));
            assert_eq!(found.load_key.as_deref(), Some(file.file_name));
            assert_eq!(
                found.description.as_deref(),
                Some(preset.description.as_str())
            );
            assert_eq!(found.features, std::slice::from_ref(&preset.category));
            assert_eq!(
                found.plugin_ids,
                [(String::from("clap"), plugin.clap_id().to_owned())]
            );
            assert_eq!(found.flags, Some(CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT));
            assert_eq!(found.creators, ["Oxide"]);
        }

        // The user's preset is listed from its file; the corrupt file is reported as an
        // error, skipped, and left as it was.
        assert_eq!(in_files.len(), 1, "{in_files:?}");
        let mine = in_files[0];
        assert_eq!(mine.name.as_deref(), Some("My Preset"));
        assert_eq!(mine.load_key, None);
        assert_eq!(mine.features, ["Mine"]);
        assert_eq!(mine.flags, Some(CLAP_PRESET_DISCOVERY_IS_USER_CONTENT));
        assert_eq!(crawl.errors.len(), 1, "{:?}", crawl.errors);
        assert!(crawl.errors[0].0.ends_with("broken.toml"));
        assert!(
            crawl.errors[0].1.contains("not a valid TOML file"),
            "{:?}",
            crawl.errors
        );
        for (path, bytes) in &user_folder().corrupt {
            assert_eq!(&std::fs::read(path).unwrap(), bytes);
        }
    }
}

/// Parameter values as nice-plug saves them in a state, by id.
type Values = BTreeMap<String, ParamValue>;

/// The plugin's parameter values as its state saves them.
fn state_values(instance: &mut ClapInstance) -> Values {
    let bytes = instance.save_state().unwrap();
    // nice-plug's CLAP state is an 8-byte length, then the JSON.
    let state: PluginState = serde_json::from_slice(&bytes[8..]).unwrap();
    state.params
}

/// The values `preset` gives, as nice-plug saves them.
fn expected_values(plugin: Plugin, preset: &Preset) -> Values {
    let params = plugin.default_params();
    preset.apply(params.as_ref()).unwrap();
    param_access::state_values(params.as_ref())
}

#[test]
fn every_preset_loads_to_its_values_and_sounds_as_oxide_process_preset() {
    const RATE: u32 = 48_000;
    const BLOCK: usize = 512;
    let dir = tempfile::tempdir().unwrap();
    let input_path = dir.path().join("in.wav");
    let input = write_stereo_programme(&input_path, RATE);
    user_folder();

    for plugin in Plugin::ALL {
        let crawl = crawl(plugin);
        // One instance loads every preset in turn, as a host's browser does: a preset
        // must not keep anything of the one before.
        let mut instance = ClapInstance::new(plugin).unwrap();
        let default_values = state_values(&mut instance);
        let mut changed = 0;
        for found in &crawl.presets {
            let name = found.name.clone().unwrap();
            let (preset, location) = match found.location_kind {
                CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN => (
                    presets::find(&factory(plugin), &name).unwrap().clone(),
                    None,
                ),
                _ => {
                    let path = found.path.clone().unwrap();
                    let preset = presets::load_file(
                        Path::new(&path),
                        plugin.preset_id(),
                        plugin.default_params().as_ref(),
                    )
                    .unwrap();
                    (preset, Some(path))
                }
            };
            instance
                .load_preset(
                    found.location_kind,
                    location.as_deref(),
                    found.load_key.as_deref(),
                )
                .unwrap();
            let loaded = state_values(&mut instance);
            // `ParamValue` has no `PartialEq`; its `Debug` text is exact (an f32's shortest
            // text reads back to the same f32).
            assert_eq!(
                format!("{loaded:?}"),
                format!("{:?}", expected_values(plugin, &preset)),
                "{name}"
            );
            assert_ne!(
                format!("{loaded:?}"),
                format!("{default_values:?}"),
                "{name} changes nothing"
            );

            // The same preset through the command, by name.
            let output_path = dir.path().join("out.wav");
            let args = [
                "process",
                "--plugin",
                plugin.preset_id(),
                "--preset",
                &name,
                "--block-size",
                "512",
                "--bits",
                "32f",
                "--force",
                input_path.to_str().unwrap(),
                output_path.to_str().unwrap(),
            ];
            run_oxide(&args, user_folder().dir.path());
            let offline = read_float_wav(&output_path, 2);
            let rendered = offline[0].len();
            let padded: Vec<Vec<f32>> = input
                .iter()
                .map(|c| {
                    let mut c = c.clone();
                    c.resize(rendered, 0.0);
                    c
                })
                .collect();
            instance.activate(RATE as f64, 1, BLOCK).unwrap();
            let in_host = instance
                .process_compensated(&padded, &[BLOCK], &[])
                .unwrap();
            instance.deactivate();
            if offline
                .iter()
                .zip(&padded)
                .any(|(a, x)| a.iter().zip(x).any(|(a, x)| a != x))
            {
                changed += 1;
            }
            assert_bit_identical(&offline, &in_host, &name);
        }
        // Every preset was tried: the factory's and the user's.
        assert_eq!(crawl.presets.len(), factory(plugin).len() + 1);
        // Not vacuous: most presets change this programme (a mastering preset whose
        // limiter and loudness gain do not reach a quiet programme may leave it as it
        // is, bit for bit).
        assert!(
            changed * 2 > crawl.presets.len(),
            "{} of {} presets change the signal",
            changed,
            crawl.presets.len()
        );
    }
}

#[test]
fn a_missing_preset_is_refused_and_changes_nothing() {
    user_folder();
    for plugin in Plugin::ALL {
        let mut instance = ClapInstance::new(plugin).unwrap();
        let before = state_values(&mut instance);
        assert!(instance
            .load_preset(
                CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
                None,
                Some("nothing.toml")
            )
            .is_err());
        let broken = &user_folder().corrupt[0].0;
        assert!(instance
            .load_preset(CLAP_PRESET_DISCOVERY_LOCATION_FILE, broken.to_str(), None)
            .is_err());
        assert_eq!(
            format!("{:?}", state_values(&mut instance)),
            format!("{before:?}")
        );
    }
}
