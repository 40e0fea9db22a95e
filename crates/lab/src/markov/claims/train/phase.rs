//! Claims of `markov.train.phase` (spec §3 T1–T3, §5 F8): over the (p, q) grid the theorems predict
//! "stuck at U" for the tied model above p+q = 1 and "reaches H*" everywhere else; the F8 claims ask
//! the same of the predicted transition probabilities. Every run has its own seed (the cells are
//! independent samples). One claim per (model, side of the line) is judged at the **run level**:
//! the fraction of all its cells' runs that behave as predicted, with a **cluster bootstrap** 95%
//! interval that resamples whole cells ([`cluster_bootstrap`]), against ≥ 0.8 ([`RUNS`]). The
//! cell is the cluster because runs of one cell share its (p, q) and so its chance of escaping (it
//! grows near the line p + q = 1): treating the runs as exchangeable across cells would understate
//! the spread, and a logistic fit in the distance to the line would assume a shape for it. Each
//! cell's own proportion (Wilson, against a majority, [`CELL`]) is drawn in the figure, not
//! counted. Claims on the theory model (§2a) are `theorem`s (T1–T3); on the GPT-style model,
//! `reproduction`s of the paper's F8; the F8 rows are derived from the loss rows (same runs):
//! - `markov.train.phase.theory.tied.above`, `markov.train.phase.theory.tied.below`,
//!   `markov.train.phase.theory.untied.above`, `markov.train.phase.theory.untied.below`,
//!   `markov.train.phase.gpt.tied.above`, `markov.train.phase.gpt.tied.below`,
//!   `markov.train.phase.gpt.untied.above`, `markov.train.phase.gpt.untied.below`;
//! - `markov.train.phase.F8.theory.tied.above`, `markov.train.phase.F8.theory.tied.below`,
//!   `markov.train.phase.F8.theory.untied.above`, `markov.train.phase.F8.theory.untied.below`,
//!   `markov.train.phase.F8.gpt.tied.above`, `markov.train.phase.F8.gpt.tied.below`,
//!   `markov.train.phase.F8.gpt.untied.above`, `markov.train.phase.F8.gpt.untied.below`.
//!
//! The per-cell statistics the figure draws ([`position`], [`plateau`], [`transition_error`]) are
//! computed here too.

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule, Verdict, judge_interval, wilson};
use attnlab_core::ResultRecord;
use attnlab_trainer::{Arch, Data, TrainOutcome};

use super::ending::{PROB_BAND, Plateau, PlateauLength};
use serde::{Deserialize, Serialize};

use crate::markov::experiments::PAPER;
use crate::markov::experiments::train::phase::{Config, ID, PhaseData};

/// Cells with U − H* below this cannot tell the two apart: they are left out of the claims (and
/// drawn grey).
pub const MIN_GAP: f64 = 0.03;

/// Position of the final loss between H* (0) and U (1), mean over seeds; NaN where U − H* < MIN_GAP.
pub fn position(os: &[TrainOutcome]) -> f64 {
    let Some(o) = os.first() else { return f64::NAN };
    let gap = o.unigram_loss - o.entropy_rate;
    let finals: Vec<f64> = os.iter().filter_map(|o| o.final_loss).collect();
    if gap < MIN_GAP || finals.is_empty() {
        return f64::NAN;
    }
    finals.iter().map(|l| (l - o.entropy_rate) / gap).sum::<f64>() / finals.len() as f64
}

/// Plateau at U as a fraction of the run (never left = 1), mean over seeds; NaN where U − H* < MIN_GAP.
pub fn plateau(os: &[TrainOutcome]) -> f64 {
    let Some(o) = os.first() else { return f64::NAN };
    if o.unigram_loss - o.entropy_rate < MIN_GAP {
        return f64::NAN;
    }
    let f = |o: &TrainOutcome| match Plateau::of_run(o).length() {
        PlateauLength::NeverEntered => 0.0,
        PlateauLength::NeverLeft { entered } => (o.config.iters - entered) as f64 / o.config.iters as f64,
        PlateauLength::Iters(n) => n as f64 / o.config.iters as f64,
    };
    os.iter().map(f).sum::<f64>() / os.len() as f64
}

