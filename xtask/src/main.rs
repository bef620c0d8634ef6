//! `cargo xtask`: bundling (nice-plug-xtask) and installing the Oxide plugins.
//!
//! - `cargo xtask bundle channel-strip mastering-chain --release` builds and bundles the
//!   named packages into `target/bundled/` (names from `bundler.toml`).
//! - `cargo xtask install` builds release bundles of both plugins and copies them to the
//!   user's CLAP and VST3 folders (override with `OXIDE_CLAP_DIR` / `OXIDE_VST3_DIR`).
//! - `cargo xtask screenshots` writes the editors' pictures in `docs/images/` (the
//!   host tests' ignored `screenshots` test: DawDreamer under Xvfb with openbox).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The plugin packages and their bundle names (as in `bundler.toml`).
const PLUGINS: [(&str, &str); 2] = [
    ("channel-strip", "oxide-channel-strip"),
    ("mastering-chain", "oxide-mastering-chain"),
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bundle") => bundle(&args[1..]),
        Some("install") => install(&args[1..]),
        Some("screenshots") => screenshots(),
        Some("help") | Some("--help") | Some("-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(_) => nice_plug_xtask::main_with_args("cargo xtask", args),
    }
}

const USAGE: &str = "\
Usage:
  cargo xtask bundle <package>... [cargo build options, e.g. --release]
  cargo xtask install [--debug]
  cargo xtask screenshots

Packages: channel-strip, mastering-chain.
install builds release bundles of both plugins and copies them to the user's plugin
folders: ~/.clap and ~/.vst3 on Linux, ~/Library/Audio/Plug-Ins/{CLAP,VST3} on macOS,
%LOCALAPPDATA%\\Programs\\Common\\{CLAP,VST3} on Windows. OXIDE_CLAP_DIR and
OXIDE_VST3_DIR override the folders.
screenshots opens each editor in a real host (DawDreamer, VST3) on a private Xvfb
display with openbox and writes docs/images/*.png (needs xvfb, openbox, wmctrl, libxtst6,
x11-utils; Python 3 with venv).";

/// Runs the host tests' ignored `screenshots` test, which writes `docs/images/`.
fn screenshots() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = std::process::Command::new(cargo)
        .args([
            "test",
            "-p",
            "oxide-host-tests",
            "--test",
            "editor_host",
            "--",
        ])
        .args(["--ignored", "--exact", "screenshots", "--nocapture"])
        .status()
        .context("run cargo test")?;
    if !status.success() {
        bail!("taking the screenshots failed ({status})");
    }
    Ok(())
}

/// Accepts packages as plain words (`bundle a b --release`) as well as nice-plug-xtask's
/// own `-p a -p b` form, and hands over to the bundler.
fn bundle(args: &[String]) -> Result<()> {
    let mut packages = Vec::new();
    let mut rest = Vec::new();
    let mut features = Vec::new();
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        if arg == "-p" || arg == "--package" {
            packages.push(
                iter.next()
                    .context("missing package name after -p")?
                    .clone(),
            );
        } else if !arg.starts_with('-') && rest.is_empty() {
            packages.push(arg.clone());
        } else if arg == "--features" || arg == "-F" {
            features.push(
                iter.next()
                    .context("missing list after --features")?
                    .clone(),
            );
        } else {
            rest.push(arg.clone());
            // Options that take a value keep it.
            if matches!(arg.as_str(), "--profile" | "--target") && iter.peek().is_some() {
                rest.push(iter.next().cloned().unwrap_or_default());
            }
        }
    }
    if packages.is_empty() {
        bail!("name at least one package to bundle\n\n{USAGE}");
    }
    for package in &packages {
        if !PLUGINS.iter().any(|(name, _)| name == package) {
            bail!(
                "'{package}' is not a plugin package (known: {})",
                PLUGINS.map(|(name, _)| name).join(", ")
            );
        }
    }
    // The plugin crates export their CLAP and VST3 entry points only with `export` (see
    // plugins/*/Cargo.toml), so a bundle always turns it on.
    for package in &packages {
        features.push(format!("{package}/export"));
    }
    let mut bundler_args = vec![String::from("bundle")];
    for package in packages {
        bundler_args.push(String::from("-p"));
        bundler_args.push(package);
    }
    bundler_args.extend(rest);
    bundler_args.push(String::from("--features"));
    bundler_args.push(features.join(","));
    nice_plug_xtask::main_with_args("cargo xtask", bundler_args)
}

