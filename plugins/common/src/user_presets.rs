//! The preset library a plugin and the `oxide` command show: the compiled-in factory
//! presets followed by the user's own, which are files of the same format
//! ([`crate::presets`]) in the platform's data folder:
//! `~/.local/share/oxide/presets/<plugin>/` on Linux (the `directories` crate's data
//! directory elsewhere), or `$OXIDE_PRESET_DIR/<plugin>/` when that variable is set
//! (the tests use it to work in a temporary folder).
//!
//! A user file that cannot be read as a preset of this plugin (corrupt, empty, for the
//! other plugin, a name that is already taken) is reported in [`Library::errors`] and
//! skipped; every other preset still loads, and the file is never written to. Nothing
//! here runs on the audio thread.

use std::path::{Path, PathBuf};

use nice_plug::prelude::{Param, ParamPtr, Params};

use crate::presets::{self, Preset, PresetError, FORMAT_VERSION};

/// The variable that replaces the platform data folder (`$OXIDE_PRESET_DIR/<plugin>/`).
pub const DIR_ENV: &str = "OXIDE_PRESET_DIR";

/// The folder the user presets of `plugin` live in, whether or not it exists yet.
/// `None` only when the platform has no home folder and the variable is not set.
pub fn user_dir(plugin: &str) -> Option<PathBuf> {
    let root = match std::env::var_os(DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => directories::ProjectDirs::from("", "", "oxide")?
            .data_dir()
            .join("presets"),
    };
    Some(root.join(plugin))
}

/// One preset in the library.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub preset: Preset,
    /// The user file it was read from; `None` for a factory preset.
    pub path: Option<PathBuf>,
}

impl Entry {
    pub fn is_user(&self) -> bool {
        self.path.is_some()
    }
}

/// The factory and user presets of one plugin.
#[derive(Debug, Clone)]
pub struct Library {
    pub plugin: String,
    /// The user folder (see [`user_dir`]).
    pub dir: Option<PathBuf>,
    /// Factory presets first, in their table's order, then the user's, by name.
    pub entries: Vec<Entry>,
    /// The user files that were skipped, and why.
    pub errors: Vec<PresetError>,
}

/// Characters a file name made from a preset name keeps; the rest become `-`.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches('-').to_owned();
    if stem.is_empty() {
        String::from("preset")
    } else {
        stem
    }
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The preset file text for the current values of `params`: every parameter that is
/// not at its default, in plain units (a loaded preset resets the others to their
/// defaults, so this is the whole sound).
pub fn preset_text(
    plugin: &str,
    name: &str,
    category: &str,
    description: &str,
    params: &dyn Params,
) -> String {
    let mut text = format!(
        "version = {FORMAT_VERSION}\nplugin = {}\nname = {}\ncategory = {}\ndescription = {}\n\n[params]\n",
        toml_string(plugin),
        toml_string(name.trim()),
        toml_string(category.trim()),
        toml_string(description.trim()),
    );
    for (id, ptr, _) in params.param_map() {
        // SAFETY: `ptr` comes from `param_map()` of `params`, which the caller holds.
        let value = unsafe {
            if ptr.unmodulated_normalized_value() == ptr.default_normalized_value() {
                continue;
            }
            match ptr {
                // `{}` of an f32 is the shortest text that reads back to the same f32.
                ParamPtr::FloatParam(p) => {
                    let v = (*p).unmodulated_plain_value();
                    if v.is_finite() {
                        format!("{v:?}")
                    } else if v > 0.0 {
                        String::from("inf")
                    } else {
                        String::from("-inf")
                    }
                }
                ParamPtr::IntParam(p) => (*p).unmodulated_plain_value().to_string(),
                ParamPtr::BoolParam(p) => (*p).unmodulated_plain_value().to_string(),
                ParamPtr::EnumParam(_) => toml_string(
                    &ptr.normalized_value_to_string(ptr.unmodulated_normalized_value(), false),
                ),
            }
        };
        text.push_str(&format!("{} = {value}\n", toml_string(&id)));
    }
    text
}

impl Library {
    /// The factory presets of `plugin` and the user presets in [`user_dir`]. `params`
    /// is a scratch set of the plugin's parameters (see [`presets::parse`]). A bad
    /// factory preset is an error (a bug, caught by the tests); a bad user file is not.
    pub fn load(plugin: &str, params: &dyn Params) -> Result<Self, PresetError> {
        Self::load_from(plugin, user_dir(plugin), params)
    }

