//! `oxide plugins` (what is installed) and `oxide params --plugin PATH|URI` (a
//! third-party plug-in's parameters, shown as Oxide's are).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::clap;

/// Prints `rows` under `header` as aligned columns, after a `title` line.
pub fn print_table<const N: usize>(title: &str, header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    println!("{title}");
    let print_row = |cells: Vec<&str>| {
        let line: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    };
    print_row(header.to_vec());
    for row in rows {
        print_row(row.iter().map(String::as_str).collect());
    }
}

/// The folders CLAP plug-ins are installed in on this system: `CLAP_PATH` first, then the
/// standard ones (`~/.clap`, `/usr/lib/clap`).
pub fn clap_folders() -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::env::var_os("CLAP_PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        folders.push(Path::new(&home).join(".clap"));
    }
    folders.push(PathBuf::from("/usr/lib/clap"));
    folders
}

/// Every `.clap` file under `folder` (searched recursively).
fn clap_files(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.extension().is_some_and(|e| e == "clap") && path.is_file() {
            found.push(path);
        } else if path.is_dir() {
            clap_files(&path, found);
        }
    }
}

/// One installed plug-in.
struct Listed {
    format: &'static str,
    id: String,
    name: String,
    /// The `.clap` file, or for LV2 the bundle; or why it cannot be hosted.
    location: String,
}

/// `oxide plugins`: the CLAP and LV2 plug-ins installed, with the ids and URIs a chain
/// file names them by.
pub fn plugins(json: bool) -> Result<()> {
    let mut listed = Vec::new();
    let mut files = Vec::new();
    for folder in clap_folders() {
        clap_files(&folder, &mut files);
    }
    for file in files {
        match clap::descriptors(&file) {
            Ok(descriptors) => listed.extend(descriptors.into_iter().map(|d| Listed {
                format: "CLAP",
                id: d.id,
                name: d.name,
                location: file.display().to_string(),
            })),
            Err(e) => eprintln!("oxide: warning: {e:#}"),
        }
    }
    #[cfg(feature = "lv2")]
    {
        let world = super::lv2::world();
        let hostable: std::collections::HashSet<String> =
            world.iter_plugins().map(|p| p.uri()).collect();
        for plugin in world.raw().plugins().iter() {
            let Some(uri) = plugin.uri().as_uri().map(str::to_owned) else {
                continue;
            };
            let name = plugin.name().as_str().unwrap_or_default().to_owned();
            let location = if hostable.contains(&uri) {
                plugin
                    .bundle_uri()
                    .path()
                    .map_or_else(String::new, |(_, path)| path)
            } else {
                match super::lv2::find(&world, &uri) {
                    Err(e) => format!("not hostable: {e}"),
                    Ok(_) => String::new(),
                }
            };
            listed.push(Listed {
                format: "LV2",
                id: uri,
                name,
                location,
            });
        }
    }
    if json {
        let entries: Vec<serde_json::Value> = listed
            .iter()
            .map(|p| {
                serde_json::json!({
                    "format": p.format,
                    "id": p.id,
                    "name": p.name,
                    "location": p.location,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    let rows: Vec<[String; 4]> = listed
        .into_iter()
        .map(|p| [p.format.to_owned(), p.id, p.name, p.location])
        .collect();
    print_table(
        &format!("{} plug-ins", rows.len()),
        ["format", "id / URI", "name", "file / bundle"],
        &rows,
    );
    Ok(())
}

/// One parameter row as `oxide params` shows it.
pub struct ParamRow {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub range: String,
    pub default: String,
    pub json: serde_json::Value,
}

/// `oxide params --plugin PATH|URI [--id ID]` for a CLAP file or an LV2 URI.
pub fn params(target: &str, id: Option<&str>, json: bool) -> Result<()> {
    let path = Path::new(target);
    let (title, rows) = if path.extension().is_some_and(|e| e == "clap") || path.exists() {
        let mut inspector = clap::Inspector::new(path, id)?;
        let title = inspector
            .descriptor()
            .map_or_else(|| target.to_owned(), |d| format!("{} ({})", d.name, d.id));
        let rows = inspector
            .params()?
            .into_iter()
            .map(|p| {
                let name = if p.module.is_empty() {
                    p.name.clone()
                } else {
                    format!("{}/{}", p.module, p.name)
                };
                ParamRow {
                    id: p.id.to_string(),
                    json: serde_json::json!({
                        "id": p.id,
                        "name": name,
                        "min": p.min,
                        "max": p.max,
                        "default": p.default,
                        "min_text": p.min_text,
                        "max_text": p.max_text,
                        "default_text": p.default_text,
                    }),
                    name,
                    unit: String::new(),
                    range: format!("{} … {}", p.min_text, p.max_text),
                    default: p.default_text,
                }
            })
            .collect::<Vec<_>>();
        (title, rows)
    } else {
        if id.is_some() {
            bail!("--id names a plug-in inside a .clap file; an LV2 plug-in is named by its URI");
        }
        lv2_rows(target)?
    };
    if json {
        let document = serde_json::json!({
            "plugin": title,
            "params": rows.iter().map(|r| r.json.clone()).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&document)?);
        return Ok(());
    }
    let table: Vec<[String; 5]> = rows
        .into_iter()
        .map(|r| [r.id, r.name, r.unit, r.range, r.default])
        .collect();
    print_table(&title, ["id", "name", "unit", "range", "default"], &table);
    Ok(())
}

#[cfg(feature = "lv2")]
fn lv2_rows(uri: &str) -> Result<(String, Vec<ParamRow>)> {
    let world = super::lv2::world();
    let plugin = super::lv2::find(&world, uri)?;
    let rows = super::lv2::controls(&world, &plugin)
        .into_iter()
        .map(|c| ParamRow {
            json: serde_json::json!({
                "id": c.symbol,
                "name": c.name,
                "min": c.min,
                "max": c.max,
                "default": c.default,
                "default_text": c.default_text(),
                "toggled": c.toggled,
                "integer": c.integer,
                "choices": c.points.iter().map(|(l, v)| serde_json::json!({"label": l, "value": v})).collect::<Vec<_>>(),
            }),
            id: c.symbol.clone(),
            name: c.name.clone(),
            unit: String::new(),
            range: c.range_text(),
            default: c.default_text(),
        })
        .collect();
    Ok((format!("{} ({uri})", plugin.name()), rows))
}

#[cfg(not(feature = "lv2"))]
fn lv2_rows(uri: &str) -> Result<(String, Vec<ParamRow>)> {
    bail!("this oxide was built without LV2 support (the `lv2` feature), so it cannot show {uri}")
}
