//! Experiments `markov.train.{theory,tying,depth,memory,states}` (spec §5 F3–F7, F9, F10, F12, F15,
//! F16 and the theory-model contrast of §4b): groups of training runs (one per seed) on the same
//! data, each group named by a tag; the evaluation curves, final held-out losses and P̂(1 | state 0)
//! at the first occurrences of state 0 in a held-out sequence. What each group is claimed to reach
//! lives in the claims module of the same name, keyed by the group's tag.

use attnlab_core::{CacheStatus, ResultRecord};
use attnlab_markov::{LaggedChain, MultiStateChain};
use attnlab_trainer::{Arch, Data, TrainConfig, TrainOutcome, TrainSettings};
use serde::{Deserialize, Serialize};

use super::train_all;
use crate::Lab;
use crate::LabError;
use crate::Mode;
use crate::markov::experiments::{PAPER, chain};

/// Figure and experiment id: the theory and attention-free models (F15, T2, T3).
pub const THEORY_ID: &str = "markov.train.theory";
/// Figure and experiment id: the GPT-style model, tied vs untied (F4–F7).
pub const TYING_ID: &str = "markov.train.tying";
/// Figure and experiment id: depth (F3).
pub const DEPTH_ID: &str = "markov.train.depth";
/// Figure and experiment id: the order-2 chain with a memory mask (F9, F10, F12).
pub const MEMORY_ID: &str = "markov.train.memory";
/// Figure and experiment id: V = 5 states (F16).
pub const STATES_ID: &str = "markov.train.states";
/// The experiment ids, one per figure.
pub const IDS: [&str; 5] = [THEORY_ID, TYING_ID, DEPTH_ID, MEMORY_ID, STATES_ID];

/// Runs that share a setting (one per seed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    /// Legend label.
    pub label: String,
    /// The group's name within its experiment (the claim-id suffix of its claims).
    pub tag: String,
    /// One config per seed.
    pub runs: Vec<TrainConfig>,
}

/// One panel: groups on the same data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Panel {
    /// Caption.
    pub title: String,
    /// Groups.
    pub groups: Vec<Group>,
}

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Panels.
    pub panels: Vec<Panel>,
}

/// The experiment's data: outcomes per panel, group and seed (per-step training losses dropped).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CurvesData {
    /// `outcomes[panel][group][seed]`.
    pub outcomes: Vec<Vec<Vec<TrainOutcome>>>,
}

/// The run length of a figure at the lab's size: the paper's `iters` (fast: an eighth, at least 40).
fn iters(lab: &Lab, paper: usize) -> usize {
    lab.mode.pick((paper / 8).max(40), paper, paper)
}

/// Seeds per group: each group's claim is a proportion of runs, and k/n with its Wilson interval
/// needs n ≥ 4 before "all runs" can be told from "at most half" — 5 at paper size (the issue that
/// asked for paper scale: ≥ 5 wherever a claim is a proportion of runs), 4 in a quick run.
fn seeds(lab: &Lab) -> u64 {
    lab.mode.pick(1, 4, 5)
}

fn configs(base: &TrainConfig, seeds: u64) -> Vec<TrainConfig> {
    (0..seeds).map(|s| base.with_seed(SEED + s)).collect()
}

/// A run of `arch` on `data` at sequence length `seq_len` for `iters` steps, evaluated 50 times.
fn base(arch: Arch, data: Data, seq_len: usize, iters: usize, tying: bool) -> TrainSettings {
    let mut c = TrainSettings::defaults(arch, data, 0);
    c.seq_len = seq_len;
    c.iters = iters;
    c.tying = tying;
    c.eval_every = (c.iters / 50).max(1);
    c
}

fn group(label: &str, tag: &str, cfg: TrainSettings, seeds: u64) -> Result<Group, LabError> {
    Ok(Group { label: label.into(), tag: tag.into(), runs: configs(&cfg.check()?, seeds) })
}