    /// As [`Library::load`] with the user folder `dir`.
    pub fn load_from(
        plugin: &str,
        dir: Option<PathBuf>,
        params: &dyn Params,
    ) -> Result<Self, PresetError> {
        let entries = presets::factory(plugin, params)?
            .into_iter()
            .map(|preset| Entry { preset, path: None })
            .collect();
        let mut library = Library {
            plugin: plugin.to_owned(),
            dir,
            entries,
            errors: Vec::new(),
        };
        library.read_user_files(params);
        Ok(library)
    }

    /// The user presets' files, sorted by path.
    pub fn user_files(&self) -> Vec<PathBuf> {
        let Some(dir) = &self.dir else {
            return Vec::new();
        };
        let Ok(read) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = read
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect();
        files.sort();
        files
    }

    fn read_user_files(&mut self, params: &dyn Params) {
        let mut user: Vec<Entry> = Vec::new();
        for path in self.user_files() {
            match presets::load_file(&path, &self.plugin, params) {
                Ok(preset) => {
                    if let Some(other) = self.find(&preset.name).or_else(|| {
                        user.iter()
                            .find(|e| e.preset.name.eq_ignore_ascii_case(&preset.name))
                    }) {
                        self.errors.push(PresetError {
                            file: path.display().to_string(),
                            key: Some(String::from("name")),
                            message: format!(
                                "'{}' is also the name of {}; this file is skipped",
                                preset.name, other.preset.source
                            ),
                        });
                    } else {
                        user.push(Entry {
                            preset,
                            path: Some(path),
                        });
                    }
                }
                Err(e) => self.errors.push(e),
            }
        }
        user.sort_by_key(|e| e.preset.name.to_lowercase());
        self.entries.extend(user);
    }

    /// Reads the user folder again (after another program changed it).
    pub fn reload(&mut self, params: &dyn Params) {
        self.entries.retain(|e| !e.is_user());
        self.errors.clear();
        self.read_user_files(params);
    }

    /// The preset called `name` (any case).
    pub fn find(&self, name: &str) -> Option<&Entry> {
        let wanted = name.trim().to_lowercase();
        self.entries
            .iter()
            .find(|e| e.preset.name.to_lowercase() == wanted)
    }

    /// The index of the preset called `name` in [`Library::entries`].
    pub fn position(&self, name: &str) -> Option<usize> {
        let wanted = name.trim().to_lowercase();
        self.entries
            .iter()
            .position(|e| e.preset.name.to_lowercase() == wanted)
    }

