//! Tags: read from any input with `lofty`, carried over, edited with `--tag KEY=VALUE`,
//! written as Vorbis comments (FLAC) or RIFF LIST/INFO plus an ID3v2 chunk (WAV).
//!
//! Keys are Vorbis-comment field names in upper case (`TITLE`, `ARTIST`, `ALBUM`,
//! `TRACKNUMBER`, `DATE`, `ISRC`, `REPLAYGAIN_TRACK_GAIN`, …), whatever the format they
//! came from or go to.

use std::path::Path;

use anyhow::{bail, Context, Result};
use lofty::config::WriteOptions;
use lofty::file::TaggedFileExt;
use lofty::id3::v2::{Frame, Id3v2Tag};
use lofty::ogg::tag::VorbisComments;
use lofty::tag::{ItemKey, Tag, TagExt, TagType};

/// Tags as (KEY, value) pairs in order; a key may repeat (several artists).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(pub Vec<(String, String)>);

impl Tags {
    /// The tags of `path`; none when the file has none or `lofty` cannot read the
    /// format (CAF, for one): tags never stop audio from being read.
    pub fn read(path: &Path) -> Tags {
        let Ok(file) = lofty::read_from_path(path) else {
            return Tags::default();
        };
        let mut tags = Tags::default();
        for tag in file.tags() {
            for item in tag.items() {
                let (Some(key), Some(text)) = (
                    item.key().map_key(TagType::VorbisComments),
                    item.value().text(),
                ) else {
                    continue;
                };
                let pair = (key.to_ascii_uppercase(), text.to_string());
                if !tags.0.contains(&pair) {
                    tags.0.push(pair);
                }
            }
        }
        tags
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Sets `key` to `value` (replacing every earlier value); an empty value removes it.
    pub fn set(&mut self, key: &str, value: &str) {
        let key = key.trim().to_ascii_uppercase();
        self.0.retain(|(k, _)| *k != key);
        if !value.is_empty() {
            self.0.push((key, value.to_string()));
        }
    }

    /// Applies `--tag KEY=VALUE` / `--tag KEY=` edits in order.
    pub fn edit(&mut self, edits: &[String]) -> Result<()> {
        for edit in edits {
            match edit.split_once('=') {
                Some((key, value))
                    if !key.trim().is_empty()
                        && key.trim().chars().all(|c| c.is_ascii_graphic() && c != '=') =>
                {
                    self.set(key, value)
                }
                _ => bail!("--tag wants KEY=VALUE (or KEY= to clear), got '{edit}'"),
            }
        }
        Ok(())
    }

    /// Writes the tags into a finished file at `path` (FLAC or WAV, chosen by `flac`).
    /// Keys that WAV's INFO/ID3 mapping has no field for are reported and skipped.
    pub fn write_into(&self, path: &Path, flac: bool) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let options = WriteOptions::default();
        let context = || format!("could not write the tags into '{}'", path.display());
        if flac {
            let mut comments = VorbisComments::default();
            for (key, value) in &self.0 {
                comments.push(key.clone(), value.clone());
            }
            comments.save_to_path(path, options).with_context(context)?;
            return Ok(());
        }
        let mut info = Tag::new(TagType::RiffInfo);
        let mut id3 = Tag::new(TagType::Id3v2);
        for (key, value) in &self.0 {
            let Some(item) = ItemKey::from_key(TagType::VorbisComments, key) else {
                eprintln!("oxide: warning: a WAV file has no field for the tag {key}; skipped");
                continue;
            };
            info.insert_text(item, value.clone());
            id3.insert_text(item, value.clone());
        }
        info.save_to_path(path, options).with_context(context)?;
        // lofty's conversion of a generic tag to ID3v2 frames goes through a hash set,
        // whose order changes from run to run; the frames are put in a fixed order so
        // that the same input gives the same bytes.
        let mut frames: Vec<Frame<'static>> = Id3v2Tag::from(id3).into_iter().collect();
        frames.sort_by_cached_key(|f| format!("{f:?}"));
        let mut ordered = Id3v2Tag::default();
        for frame in frames {
            ordered.insert(frame);
        }
        ordered.save_to_path(path, options).with_context(context)?;
        Ok(())
    }
}