/// The panels of experiment `id` at the lab's size. Full: the sizes of the paper's figures (spec
/// §2b, §4, §5): N 1024 (F3 N 512), d 8 (F9–F12 d 32), the paper's iterations, 5 seeds per group.
/// Quick (a laptop run of at most 15 minutes): N 256 (the smallest N at which a dynamics claim is
/// made), d 8, 4 seeds, and fewer groups: F3 without L = 8, F9 without m = 80, no F10, F16 at
/// p = 0.3 and 0.9 only. Fast (smoke): N 32, an eighth of the iterations, 1 seed. Every claim
/// states the sizes it ran at.
pub fn config(lab: &Lab, id: &str) -> Result<Config, LabError> {
    let m = lab.mode;
    let n = m.pick(32, 256, 1024);
    let sd = seeds(lab);
    let c58 = Data::binary(chain(0.5, 0.8)?);
    let c23 = Data::binary(chain(0.2, 0.3)?);
    let panels = match id {
        "markov.train.depth" => {
            // F3: N 512, L = 1, 2, 4, 8, 500 iterations (quick and smoke runs stop at L = 4).
            let mut groups = Vec::new();
            for l in m.pick(vec![1usize, 2, 4], vec![1, 2, 4], vec![1, 2, 4, 8]) {
                let mut c = base(Arch::Gpt, c58, m.pick(32, 256, 512), iters(lab, 500), true);
                c.layers = l;
                groups.push(group(&format!("L = {l}"), &format!("L{l}"), c, sd)?);
            }
            vec![Panel { title: "GPT-style, tied, p = 0.5, q = 0.8 (F3)".into(), groups }]
        }
        "markov.train.tying" => vec![
            Panel {
                title: "GPT-style, p = 0.2, q = 0.3 (F4)".into(),
                groups: vec![
                    group("tied", "p0.2-q0.3.tied", base(Arch::Gpt, c23, n, iters(lab, 400), true), sd)?,
                    group("untied", "p0.2-q0.3.untied", base(Arch::Gpt, c23, n, iters(lab, 400), false), sd)?,
                ],
            },
            Panel {
                title: "GPT-style, p = 0.5, q = 0.8 (F6), 1000 iterations".into(),
                groups: vec![
                    group("tied", "p0.5-q0.8.tied", base(Arch::Gpt, c58, n, iters(lab, 1000), true), sd)?,
                    group("untied", "p0.5-q0.8.untied", base(Arch::Gpt, c58, n, iters(lab, 1000), false), sd)?,
                ],
            },
        ],
        "markov.train.theory" => {
            // The theory model at the reference's Simple2 settings (d 4, N 1024, 1000 iterations);
            // F15 (no attention): d 4, 1000 iterations, 5 runs.
            let c76 = Data::binary(chain(0.7, 0.6)?);
            let c1535 = Data::binary(chain(0.15, 0.35)?);
            let th = |d, tying| base(Arch::Theory, d, n, iters(lab, 1000), tying);
            let mlp = |tying| base(Arch::Mlp, c58, n, iters(lab, 1000), tying);
            vec![
                Panel {
                    title: "theory model (§2a), p = 0.7, q = 0.6".into(),
                    groups: vec![
                        group("tied", "theory.p0.7-q0.6.tied", th(c76, true), sd)?,
                        group("untied", "theory.p0.7-q0.6.untied", th(c76, false), sd)?,
                    ],
                },
                Panel {
                    title: "theory model (§2a), p = 0.15, q = 0.35".into(),
                    groups: vec![group("tied", "theory.p0.15-q0.35.tied", th(c1535, true), sd)?],
                },
                Panel {
                    title: "no attention (F15), p = 0.5, q = 0.8".into(),
                    groups: vec![
                        group("tied", "mlp.p0.5-q0.8.tied", mlp(true), sd)?,
                        group("untied", "mlp.p0.5-q0.8.untied", mlp(false), sd)?,
                    ],
                },
                // Positive controls of the run classifier (spec §6 endings): the attention-free
                // model sees only xₙ. On the order-2 lagged chain xₙ₊₁ depends on xₙ₋₁ alone and is
                // independent of xₙ, so U is the best it can do: it must end "unigram". On the
                // first-order chain p = 0.2, q = 0.3 untied, xₙ is all it needs: it must end "global".
                Panel {
                    title: "classifier controls: no attention, untied".into(),
                    groups: vec![
                        group(
                            "order-2 lagged, p = 0.2, q = 0.3 (must stay at U)",
                            "control.mlp.lagged.U",
                            {
                                let lag = Data::Lagged { chain: LaggedChain::stationary(chain(0.2, 0.3)?, 2)? };
                                base(Arch::Mlp, lag, n, iters(lab, 1000), false)
                            },
                            sd,
                        )?,
                        group(
                            "p = 0.2, q = 0.3 (must reach H*)",
                            "control.mlp.p0.2-q0.3.H",
                            base(Arch::Mlp, c23, n, iters(lab, 1000), false),
                            sd,
                        )?,
                    ],
                },
            ]
        }
        "markov.train.memory" => {
            // F9: memory m = 2, 40, 80, 100 against full attention, L = 1; F10: full attention at
            // L = 1, 4, 8. Paper: d 32, N 1024, 800 iterations, one run per curve — here
            // MEMORY_SEEDS per F9 curve (each curve's claim is a proportion of runs) and one per
            // F10 depth (its L = 4, 8 runs are the most expensive of the whole figure set).
            let lag = Data::Lagged { chain: LaggedChain::stationary(chain(0.2, 0.3)?, 2)? };
            let d = m.pick(8, 8, 32);
            let (it, msd) = (iters(lab, m.pick(500, 500, 800)), sd.min(MEMORY_SEEDS));
            let mut groups = Vec::new();
            for mm in m.pick(vec![2usize, 40, 100], vec![2, 40, 100], vec![2, 40, 80, 100]) {
                let mut c = base(Arch::Gpt, lag, n, it, true);
                c.d = d;
                c.memory = Some(mm.min(c.seq_len));
                groups.push(group(&format!("m = {mm}"), &format!("m{mm}"), c, msd)?);
            }
            let mut full = base(Arch::Gpt, lag, n, it, true);
            full.d = d;
            groups.push(group("full attention", "full", full.clone(), msd)?);
            let mut panels = vec![Panel {
                title: format!("order-2 lagged chain, p = 0.2, q = 0.3, GPT-style L = 1, d {d} (F9)"),
                groups,
            }];
            if m == Mode::Full {
                let mut deep = Vec::new();
                for l in [4usize, 8] {
                    let c = TrainSettings { layers: l, ..full.clone() };
                    deep.push(group(&format!("full, L = {l}"), &format!("full.L{l}"), c, 1)?);
                }
                panels.push(Panel {
                    title: format!("order-2 lagged chain, full attention, GPT-style L = 4, 8, d {d} (F10)"),
                    groups: deep,
                });
            }
            panels
        }
        "markov.train.states" => {
            // F16: V = 5 states, stay with probability 1 − p; the theory model (§2a with one
            // embedding row and one output logit per state), d = 8, 5000 iterations (quick: 1000,
            // p = 0.3 and 0.9 only).
            let mut out = Vec::new();
            for p in m.pick(vec![0.1, 0.3, 0.6, 0.9], vec![0.3, 0.9], vec![0.1, 0.3, 0.6, 0.9]) {
                let data = Data::MultiState { chain: MultiStateChain::new(p, 5)? };
                let th = |tying| {
                    let mut c = base(Arch::Theory, data, n, m.pick(125, 1000, 5000), tying);
                    c.d = 8;
                    c
                };
                out.push(Panel {
                    title: format!("V = 5 states, p = {p} (F16), theory model"),
                    groups: vec![
                        group("tied", &format!("V5.p{p}.tied"), th(true), sd)?,
                        group("untied", &format!("V5.p{p}.untied"), th(false), sd)?,
                    ],
                });
            }
            out
        }
        _ => return Err(LabError::UnknownExperiment(id.into())),
    };
    Ok(Config { panels })
}

