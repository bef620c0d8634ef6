//! `oxide process`: a plugin's chain over a file, streamed block by block, exactly as the
//! plugin runs in a host with delay compensation.

use std::path::Path;

use anyhow::{bail, Result};
use oxide_cli::audio::{RateWriter, Reader};
use oxide_plugin_common::param_access;

use crate::host::Chain;
use crate::output::OutputArgs;
use crate::plugins::PluginKind;
use oxide_cli::audio::Container;

/// What the user asked for.
pub struct ProcessArgs<'a> {
    /// One of Oxide's chains, or (with `chain`) none.
    pub plugin: Option<PluginKind>,
    /// A chain file (`crate::host`).
    pub chain: Option<&'a Path>,
    pub assignments: &'a [String],
    /// `--preset NAME|FILE`, applied before the assignments.
    pub preset: Option<&'a str>,
    pub block_size: usize,
    pub input: &'a Path,
    pub output: &'a Path,
    pub out: &'a OutputArgs,
}

pub fn run(args: &ProcessArgs) -> Result<()> {
    // Everything that can be checked before reading audio is checked first.
    let container = args.out.check(args.input, args.output)?;
    if let Some(chain) = args.chain {
        return run_chain(args, chain, container);
    }
    let Some(plugin) = args.plugin else {
        bail!("name a plugin (--plugin) or a chain file (--chain)");
    };
    let params = plugin.default_params();
    if let Some(preset) = args.preset {
        crate::presets::apply(plugin, params.as_params(), preset)?;
    }
    for assignment in args.assignments {
        let (id, value) = crate::split_assignment(assignment)?;
        param_access::set_from_text(params.as_params(), id, value)?;
    }

    let mut reader = Reader::<f32>::open(args.input)?;
    let info = reader.info().clone();
    if info.channels > 2 {
        bail!(
            "'{}' has {} channels: the plugins take mono or stereo",
            args.input.display(),
            info.channels
        );
    }
    let spec = args.out.spec(container, &info, true)?;
    let depth = spec.depth;
    let mut writer = RateWriter::create(args.output, spec, info.sample_rate)?;
    let block_size = args.block_size;
    let mut runner = params.runner(info.sample_rate as f32, block_size);

    // Run the input, then the latency and tail in silence, and drop the latency from the
    // front: the file lines up with the input, as in a host with delay compensation.
    let mut to_drop = runner.latency as usize;
    let mut flush = (runner.latency + runner.tail) as usize;
    let bar = crate::progress::bar(
        info.frames.unwrap_or(0),
        info.sample_rate,
        args.input.display().to_string(),
        true,
    );
    let mut block = vec![Vec::with_capacity(block_size); info.channels];
    loop {
        let mut frames = reader.read(&mut block, block_size)?;
        if frames == 0 {
            if flush == 0 {
                break;
            }
            frames = flush.min(block_size);
            flush -= frames;
            block.iter_mut().for_each(|c| c.resize(frames, 0.0));
        }
        let mut views: Vec<&mut [f32]> = block.iter_mut().map(|c| c.as_mut_slice()).collect();
        runner.process(&mut views);
        let skip = to_drop.min(frames);
        to_drop -= skip;
        let kept: Vec<&[f32]> = block.iter().map(|c| &c[skip..frames]).collect();
        writer.push_f32(&kept)?;
        if let Some(bar) = &bar {
            bar.set_position(reader.position());
        }
    }
    drop(bar);
    crate::output::finish(writer, depth, args.output)
}

/// `oxide process --chain`: every stage of the chain file over the file.
fn run_chain(args: &ProcessArgs, path: &Path, container: Container) -> Result<()> {
    // Every plug-in, parameter and state file is checked before the audio is opened.
    let mut chain = Chain::load(path)?;
    let mut reader = Reader::<f32>::open(args.input)?;
    let info = reader.info().clone();
    chain.activate(info.sample_rate, info.channels, args.block_size)?;
    let spec = args.out.spec(container, &info, true)?;
    let depth = spec.depth;
    let mut writer = RateWriter::create(args.output, spec, info.sample_rate)?;
    let bar = crate::progress::bar(
        info.frames.unwrap_or(0),
        info.sample_rate,
        args.input.display().to_string(),
        true,
    );
    chain.run(
        |block, n| {
            let frames = reader.read(block, n)?;
            if let Some(bar) = &bar {
                bar.set_position(reader.position());
            }
            Ok(frames)
        },
        |kept| writer.push_f32(kept),
    )?;
    drop(bar);
    eprintln!(
        "oxide: {} stages; latency {} samples, compensated",
        chain.labels().len(),
        chain.latency()
    );
    crate::output::finish(writer, depth, args.output)
}
