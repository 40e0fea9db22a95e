//! Claims of the trained non-augmented model (spec icar §3b, §4 Fig 7, §5 table): its test MSE
//! against the reference run's, against the augmented model's and the zero predictor's, and its
//! positional attention against the theory's recurrence and the reference run's diffuse rows:
//! - `icar.nonaugmented.test-mse`, `icar.nonaugmented.worse-than-augmented`,
//!   `icar.nonaugmented.pe-offsets01`, `icar.nonaugmented.pe-diffuse-as-reference`.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_core::ResultRecord;

use crate::icar::claims::augmented::REFERENCE_PLATEAU;
use crate::icar::experiments::PAPER;
use crate::icar::experiments::nonaugmented::{Config, Data, ID};

/// The reference run's final test MSE (spec §4 Fig 7, H = 64, batch 1024, 200 epochs).
pub const REFERENCE_MSE: f64 = 0.0749;
/// The reference run's PE mass on offsets 0–1 at q = 49 (spec §4 Fig 7: "about 6%").
pub const REFERENCE_PE_MASS: f64 = 0.06;
/// The zero predictor's MSE on the Haar data (the upper end of `worse-than-augmented`).
pub const ZERO_MSE: f64 = 0.2;

/// The augmented model's test MSE the non-augmented one is compared with: the trained augmented
/// model's when its result is at hand, else the reference run's plateau.
pub fn augmented_baseline(augmented_test_mse: Option<f64>) -> f64 {
    augmented_test_mse.unwrap_or(REFERENCE_PLATEAU)
}

/// The model's setting in words, as the claims and the figure's caption state it.
pub fn setting(rec: &ResultRecord<Config, Data>) -> String {
    let c = &rec.config.train;
    format!(
        "d = {}, n = {}, H = {}, batch {}, {} epochs = {} Adam steps at lr {}, trained in {:.0} s; reference: H = 64, batch 1024, 3200 steps",
        c.d,
        c.n,
        c.heads,
        c.batch,
        c.epochs,
        c.epochs * c.steps_per_epoch(),
        c.lr,
        rec.result.outcome.wall_s
    )
}

/// The judgements; `augmented_test_mse` is the trained augmented model's test MSE if known (see
/// [`augmented_baseline`]).
pub fn judge(rec: &ResultRecord<Config, Data>, augmented_test_mse: Option<f64>) -> Vec<Judgement> {
    let o = &rec.result.outcome;
    let c = &rec.config.train;
    let aug = augmented_baseline(augmented_test_mse);
    let setting = setting(rec);
    vec![
        Judgement::new(
            Claim::new(&format!("{ID}.test-mse"), PAPER, format!("the trained non-augmented model's test MSE is near the reference run's {REFERENCE_MSE} ({setting})"), "§4 Fig 7, §5 table"),
            REFERENCE_MSE,
            Observation::exact(o.test_mse),
            Tolerance::Absolute(0.015),
            ID,
            "MSE",
        ),
        Judgement::interval(
            Claim::new(
                &format!("{ID}.worse-than-augmented"),
                PAPER,
                format!("without augmented tokens the model does worse than the augmented one ({aug:.4}) but better than predicting 0 ({ZERO_MSE})"),
                "§3b, §5 table",
            ),
            o.test_mse,
            [o.test_mse, o.test_mse],
            c.test_seqs,
            [aug, ZERO_MSE],
            ID,
            "MSE",
        ),
        Judgement::new(
            Claim::new(
                &format!("{ID}.pe-offsets01"),
                PAPER,
                "theory (§3b): the positional attention encodes the recurrence s_{t+1} = 2cos θ s_t − s_{t−1}, i.e. its mass sits on the two latest keys; head-averaged softmax-PE mass of the last query on offsets 0–1 (the reference run has ≈ 6%)".to_string(),
                "§3b, §4 Fig 7",
            ),
            1.0,
            Observation::exact(o.pe_mass_offsets01),
            Tolerance::Absolute(0.2),
            ID,
            "fraction",
        ),
        Judgement::new(
            Claim::new(&format!("{ID}.pe-diffuse-as-reference"), PAPER, "the positional attention of the last query stays diffuse as in the reference run: mass on offsets 0–1 ≈ 6%".to_string(), "§4 Fig 7"),
            REFERENCE_PE_MASS,
            Observation::exact(o.pe_mass_offsets01),
            Tolerance::Absolute(0.05),
            ID,
            "fraction",
        ),
    ]
}
