//! Fidelity rows: attnlab's runs against runs of the authors' own code at the same setting (F9 full
//! attention and m 40, F3 at L 1, F16 at V 5, p 0.9 tied), from `crates/lab/data/
//! markov_authors_code_runs.json` (copied in with its provenance: repository, commits, flags,
//! precision, seeds). Each row is the difference of a per-run statistic between the two, attnlab
//! minus reference, with an interval honest about the reference's few seeds: Welch's t with its
//! Satterthwaite degrees of freedom when both sides have ≥ 2 runs, and with one reference run the
//! prediction interval of one new attnlab run (s·√(1 + 1/n), n − 1 degrees of freedom). A row is
//! `fidelity`: evidence about the implementation, never about the paper's claim. Rows are made only
//! at the paper's size (the reference ran there):
//! - `markov.fidelity.F9-full.final-loss`, `.exit`, `.p1-given-0` (and `F9-m40`, `F3-L1`);
//! - `markov.fidelity.F16-p0.9-tied.final-loss`, `.exit` (no P̂(1 | 0) for five states).

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};
use attnlab_core::MeanSe;
use attnlab_trainer::TrainOutcome;
use serde::Deserialize;

use super::ending::Plateau;
use crate::markov::experiments::PAPER;

/// The reference runs, as committed.
pub const DATA: &str = include_str!("../../../../data/markov_authors_code_runs.json");

/// One reference setting.
#[derive(Debug, Clone, Deserialize)]
pub struct Setting {
    /// Short name (the claim-id part).
    pub name: String,
    /// attnlab's figure and group tag with the same setting.
    pub figure: String,
    /// The group tag.
    pub tag: String,
    /// Which reference code (see the file's provenance).
    pub variant: String,
    /// The flags it ran with.
    pub flags: String,
    /// Its seeds.
    pub seeds: Vec<u64>,
    /// Final held-out loss per seed (nats).
    pub final_loss: Vec<f64>,
    /// Plateau exit per seed (iteration).
    pub exit: Vec<f64>,
    /// P̂(1 | state 0) over all positions, per seed (empty for multi-state data).
    pub p1_given_0: Vec<f64>,
}

#[derive(Debug, Clone, Deserialize)]
struct Reference {
    settings: Vec<Setting>,
}

/// The reference settings (the committed file parses: a test checks it).
pub fn settings() -> Vec<Setting> {
    serde_json::from_str::<Reference>(DATA).map(|r| r.settings).unwrap_or_default()
}

/// attnlab's run shape the reference setting `name` ran at: (d, N, iterations, layers).
fn shape(name: &str) -> Option<(usize, usize, usize, usize)> {
    Some(match name {
        "F9-full" | "F9-m40" => (32, 1024, 800, 1),
        "F3-L1" => (8, 512, 500, 1),
        "F16-p0.9-tied" => (8, 1024, 5000, 1),
        _ => return None,
    })
}

/// Final losses agree within the spec §6 band.
pub const LOSS: Rule = Rule::abs(
    0.01,
    "spec §6 band: final losses within 0.01 nats are the same ending; the interval carries the reference's few seeds (Welch, or a one-run prediction interval)",
);
/// Plateau exits agree within 100 iterations.
pub const EXIT: Rule = Rule::abs(
    100.0,
    "the exit from U spreads over about ±100 iterations between seeds in either implementation (the reference file: 100–210 at F3 L 1); a mean difference within 100 iterations is the same timing",
);
/// P̂(1 | 0) agrees within the spec §6 probability band.
pub const PROB: Rule = Rule::abs(0.02, "spec §6 probability band (0.02)");

/// attnlab minus reference: Welch's t (both ≥ 2 runs) or the prediction interval of one new attnlab
/// run around a single reference run; None when attnlab has fewer than 2 runs or the reference none.
pub fn difference(ours: &[f64], theirs: &[f64]) -> Option<Observation> {
    let a = MeanSe::of(ours);
    if ours.len() < 2 || theirs.is_empty() {
        return None;
    }
    let na = ours.len() as f64;
    let var_a = a.se * a.se; // s²/n
    if theirs.len() == 1 {
        let s2 = var_a * na;
        let se = (s2 * (1.0 + 1.0 / na)).sqrt();
        return Some(Observation::t(a.mean - theirs[0], se, ours.len() - 1, ours.len() + 1));
    }
    let r = MeanSe::of(theirs);
    let nr = theirs.len() as f64;
    let var_r = r.se * r.se;
    let se = (var_a + var_r).sqrt();
    let df = if se == 0.0 {
        (ours.len() + theirs.len() - 2) as f64
    } else {
        se.powi(4) / (var_a * var_a / (na - 1.0) + var_r * var_r / (nr - 1.0))
    };
    // Satterthwaite's df, rounded down (conservative), at least 1.
    Some(Observation::t(a.mean - r.mean, se, (df.floor() as usize).max(1), ours.len() + theirs.len()))
}

