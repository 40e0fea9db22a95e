//! The training config: model shape, data, optimiser and evaluation settings, with the reference
//! defaults of spec markov §2a/§2b. [`TrainSettings`] is the plain, editable form; the only way to a
//! [`TrainConfig`] (what the trainer accepts) is [`TrainSettings::check`], which a JSON file also
//! goes through (`serde(try_from)`), so the CLI, the experiments and a config file pass the same
//! checks and an error names the field.

use attnlab_core::ConfigError;
use attnlab_core::config::rules;
use attnlab_core::rng::Seed;
use attnlab_markov::{BinaryChain, LaggedChain, MultiStateChain};
use serde::{Deserialize, Serialize};

use crate::model::{Arch, ModelSpec};
use crate::optim::AdamW;

/// The training data (spec §1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Data {
    /// Binary first-order chain (p, q); stationary first symbol unless `uniform_start`.
    Binary {
        /// The chain.
        chain: BinaryChain,
        /// x1 ~ Bernoulli(1/2) instead of Bernoulli(π1).
        uniform_start: bool,
    },
    /// Lagged switching chain of order k.
    Lagged {
        /// The chain.
        chain: LaggedChain,
    },
    /// V-state chain.
    MultiState {
        /// The chain.
        chain: MultiStateChain,
    },
}

impl Data {
    /// Stationary binary chain.
    pub fn binary(chain: BinaryChain) -> Self {
        Data::Binary { chain, uniform_start: false }
    }

    /// Vocabulary size.
    pub fn vocab(&self) -> usize {
        match self {
            Data::MultiState { chain } => chain.states(),
            _ => 2,
        }
    }
}

/// The settings of one training run, unchecked: edit the fields, then [`check`](Self::check) them
/// into a [`TrainConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Architecture.
    pub arch: Arch,
    /// Weight tying.
    pub tying: bool,
    /// Depth L (GPT only).
    pub layers: usize,
    /// Width d.
    pub d: usize,
    /// Sequence length N.
    pub seq_len: usize,
    /// Batch size B.
    pub batch: usize,
    /// Optimiser steps.
    pub iters: usize,
    /// Peak learning rate of the OneCycle schedule.
    pub lr: f64,
    /// AdamW settings.
    pub adamw: AdamW,
    /// Evaluate every this many steps.
    pub eval_every: usize,
    /// Fresh batches per evaluation.
    pub eval_batches: usize,
    /// Fresh batches for the final loss.
    pub final_batches: usize,
    /// Memory mask m (None = full attention).
    pub memory: Option<usize>,
    /// Std of the Gaussian init.
    pub init_std: f64,
    /// Data.
    pub data: Data,
    /// Seed (init = child 0, data = child 1, evaluation = child 2).
    pub seed: Seed,
    /// Record the attention-output ratio (F13) at each evaluation.
    pub probe: bool,
}

impl TrainSettings {
    /// The reference defaults for `arch`: GPT spec §2b (d 8, 1 layer, N 1024, B 16, 400 iterations,
    /// tied); theory/MLP spec §2a with the reference's Simple2 settings (d 4, N 1024, B 16, 1000
    /// iterations); AdamW lr 2e-3, β (0.9, 0.95), wd 1e-3; evaluation every 10 steps on 4 batches,
    /// final loss on 8.
    pub fn defaults(arch: Arch, data: Data, seed: Seed) -> Self {
        let (d, iters) = match arch {
            Arch::Gpt => (8, 400),
            Arch::Theory | Arch::Mlp => (4, 1000),
        };
        Self {
            arch,
            tying: true,
            layers: 1,
            d,
            seq_len: 1024,
            batch: 16,
            iters,
            lr: 2e-3,
            adamw: AdamW::default(),
            eval_every: 10,
            eval_batches: 4,
            final_batches: 8,
            memory: None,
            init_std: 0.02,
            data,
            seed,
            probe: false,
        }
    }

