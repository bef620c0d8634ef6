//! Writing results safely: an existing file is never overwritten without `--force`, and
//! a failed write never leaves a half-written file under the requested name.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::audio::{self, Audio, Format};

/// An output path that has been checked before any work is done.
pub struct Destination {
    path: PathBuf,
}

impl Destination {
    /// Checks that `input` is readable, that `output` is not the input, that it does not
    /// exist unless `force`, and that its folder exists.
    pub fn check(input: &Path, output: &Path, force: bool) -> Result<Self> {
        let input_meta = std::fs::metadata(input)
            .with_context(|| format!("cannot read the input '{}'", input.display()))?;
        if !input_meta.is_file() {
            bail!("the input '{}' is not a file", input.display());
        }
        if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize()) {
            if a == b {
                bail!("the output '{}' is the input file", output.display());
            }
        }
        if output.exists() && !force {
            bail!(
                "'{}' already exists: pass --force to overwrite it",
                output.display()
            );
        }
        if output.is_dir() {
            bail!("the output '{}' is a folder", output.display());
        }
        let folder = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !folder.is_dir() {
            bail!("the output folder '{}' does not exist", folder.display());
        }
        Ok(Self {
            path: output.to_path_buf(),
        })
    }

    /// Writes to a temporary file beside the output, then renames it into place.
    pub fn write(&self, audio: &Audio, format: Format) -> Result<usize> {
        let file_name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| String::from("output"));
        let temporary = self
            .path
            .with_file_name(format!(".{file_name}.oxide-{}.tmp", std::process::id()));
        let result = audio::write_wav(&temporary, audio, format);
        match result {
            Ok(clipped) => {
                std::fs::rename(&temporary, &self.path).with_context(|| {
                    format!("could not move the result to '{}'", self.path.display())
                })?;
                Ok(clipped)
            }
            Err(error) => {
                let _ = std::fs::remove_file(&temporary);
                Err(error)
            }
        }
    }
}