/// Seeds per F9 memory curve (the paper draws one run per curve). Each curve's claim is a proportion
/// of runs against "a majority" (≥ 1/2): with Wilson intervals 5 runs is the least n at which all
/// runs behaving can agree (5/5 → [0.566, 1]) and none can disagree (0/5 → [0, 0.434]); 3 runs
/// could do neither (3/3 → [0.439, 1], 0/3 → [0, 0.561]).
const MEMORY_SEEDS: u64 = 5;

/// The base seed (each run carries its own seed, SEED + replicate). A fresh block: the claims'
/// rules were changed after runs with seeds 1000–1004 had results, so the paper-scale runs that
/// judge them use seeds never used before, run after the ledger froze the rules (issue 25).
pub const SEED: u64 = 30_000;

/// Every run of every group, panel by panel.
pub fn runs(cfg: &Config) -> Vec<TrainConfig> {
    cfg.panels.iter().flat_map(|p| p.groups.iter().flat_map(|g| g.runs.clone())).collect()
}

/// Trains every run of every group (in parallel over runs, each cached on its own).
pub fn compute(lab: &Lab, cfg: &Config) -> Result<CurvesData, LabError> {
    let mut done = train_all(lab, &runs(cfg))?.into_iter();
    let outcomes = cfg
        .panels
        .iter()
        .map(|p| p.groups.iter().map(|g| done.by_ref().take(g.runs.len()).collect()).collect())
        .collect();
    Ok(CurvesData { outcomes })
}

/// The record of experiment `id` (one of [`IDS`]; computed, or read from the cache).
pub fn run(lab: &Lab, id: &str) -> Result<(ResultRecord<Config, CurvesData>, CacheStatus), LabError> {
    let cfg = config(lab, id)?;
    lab.assembled(PAPER, id, &cfg, SEED, || compute(lab, &cfg))
}
