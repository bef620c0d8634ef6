//! Oxide's own chains as stages: the same plain chains `oxide process --plugin` runs,
//! with parameters set through `oxide_plugin_common::param_access` as `--set` does.

use anyhow::{anyhow, bail, Context, Result};
use oxide_plugin_common::param_access;

use super::file::StageSpec;
use super::{Stage, Tail};
use crate::plugins::{PluginKind, PluginParams, Runner};

pub struct OxideStage {
    params: PluginParams,
    runner: Option<Runner>,
}

impl OxideStage {
    /// The plug-in's parameters at their defaults, then the state file, then `params`
    /// (by id, or by name in any case).
    pub fn load(kind: PluginKind, spec: &StageSpec) -> Result<Self> {
        let params = kind.default_params();
        if let Some(state) = &spec.state {
            let json = std::fs::read(state)
                .with_context(|| format!("could not read the state file '{}'", state.display()))?;
            let unknown = param_access::apply_state_json(params.as_params(), &json)
                .map_err(|e| anyhow!("{e}"))
                .with_context(|| format!("the state file '{}' was not applied", state.display()))?;
            for id in unknown {
                eprintln!(
                    "oxide: warning: the state file '{}' sets '{id}', which this version does not know; skipped",
                    state.display()
                );
            }
        }
        let list = param_access::list(params.as_params());
        for (key, value) in &spec.params {
            let id = list
                .iter()
                .find(|p| p.id == *key)
                .or_else(|| list.iter().find(|p| p.name.eq_ignore_ascii_case(key)))
                .map(|p| p.id.clone())
                .ok_or_else(|| {
                    anyhow!(
                        "{} has no parameter '{key}' (see `oxide params --plugin {}`)",
                        kind.display_name(),
                        match kind {
                            PluginKind::ChannelStrip => "channel-strip",
                            PluginKind::MasteringChain => "mastering-chain",
                        }
                    )
                })?;
            param_access::set_from_text(params.as_params(), &id, &value.text())
                .map_err(|e| anyhow!("{e}"))?;
        }
        Ok(Self {
            params,
            runner: None,
        })
    }
}

impl Stage for OxideStage {
    fn activate(&mut self, sample_rate: f64, channels: usize, max_block: usize) -> Result<()> {
        if !(1..=2).contains(&channels) {
            bail!("Oxide's chains take mono or stereo, not {channels} channels");
        }
        self.runner = Some(self.params.runner(sample_rate as f32, max_block));
        Ok(())
    }

    fn latency(&self) -> u32 {
        self.runner.as_ref().map_or(0, |r| r.latency)
    }

    fn tail(&self) -> Tail {
        Tail::Samples(self.runner.as_ref().map_or(0, |r| r.tail as u64))
    }

    fn process(&mut self, block: &mut [&mut [f32]]) -> Result<()> {
        let runner = self
            .runner
            .as_mut()
            .ok_or_else(|| anyhow!("not activated"))?;
        runner.process(block);
        Ok(())
    }
}
