//! The chain file: TOML with one `[[stage]]` table per stage, in processing order.
//!
//! ```toml
//! [[stage]]
//! lv2 = "http://lsp-plug.in/plugins/lv2/para_equalizer_x16_stereo"
//! params = { ft_0 = "Bell", f_0 = 1000, g_0 = 2.0 }
//!
//! [[stage]]
//! clap = "/usr/lib/clap/Some.clap"   # relative paths are from the chain file's folder
//! id = "com.vendor.plugin"           # may be left out when the file has one plug-in
//! params = { "Drive" = 3 }
//!
//! [[stage]]
//! plugin = "oxide:channel-strip"
//! state = "strip.json"               # a state file, applied before `params`
//! params = { out_gain = -1.5 }
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::plugins::PluginKind;

/// A parameter's value as written in the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
    Switch(bool),
}

impl Value {
    /// The value as text in plain units, as `--set` takes it.
    pub fn text(&self) -> String {
        match self {
            Value::Number(v) => v.to_string(),
            Value::Text(t) => t.clone(),
            Value::Switch(true) => String::from("on"),
            Value::Switch(false) => String::from("off"),
        }
    }

    /// The value as a number: a number, a switch as 1/0, or text that parses as one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Number(v) => Some(*v),
            Value::Switch(on) => Some(if *on { 1.0 } else { 0.0 }),
            Value::Text(t) => t.trim().parse().ok(),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text(t) => write!(f, "'{t}'"),
            other => f.write_str(&other.text()),
        }
    }
}

/// Which plug-in a stage runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Oxide(PluginKind),
    Clap { path: PathBuf, id: Option<String> },
    Lv2 { uri: String },
}

/// One stage as the file describes it, paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct StageSpec {
    pub kind: Kind,
    pub state: Option<PathBuf>,
    /// Parameters by id (or symbol) or name, applied in the file's order.
    pub params: Vec<(String, Value)>,
}

impl StageSpec {
    /// How errors name the stage: `stage 2 (LV2 http://…)`.
    pub fn label(&self, index: usize) -> String {
        let what = match &self.kind {
            Kind::Oxide(kind) => format!("oxide:{}", oxide_name(*kind)),
            Kind::Clap { path, id } => match id {
                Some(id) => format!("CLAP {id} in {}", path.display()),
                None => format!("CLAP {}", path.display()),
            },
            Kind::Lv2 { uri } => format!("LV2 {uri}"),
        };
        format!("stage {} ({what})", index + 1)
    }
}

fn oxide_name(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::ChannelStrip => "channel-strip",
        PluginKind::MasteringChain => "mastering-chain",
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    stage: Vec<RawStage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    plugin: Option<String>,
    clap: Option<PathBuf>,
    id: Option<String>,
    lv2: Option<String>,
    state: Option<PathBuf>,
    #[serde(default)]
    params: toml::Table,
}

/// Reads and checks the chain file at `path` (its syntax and stage kinds; the plug-ins
/// themselves are checked when the chain is loaded).
pub fn read(path: &Path) -> Result<Vec<StageSpec>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the chain file '{}'", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, base).with_context(|| format!("in the chain file '{}'", path.display()))
}

/// Parses chain-file text; relative paths are taken from `base`.
pub fn parse(text: &str, base: &Path) -> Result<Vec<StageSpec>> {
    let raw: RawFile = toml::from_str(text).context("not a valid chain file")?;
    if raw.stage.is_empty() {
        bail!("no [[stage]] in the chain");
    }
    raw.stage
        .into_iter()
        .enumerate()
        .map(|(index, stage)| convert(stage, base).with_context(|| format!("stage {}", index + 1)))
        .collect()
}

fn convert(stage: RawStage, base: &Path) -> Result<StageSpec> {
    let resolve = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let kind = match (&stage.plugin, &stage.clap, &stage.lv2) {
        (Some(plugin), None, None) => {
            let kind = match plugin.trim() {
                "oxide:channel-strip" => PluginKind::ChannelStrip,
                "oxide:mastering-chain" => PluginKind::MasteringChain,
                other => bail!(
                    "plugin = '{other}' is not one of Oxide's: oxide:channel-strip, \
                     oxide:mastering-chain (a CLAP plug-in is `clap = PATH`, an LV2 one `lv2 = URI`)"
                ),
            };
            if stage.id.is_some() {
                bail!("`id` belongs to a CLAP stage");
            }
            Kind::Oxide(kind)
        }
        (None, Some(path), None) => Kind::Clap {
            path: resolve(path),
            id: stage.id.clone(),
        },
        (None, None, Some(uri)) => {
            if stage.id.is_some() {
                bail!("`id` belongs to a CLAP stage (an LV2 plug-in is named by its URI)");
            }
            Kind::Lv2 { uri: uri.clone() }
        }
        _ => bail!(
            "a stage names exactly one of `plugin = \"oxide:…\"`, `clap = PATH` or `lv2 = URI`"
        ),
    };
    let params = stage
        .params
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::Integer(i) => Value::Number(i as f64),
                toml::Value::Float(f) => Value::Number(f),
                toml::Value::Boolean(b) => Value::Switch(b),
                toml::Value::String(s) => Value::Text(s),
                other => bail!(
                    "parameter '{key}': a number, a switch (true/false) or text, not {}",
                    other.type_str()
                ),
            };
            Ok((key, value))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(StageSpec {
        kind,
        state: stage.state.as_deref().map(resolve),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_parse_in_order_with_paths_resolved() {
        let text = r#"
            [[stage]]
            lv2 = "urn:x"
            params = { g_0 = 2, ft_0 = "Bell", on = true }
            [[stage]]
            clap = "plug.clap"
            id = "a.b"
            state = "/abs/s.bin"
            [[stage]]
            plugin = "oxide:channel-strip"
        "#;
        let stages = parse(text, Path::new("/base")).unwrap();
        assert_eq!(stages.len(), 3);
        assert_eq!(
            stages[0].kind,
            Kind::Lv2 {
                uri: String::from("urn:x")
            }
        );
        assert!(stages[0]
            .params
            .contains(&(String::from("g_0"), Value::Number(2.0))));
        assert!(stages[0]
            .params
            .contains(&(String::from("on"), Value::Switch(true))));
        assert_eq!(
            stages[1].kind,
            Kind::Clap {
                path: PathBuf::from("/base/plug.clap"),
                id: Some(String::from("a.b"))
            }
        );
        assert_eq!(stages[1].state, Some(PathBuf::from("/abs/s.bin")));
        assert_eq!(stages[2].kind, Kind::Oxide(PluginKind::ChannelStrip));
    }

    #[test]
    fn bad_files_are_refused() {
        let base = Path::new(".");
        assert!(parse("", base).is_err());
        assert!(parse("[[stage]]\nplugin = \"oxide:reverb\"", base).is_err());
        assert!(parse("[[stage]]\nlv2 = \"urn:x\"\nclap = \"a.clap\"", base).is_err());
        assert!(parse("[[stage]]\nlv2 = \"urn:x\"\nspeed = 3", base).is_err());
        assert!(parse("[[stage]]\nlv2 = \"urn:x\"\nparams = { a = [1] }", base).is_err());
    }
}
