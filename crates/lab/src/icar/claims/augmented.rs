//! Claims of the augmented-token model (spec icar §3a, §4 Fig 5, §5 table).
//!
//! The trained augmented transformer (`icar.augmented.trained`): its test MSE against the reference
//! run's plateau and the §5 reference predictors, and its attention structure against the
//! one-step-GD signature:
//! - `icar.augmented.trained.test-mse`, `icar.augmented.trained.between-gd-and-ls`,
//!   `icar.augmented.trained.gd-block-share`, `icar.augmented.trained.gd-block-identity`,
//!   `icar.augmented.trained.value-reads-st`.
//!
//! The trained theoretical heads (`icar.augmented.eta`): for each (d, T) of the grid, the
//! gauge-invariant step size η_eff = η* = d/(T+d−2) (`.eta`) and the loss = loss* = (d−1)/(T+d−2)
//! (`.loss`), for d ∈ {2, 3, 4, 5, 6, 8, 10} (the spec §5 table) and T ∈ {10, 20, 50, 100}:
//! - `icar.augmented.eta.d2-T10.eta`, `icar.augmented.eta.d2-T10.loss`,
//!   `icar.augmented.eta.d2-T20.eta`, `icar.augmented.eta.d2-T20.loss`,
//!   `icar.augmented.eta.d2-T50.eta`, `icar.augmented.eta.d2-T50.loss`,
//!   `icar.augmented.eta.d2-T100.eta`, `icar.augmented.eta.d2-T100.loss`;
//! - `icar.augmented.eta.d3-T10.eta`, `icar.augmented.eta.d3-T10.loss`,
//!   `icar.augmented.eta.d3-T20.eta`, `icar.augmented.eta.d3-T20.loss`,
//!   `icar.augmented.eta.d3-T50.eta`, `icar.augmented.eta.d3-T50.loss`,
//!   `icar.augmented.eta.d3-T100.eta`, `icar.augmented.eta.d3-T100.loss`;
//! - `icar.augmented.eta.d4-T10.eta`, `icar.augmented.eta.d4-T10.loss`,
//!   `icar.augmented.eta.d4-T20.eta`, `icar.augmented.eta.d4-T20.loss`,
//!   `icar.augmented.eta.d4-T50.eta`, `icar.augmented.eta.d4-T50.loss`,
//!   `icar.augmented.eta.d4-T100.eta`, `icar.augmented.eta.d4-T100.loss`;
//! - `icar.augmented.eta.d5-T10.eta`, `icar.augmented.eta.d5-T10.loss`,
//!   `icar.augmented.eta.d5-T20.eta`, `icar.augmented.eta.d5-T20.loss`,
//!   `icar.augmented.eta.d5-T50.eta`, `icar.augmented.eta.d5-T50.loss`,
//!   `icar.augmented.eta.d5-T100.eta`, `icar.augmented.eta.d5-T100.loss`;
//! - `icar.augmented.eta.d6-T10.eta`, `icar.augmented.eta.d6-T10.loss`,
//!   `icar.augmented.eta.d6-T20.eta`, `icar.augmented.eta.d6-T20.loss`,
//!   `icar.augmented.eta.d6-T50.eta`, `icar.augmented.eta.d6-T50.loss`,
//!   `icar.augmented.eta.d6-T100.eta`, `icar.augmented.eta.d6-T100.loss`;
//! - `icar.augmented.eta.d8-T10.eta`, `icar.augmented.eta.d8-T10.loss`,
//!   `icar.augmented.eta.d8-T20.eta`, `icar.augmented.eta.d8-T20.loss`,
//!   `icar.augmented.eta.d8-T50.eta`, `icar.augmented.eta.d8-T50.loss`,
//!   `icar.augmented.eta.d8-T100.eta`, `icar.augmented.eta.d8-T100.loss`;
//! - `icar.augmented.eta.d10-T10.eta`, `icar.augmented.eta.d10-T10.loss`,
//!   `icar.augmented.eta.d10-T20.eta`, `icar.augmented.eta.d10-T20.loss`,
//!   `icar.augmented.eta.d10-T50.eta`, `icar.augmented.eta.d10-T50.loss`,
//!   `icar.augmented.eta.d10-T100.eta`, `icar.augmented.eta.d10-T100.loss`;
//!
//! and, from `attnlab icar augmented`, `icar.augmented.eta.d<d>-T<T>.eta` and `….loss` for the
//! (d, T) asked for.

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};
use attnlab_core::{MeanSe, ResultRecord};
use attnlab_icar::head::{HeadEval, HeadTrain};

