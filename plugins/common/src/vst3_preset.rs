//! VST3 preset files (`.vstpreset`), so a VST3 host's preset browser lists Oxide's
//! presets as CLAP hosts do through preset discovery.
//!
//! The format is Steinberg's (VST 3 SDK, `public.sdk/source/vst/vstpresetfile.h`):
//!
//! ```text
//! header   'VST3'  version i32 = 1  class id (32 ASCII hex digits)  list offset i64
//! data     'Comp' chunk: the component's state, as IComponent::getState writes it
//!          'Info' chunk: XML meta information (media type, plug-in name, category)
//! list     'List'  entry count i32  { chunk id (4 bytes)  offset i64  size i64 }…
//! ```
//!
//! All integers are little-endian. The class id is the plug-in's 16-byte VST3 class id
//! written as hex, byte by byte (the SDK's `FUID::toString` where the id is not
//! COM-ordered, as on Linux and macOS). A host checks it against the plug-in it loads
//! the preset into, then hands the 'Comp' chunk to `IComponent::setState`: for an
//! Oxide plug-in, nice-plug's JSON state ([`preset_state`]).
//!
//! The files are written by `oxide presets --vst3` into the folder VST3 hosts look in
//! ([`user_folder`]); nothing here runs on the audio thread.

use std::path::PathBuf;

use nice_plug::prelude::{Params, PluginState};

use crate::presets::{Preset, PresetError};
use crate::state_version::{STATE_VERSION, STATE_VERSION_FIELD};

/// The chunk holding the component's state.
pub const COMPONENT_CHUNK: [u8; 4] = *b"Comp";
/// The chunk holding the meta information (XML).
pub const INFO_CHUNK: [u8; 4] = *b"Info";

/// The header's size: 'VST3', version, class id, list offset.
const HEADER_SIZE: usize = 4 + 4 + 32 + 8;

/// The state a host gives `IComponent::setState` for `preset`: nice-plug's JSON with
/// every parameter's value after the preset is applied to `fresh` (a default set of the
/// plug-in's parameters), this version's state version, and `version` (the plug-in's)
/// as nice-plug writes it. No editor fields: loading a preset keeps the window as it
/// is.
pub fn preset_state(
    preset: &Preset,
    fresh: &dyn Params,
    version: &str,
) -> Result<Vec<u8>, PresetError> {
    preset.apply(fresh)?;
    let state = PluginState {
        version: version.to_owned(),
        params: crate::param_access::state_values(fresh),
        fields: [(STATE_VERSION_FIELD.to_owned(), STATE_VERSION.to_string())].into(),
    };
    Ok(serde_json::to_vec(&state).expect("a state of plain values serializes"))
}

/// A `.vstpreset` file for the plug-in whose VST3 class id is `class_id`, holding
/// `component_state` and meta information naming the plug-in and the preset's
/// category.
pub fn file(
    class_id: &[u8; 16],
    component_state: &[u8],
    plugin_name: &str,
    category: &str,
) -> Vec<u8> {
    let info = meta_info(plugin_name, category);
    let chunks: [(&[u8; 4], &[u8]); 2] = [
        (&COMPONENT_CHUNK, component_state),
        (&INFO_CHUNK, info.as_bytes()),
    ];
    let mut out = Vec::with_capacity(HEADER_SIZE + component_state.len() + info.len() + 64);
    out.extend_from_slice(b"VST3");
    out.extend_from_slice(&1i32.to_le_bytes());
    for byte in class_id {
        out.extend_from_slice(format!("{byte:02X}").as_bytes());
    }
    let list_offset_at = out.len();
    out.extend_from_slice(&0i64.to_le_bytes());
    let mut entries = Vec::new();
    for (id, data) in chunks {
        entries.push((id, out.len() as i64, data.len() as i64));
        out.extend_from_slice(data);
    }
    let list_offset = out.len() as i64;
    out[list_offset_at..list_offset_at + 8].copy_from_slice(&list_offset.to_le_bytes());
    out.extend_from_slice(b"List");
    out.extend_from_slice(&(entries.len() as i32).to_le_bytes());
    for (id, offset, size) in entries {
        out.extend_from_slice(id);
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
    }
    out
}

/// What a `.vstpreset` file holds, as read back by [`read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetFile {
    /// The class id, as the 32 hex digits of the header.
    pub class_id: String,
    /// Each chunk's id and bytes, in the list's order.
    pub chunks: Vec<([u8; 4], Vec<u8>)>,
}

