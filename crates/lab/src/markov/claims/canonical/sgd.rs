//! Claims of `markov.canonical.sgd` (spec §3 "Basins … Consequence", "Check \[derived\]"): SGD with
//! momentum from a small Gaussian init ends at H* when p+q < 1 and at U when p+q > 1, judged on the
//! proportion of (finite) runs that end there:
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
    "the basin theorem puts every small initialisation in the predicted basin; at least 80% of runs must end there, allowing SGD noise. With the paper-scale 20 seeds the Wilson interval clears 0.8 only when all 20 do (19/20 → [0.76, 0.99] is inconclusive); 15/20 or fewer disagree",
);

/// The claim about one chain's SGD runs: the proportion of seeds whose run ends at the set the
/// theory predicts (H* for p+q < 1, U for p+q > 1), with its Wilson interval, over the runs that
/// stayed finite. A run that diverged is outside the theorem's assumptions (a learning rate too
/// large for the exact loss) and never counts against it: it is left out of n and named in the
/// statement; when every run diverged the claim is reported without a verdict. The CLI's
/// `markov sgd` judges with it.
pub fn judge_run(run: &SgdRun, traces: &[SgdTrace]) -> Judgement {
    let t = ChainTheory::new(&run.chain);
    let s = SgdSummary::new(run, traces);
    let name = if s.predicted_end == Endpoint::Global { "H*" } else { "U" };
    let hits = s.hits();
    let finite = traces.len() - s.diverged;
    let diverged = match s.diverged {
        0 => String::new(),
        d if d == traces.len() => format!("; all {d} runs diverged (outside the theorem's assumptions): no verdict"),
        d => format!("; {d} run(s) diverged and are left out (outside the theorem's assumptions)"),
    };
    let claim = Claim::new(
        &format!("markov.canonical.sgd.{}", pq_tag(&run.chain)),
        PAPER,
        Kind::Theorem,
        format!(
            "canonical model (§2c), small init N(0, 0.1²): SGD runs converge to {name} when p+q {} 1: of {} seeds after {} steps, {hits}/{finite} finite runs ended at {name} (H* = {:.4}, U = {:.4}; mean final loss {:.4}){diverged}",
            if t.switching < 1.0 { "<" } else { ">" },
            traces.len(),
            run.sgd.steps(),
            t.entropy_rate,
            t.unigram_loss,
            s.final_loss().mean
        ),
        "§3 Basins, Check [derived]",
    );
    let obs = Observation::proportion(hits, finite);
    if finite == 0 {
        Judgement::not_judged(claim, Some(1.0), obs, ENDS, ID, "fraction of runs")
    } else {
        Judgement::new(claim, Some(1.0), obs, ENDS, ID, "fraction of runs")
    }
}

/// The judgements of the SGD experiment, one per chain.
pub fn judge(rec: &ResultRecord<Config, Data>) -> Vec<Judgement> {
    rec.result.results.iter().map(|r| judge_run(&r.run, &r.traces)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use attnlab_comparator::Verdict;
    use attnlab_markov::config::{BinaryChain, SgdConfig};
    use attnlab_markov::sgd::run_all;

    /// A learning rate far outside the exact loss's stable range: every run diverges, and the
    /// claim is reported without a verdict instead of "disagrees" (issue 25, 7g). At the spec's
    /// rate the same claim agrees.
    #[test]
    fn diverged_runs_never_count_against_the_theorem() {
        let chain = BinaryChain::new(0.2, 0.3).unwrap();
        let wild = SgdRun::new(chain, SgdConfig::new(1e9, 0.9, 50, 0.1).unwrap(), 0.0, 5, 10).unwrap();
        let traces = run_all(&wild, 1);
        assert!(traces.iter().all(|t| t.diverged), "lr 1e9 should diverge");
        let j = judge_run(&wild, &traces);
        assert_eq!(j.verdict, Verdict::NotJudged);
        assert!(j.claim.statement.contains("all 5 runs diverged"), "{}", j.claim.statement);
        let sane = SgdRun::new(chain, SgdConfig::new(0.01, 0.9, 5000, 0.1).unwrap(), 0.0, 20, 100).unwrap();
        let j = judge_run(&sane, &run_all(&sane, 1));
        assert_eq!((j.verdict, j.observed.n), (Verdict::Agrees, 20));
    }
}