    /// Checks every field; the error names the first bad one.
    pub fn check(self) -> Result<TrainConfig, ConfigError> {
        rules::at_least("d", self.d, 1)?;
        rules::at_least("layers", self.layers, 1)?;
        if self.arch != Arch::Gpt && self.layers != 1 {
            return Err(ConfigError::new("layers", self.layers, "the theory and MLP models have exactly one layer"));
        }
        rules::at_least("seq_len", self.seq_len, 1)?;
        if let Data::Lagged { chain } = &self.data {
            rules::at_least("seq_len", self.seq_len, chain.order())?;
        }
        rules::at_least("batch", self.batch, 1)?;
        rules::at_least("iters", self.iters, 1)?;
        rules::positive("lr", self.lr)?;
        rules::prob_closed("beta1", self.adamw.beta1)?;
        rules::prob_closed("beta2", self.adamw.beta2)?;
        rules::positive("eps", self.adamw.eps)?;
        rules::non_negative("weight_decay", self.adamw.weight_decay)?;
        rules::at_least("eval_every", self.eval_every, 1)?;
        rules::at_least("eval_batches", self.eval_batches, 1)?;
        rules::at_least("final_batches", self.final_batches, 1)?;
        rules::non_negative("init_std", self.init_std)?;
        if self.arch == Arch::Mlp && self.memory.is_some() {
            return Err(ConfigError::new(
                "memory",
                format!("{:?}", self.memory),
                "the MLP model has no attention to mask",
            ));
        }
        Ok(TrainConfig(self))
    }

    /// Vocabulary size.
    pub fn vocab(&self) -> usize {
        self.data.vocab()
    }

    /// The model shape.
    pub fn model_spec(&self) -> ModelSpec {
        ModelSpec {
            arch: self.arch,
            d: self.d,
            layers: self.layers,
            seq_len: self.seq_len,
            vocab: self.vocab(),
            tying: self.tying,
            memory: self.memory,
            init_std: self.init_std,
        }
    }
}

/// A checked training run: every field of its [`TrainSettings`] satisfies its rule. Read the fields
/// through `Deref` (`config.seq_len`); to change one, take the settings back
/// ([`settings`](Self::settings)), edit and check again. Serialises as the plain settings and
/// deserialises through [`TrainSettings::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TrainSettings", into = "TrainSettings")]
pub struct TrainConfig(TrainSettings);

impl TrainConfig {
    /// The settings, to edit and [`check`](TrainSettings::check) again.
    pub fn settings(&self) -> TrainSettings {
        self.0.clone()
    }

    /// The same run with another seed (a seed is always valid).
    pub fn with_seed(&self, seed: Seed) -> Self {
        Self(TrainSettings { seed, ..self.0.clone() })
    }
}

impl std::ops::Deref for TrainConfig {
    type Target = TrainSettings;
    fn deref(&self) -> &TrainSettings {
        &self.0
    }
}

impl TryFrom<TrainSettings> for TrainConfig {
    type Error = ConfigError;
    fn try_from(s: TrainSettings) -> Result<Self, ConfigError> {
        s.check()
    }
}

impl From<TrainConfig> for TrainSettings {
    fn from(c: TrainConfig) -> Self {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attnlab_markov::BinaryChain;

    fn settings() -> TrainSettings {
        let chain = BinaryChain::new(0.2, 0.3).expect("valid chain");
        TrainSettings::defaults(Arch::Gpt, Data::binary(chain), 1)
    }

    #[test]
    fn check_names_the_bad_field() {
        assert_eq!(TrainSettings { d: 0, ..settings() }.check().unwrap_err().field, "d");
        assert_eq!(TrainSettings { lr: f64::NAN, ..settings() }.check().unwrap_err().field, "lr");
        let mlp = TrainSettings { arch: Arch::Mlp, memory: Some(4), ..settings() };
        assert_eq!(mlp.check().unwrap_err().field, "memory");
    }

    #[test]
    fn json_goes_through_the_same_check() {
        let good = settings().check().expect("defaults are valid");
        let json = serde_json::to_value(&good).expect("serialises");
        let back: TrainConfig = serde_json::from_value(json.clone()).expect("round-trips");
        assert_eq!(back, good);
        let mut bad = json;
        bad["batch"] = serde_json::json!(0);
        let err = serde_json::from_value::<TrainConfig>(bad).unwrap_err().to_string();
        assert!(err.contains("`batch`"), "{err}");
    }
}