use crate::icar::experiments::PAPER;
use crate::icar::experiments::augmented::{AugRun, Config, Data, ETA_ID, EtaConfig, EtaData, ID};

/// The reference run's test-MSE plateau (spec §4 Fig 5).
pub const REFERENCE_PLATEAU: f64 = 0.0363;

/// Relative tolerance on η_eff and loss of the trained heads (finite Adam runs).
pub const REL_TOL: f64 = 0.03;
/// `icar.augmented.eta.*.eta`: η_eff = η* within ±3%.
pub const ETA: Rule =
    Rule::rel(REL_TOL, "finite Adam runs on sampled batches: 3% of η*, fixed with the first version of the claim");
/// `icar.augmented.trained.test-mse`: the reference run's plateau ± 0.003.
pub const TEST_MSE: Rule = Rule::abs(
    0.003,
    "the trained runs' mean against one reference run (spec §4 Fig 5 plateau 0.0363): ±8%, fixed with the first version of the claim (for one run)",
);
/// `icar.augmented.trained.gd-block-share`: 1 ± 0.1.
pub const GD_BLOCK_SHARE: Rule = Rule::abs(
    0.1,
    "the reference run's (query s_{t−1}, key s_t) block ≈ −0.6I gives it a share ≈ 0.95; ±0.1 admits that",
);
/// `icar.augmented.trained.gd-block-identity`: 0 ± 0.15 (tightened from ±0.25).
pub const GD_BLOCK_IDENTITY: Rule = Rule::abs(
    0.15,
    "the reference run's 2.75I − 0.15·11ᵀ at d = 5 has 0.11; ±0.15 admits it and little more (tightened from ±0.25)",
);
/// `icar.augmented.trained.value-reads-st`: 1 ± 0.1 (tightened from ±0.2).
pub const VALUE_READS_ST: Rule =
    Rule::abs(0.1, "the one-step-GD value path reads only s_t; ±0.1 as for the GD block's share (tightened from ±0.2)");
/// `icar.augmented.trained.between-gd-and-ls`: between the two reference predictors.
pub const BETWEEN: &str = "spec §5 table: exact in-context least squares bounds any predictor below, the best per-position one-step GD is what the GD signature reaches";

/// A per-run statistic over the seeds: the mean with its Student-t interval (n − 1 degrees of
/// freedom), or the exact value of a single run.
pub fn over_seeds(values: &[f64]) -> Observation {
    match values {
        [one] => Observation::exact(*one),
        _ => Observation::mean(MeanSe::of(values)),
    }
}

/// Per-seed values in words: "0.0361, 0.0370, 0.0365".
pub fn per_seed(values: &[f64]) -> String {
    values.iter().map(|v| format!("{v:.4}")).collect::<Vec<_>>().join(", ")
}

