//! Claims of `markov.canonical.landscape` (spec §3 closed forms), judged on the experiment's exactness
//! checks:
//! - `markov.canonical.bstar`: ∂L/∂b = 0 at the closed-form b*(e, w);
//! - `markov.canonical.global-set`: L = H* on the global set;
//! - `markov.canonical.unigram-set`: L = U on the unigram set;
//! - `markov.canonical.curvature`: the closed-form e-curvature on the unigram set;
//! - `markov.canonical.curvature.p0.2-q0.3`, `markov.canonical.curvature.p0.5-q0.8`: the spec's
//!   printed check values of that curvature at w = 0.

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};

/// An identity evaluated in f64.
pub const ROUNDING: Rule = Rule::abs(1e-12, "a closed form evaluated in f64: rounding only");
use attnlab_core::ResultRecord;

use crate::markov::claims::pq_tag;
use crate::markov::experiments::PAPER;
use crate::markov::experiments::canonical::landscape::{Config, Data, ID, Panel};

/// The spec's printed e-curvatures at (e, w) = (0, 0), one per panel (3 decimals).
const PRINTED_CURVATURE: [f64; 2] = [-0.24, 0.142];

/// The judgements of the landscape's claims.
pub fn judge(rec: &ResultRecord<Config, Data>) -> Vec<Judgement> {
    let d = &rec.result;
    let all = |f: fn(&Panel) -> f64| d.panels.iter().map(f).fold(0.0, f64::max);
    let mut js = vec![
        Judgement::new(
            Claim::new(
                "markov.canonical.bstar",
                PAPER,
                Kind::Control,
                "identity check of a closed form (holds by construction): at the optimal bias b*(e,w), ∂L/∂b = 0 (max |∂L/∂b| over both grids)",
                "§3 Optimal bias",
            ),
            Some(0.0),
            Observation::exact(all(|p| p.max_db_at_bstar)),
            Rule::abs(1e-10, "a closed form evaluated in f64; the derivative is a difference of O(1) terms"),
            ID,
            "",
        ),
        Judgement::new(
            Claim::new(
                "markov.canonical.global-set",
                PAPER,
                Kind::Control,
                "identity check of a closed form (holds by construction): L = H* on the global set c·e² = s*, b = ℓ0 + e²/2 (max |L − H*|)",
                "§3 Global-minimum set",
            ),
            Some(0.0),
            Observation::exact(all(|p| p.max_err_global_set)),
            ROUNDING,
            ID,
            "nats",
        ),
        Judgement::new(
            Claim::new(
                "markov.canonical.unigram-set",
                PAPER,
                Kind::Control,
                "identity check of a closed form (holds by construction): L = U on the unigram set e = 0, b = ln(p/q) (max |L − U|)",
                "§3 Unigram critical set",
            ),
            Some(0.0),
            Observation::exact(all(|p| p.max_err_unigram_set)),
            ROUNDING,
            ID,
            "nats",
        ),
        Judgement::new(
            Claim::new(
                "markov.canonical.curvature",
                PAPER,
                Kind::Theorem,
                "∂²L/∂e² on the unigram set = 2(p+q−1)pq(1+2w|w|)/(p+q)² (max error of a central finite difference, h = 1e-4, over w ∈ [−2, 2])",
                "§3 Curvature",
            ),
            Some(0.0),
            Observation::exact(all(|p| p.max_err_curvature)),
            Rule::abs(
                1e-6,
                "a central finite difference with h = 1e-4 has error O(h²) = 1e-8 times the fourth derivative, plus rounding ε/h² ≈ 1e-8",
            ),
            ID,
            "",
        ),
    ];
    // The spec's printed check values (3 decimals) against finite differences.
    for (panel, printed) in d.panels.iter().zip(PRINTED_CURVATURE) {
        js.push(Judgement::new(
            Claim::new(
                &format!("markov.canonical.curvature.{}", pq_tag(&panel.chain)),
                PAPER,
                Kind::Control,
                format!(
                    "control of the spec's printed value: e-curvature at (e, w) = (0, 0) for (p,q) = ({}, {})",
                    panel.chain.p(),
                    panel.chain.q()
                ),
                "§3 Curvature (check)",
            ),
            Some(printed),
            Observation::exact(panel.fd_curvature_w0),
            Rule::abs(5e-4, "the spec prints 3 decimals: half a unit in the last place"),
            ID,
            "",
        ));
    }
    js
}
