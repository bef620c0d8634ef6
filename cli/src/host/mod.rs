//! Third-party plug-ins in the offline chain: a chain file ([`file`]) lists stages in
//! order — Oxide's own chains ([`oxide`]), CLAP plug-ins ([`clap`], through clack-host)
//! and LV2 plug-ins ([`lv2`], through lilv) — and [`Chain`] runs them over audio.
//!
//! Everything that can be checked without audio is checked by [`Chain::load`]: the file,
//! that each plug-in exists and loads, the features it requires, every parameter name and
//! value, the state files. [`Chain::activate`] then instantiates for the file's rate and
//! channels. [`Chain::run`] streams blocks through every stage and keeps the output
//! aligned with the input: the chain's latency (the sum of the stages' reported
//! latencies) is rendered past the end of the input and dropped from the front, and the
//! tails are rendered to their end. A stage whose output holds NaN or infinity stops the
//! run with an error that names it.

use std::path::Path;

use anyhow::{bail, Context, Result};

pub mod clap;
pub mod file;
pub mod list;
#[cfg(feature = "lv2")]
pub mod lv2;
pub mod oxide;

/// How long a stage's output goes on after its input ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// This many samples.
    Samples(u64),
    /// Not reported (LV2 has no tail property) or infinite: rendered until the output
    /// has been silent for [`SILENCE_SECONDS`], at most [`MAX_TAIL_SECONDS`].
    UntilSilent,
}

/// Output below this magnitude counts as silence when a tail is rendered until silent:
/// 2^-24, half the least significant bit of a 24-bit file.
pub const SILENCE: f32 = 1.0 / 16_777_216.0;
/// How long the output must stay below [`SILENCE`] before an unknown tail is over, s.
pub const SILENCE_SECONDS: f64 = 0.5;
/// The longest tail rendered after the input, s (a plug-in that never falls silent, such
/// as one that adds noise, stops here).
pub const MAX_TAIL_SECONDS: f64 = 60.0;

/// One stage of a chain: a plug-in instance.
pub trait Stage {
    /// Instantiates for `sample_rate`, `channels` and blocks of up to `max_block` frames.
    /// Settings checked at load time are in place from the first sample.
    fn activate(&mut self, sample_rate: f64, channels: usize, max_block: usize) -> Result<()>;
    /// The delay the stage adds, samples (valid after [`Stage::activate`]).
    fn latency(&self) -> u32;
    /// How long its output goes on after the input ends (valid after activation).
    fn tail(&self) -> Tail;
    /// Processes one block in place.
    fn process(&mut self, block: &mut [&mut [f32]]) -> Result<()>;
}

struct Loaded {
    label: String,
    stage: Box<dyn Stage>,
}

/// A chain of plug-ins, loaded and checked.
pub struct Chain {
    stages: Vec<Loaded>,
    active: Option<(u32, usize)>,
    max_block: usize,
}

impl Chain {
    /// Reads the chain file at `path` and loads every stage, checking every plug-in,
    /// parameter and state file. No audio is processed.
    pub fn load(path: &Path) -> Result<Chain> {
        let specs = file::read(path)?;
        Self::from_specs(&specs).with_context(|| format!("in the chain file '{}'", path.display()))
    }

