//! Claims of `markov.canonical.basin` (spec §3 "Basins of attraction", "Conserved energy"):
//! - `markov.canonical.basin.p0.1-q0.1`, `markov.canonical.basin.p0.9-q0.9`: gradient flow from
//!   each initial (e, w) away from a basin boundary ends in the predicted basin;
//! - `markov.canonical.energy`: E(e, w) is conserved along every trajectory.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_core::ResultRecord;

use crate::markov::claims::pq_tag;
use crate::markov::experiments::PAPER;
use crate::markov::experiments::canonical::basin::{Config, Data, ID, Point};

/// The judgements of the basin claims.
pub fn judge(rec: &ResultRecord<Config, Data>) -> Vec<Judgement> {
    let (cfg, d) = (&rec.config, &rec.result);
    let mut js = Vec::new();
    let mut max_drift: f64 = 0.0;
    let mut n_flows = 0;
    for p in &d.panels {
        let away: Vec<&Point> = p.points.iter().filter(|pt| !pt.near_boundary).collect();
        let ok = away.iter().filter(|pt| pt.agrees()).count();
        let near = p.points.len() - away.len();
        let near_ok = p.points.iter().filter(|pt| pt.near_boundary && pt.agrees()).count();
        js.push(Judgement::new(
            Claim::new(
                &format!("markov.canonical.basin.{}", pq_tag(&p.chain)),
                PAPER,
                format!(
                    "gradient flow from each of {} initial (e, w) ends in the predicted basin (fraction that agree; {} points within {} of a basin boundary left out, {near_ok}/{near} of them agree too)",
                    away.len(),
                    near,
                    cfg.margin
                ),
                "§3 Basins of attraction",
            ),
            1.0,
            Observation::fraction(ok, away.len()),
            Tolerance::Absolute(0.02),
            ID,
            "",
        ));
        for pt in &p.points {
            if let Some(dr) = pt.flow.energy_drift {
                max_drift = max_drift.max(dr);
                n_flows += 1;
            }
        }
    }
    js.push(Judgement::new(
        Claim::new(
            "markov.canonical.energy",
            PAPER,
            format!("E(e,w) = e² − w² − sign(w)ln|w| is conserved along gradient flow with b at b* (max relative drift over {n_flows} trajectories)"),
            "§3 Conserved energy",
        ),
        0.0,
        Observation::exact(max_drift),
        Tolerance::Absolute(1e-4),
        ID,
        "",
    ));
    js
}