    /// The categories in order of first appearance, each with its entries' indices.
    pub fn categories(&self) -> Vec<(String, Vec<usize>)> {
        let mut out: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            match out.iter_mut().find(|(c, _)| *c == e.preset.category) {
                Some((_, list)) => list.push(i),
                None => out.push((e.preset.category.clone(), vec![i])),
            }
        }
        out
    }

    fn user_error(&self, key: Option<&str>, message: impl Into<String>) -> PresetError {
        PresetError {
            file: self.dir.as_ref().map_or_else(
                || String::from("(no user folder)"),
                |d| d.display().to_string(),
            ),
            key: key.map(str::to_owned),
            message: message.into(),
        }
    }

    fn check_new_name(&self, name: &str, replacing: Option<&Path>) -> Result<(), PresetError> {
        if name.trim().is_empty() {
            return Err(self.user_error(Some("name"), "a preset needs a name"));
        }
        match self.find(name) {
            Some(e) if !e.is_user() => Err(self.user_error(
                Some("name"),
                format!(
                    "'{}' is a factory preset: choose another name",
                    e.preset.name
                ),
            )),
            Some(e) if e.path.as_deref() != replacing => Err(self.user_error(
                Some("name"),
                format!("a user preset is already called '{}'", e.preset.name),
            )),
            _ => Ok(()),
        }
    }

    /// A path in the user folder for `name` that no other file takes.
    fn new_path(&self, name: &str, keep: Option<&Path>) -> Result<PathBuf, PresetError> {
        let dir = self
            .dir
            .as_ref()
            .ok_or_else(|| self.user_error(None, "there is no folder to save user presets in"))?;
        let stem = file_stem(name);
        for n in 1.. {
            let file = if n == 1 {
                format!("{stem}.toml")
            } else {
                format!("{stem}-{n}.toml")
            };
            let path = dir.join(file);
            if Some(path.as_path()) == keep || !path.exists() {
                return Ok(path);
            }
        }
        unreachable!("an unbounded range ends only by returning")
    }

    fn write(&self, path: &Path, text: &str) -> Result<(), PresetError> {
        let fail = |e: std::io::Error| PresetError {
            file: path.display().to_string(),
            key: None,
            message: format!("cannot write it: {e}"),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        // Written beside and renamed over, so a crash never leaves half a preset.
        let temporary = path.with_extension("toml.part");
        std::fs::write(&temporary, text).map_err(fail)?;
        std::fs::rename(&temporary, path).map_err(fail)
    }

    /// Saves the current values of `params` as the user preset `name`, replacing a user
    /// preset of that name (a factory name is refused). Returns the preset's index.
    pub fn save(
        &mut self,
        name: &str,
        category: &str,
        description: &str,
        params: &dyn Params,
    ) -> Result<usize, PresetError> {
        let existing = self.find(name).filter(|e| e.is_user()).cloned();
        let existing_path = existing.as_ref().and_then(|e| e.path.clone());
        self.check_new_name(name, existing_path.as_deref())?;
        let category = if category.trim().is_empty() {
            "User"
        } else {
            category
        };
        let description = if description.trim().is_empty() {
            "Saved by the user"
        } else {
            description
        };
        let path = match existing_path {
            Some(path) => path,
            None => self.new_path(name, None)?,
        };
        let text = preset_text(&self.plugin, name, category, description, params);
        // The text is checked as a reader will check it before it reaches the disk.
        let preset = presets::parse(&text, &path.display().to_string(), &self.plugin, params)?;
        self.write(&path, &text)?;
        Ok(self.insert_user(preset, path))
    }

    fn insert_user(&mut self, preset: Preset, path: PathBuf) -> usize {
        self.entries
            .retain(|e| e.path.as_deref() != Some(path.as_path()));
        let first_user = self.entries.iter().position(Entry::is_user);
        let at = self.entries[first_user.unwrap_or(self.entries.len())..]
            .iter()
            .position(|e| e.preset.name.to_lowercase() > preset.name.to_lowercase())
            .map(|i| i + first_user.unwrap_or(self.entries.len()))
            .unwrap_or(self.entries.len());
        self.entries.insert(
            at,
            Entry {
                preset,
                path: Some(path),
            },
        );
        at
    }

    /// Renames the user preset `old` to `new` (its file too). Returns its new index.
    /// `params` is a scratch set of the plugin's parameters; it is left at the preset.
    pub fn rename(
        &mut self,
        old: &str,
        new: &str,
        params: &dyn Params,
    ) -> Result<usize, PresetError> {
        let entry = self
            .find(old)
            .cloned()
            .ok_or_else(|| self.user_error(None, format!("there is no preset called '{old}'")))?;
        let Some(old_path) = entry.path.clone() else {
            return Err(self.user_error(
                Some("name"),
                format!(
                    "'{}' is a factory preset and cannot be renamed",
                    entry.preset.name
                ),
            ));
        };
        self.check_new_name(new, Some(&old_path))?;
        // The file is written again from the preset's values (set on the scratch
        // `params`), so the renamed preset sounds exactly as it did.
        entry.preset.apply(params)?;
        let text = preset_text(
            &self.plugin,
            new,
            &entry.preset.category,
            &entry.preset.description,
            params,
        );
        let new_path = self.new_path(new, Some(&old_path))?;
        let preset = presets::parse(&text, &new_path.display().to_string(), &self.plugin, params)?;
        self.write(&new_path, &text)?;
        if new_path != old_path {
            std::fs::remove_file(&old_path).map_err(|e| PresetError {
                file: old_path.display().to_string(),
                key: None,
                message: format!("renamed, but the old file cannot be removed: {e}"),
            })?;
        }
        self.entries
            .retain(|e| e.path.as_deref() != Some(old_path.as_path()));
        Ok(self.insert_user(preset, new_path))
    }

    /// Deletes the user preset `name` and its file.
    pub fn delete(&mut self, name: &str) -> Result<(), PresetError> {
        let entry = self
            .find(name)
            .cloned()
            .ok_or_else(|| self.user_error(None, format!("there is no preset called '{name}'")))?;
        let Some(path) = entry.path else {
            return Err(self.user_error(
                Some("name"),
                format!(
                    "'{}' is a factory preset and cannot be deleted",
                    entry.preset.name
                ),
            ));
        };
        std::fs::remove_file(&path).map_err(|e| PresetError {
            file: path.display().to_string(),
            key: None,
            message: format!("cannot delete it: {e}"),
        })?;
        self.entries.retain(|e| e.path.as_ref() != Some(&path));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe_names() {
        assert_eq!(file_stem("My Vocal / take 2"), "my-vocal---take-2");
        assert_eq!(file_stem("  ../.. "), "preset");
    }

    #[test]
    fn toml_strings_escape_quotes_and_controls() {
        let text = "a \"b\" \\ c\n\u{1}";
        let table: toml::Table = format!("x = {}", toml_string(text)).parse().unwrap();
        assert_eq!(table["x"].as_str(), Some(text));
    }
}
