//! `oxide presets` and the `--preset NAME|FILE` option of `process` and `master`: the
//! same factory and user presets the plugins list (`oxide_plugin_common::user_presets`).

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use nice_plug::prelude::Params;
use oxide_plugin_common::param_access;
use oxide_plugin_common::presets;
use oxide_plugin_common::user_presets::Library;
use oxide_plugin_common::vst3_preset;

use crate::plugins::PluginKind;

/// The library of `plugin`, its skipped user files reported on stderr.
fn library(plugin: PluginKind) -> Result<Library> {
    let scratch = plugin.default_params();
    let library =
        Library::load(plugin.preset_id(), scratch.as_params()).map_err(|e| anyhow!("{e}"))?;
    for error in &library.errors {
        eprintln!("oxide: warning: skipped a user preset: {error}");
    }
    Ok(library)
}

/// `oxide presets`: name, category, description (and the file of a user preset).
pub fn list(plugin: PluginKind, json: bool) -> Result<()> {
    let library = library(plugin)?;
    if json {
        let entries: Vec<serde_json::Value> = library
            .entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "name": e.preset.name,
                    "category": e.preset.category,
                    "description": e.preset.description,
                    "user": e.is_user(),
                    "file": e.path.as_ref().map(|p| p.display().to_string()),
                })
            })
            .collect();
        let skipped: Vec<String> = library.errors.iter().map(|e| e.to_string()).collect();
        let document = serde_json::json!({
            "plugin": plugin.display_name(),
            "user_folder": library.dir.as_ref().map(|d| d.display().to_string()),
            "presets": entries,
            "skipped": skipped,
        });
        println!("{}", serde_json::to_string_pretty(&document)?);
        return Ok(());
    }
    println!("{}", plugin.display_name());
    let name_width = library
        .entries
        .iter()
        .map(|e| e.preset.name.chars().count())
        .max()
        .unwrap_or(0);
    for (category, indices) in library.categories() {
        println!("\n{category}");
        for i in indices {
            let e = &library.entries[i];
            let mark = if e.is_user() { " (user)" } else { "" };
            println!(
                "  {:<name_width$}  {}{mark}",
                e.preset.name, e.preset.description
            );
        }
    }
    if let Some(dir) = &library.dir {
        println!("\nUser presets: {}", dir.display());
    }
    Ok(())
}

/// `oxide presets --vst3 [DIR]`: every preset of the library as a `.vstpreset` file in
/// `DIR/CATEGORY/NAME.vstpreset` (an empty `dir`: the folder VST3 hosts read). Each
/// file is written beside and renamed into place; existing files of the same name are
/// replaced (they are this command's own output). Two presets whose names make the same
/// file name are both written (the later as `NAME (2).vstpreset`).
pub fn export_vst3(plugin: PluginKind, dir: &Path) -> Result<()> {
    let (class_id, vendor, version) = plugin.vst3_identity();
    let dir = if dir.as_os_str().is_empty() {
        vst3_preset::user_folder(vendor, plugin.display_name()).context(
            "no home folder to find the VST3 preset folder in: name a folder (--vst3 DIR)",
        )?
    } else {
        dir.to_path_buf()
    };
    let library = library(plugin)?;
    // The library lists factory presets first: a user preset is the one renamed.
    let mut taken = std::collections::HashSet::new();
    for entry in &library.entries {
        let preset = &entry.preset;
        let fresh = plugin.default_params();
        let state = vst3_preset::preset_state(preset, fresh.as_params(), version)
            .map_err(|e| anyhow!("{e}"))?;
        let bytes = vst3_preset::file(&class_id, &state, plugin.display_name(), &preset.category);
        let folder = dir.join(vst3_preset::file_name(&preset.category));
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("could not create {}", folder.display()))?;
        let stem = vst3_preset::file_name(&preset.name);
        let mut path = folder.join(format!("{stem}.vstpreset"));
        // Names are unique in the library, but two can make the same file name once
        // the characters no file system takes are replaced ("Lead/Dry", "Lead:Dry"):
        // the later one gets " (2)", " (3)", … rather than replace the earlier one.
        // Compared as the folder would (case-insensitive on macOS and Windows).
        let mut copy = 1;
        while !taken.insert(path.to_string_lossy().to_lowercase()) {
            copy += 1;
            path = folder.join(format!("{stem} ({copy}).vstpreset"));
        }
        let temporary = path.with_extension("vstpreset.part");
        std::fs::write(&temporary, &bytes)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    println!(
        "{} VST3 presets of {} written to {}",
        library.entries.len(),
        plugin.display_name(),
        dir.display()
    );
    Ok(())
}

/// Applies `--preset`: a preset's name (factory or user, any case), a preset file
/// (`.toml`), or the plugin state JSON a host saves (`.json`, as before presets existed).
/// Every parameter the preset does not name goes back to its default.
pub fn apply(plugin: PluginKind, params: &dyn Params, preset: &str) -> Result<()> {
    let path = Path::new(preset);
    if path.is_file() {
        if path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        {
            let json = std::fs::read(path)
                .with_context(|| format!("could not read the preset '{}'", path.display()))?;
            let unknown = param_access::apply_state_json(params, &json)
                .with_context(|| format!("the preset '{}' was not applied", path.display()))?;
            for id in unknown {
                eprintln!(
                    "oxide: warning: the preset sets '{id}', which this version does not know; skipped"
                );
            }
            return Ok(());
        }
        let scratch = plugin.default_params();
        let preset = presets::load_file(path, plugin.preset_id(), scratch.as_params())
            .map_err(|e| anyhow!("{e}"))?;
        return preset.apply(params).map_err(|e| anyhow!("{e}"));
    }
    let library = library(plugin)?;
    match library.find(preset) {
        Some(entry) => entry.preset.apply(params).map_err(|e| anyhow!("{e}")),
        None if has_preset_extension(path) => {
            bail!(
                "could not read the preset '{}': there is no such file",
                path.display()
            )
        }
        None => {
            let names: Vec<&str> = library
                .entries
                .iter()
                .map(|e| e.preset.name.as_str())
                .collect();
            bail!(
                "no {} preset or file is called '{preset}' (presets: {}; see `oxide presets --plugin {}`)",
                plugin.display_name(),
                names.join(", "),
                plugin.preset_id()
            )
        }
    }
}

/// Whether `path` names a preset file by its extension (`.json` or `.toml`): a
/// missing file is then reported as one, not as an unknown preset name.
fn has_preset_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("json") || x.eq_ignore_ascii_case("toml"))
}