    /// Loads the stages `specs` describes.
    pub fn from_specs(specs: &[file::StageSpec]) -> Result<Chain> {
        let mut stages = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let label = spec.label(index);
            let stage: Result<Box<dyn Stage>> = match &spec.kind {
                file::Kind::Oxide(kind) => {
                    oxide::OxideStage::load(*kind, spec).map(|s| Box::new(s) as Box<dyn Stage>)
                }
                file::Kind::Clap { path, id } => clap::ClapStage::load(path, id.as_deref(), spec)
                    .map(|s| Box::new(s) as Box<dyn Stage>),
                file::Kind::Lv2 { uri } => lv2_stage(uri, spec),
            };
            let stage = stage.with_context(|| label.clone())?;
            stages.push(Loaded { label, stage });
        }
        Ok(Chain {
            stages,
            active: None,
            max_block: 0,
        })
    }

    /// Instantiates every stage for `sample_rate`, `channels` and blocks of up to
    /// `max_block` frames.
    pub fn activate(&mut self, sample_rate: u32, channels: usize, max_block: usize) -> Result<()> {
        if self.active.is_some() {
            bail!("the chain is already active");
        }
        for loaded in &mut self.stages {
            loaded
                .stage
                .activate(sample_rate as f64, channels, max_block)
                .with_context(|| loaded.label.clone())?;
        }
        self.active = Some((sample_rate, channels));
        self.max_block = max_block;
        Ok(())
    }

    /// The stages' names, in order.
    pub fn labels(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.label.as_str()).collect()
    }

    /// The chain's delay: the sum of the stages' latencies, samples.
    pub fn latency(&self) -> u64 {
        self.stages.iter().map(|s| s.stage.latency() as u64).sum()
    }

    /// The chain's tail: the sum of the stages' tails, unless one is unknown.
    pub fn tail(&self) -> Tail {
        let mut total = 0u64;
        for loaded in &self.stages {
            match loaded.stage.tail() {
                Tail::Samples(n) => total += n,
                Tail::UntilSilent => return Tail::UntilSilent,
            }
        }
        Tail::Samples(total)
    }

    /// Processes one block (up to the activated block size) in place through every
    /// stage; `position` (the block's first sample) only names where a fault happened.
    pub fn process(&mut self, block: &mut [&mut [f32]], position: u64) -> Result<()> {
        let Some((_, channels)) = self.active else {
            bail!("the chain was not activated");
        };
        if block.len() != channels {
            bail!(
                "{} channels for a chain activated for {channels}",
                block.len()
            );
        }
        for loaded in &mut self.stages {
            loaded
                .stage
                .process(block)
                .with_context(|| loaded.label.clone())?;
            for (ch, samples) in block.iter().enumerate() {
                if let Some(at) = samples.iter().position(|x| !x.is_finite()) {
                    bail!(
                        "{} produced {} (channel {}, sample {} of its output); nothing was written",
                        loaded.label,
                        if samples[at].is_nan() {
                            "NaN"
                        } else {
                            "infinity"
                        },
                        ch + 1,
                        position + at as u64
                    );
                }
            }
        }
        Ok(())
    }

    /// Streams audio through the chain: `read` fills up to `n` frames per channel
    /// (replacing the vectors' contents) and returns how many (0 at the end); `write`
    /// receives the output, aligned with the input, followed by the tail.
    pub fn run(
        &mut self,
        mut read: impl FnMut(&mut [Vec<f32>], usize) -> Result<usize>,
        mut write: impl FnMut(&[&[f32]]) -> Result<()>,
    ) -> Result<()> {
        let Some((sample_rate, channels)) = self.active else {
            bail!("the chain was not activated");
        };
        let block_size = self.max_block;
        let tail = self.tail();
        let fixed_tail = match tail {
            Tail::Samples(n) => n,
            Tail::UntilSilent => 0,
        };
        let until_silent = tail == Tail::UntilSilent;
        let silence_needed = (SILENCE_SECONDS * sample_rate as f64).ceil() as usize;
        let mut tail_left = (MAX_TAIL_SECONDS * sample_rate as f64).ceil() as u64;
        // Output held back while it is silent in the open-ended tail: written if sound
        // follows, dropped at the end.
        let mut held: Vec<Vec<f32>> = vec![Vec::new(); channels];
        // LV2 plug-ins report their latency when they run: it is read after the first
        // block, before any output is kept.
        let mut latency: Option<u64> = None;
        let mut to_drop = 0u64;
        // After the input: the latency and any known tail in silence, then (for an
        // unknown tail) more until the output has been silent long enough.
        let mut flush: Option<u64> = None;
        let mut position = 0u64;
        let mut input_done = false;
        let mut block = vec![Vec::with_capacity(block_size); channels];
        loop {
            let mut frames = 0;
            if !input_done {
                frames = read(&mut block, block_size)?;
                if frames == 0 {
                    input_done = true;
                }
            }
            let mut open_tail = false;
            if input_done {
                let left = flush.get_or_insert_with(|| latency.unwrap_or(0) + fixed_tail);
                if *left > 0 {
                    frames = (*left).min(block_size as u64) as usize;
                    *left -= frames as u64;
                } else if until_silent && tail_left > 0 && held[0].len() < silence_needed {
                    frames = tail_left.min(block_size as u64) as usize;
                    tail_left -= frames as u64;
                    open_tail = true;
                } else {
                    break;
                }
                for c in block.iter_mut() {
                    c.clear();
                    c.resize(frames, 0.0);
                }
            }
            let mut views: Vec<&mut [f32]> = block.iter_mut().map(|c| &mut c[..frames]).collect();
            self.process(&mut views, position)?;
            position += frames as u64;
            if latency.is_none() {
                let measured = self.latency();
                latency = Some(measured);
                to_drop = measured;
            }
            let skip = to_drop.min(frames as u64) as usize;
            to_drop -= skip as u64;
            if open_tail {
                // Hold the silent run; write it (and what follows) when sound comes back.
                let last_sound = (skip..frames)
                    .rev()
                    .find(|&i| block.iter().any(|c| c[i].abs() > SILENCE));
                match last_sound {
                    Some(i) => {
                        if !held[0].is_empty() {
                            let views: Vec<&[f32]> = held.iter().map(Vec::as_slice).collect();
                            write(&views)?;
                            held.iter_mut().for_each(Vec::clear);
                        }
                        let kept: Vec<&[f32]> = block.iter().map(|c| &c[skip..=i]).collect();
                        write(&kept)?;
                        for (h, c) in held.iter_mut().zip(&block) {
                            h.extend_from_slice(&c[i + 1..frames]);
                        }
                    }
                    None => {
                        for (h, c) in held.iter_mut().zip(&block) {
                            h.extend_from_slice(&c[skip..frames]);
                        }
                    }
                }
            } else if skip < frames {
                let kept: Vec<&[f32]> = block.iter().map(|c| &c[skip..frames]).collect();
                write(&kept)?;
            }
        }
        Ok(())
    }

    /// Runs whole signals (one `Vec` per channel) through the chain: the output is
    /// aligned with the input and as long as it plus the rendered tail.
    pub fn render(&mut self, input: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        let frames = input.first().map_or(0, Vec::len);
        let mut position = 0;
        let mut output: Vec<Vec<f32>> = vec![Vec::with_capacity(frames); input.len()];
        self.run(
            |block, n| {
                let take = n.min(frames - position);
                for (b, c) in block.iter_mut().zip(input) {
                    b.clear();
                    b.extend_from_slice(&c[position..position + take]);
                }
                position += take;
                Ok(take)
            },
            |kept| {
                for (o, k) in output.iter_mut().zip(kept) {
                    o.extend_from_slice(k);
                }
                Ok(())
            },
        )?;
        Ok(output)
    }
}