/// The judgements of the trained augmented model: each statistic over its seeds.
pub fn judge(rec: &ResultRecord<Config, Data>) -> Vec<Judgement> {
    let d = &rec.result;
    let r = &d.reference;
    let setting = setting(rec);
    let each = |f: &dyn Fn(&AugRun) -> f64| d.runs.iter().map(f).collect::<Vec<f64>>();
    let mse = each(&|x| x.outcome.test_mse);
    let share = each(&|x| x.structure.gd_block_share);
    let non_identity = each(&|x| x.structure.gd_block_non_identity);
    let reads = each(&|x| x.structure.value_reads_st);
    let Some(st) = d.runs.first().map(|x| &x.structure) else { return Vec::new() };
    vec![
        Judgement::new(
            Claim::new(
                &format!("{ID}.test-mse"),
                PAPER,
                Kind::Reproduction,
                format!(
                    "the trained model's test MSE reaches the reference run's plateau {REFERENCE_PLATEAU} ({setting}; per seed: {})",
                    per_seed(&mse)
                ),
                "§4 Fig 5, §5 table",
            ),
            Some(REFERENCE_PLATEAU),
            over_seeds(&mse),
            TEST_MSE,
            ID,
            "MSE",
        ),
        Judgement::new(
            Claim::new(
                &format!("{ID}.between-gd-and-ls"),
                PAPER,
                Kind::Reproduction,
                format!(
                    "the trained model lies between exact in-context least squares ({:.4}) and the best one-step-GD predictor with a per-position scalar ({:.4}); GD with one shared scalar gets {:.4} (Haar W and a fixed s_0: the commuting-theory optimum does not bind here)",
                    r.exact_ls, r.gd_per_position, r.gd_shared
                ),
                "§3a, §5 table",
            ),
            None,
            over_seeds(&mse),
            Rule::within(r.exact_ls, r.gd_per_position, BETWEEN),
            ID,
            "MSE",
        )
        // The same test MSE as `test-mse`, against another interval: not a second finding.
        .derived(&format!("{ID}.test-mse")),
        Judgement::new(
            Claim::new(
                &format!("{ID}.gd-block-share"),
                PAPER,
                Kind::Reproduction,
                format!(
                    "the key-query form pairs the query's s_t slot with the key's s_{{t−1}} slot (the one-step-GD block) and the other token blocks vanish: that block's share of ‖WqᵀWk‖_F² over the four token blocks (first seed's block norms {:.2}, {:.2}, {:.2}, {:.2}; share per seed: {})",
                    st.block_norms[0],
                    st.block_norms[1],
                    st.block_norms[2],
                    st.block_norms[3],
                    per_seed(&share)
                ),
                "§3a parameter structure; §4 Fig 5",
            ),
            Some(1.0),
            over_seeds(&share),
            GD_BLOCK_SHARE,
            ID,
            "",
        ),
        Judgement::new(
            Claim::new(
                &format!("{ID}.gd-block-identity"),
                PAPER,
                Kind::Reproduction,
                format!(
                    "the GD block is βI: ‖B − (tr B/d)I‖_F/‖B‖_F (first seed's mean diagonal {:.3}, mean off-diagonal {:.3}; reference run ≈ 2.75I − 0.15·11ᵀ up to the LayerNorm scale gauge; per seed: {}){}",
                    st.gd_block_diag,
                    st.gd_block_offdiag,
                    per_seed(&non_identity),
                    {
                        let ci = over_seeds(&non_identity).interval;
                        if ci[0] > 0.0 {
                            format!(". Its interval [{:.4}, {:.4}] excludes the theory's 0: the trained block is measurably not a multiple of I (as in the reference run, 0.11); the pass interval admits that offset, so an agreement here means \"as close to βI as the reference run\", not βI", ci[0], ci[1])
                        } else {
                            String::new()
                        }
                    }
                ),
                "§3a parameter structure, §4 Fig 5",
            ),
            Some(0.0),
            over_seeds(&non_identity),
            GD_BLOCK_IDENTITY,
            ID,
            "",
        ),
        Judgement::new(
            Claim::new(
                &format!("{ID}.value-reads-st"),
                PAPER,
                Kind::Reproduction,
                format!(
                    "the value path reads the s_t slot: ‖Ṽ[:, s_t]‖² / (‖Ṽ[:, s_t]‖² + ‖Ṽ[:, s_{{t−1}}]‖²) (per seed: {})",
                    per_seed(&reads)
                ),
                "§3a parameter structure; §4 Fig 5",
            ),
            Some(1.0),
            over_seeds(&reads),
            VALUE_READS_ST,
            ID,
            "",
        ),
    ]
}

/// The trained model's setting in words (model, data, training; no wall time, so the report text is
/// deterministic), as the claims and the figure's caption state it.
pub fn setting(rec: &ResultRecord<Config, Data>) -> String {
    let c = &rec.config.train;
    format!(
        "d = {}, n = {}, {} train / {} test Haar sequences, batch {}, {} epochs = {} Adam steps at lr {}, {} seed{}",
        c.d,
        c.n,
        c.train_seqs,
        c.test_seqs,
        c.batch,
        c.epochs,
        c.epochs * c.steps_per_epoch(),
        c.lr,
        rec.config.seeds.len(),
        if rec.config.seeds.len() == 1 { "" } else { "s" }
    )
}