/// Distances of a run's final P̂(1 | 0), P̂(1 | 1) from the chain (p, 1 − q) and from the unigram
/// predictor (π1, π1): the larger of the two states' errors for each.
fn transition_errors(o: &TrainOutcome) -> Option<(f64, f64)> {
    let (a, b, pi1) = (o.p1_given_0?, o.p1_given_1?, o.pi1?);
    let Data::Binary { chain, .. } = &o.config.data else { return None };
    let truth = (a - chain.p()).abs().max((b - (1.0 - chain.q())).abs());
    let unigram = (a - pi1).abs().max((b - pi1).abs());
    Some((truth, unigram))
}

/// F8: the error to the chain, mean over seeds (NaN where U − H* < MIN_GAP, as in the other rows).
pub fn transition_error(os: &[TrainOutcome]) -> f64 {
    let Some(o) = os.first() else { return f64::NAN };
    let errs: Vec<f64> = os.iter().filter_map(|o| transition_errors(o).map(|e| e.0)).collect();
    if o.unigram_loss - o.entropy_rate < MIN_GAP || errs.is_empty() {
        return f64::NAN;
    }
    errs.iter().sum::<f64>() / errs.len() as f64
}

/// A cell's runs must behave as predicted in the majority.
pub const CELL: Rule = Rule::within(
    0.5,
    1.0,
    "a cell's claimed behaviour must be the majority outcome of its runs (Wilson interval above 1/2)",
);
/// An aggregate claim: at least 80% of the runs behave as predicted.
pub const RUNS: Rule = Rule::within(
    0.8,
    1.0,
    "the theorems predict every run; at least 80% of the runs of the side's cells must behave (cluster bootstrap over cells), allowing training noise near the boundary",
);

/// Resamples of the cluster bootstrap.
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;
/// Seed of the cluster bootstrap (recorded in every claim statement).
pub const BOOTSTRAP_SEED: u64 = 25_025;

/// The pooled fraction of hits over clusters `(hits, runs)` and its cluster-bootstrap 95%
/// percentile interval: `resamples` draws of as many clusters, with replacement, each keeping all
/// its runs; the statistic is Σ hits / Σ runs of the draw.
pub fn cluster_bootstrap(clusters: &[(usize, usize)], resamples: usize, seed: u64) -> (f64, [f64; 2]) {
    use rand::Rng as _;
    let total = |cs: &mut dyn Iterator<Item = (usize, usize)>| {
        let (h, n) = cs.fold((0, 0), |(h, n), c| (h + c.0, n + c.1));
        if n == 0 { f64::NAN } else { h as f64 / n as f64 }
    };
    let value = total(&mut clusters.iter().copied());
    if clusters.is_empty() {
        return (f64::NAN, [f64::NAN, f64::NAN]);
    }
    let mut rng = attnlab_core::rng::seeded_rng(seed);
    let k = clusters.len();
    let mut stats: Vec<f64> = (0..resamples)
        .map(|_| total(&mut (0..k).map(|_| clusters[rng.random_range(0..k)])))
        .filter(|x| x.is_finite())
        .collect();
    stats.sort_by(f64::total_cmp);
    let at = |q: f64| stats[((q * (stats.len() - 1) as f64).round() as usize).min(stats.len() - 1)];
    (value, [at(0.025), at(0.975)])
}

/// Which statistic a row of claims judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Row {
    /// The final loss: near U (position > 0.75) or H* (position < 0.25).
    Loss,
    /// F8: the final predicted transition probabilities.
    F8,
}

impl Row {
    /// The claim-id prefix after the experiment id ("" or "F8.").
    fn prefix(self) -> &'static str {
        match self {
            Row::Loss => "",
            Row::F8 => "F8.",
        }
    }
}

/// One cell's own judgement: k of n runs behave as predicted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellVerdict {
    /// Which claim row.
    pub row: Row,
    /// Column of `Config::models`.
    pub model: usize,
    /// p of the cell.
    pub p: f64,
    /// q of the cell.
    pub q: f64,
    /// Runs that behave as predicted.
    pub hits: usize,
    /// Runs that could be classified.
    pub runs: usize,
    /// Wilson 95% interval of hits/runs.
    pub interval: [f64; 2],
    /// Against [`CELL`].
    pub verdict: Verdict,
}