#[cfg(feature = "lv2")]
fn lv2_stage(uri: &str, spec: &file::StageSpec) -> Result<Box<dyn Stage>> {
    Ok(Box::new(lv2::Lv2Stage::load(uri, spec)?))
}

#[cfg(not(feature = "lv2"))]
fn lv2_stage(uri: &str, _spec: &file::StageSpec) -> Result<Box<dyn Stage>> {
    bail!("this oxide was built without LV2 support (the `lv2` feature), so it cannot load {uri}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delay line that reports its delay, with an optional fault and tail kind: a real
    /// stage with known behaviour, to check the chain's bookkeeping against.
    struct Delay {
        delay: usize,
        line: Vec<Vec<f32>>,
        tail: Tail,
        nan_at: Option<u64>,
        seen: u64,
    }

    impl Delay {
        fn new(delay: usize, tail: Tail) -> Self {
            Self {
                delay,
                line: Vec::new(),
                tail,
                nan_at: None,
                seen: 0,
            }
        }
    }

    impl Stage for Delay {
        fn activate(&mut self, _rate: f64, channels: usize, _max: usize) -> Result<()> {
            self.line = vec![vec![0.0; self.delay]; channels];
            Ok(())
        }
        fn latency(&self) -> u32 {
            self.delay as u32
        }
        fn tail(&self) -> Tail {
            self.tail
        }
        fn process(&mut self, block: &mut [&mut [f32]]) -> Result<()> {
            for (line, channel) in self.line.iter_mut().zip(block.iter_mut()) {
                line.extend_from_slice(channel);
                let n = channel.len();
                channel.copy_from_slice(&line[..n]);
                line.drain(..n);
            }
            if let Some(at) = self.nan_at {
                let n = block[0].len() as u64;
                if (self.seen..self.seen + n).contains(&at) {
                    block[0][(at - self.seen) as usize] = f32::NAN;
                }
            }
            self.seen += block[0].len() as u64;
            Ok(())
        }
    }

    fn chain(stages: Vec<Delay>) -> Chain {
        Chain {
            stages: stages
                .into_iter()
                .enumerate()
                .map(|(i, s)| Loaded {
                    label: format!("stage {}", i + 1),
                    stage: Box::new(s) as Box<dyn Stage>,
                })
                .collect(),
            active: None,
            max_block: 0,
        }
    }

    fn impulse_at(at: usize, frames: usize) -> Vec<Vec<f32>> {
        let mut x = vec![0.0; frames];
        x[at] = 1.0;
        vec![x.clone(), x]
    }

    #[test]
    fn latencies_add_up_and_are_compensated() {
        let mut c = chain(vec![
            Delay::new(700, Tail::Samples(0)),
            Delay::new(333, Tail::Samples(0)),
        ]);
        c.activate(48_000, 2, 256).unwrap();
        let input = impulse_at(5, 2000);
        let out = c.render(&input).unwrap();
        assert_eq!(c.latency(), 1033);
        assert_eq!(out, input, "output not aligned with the input");
    }

    #[test]
    fn known_tails_are_rendered_and_unknown_ones_until_silence() {
        // A known tail of 100 samples: the output is that much longer.
        let mut c = chain(vec![Delay::new(10, Tail::Samples(100))]);
        c.activate(48_000, 2, 64).unwrap();
        let out = c.render(&impulse_at(0, 50)).unwrap();
        assert_eq!(out[0].len(), 150);
        // An unknown tail: a 20 000-sample delay (under the 0.5 s of silence that ends
        // a tail at 48 kHz) with no latency reported behaves as a tail; the output ends
        // right after the last sound.
        struct Hidden(Delay);
        impl Stage for Hidden {
            fn activate(&mut self, r: f64, c: usize, m: usize) -> Result<()> {
                self.0.activate(r, c, m)
            }
            fn latency(&self) -> u32 {
                0
            }
            fn tail(&self) -> Tail {
                Tail::UntilSilent
            }
            fn process(&mut self, b: &mut [&mut [f32]]) -> Result<()> {
                self.0.process(b)
            }
        }
        let mut c = Chain {
            stages: vec![Loaded {
                label: String::from("stage 1"),
                stage: Box::new(Hidden(Delay::new(20_000, Tail::Samples(0)))),
            }],
            active: None,
            max_block: 0,
        };
        c.activate(48_000, 2, 512).unwrap();
        let out = c.render(&impulse_at(0, 1000)).unwrap();
        assert_eq!(
            out[0].len(),
            20_001,
            "the tail did not end at its last sound"
        );
        assert_eq!(out[0][20_000], 1.0);
    }

    #[test]
    fn a_stage_that_produces_nan_is_named() {
        let mut faulty = Delay::new(0, Tail::Samples(0));
        faulty.nan_at = Some(1234);
        let mut c = chain(vec![Delay::new(3, Tail::Samples(0)), faulty]);
        c.activate(48_000, 2, 512).unwrap();
        let error = c.render(&impulse_at(0, 4000)).unwrap_err().to_string();
        assert!(error.contains("stage 2 produced NaN"), "{error}");
        assert!(error.contains("sample 1234"), "{error}");
    }
}
