//! Figure `icar.nonaugmented` (spec icar §2b, §2e, Fig 7): the reference's non-augmented model
//! (tokens (s_t, s_t), H heads, token score × softmax positional score, LayerNorm, no residual)
//! trained on Haar O(5) sequences at the reference configuration (H = 64, batch 1024, 200 epochs =
//! 3200 Adam steps, f32 like the reference's torch run); `--fast` runs H = 8 at batch 128 for 4
//! epochs.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_icar::nonaugmented::{NaLayout, NonAugConfig, NonAugOutcome, train_nonaug};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::{code_version, diverging_bar, matrix_panel};
use crate::plot::{colorbar, dashed, heatmap, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::{okabe_ito, viridis};
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// The reference run's final test MSE (spec §4 Fig 7, H = 64, batch 1024, 200 epochs).
pub const REFERENCE_MSE: f64 = 0.0749;
/// The reference run's PE mass on offsets 0–1 at q = 49 (spec §4 Fig 7: "about 6%").
pub const REFERENCE_PE_MASS: f64 = 0.06;

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Training settings.
    pub train: NonAugConfig,
}

/// Runs the figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let mut train = NonAugConfig::reference(0);
    if ctx.fast() {
        train.heads = 8;
        train.batch = 128;
        train.epochs = 4;
    }
    let cfg = Config { train };
    let (rec, status) = ctx.lab.cache.get_or_compute(spec.id, &cfg, cfg.train.seed, &code_version(), || Ok::<_, FigureError>(train_nonaug(&cfg.train)))?;
    let o = &rec.result;
    let c = &cfg.train;
    let setting = format!(
        "d = {}, n = {}, H = {}, batch {}, {} epochs = {} Adam steps at lr {}, trained in {:.0} s; reference: H = 64, batch 1024, 3200 steps",
        c.d,
        c.n,
        c.heads,
        c.batch,
        c.epochs,
        c.epochs * c.steps_per_epoch(),
        c.lr,
        o.wall_s
    );
    let aug = std::fs::read(ctx.out_dir.join("results").join("icar.augmented.trained.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.pointer("/record/result/outcome/test_mse").and_then(serde_json::Value::as_f64))
        .unwrap_or(super::augmented::REFERENCE_PLATEAU);
    let js = vec![
        Judgement::new(
            Claim::new(&format!("{}.test-mse", spec.id), "icar", format!("the trained non-augmented model's test MSE is near the reference run's {REFERENCE_MSE} ({setting})"), "§4 Fig 7, §5 table"),
            REFERENCE_MSE,
            Observation::exact(o.test_mse),
            Tolerance::Absolute(0.015),
            spec.id,
            "MSE",
        ),
        Judgement::interval(
            Claim::new(
                &format!("{}.worse-than-augmented", spec.id),
                "icar",
                format!("without augmented tokens the model does worse than the augmented one ({aug:.4}) but better than predicting 0 (0.2)"),
                "§3b, §5 table",
            ),
            o.test_mse,
            [o.test_mse, o.test_mse],
            c.test_seqs,
            [aug, 0.2],
            spec.id,
            "MSE",
        ),
        Judgement::new(
            Claim::new(
                &format!("{}.pe-offsets01", spec.id),
                "icar",
                "theory (§3b): the positional attention encodes the recurrence s_{t+1} = 2cos θ s_t − s_{t−1}, i.e. its mass sits on the two latest keys; head-averaged softmax-PE mass of the last query on offsets 0–1 (the reference run has ≈ 6%)".to_string(),
                "§3b, §4 Fig 7",
            ),
            1.0,
            Observation::exact(o.pe_mass_offsets01),
            Tolerance::Absolute(0.2),
            spec.id,
            "fraction",
        ),
        Judgement::new(
            Claim::new(&format!("{}.pe-diffuse-as-reference", spec.id), "icar", "the positional attention of the last query stays diffuse as in the reference run: mass on offsets 0–1 ≈ 6%".to_string(), "§4 Fig 7"),
            REFERENCE_PE_MASS,
            Observation::exact(o.pe_mass_offsets01),
            Tolerance::Absolute(0.05),
            spec.id,
            "fraction",
        ),
    ];
    render(&NaFig { out: o }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Left: test MSE per epoch of the non-augmented model (black) with the reference run's final 0.0749 and the \
             trained augmented model's {aug:.4} (dashed). Middle: the positional softmax of the last query (q = {}) for \
             every head (rows) over keys (columns) — the theory's recurrence would put the mass on the last two keys. \
             Right: the head-averaged token score matrix Q̃ᵀK̃/√E over z = (s, 1) (rows: query features, columns: key \
             features). Setting: {setting}.",
            c.n - 1
        ),
    })
}

