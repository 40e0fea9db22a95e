//! How one training run ended and how long it sat on the unigram plateau, judged from its stored
//! evaluation curve and final numbers by the spec markov §6 bands. These are judgements, so they
//! live with the claims, not in the trainer: retuning a band re-judges the cached runs and reruns
//! nothing.

use attnlab_comparator::Tolerance;
use attnlab_trainer::{Eval, TrainOutcome};
use serde::{Deserialize, Serialize};

/// Band around U (nats) that counts as "on the unigram plateau", and around H* as "reached" (spec
/// §6: the reference runs end within 0.01 nats of their fixed point).
pub const BAND: Tolerance = Tolerance::Absolute(0.01);
/// Band on the predicted probabilities for "stuck at unigram" (spec §6: P̂ within 0.02 of π1).
pub const PROB_BAND: Tolerance = Tolerance::Absolute(0.02);

/// Where one run ended, by the spec §6 bands ([`BAND`], [`PROB_BAND`]). This classifies a single
/// run; a claim about a group of runs is judged by the comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Final loss within 0.01 of H*.
    Global,
    /// Within 0.01 of U and both predicted P(1 | ·) within 0.02 of π1.
    Unigram,
    /// Neither.
    Neither,
    /// Training diverged (non-finite loss); no final loss.
    Diverged,
}

impl Ending {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Ending::Global => "global",
            Ending::Unigram => "unigram",
            Ending::Neither => "neither",
            Ending::Diverged => "diverged",
        }
    }

    /// Where run `o` ended: from its final held-out loss and final P̂(1 | ·) (diverged when it has
    /// no final loss).
    pub fn of(o: &TrainOutcome) -> Self {
        let Some(loss) = o.final_loss.filter(|l| l.is_finite()) else { return Ending::Diverged };
        let near_pi = match (o.pi1, o.p1_given_0, o.p1_given_1) {
            (Some(pi), Some(a), Some(b)) => PROB_BAND.admits(pi, a) && PROB_BAND.admits(pi, b),
            (None, _, _) => true,
            _ => false,
        };
        if BAND.admits(o.unigram_loss, loss) && near_pi {
            Ending::Unigram
        } else if BAND.admits(o.entropy_rate, loss) {
            Ending::Global
        } else {
            Ending::Neither
        }
    }
}

impl Ending {
    /// Where run `o` stood at iteration `horizon`: its last evaluation at or before it, by the same
    /// bands (U also needs both P̂(1 | ·) within 0.02 of π1 where that evaluation recorded them);
    /// None when nothing was evaluated by then.
    pub fn at(o: &TrainOutcome, horizon: usize) -> Option<Self> {
        let e = o.curve.iter().take_while(|e| e.iter <= horizon).last()?;
        if !e.loss.is_finite() {
            return Some(Ending::Diverged);
        }
        let near_pi = match (o.pi1, e.p1_given_0, e.p1_given_1) {
            (Some(pi), Some(a), Some(b)) => PROB_BAND.admits(pi, a) && PROB_BAND.admits(pi, b),
            _ => true,
        };
        Some(if BAND.admits(o.unigram_loss, e.loss) && near_pi {
            Ending::Unigram
        } else if BAND.admits(o.entropy_rate, e.loss) {
            Ending::Global
        } else {
            Ending::Neither
        })
    }
}

/// Time spent on the unigram plateau.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plateau {
    /// First evaluated iteration within 0.01 of U (None: never came near U).
    pub entered: Option<usize>,
    /// First evaluated iteration after that which is outside the band (None: never left).
    pub left: Option<usize>,
}

impl Plateau {
    /// From an evaluation curve and U. The curve is read up to its first non-finite loss (a run
    /// that diverged on the plateau did not leave it: it is cut short there).
    pub fn of(curve: &[Eval], unigram: f64) -> Self {
        let finite = curve.iter().position(|e| !e.loss.is_finite()).unwrap_or(curve.len());
        let curve = &curve[..finite];
        let inside = |e: &Eval| BAND.admits(unigram, e.loss);
        let entered = curve.iter().position(inside);
        let left = entered.and_then(|i| curve[i..].iter().find(|e| !inside(e)).map(|e| e.iter));
        Self { entered: entered.map(|i| curve[i].iter), left }
    }

    /// The plateau of run `o`: its evaluation curve (the final evaluation included) against its U.
    pub fn of_run(o: &TrainOutcome) -> Self {
        Self::of(&o.curve, o.unigram_loss)
    }

    /// How long the run stayed in the band.
    pub fn length(&self) -> PlateauLength {
        match (self.entered, self.left) {
            (None, _) => PlateauLength::NeverEntered,
            (Some(e), None) => PlateauLength::NeverLeft { entered: e },
            (Some(e), Some(l)) => PlateauLength::Iters(l - e),
        }
    }
}

/// The plateau length in the three cases a report must tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlateauLength {
    /// The loss never came within 0.01 of U (reported as 0).
    NeverEntered,
    /// It entered the band at iteration `entered` and was still there at the end.
    NeverLeft {
        /// First evaluated iteration in the band.
        entered: usize,
    },
    /// It left after this many iterations.
    Iters(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run with this curve on a chain with H* and U (no final numbers needed by `Ending::at`).
    fn outcome(curve: Vec<Eval>, entropy_rate: f64, unigram_loss: f64) -> TrainOutcome {
        use attnlab_trainer::{Arch, Data, TrainSettings};
        let chain = attnlab_markov::BinaryChain::new(0.5, 0.8).unwrap();
        let config = TrainSettings::defaults(Arch::Theory, Data::binary(chain), 0).check().unwrap();
        TrainOutcome {
            config,
            num_params: 0,
            final_loss: None,
            final_loss_se: None,
            entropy_rate,
            unigram_loss,
            pi1: None,
            p1_given_0: None,
            p1_given_1: None,
            diverged_at: None,
            curve,
            train_loss: Vec::new(),
            occurrences: Vec::new(),
            attention: None,
            wall_s: 0.0,
        }
    }

    fn eval(iter: usize, loss: f64) -> Eval {
        Eval { iter, loss, se: 0.0, p1_given_0: None, p1_given_1: None, attn_ratio: None }
    }

    #[test]
    fn the_plateau_is_read_off_the_curve() {
        let u = 0.66;
        let curve = [eval(0, 0.70), eval(20, 0.665), eval(40, 0.661), eval(60, 0.62)];
        assert_eq!(Plateau::of(&curve, u), Plateau { entered: Some(20), left: Some(60) });
        assert_eq!(Plateau::of(&curve, u).length(), PlateauLength::Iters(40));
        assert_eq!(Plateau::of(&curve[..3], u).length(), PlateauLength::NeverLeft { entered: 20 });
        assert_eq!(Plateau::of(&curve[3..], u).length(), PlateauLength::NeverEntered);
        // At a horizon: the last evaluation at or before it decides.
        let o = |curve: Vec<Eval>| outcome(curve, 0.62, 0.66);
        assert_eq!(Ending::at(&o(curve.to_vec()), 45), Some(Ending::Unigram));
        assert_eq!(Ending::at(&o(curve.to_vec()), 60), Some(Ending::Global));
        assert_eq!(Ending::at(&o(curve[1..].to_vec()), 10), None);
        // A run that diverges on the plateau never left it.
        let diverged = [eval(0, 0.70), eval(20, 0.665), eval(40, f64::NAN)];
        assert_eq!(Plateau::of(&diverged, u).length(), PlateauLength::NeverLeft { entered: 20 });
    }
}