fn install(args: &[String]) -> Result<()> {
    let release = match args {
        [] => true,
        [flag] if flag == "--debug" => false,
        _ => bail!(
            "unexpected arguments to install: {}\n\n{USAGE}",
            args.join(" ")
        ),
    };
    let mut bundle_args: Vec<String> = PLUGINS.iter().map(|(p, _)| p.to_string()).collect();
    if release {
        bundle_args.push(String::from("--release"));
    }
    bundle(&bundle_args)?;

    // The bundler has moved the current directory to the workspace root.
    let bundled = Path::new("target").join("bundled");
    let (clap_dir, vst3_dir) = plugin_dirs()?;
    for (_, name) in PLUGINS {
        for (extension, dir) in [("clap", &clap_dir), ("vst3", &vst3_dir)] {
            let source = bundled.join(format!("{name}.{extension}"));
            if !source.exists() {
                bail!("the bundler did not produce {}", source.display());
            }
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
            let destination = dir.join(format!("{name}.{extension}"));
            replace(&source, &destination)?;
            println!("installed {}", destination.display());
        }
    }
    Ok(())
}

/// The user's CLAP and VST3 folders for this platform.
fn plugin_dirs() -> Result<(PathBuf, PathBuf)> {
    let from_env = |key: &str| std::env::var_os(key).map(PathBuf::from);
    let home = || -> Result<PathBuf> {
        from_env("HOME")
            .or_else(|| from_env("USERPROFILE"))
            .context("neither HOME nor USERPROFILE is set: set OXIDE_CLAP_DIR and OXIDE_VST3_DIR")
    };
    let (clap, vst3) = if cfg!(target_os = "windows") {
        let base = from_env("LOCALAPPDATA")
            .context("LOCALAPPDATA is not set")?
            .join("Programs")
            .join("Common");
        (base.join("CLAP"), base.join("VST3"))
    } else if cfg!(target_os = "macos") {
        let base = home()?.join("Library").join("Audio").join("Plug-Ins");
        (base.join("CLAP"), base.join("VST3"))
    } else {
        (home()?.join(".clap"), home()?.join(".vst3"))
    };
    Ok((
        from_env("OXIDE_CLAP_DIR").unwrap_or(clap),
        from_env("OXIDE_VST3_DIR").unwrap_or(vst3),
    ))
}

/// Replaces `destination` (a file or a bundle directory) with a copy of `source`.
fn replace(source: &Path, destination: &Path) -> Result<()> {
    if destination.is_dir() {
        std::fs::remove_dir_all(destination)
            .with_context(|| format!("could not remove the old {}", destination.display()))?;
    } else if destination.exists() {
        std::fs::remove_file(destination)
            .with_context(|| format!("could not remove the old {}", destination.display()))?;
    }
    copy_recursive(source, destination)
}

fn copy_recursive(source: &Path, destination: &Path) -> Result<()> {
    if source.is_dir() {
        std::fs::create_dir_all(destination)?;
        for entry in std::fs::read_dir(source)? {
            let entry = entry?;
            copy_recursive(&entry.path(), &destination.join(entry.file_name()))?;
        }
    } else {
        std::fs::copy(source, destination).with_context(|| {
            format!(
                "could not copy {} to {}",
                source.display(),
                destination.display()
            )
        })?;
    }
    Ok(())
}