/// The fidelity rows of group `tag` of figure `figure`, when a reference setting names it and the
/// runs have its shape; empty otherwise.
pub fn judge(figure: &str, tag: &str, os: &[TrainOutcome]) -> Vec<Judgement> {
    let Some(s) = settings().into_iter().find(|s| s.figure == figure && s.tag == tag) else { return Vec::new() };
    let Some(first) = os.first() else { return Vec::new() };
    let c = &first.config;
    if shape(&s.name) != Some((c.d, c.seq_len, c.iters, c.layers)) {
        return Vec::new();
    }
    let finals: Vec<f64> = os.iter().filter_map(|o| o.final_loss).filter(|l| l.is_finite()).collect();
    let exits: Vec<f64> = os.iter().filter_map(|o| Plateau::of_run(o).left.map(|l| l as f64)).collect();
    let never_left = os.len() - exits.len();
    let p1: Vec<f64> = os.iter().filter_map(|o| o.p1_given_0).collect();
    let list = |xs: &[f64], digits: usize| xs.iter().map(|x| format!("{x:.digits$}")).collect::<Vec<_>>().join(", ");
    let source = format!(
        "authors' code, variant {} (`{}`), seeds {:?}; data/markov_authors_code_runs.json",
        s.variant, s.flags, s.seeds
    );
    let setting = format!("{} (d {}, N {}, {} iterations, L {})", s.name, c.d, c.seq_len, c.iters, c.layers);
    let mut js = Vec::new();
    let mut row = |stat: &str, what: String, ours: &[f64], theirs: &[f64], rule: Rule, unit: &str| {
        if let Some(obs) = difference(ours, theirs) {
            js.push(Judgement::new(
                Claim::new(&format!("markov.fidelity.{}.{stat}", s.name), PAPER, Kind::Fidelity, what, &source),
                Some(0.0),
                obs,
                rule,
                figure,
                unit,
            ));
        }
    };
    row(
        "final-loss",
        format!(
            "{setting}: attnlab's final held-out loss minus the authors' code's (attnlab: [{}]; reference: [{}])",
            list(&finals, 4),
            list(&s.final_loss, 4)
        ),
        &finals,
        &s.final_loss,
        LOSS,
        "nats",
    );
    row(
        "exit",
        format!(
            "{setting}: attnlab's exit from the plateau at U minus the authors' code's, in iterations, over the runs that left it (attnlab: [{}]{}; reference: [{}]; eval schedules differ)",
            list(&exits, 0),
            if never_left > 0 { format!(", {never_left} never left") } else { String::new() },
            list(&s.exit, 0)
        ),
        &exits,
        &s.exit,
        EXIT,
        "iterations",
    );
    row(
        "p1-given-0",
        format!(
            "{setting}: attnlab's P̂(1 | state 0) over all positions minus the authors' code's (attnlab: [{}]; reference: [{}])",
            list(&p1, 3),
            list(&s.p1_given_0, 3)
        ),
        &p1,
        &s.p1_given_0,
        PROB,
        "probability",
    );
    js
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_file_parses_with_every_setting() {
        let s = settings();
        let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["F9-full", "F9-m40", "F3-L1", "F16-p0.9-tied"]);
        assert!(s.iter().all(|s| shape(&s.name).is_some() && s.final_loss.len() == s.seeds.len()));
    }

    /// Welch by hand: ours [1, 2, 3] (mean 2, s² 1), theirs [0, 2] (mean 1, s² 2): se² = 1/3 + 1,
    /// df = (4/3)² / ((1/3)²/2 + 1²/1) = 1.684 → 1; one reference run: s·√(1 + 1/3).
    #[test]
    fn welch_and_one_run_prediction_intervals() {
        let o = difference(&[1.0, 2.0, 3.0], &[0.0, 2.0]).unwrap();
        assert!((o.value - 1.0).abs() < 1e-12);
        assert!((o.se.unwrap() - (4.0_f64 / 3.0).sqrt()).abs() < 1e-12);
        let half = attnlab_comparator::t95(1) * (4.0_f64 / 3.0).sqrt();
        assert!((o.interval[1] - (1.0 + half)).abs() < 1e-9);
        let p = difference(&[1.0, 2.0, 3.0], &[2.5]).unwrap();
        assert!((p.value + 0.5).abs() < 1e-12 && (p.se.unwrap() - (4.0_f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(difference(&[1.0], &[1.0, 2.0]).is_none() && difference(&[1.0, 2.0], &[]).is_none());
    }
}
