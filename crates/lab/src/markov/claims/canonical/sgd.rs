//! Claims of `markov.canonical.sgd` (spec §3 "Basins … Consequence", "Check \[derived\]"): SGD with
//! momentum from a small Gaussian init ends at H* when p+q < 1 and at U when p+q > 1, judged on the
//! mean final exact loss over seeds:
//! - `markov.canonical.sgd.p0.2-q0.3`, `markov.canonical.sgd.p0.1-q0.1` (→ H*),
//! - `markov.canonical.sgd.p0.5-q0.8`, `markov.canonical.sgd.p0.9-q0.9` (→ U),
//!
//! and, from `attnlab markov sgd`, `markov.canonical.sgd.p<p>-q<q>` for the chain asked for.

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};
use attnlab_core::ResultRecord;
use attnlab_markov::chain::ChainTheory;
use attnlab_markov::flow::Endpoint;
use attnlab_markov::sgd::{SgdRun, SgdSummary, SgdTrace};

use crate::markov::claims::pq_tag;
use crate::markov::experiments::PAPER;
use crate::markov::experiments::canonical::sgd::{Config, Data, ID};

/// The proportion of runs that end at the predicted set: at least 0.8.
pub const ENDS: Rule = Rule::within(
    0.8,
    1.0,
    "the basin theorem puts every small initialisation in the predicted basin; 1 run in 5 may be kicked across by SGD noise",
);

/// The claim about one chain's SGD runs: the proportion of seeds whose run ends at the set the
/// theory predicts (H* for p+q < 1, U for p+q > 1), with its Wilson interval. The CLI's `markov sgd`
/// judges with it.
pub fn judge_run(run: &SgdRun, traces: &[SgdTrace]) -> Judgement {
    let t = ChainTheory::new(&run.chain);
    let s = SgdSummary::new(run, traces);
    let name = if s.predicted_end == Endpoint::Global { "H*" } else { "U" };
    let hits = s.hits();
    Judgement::new(
        Claim::new(
            &format!("markov.canonical.sgd.{}", pq_tag(&run.chain)),
            PAPER,
            Kind::Theorem,
            format!(
                "canonical model (§2c), small init N(0, 0.1²): SGD runs converge to {name} when p+q {} 1: of {} seeds after {} steps, {hits}/{} ended at {name} (H* = {:.4}, U = {:.4}; mean final loss {:.4})",
                if t.switching < 1.0 { "<" } else { ">" },
                traces.len(),
                run.sgd.steps(),
                traces.len(),
                t.entropy_rate,
                t.unigram_loss,
                s.final_loss().mean
            ),
            "§3 Basins, Check [derived]",
        ),
        Some(1.0),
        Observation::proportion(hits, traces.len()),
        ENDS,
        ID,
        "fraction of runs",
    )
}

/// The judgements of the SGD experiment, one per chain.
pub fn judge(rec: &ResultRecord<Config, Data>) -> Vec<Judgement> {
    rec.result.results.iter().map(|r| judge_run(&r.run, &r.traces)).collect()
}