impl PresetFile {
    /// The bytes of the chunk `id`.
    pub fn chunk(&self, id: [u8; 4]) -> Option<&[u8]> {
        self.chunks
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, d)| d.as_slice())
    }
}

/// Reads a `.vstpreset` file's header and chunk list, checking every offset against
/// the file's length. `None` when the bytes are not such a file.
pub fn read(bytes: &[u8]) -> Option<PresetFile> {
    let take = |at: usize, n: usize| bytes.get(at..at.checked_add(n)?);
    if take(0, 4)? != b"VST3" || i32::from_le_bytes(take(4, 4)?.try_into().ok()?) < 1 {
        return None;
    }
    let class_id = std::str::from_utf8(take(8, 32)?).ok()?.to_owned();
    let list = usize::try_from(i64::from_le_bytes(take(40, 8)?.try_into().ok()?)).ok()?;
    if take(list, 4)? != b"List" {
        return None;
    }
    let count = usize::try_from(i32::from_le_bytes(take(list + 4, 4)?.try_into().ok()?)).ok()?;
    let mut chunks = Vec::with_capacity(count.min(16));
    for i in 0..count {
        let entry = list + 8 + i * 20;
        let id: [u8; 4] = take(entry, 4)?.try_into().ok()?;
        let offset = usize::try_from(i64::from_le_bytes(take(entry + 4, 8)?.try_into().ok()?));
        let size = usize::try_from(i64::from_le_bytes(take(entry + 12, 8)?.try_into().ok()?));
        chunks.push((id, take(offset.ok()?, size.ok()?)?.to_vec()));
    }
    Some(PresetFile { class_id, chunks })
}

/// The 'Info' chunk: the SDK's meta-information XML.
fn meta_info(plugin_name: &str, category: &str) -> String {
    let attr = |id: &str, value: &str| {
        format!(
            "\t<Attr id=\"{id}\" value=\"{}\" type=\"string\" flags=\"writeProtected\"/>\n",
            xml_escape(value)
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<MetaInfo>\n{}{}{}</MetaInfo>\n",
        attr("MediaType", "VstPreset"),
        attr("PlugInName", plugin_name),
        attr("MusicalCategory", category)
    )
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The folder VST3 hosts read a plug-in's user presets from: on Linux
/// `~/.vst3/presets/VENDOR/PLUGIN`, on macOS `~/Library/Audio/Presets/VENDOR/PLUGIN`,
/// on Windows `Documents\VST3 Presets\VENDOR\PLUGIN`. `None` without a home folder.
pub fn user_folder(vendor: &str, plugin_name: &str) -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    let base = if cfg!(target_os = "windows") {
        dirs.document_dir()?.join("VST3 Presets")
    } else if cfg!(target_os = "macos") {
        dirs.home_dir().join("Library/Audio/Presets")
    } else {
        dirs.home_dir().join(".vst3/presets")
    };
    Some(base.join(file_name(vendor)).join(file_name(plugin_name)))
}

/// `name` made safe as one path component: the characters no file system takes
/// become `_`.
pub fn file_name(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    match cleaned.trim_matches('.') {
        "" => String::from("_"),
        _ => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_reads_back_with_its_class_id_and_chunks() {
        let state = br#"{"params":{}}"#;
        let bytes = file(
            b"OxideChanStrip01",
            state,
            "Oxide Channel Strip",
            "Vocals & Speech",
        );
        let read = read(&bytes).expect("a preset file");
        // "O" is 0x4F, "x" 0x78: the id byte by byte, two upper-case hex digits each.
        assert_eq!(read.class_id, "4F786964654368616E53747269703031");
        assert_eq!(read.chunk(COMPONENT_CHUNK), Some(&state[..]));
        let info = std::str::from_utf8(read.chunk(INFO_CHUNK).unwrap()).unwrap();
        assert!(info.contains(r#"value="Vocals &amp; Speech""#), "{info}");
        // Every truncation of the file is refused, none panics.
        for len in 0..bytes.len() {
            assert!(read_checked(&bytes[..len]), "{len}");
        }
    }

    /// Whether a truncated file is refused (the list lies at the end: any cut loses it).
    fn read_checked(bytes: &[u8]) -> bool {
        super::read(bytes).is_none()
    }

    #[test]
    fn names_become_single_path_components() {
        assert_eq!(file_name("Podcast (-16 LUFS)"), "Podcast (-16 LUFS)");
        assert_eq!(file_name("Bass / DI"), "Bass _ DI");
        assert_eq!(file_name(".."), "_");
    }
}
