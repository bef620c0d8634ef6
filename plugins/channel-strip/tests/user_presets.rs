//! The user preset library on the channel strip's real parameters, in a temporary
//! folder: save, rename and delete round-trip through files; a corrupt, empty or foreign
//! file is reported and skipped while the others load, and it is never written to.

use channel_strip::StripParams;
use oxide_plugin_common::history::Snapshot;
use oxide_plugin_common::param_access;
use oxide_plugin_common::presets::{self, CHANNEL_STRIP};
use oxide_plugin_common::user_presets::Library;

fn library(dir: &std::path::Path) -> Library {
    Library::load_from(
        CHANNEL_STRIP,
        Some(dir.to_path_buf()),
        &StripParams::default(),
    )
    .unwrap()
}

#[test]
fn save_rename_delete_round_trip_through_files() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("channel-strip");
    let mut lib = library(&dir);
    let factory_count = lib.entries.len();
    assert!(lib.errors.is_empty());

    // Settings from a factory preset, changed a little, saved as the user's.
    let live = StripParams::default();
    lib.find("Kick").unwrap().preset.apply(&live).unwrap();
    param_access::set_from_text(&live, "out_gain", "-3.7").unwrap();
    param_access::set_from_text(&live, "eq2_type", "high shelf").unwrap();
    let saved = Snapshot::take(&live);
    let scratch = StripParams::default();
    lib.save("My Kick", "Drums", "Darker", scratch_from(&live, &scratch))
        .unwrap();
    assert!(dir.join("my-kick.toml").is_file());
    // A factory name is refused.
    assert!(lib.save("kick", "", "", &live).is_err());

    // Read back from the folder, the preset gives exactly the saved values.
    let lib2 = library(&dir);
    assert_eq!(lib2.entries.len(), factory_count + 1);
    let mine = lib2.find("my kick").unwrap();
    assert!(mine.is_user());
    assert_eq!(mine.preset.category, "Drums");
    let loaded = StripParams::default();
    mine.preset.apply(&loaded).unwrap();
    assert_eq!(Snapshot::take(&loaded), saved);

    // Rename moves the file and keeps the sound.
    let mut lib = lib2;
    lib.rename("My Kick", "Kick, darker", &StripParams::default())
        .unwrap();
    assert!(!dir.join("my-kick.toml").exists());
    assert!(dir.join("kick--darker.toml").is_file());
    let lib3 = library(&dir);
    let renamed = lib3.find("Kick, darker").unwrap();
    let loaded = StripParams::default();
    renamed.preset.apply(&loaded).unwrap();
    assert_eq!(Snapshot::take(&loaded), saved);
    // Factory presets cannot be renamed or deleted.
    let mut lib = lib3;
    assert!(lib
        .rename("Snare", "Mine", &StripParams::default())
        .is_err());
    assert!(lib.delete("Snare").is_err());

    lib.delete("kick, darker").unwrap();
    assert!(!dir.join("kick--darker.toml").exists());
    assert_eq!(library(&dir).entries.len(), factory_count);
}

/// `live`'s values on a separate set (what the editor passes: a copy, not the params
/// the audio reads).
fn scratch_from<'a>(live: &StripParams, scratch: &'a StripParams) -> &'a StripParams {
    for (id, ptr, _) in nice_plug::prelude::Params::param_map(live) {
        // SAFETY: the pointer comes from `param_map()` of `live`, alive here.
        let v = unsafe { ptr.unmodulated_normalized_value() };
        param_access::set_normalized(scratch, &id, v).unwrap();
    }
    scratch
}

#[test]
fn corrupt_empty_and_foreign_files_are_reported_skipped_and_left_alone() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("channel-strip");
    std::fs::create_dir_all(&dir).unwrap();
    let good = presets::factory_files(CHANNEL_STRIP)[0]
        .text
        .replace("name = \"Lead Vocal\"", "name = \"My Voice\"");
    let files: [(&str, &[u8]); 5] = [
        ("a-good.toml", good.as_bytes()),
        ("b-corrupt.toml", b"version = 1\n[params\n"),
        ("c-empty.toml", b""),
        (
            "d-foreign.toml",
            presets::factory_files(presets::MASTERING_CHAIN)[0]
                .text
                .as_bytes(),
        ),
        ("e-binary.toml", &[0xff, 0xfe, 0x00, 0x01]),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let lib = library(&dir);
    let user: Vec<&str> = lib
        .entries
        .iter()
        .filter(|e| e.is_user())
        .map(|e| e.preset.name.as_str())
        .collect();
    assert_eq!(user, ["My Voice"]);
    assert_eq!(lib.errors.len(), 4, "{:?}", lib.errors);
    let messages: Vec<String> = lib.errors.iter().map(|e| e.to_string()).collect();
    assert!(messages[0].contains("b-corrupt.toml") && messages[0].contains("TOML"));
    assert!(messages[1].contains("c-empty.toml") && messages[1].contains("empty"));
    assert!(messages[2].contains("d-foreign.toml") && messages[2].contains("mastering-chain"));
    assert!(messages[3].contains("e-binary.toml") && messages[3].contains("UTF-8"));
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(dir.join(name)).unwrap(), bytes, "{name}");
    }
}