/// Per-head values to 4 significant digits (η* and loss* run from 0.01 to 1).
fn per_head(values: &[f64]) -> String {
    values.iter().map(|&v| attnlab_comparator::fmt_num(v)).collect::<Vec<_>>().join(", ")
}

/// The two claims of one (d, T) point, `[η, loss]`, from its trained heads (same setting, different
/// seeds): the mean over heads of η_eff = η* within ±3%, and of the control-variate loss = loss*
/// within ±3% (at least 1e-3), each with its Student-t interval over the heads (n − 1 degrees of
/// freedom: the spread between trained heads, each head's own evaluation noise included). A single
/// head is reported without a verdict (its interval would be one head's evaluation noise, not the
/// training's). The CLI's `icar augmented` judges with it.
pub fn point(heads: &[(&HeadTrain, &HeadEval)]) -> Option<[Judgement; 2]> {
    let (first, _) = heads.first()?;
    let s = first.setting;
    let tag = format!("{ETA_ID}.d{}-T{}", s.d(), s.t());
    let etas: Vec<f64> = heads.iter().map(|(_, e)| e.effective_eta.mean).collect();
    let losses: Vec<f64> = heads.iter().map(|(_, e)| e.loss_paired.mean).collect();
    let plain: Vec<f64> = heads.iter().map(|(_, e)| e.loss.mean).collect();
    let seeds = heads.iter().map(|(r, _)| r.seed.to_string()).collect::<Vec<_>>().join(", ");
    let size = format!(
        "{} head{} (seeds {seeds}), each {} Adam steps at batch {} and {} fresh test sequences",
        heads.len(),
        if heads.len() == 1 { "" } else { "s" },
        first.steps,
        first.batch,
        first.eval_samples
    );
    let judge = |claim, predicted, obs, rule| {
        if heads.len() == 1 {
            Judgement::not_judged(claim, predicted, obs, rule, ETA_ID, "")
        } else {
            Judgement::new(claim, predicted, obs, rule, ETA_ID, "")
        }
    };
    Some([
        judge(
            Claim::new(
                &format!("{tag}.eta"),
                PAPER,
                Kind::Theorem,
                format!(
                    "d = {}, T = {}: the trained heads' step size η_eff = η* = d/(T+d−2) = {:.4} ({size}; per head: {})",
                    s.d(),
                    s.t(),
                    s.eta_star(),
                    per_head(&etas)
                ),
                "§3a, §5 table",
            ),
            Some(s.eta_star()),
            over_seeds(&etas),
            ETA,
        ),
        judge(
            Claim::new(
                &format!("{tag}.loss"),
                PAPER,
                Kind::Theorem,
                format!(
                    "d = {}, T = {}: the trained heads' loss E‖ŝ − s_{{T+1}}‖² = loss* = (d−1)/(T+d−2) = {:.4} ({size}; each estimated on its test sequences with Γ*s_T as control variate; per head: {}; plain estimates: {})",
                    s.d(),
                    s.t(),
                    s.loss_star(),
                    per_head(&losses),
                    per_head(&plain)
                ),
                "§3a, §5 table",
            ),
            Some(s.loss_star()),
            over_seeds(&losses),
            Rule::abs(
                (REL_TOL * s.loss_star()).max(1e-3),
                "as η: 3% of loss*, at least 1e-3 (the paired estimate's resolution on the test sequences)",
            ),
        ),
    ])
}

/// The judgements of the η grid: [`point`] for every (d, T), its heads being consecutive runs of
/// the same setting, in the runs' order.
pub fn judge_eta(rec: &ResultRecord<EtaConfig, EtaData>) -> Vec<Judgement> {
    let pairs: Vec<(&HeadTrain, &HeadEval)> = rec.config.runs.iter().zip(&rec.result.evals).collect();
    pairs.chunk_by(|a, b| a.0.setting == b.0.setting).filter_map(point).flatten().collect()
}
