//! The output options every writing command shares, and how they become an
//! [`OutputSpec`] for a given source.

use std::path::Path;

use anyhow::Result;
use oxide_cli::audio::{
    self, Container, Depth, DitherMode, OutputSpec, RateWriter, SourceInfo, Tags,
};

/// `--bits`, `--rate`, `--dither`, `--tag`, `--force`.
#[derive(clap::Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output bit depth: 16, 24 or 32f (default: the input's; FLAC holds 16 or 24).
    #[arg(long, value_name = "16|24|32f", value_parser = Depth::parse)]
    pub bits: Option<Depth>,
    /// Output sample rate, Hz (converted with rubato, aligned to the input; default:
    /// the input's).
    #[arg(long, value_name = "HZ", value_parser = clap::value_parser!(u32).range(8_000..=768_000))]
    pub rate: Option<u32>,
    /// Dither when samples are quantised to 16 or 24 bits: tpdf, shaped (noise
    /// shaping) or off. Digital silence stays silent.
    #[arg(long, value_enum, default_value_t = DitherMode::Tpdf)]
    pub dither: DitherMode,
    /// Set a tag (`--tag TITLE=Song`), or clear it (`--tag COMMENT=`). The input's tags
    /// are carried over.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

impl OutputArgs {
    /// Checks the output path and the tag edits before any work.
    pub fn check(&self, input: &Path, output: &Path) -> Result<Container> {
        Tags::default().edit(&self.tags)?;
        audio::check_output(&[input], output, self.force)
    }

    /// The file to write for `source` (`channels` of it); `processed` is false only
    /// when the samples pass unchanged.
    pub fn spec(
        &self,
        container: Container,
        source: &SourceInfo,
        processed: bool,
    ) -> Result<OutputSpec> {
        let depth = self
            .bits
            .unwrap_or_else(|| Depth::for_source(source.bits, source.float, container));
        let sample_rate = self.rate.unwrap_or(source.sample_rate);
        let exact = !processed
            && sample_rate == source.sample_rate
            && depth.int_bits().is_some_and(|b| source.exact_at(b));
        let mut tags = source.tags.clone();
        tags.edit(&self.tags)?;
        Ok(OutputSpec {
            container,
            depth,
            sample_rate,
            channels: source.channels,
            dither: self.dither,
            exact,
            tags,
        })
    }
}

/// Completes `writer`'s file at `output` and tells the user (and about clipping).
pub fn finish(writer: RateWriter, depth: Depth, output: &Path) -> Result<()> {
    let written = writer.finish()?;
    if written.clipped > 0 {
        eprintln!(
            "oxide: warning: {} samples were above full scale and clipped in the {}-bit output",
            written.clipped,
            depth.label()
        );
    }
    eprintln!("oxide: wrote '{}'", output.display());
    Ok(())
}