/// Whether run `o` behaves as predicted (`expect_u`: stuck at U; else reaches H*) in `row`; None
/// when it cannot tell (U − H* < MIN_GAP, or no final numbers).
fn run_behaves(row: Row, o: &TrainOutcome, expect_u: bool) -> Option<bool> {
    let gap = o.unigram_loss - o.entropy_rate;
    if gap < MIN_GAP {
        return None;
    }
    match row {
        Row::Loss => {
            let pos = (o.final_loss? - o.entropy_rate) / gap;
            Some(if expect_u { pos > 0.75 } else { pos < 0.25 })
        }
        Row::F8 => {
            let (to_chain, to_unigram) = transition_errors(o)?;
            Some(if expect_u { to_unigram < to_chain } else { PROB_BAND.admits(0.0, to_chain) })
        }
    }
}

/// The judgement of every cell off the line p+q = 1, for both rows, in (row, model, p, q) order.
pub fn cells(cfg: &Config, data: &PhaseData) -> Vec<CellVerdict> {
    let mut out = Vec::new();
    for row in [Row::Loss, Row::F8] {
        for (m, &(_, tying)) in cfg.models.iter().enumerate() {
            for (i, &p) in cfg.grids[m].iter().enumerate() {
                for (j, &q) in cfg.grids[m].iter().enumerate() {
                    if (p + q - 1.0).abs() < 1e-9 {
                        continue;
                    }
                    let expect_u = tying && p + q > 1.0;
                    let runs: Vec<bool> =
                        data.cells[m][i][j].iter().filter_map(|o| run_behaves(row, o, expect_u)).collect();
                    if runs.is_empty() {
                        continue;
                    }
                    let hits = runs.iter().filter(|&&b| b).count();
                    let interval = wilson(hits, runs.len());
                    let pass = CELL.tolerance.pass_interval(None);
                    out.push(CellVerdict {
                        row,
                        model: m,
                        p,
                        q,
                        hits,
                        runs: runs.len(),
                        interval,
                        verdict: judge_interval(interval, pass),
                    });
                }
            }
        }
    }
    out
}

