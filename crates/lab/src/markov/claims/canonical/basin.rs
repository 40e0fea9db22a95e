//! Claims of `markov.canonical.basin` (spec §3 "Basins of attraction", "Conserved energy"):
//! - `markov.canonical.basin.p0.1-q0.1`, `markov.canonical.basin.p0.9-q0.9`: gradient flow from
//!   each initial (e, w) away from a basin boundary ends in the predicted basin;
//! - `markov.canonical.energy`: E(e, w) is conserved along every trajectory.

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};

/// The basin claim: ≥ 98% of the points away from a boundary.
pub const BASIN: Rule = Rule::abs(
    0.02,
    "the closed-form basins decide every point away from a boundary; 2% allows a slow flow stopped at t_max (fixed with the first version of the claim)",
);
/// Energy drift along the flow.
pub const ENERGY: Rule = Rule::abs(
    1e-4,
    "an adaptive ODE integrator (its rtol is in the result's config) over long flows; 1e-4 relative drift, fixed with the first version of the claim",
);
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
                Kind::Theorem,
                format!(
                    "gradient flow from each of {} initial (e, w) ends in the predicted basin (fraction that agree; {} points within {} of a basin boundary left out, {near_ok}/{near} of them agree too)",
                    away.len(),
                    near,
                    cfg.margin
                ),
                "§3 Basins of attraction",
            ),
            Some(1.0),
            Observation::proportion(ok, away.len()),
            BASIN,
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
            Kind::Theorem,
            format!("E(e,w) = e² − w² − sign(w)ln|w| is conserved along gradient flow with b at b* (max relative drift over {n_flows} trajectories)"),
            "§3 Conserved energy",
        ),
        Some(0.0),
        Observation::exact(max_drift),
        ENERGY,
        ID,
        "",
    ));
    js
}