struct NaFig<'a> {
    out: &'a NonAugOutcome,
}

impl Figure for NaFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1650, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (left, rest) = root.split_horizontally(600);
        let (mid, right) = rest.split_horizontally(600);
        let o = self.out;
        let last = o.curve.last().map_or(1.0, |c| c.epoch as f64).max(2.0);
        let mut ch = panel(&left, "test MSE, non-augmented model", (1.0..last).log_scale(), (0.02..0.5).log_scale(), "epoch", "MSE")?;
        ch.draw_series(LineSeries::new(o.curve.iter().filter(|c| c.epoch > 0).map(|c| (c.epoch as f64, c.test)), okabe_ito::BLACK.stroke_width(2)))?
            .label(format!("trained ({:.4})", o.test_mse))
            .legend(seg(okabe_ito::BLACK, 2));
        for (name, y, col) in [("reference run, H = 64", REFERENCE_MSE, okabe_ito::VERMILLION), ("zero predictor", 0.2, okabe_ito::GREY), ("augmented, reference", super::augmented::REFERENCE_PLATEAU, okabe_ito::BLUE)] {
            ch.draw_series(dashed(vec![(1.0, y), (last, y)], col, 2))?.label(format!("{name} ({y})")).legend(seg(col, 2));
        }
        legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        let (map, bar) = mid.split_horizontally(490);
        let h = o.pe_last_row.len();
        let n = o.config.n;
        let hi = o.pe_last_row.iter().flatten().copied().fold(0.0, f64::max).max(1e-9);
        let mut ch = panel(&map, &format!("softmax PE attention of query {} per head", n - 1), -0.5..n as f64 - 0.5, -0.5..h as f64 - 0.5, "key position", "head")?;
        let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let ys: Vec<f64> = (0..h).map(|i| i as f64).collect();
        heatmap(&mut ch, &xs, &ys, |i, j| viridis(o.pe_last_row[j][i] / hi))?;
        colorbar(&bar, 0.0, hi, "weight", viridis)?;
        let l = NaLayout { d: o.config.d, h };
        let (d, e) = (o.config.d, 2 * o.config.d);
        let z = d + 1;
        let off = l.offsets();
        let p = &o.params;
        let red = |w: usize, b: usize, hh: usize, i: usize, j: usize| if j < d { p[w + (hh * e + i) * e + j] + p[w + (hh * e + i) * e + d + j] } else { p[b + hh * e + i] };
        let mut m = vec![0.0; z * z];
        for hh in 0..h {
            for c in 0..z {
                for b in 0..z {
                    m[c * z + b] += (0..e).map(|i| red(off[0], off[3], hh, i, c) * red(off[1], off[4], hh, i, b)).sum::<f64>() / (e as f64).sqrt() / h as f64;
                }
            }
        }
        let (rmap, rbar) = right.split_vertically(490);
        let s = m.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        matrix_panel(&rmap, "token score, head average (s | 1)", &m, z, z, s, &|_, _| true, "key feature", "query feature")?;
        diverging_bar(&rbar, s, "")?;
        Ok(())
    }
}