/// The judgements of the phase diagrams: per (row, model, side of p+q = 1), the fraction of the
/// side's runs that behave as predicted, with a cluster bootstrap over its cells.
pub fn judge(rec: &ResultRecord<Config, PhaseData>) -> Vec<Judgement> {
    let (cfg, data) = (&rec.config, &rec.result);
    let all = cells(cfg, data);
    let band = PROB_BAND.pass_interval(Some(0.0))[1];
    let mut js = Vec::new();
    for row in [Row::Loss, Row::F8] {
        for (m, &(arch, tying)) in cfg.models.iter().enumerate() {
            for above in [true, false] {
                let of: Vec<&CellVerdict> =
                    all.iter().filter(|c| c.row == row && c.model == m && (c.p + c.q > 1.0) == above).collect();
                if of.is_empty() {
                    continue;
                }
                let clusters: Vec<(usize, usize)> = of.iter().map(|c| (c.hits, c.runs)).collect();
                let (hits, runs) = clusters.iter().fold((0, 0), |(h, n), c| (h + c.0, n + c.1));
                // One cell (a quick run's 2×2 grid has one per side): its runs are independent
                // trials of that cell's own chance, so a Wilson interval over them is exact; a
                // bootstrap over one cluster would be a point.
                let (observed, how) = if clusters.len() < 2 {
                    (Observation::proportion(hits, runs), "Wilson interval over the runs of the one cell".to_string())
                } else {
                    let (v, ci) = cluster_bootstrap(&clusters, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED);
                    (
                        Observation::bootstrap(v, ci, of.len()),
                        format!(
                            "cluster bootstrap over cells ({BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED})"
                        ),
                    )
                };
                let short: Vec<String> = of
                    .iter()
                    .filter(|c| c.hits < c.runs)
                    .map(|c| format!("({}, {}) {}/{}", c.p, c.q, c.hits, c.runs))
                    .collect();
                let expect_u = tying && above;
                let what = match (row, expect_u) {
                    (Row::Loss, true) => "runs end near U (final-loss position > 0.75 between H* = 0 and U = 1)".to_string(),
                    (Row::Loss, false) => "runs reach H* (final-loss position < 0.25 between H* = 0 and U = 1)".to_string(),
                    (Row::F8, true) => "a run's final predicted transition probabilities are closer to the unigram predictor (π1, π1) than to the chain (p, 1 − q)".to_string(),
                    (Row::F8, false) => format!("a run's final predicted transition probabilities match the chain: |P̂(1|0) − p|, |P̂(1|1) − (1 − q)| ≤ {band}"),
                };
                let side = if above { "p+q > 1" } else { "p+q < 1" };
                let tied = if tying { "tied" } else { "untied" };
                let base = cfg.base(arch);
                let (kind, source) = match (arch, row) {
                    (Arch::Gpt, Row::Loss) => (Kind::Reproduction, "§5 F8 (GPT-style model)"),
                    (Arch::Gpt, Row::F8) => (Kind::Reproduction, "§5 F8"),
                    (_, Row::Loss) => (Kind::Theorem, "§3 T1–T3 (theory model §2a)"),
                    (_, Row::F8) => (Kind::Theorem, "§3 T1–T3 (theory model §2a); §5 F8 panel"),
                };
                let side_id = format!("{}.{tied}.{}", arch.name(), if above { "above" } else { "below" });
                let j = Judgement::new(
                    Claim::new(
                        &format!("{ID}.{}{side_id}", row.prefix()),
                        PAPER,
                        kind,
                        format!(
                            "{} model, {tied}, {side}, every grid cell with U − H* ≥ {MIN_GAP}: {what}. Runs: {hits}/{runs} behave, over {} cells of {} runs each with their own seeds (N {}, {} iterations); 95% interval: {how}. Cells where not every run behaves: {}",
                            arch.name(),
                            of.len(),
                            cfg.seeds,
                            base.seq_len,
                            base.iters,
                            if short.is_empty() { "none".to_string() } else { short.join(", ") },
                        ),
                        source,
                    ),
                    Some(1.0),
                    observed,
                    RUNS,
                    ID,
                    "fraction of runs",
                );
                js.push(match row {
                    Row::Loss => j,
                    Row::F8 => j.derived(&format!("{ID}.{side_id}")),
                });
            }
        }
    }
    js
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_bootstrap_resamples_whole_cells() {
        // Every run of every cell behaves: the interval is the point 1, which agrees with ≥ 0.8.
        let all = vec![(4, 4); 7];
        let (v, ci) = cluster_bootstrap(&all, 2000, 1);
        assert_eq!((v, ci), (1.0, [1.0, 1.0]));
        // Two cells, one all-in and one all-out: the cells, not the 8 runs, set the spread, so the
        // interval reaches both ends (a run-level Wilson interval would be [0.22, 0.78]).
        let (v, ci) = cluster_bootstrap(&[(4, 4), (0, 4)], 2000, 1);
        assert_eq!(v, 0.5);
        assert_eq!(ci, [0.0, 1.0]);
        // 25 cells with one failing cell: the interval is below 1 and holds the pooled value.
        let mut one_off = vec![(4, 4); 24];
        one_off.push((0, 4));
        let (v, ci) = cluster_bootstrap(&one_off, 5000, 3);
        assert!((v - 0.96).abs() < 1e-12 && ci[0] < v && ci[1] == 1.0, "{v} {ci:?}");
        // Seeded: the same seed gives the same interval.
        assert_eq!(cluster_bootstrap(&one_off, 5000, 3), (v, ci));
    }

    /// The paper-scale design can decide: the best outcome (every run behaves) agrees with ≥ 0.8
    /// and the worst disagrees, for the smallest side of the GPT-style 5×5 grid (6 cells).
    #[test]
    fn the_run_level_design_decides() {
        let best = cluster_bootstrap(&[(4, 4); 6], 2000, 1).1;
        let worst = cluster_bootstrap(&[(0, 4); 6], 2000, 1).1;
        let pass = RUNS.tolerance.pass_interval(None);
        assert_eq!(judge_interval(best, pass), Verdict::Agrees);
        assert_eq!(judge_interval(worst, pass), Verdict::Disagrees);
        assert!(attnlab_comparator::decidable(attnlab_comparator::Method::Bootstrap, 6, pass).both());
    }
}
