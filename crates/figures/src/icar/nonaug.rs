//! Figure `icar.nonaugmented` (spec icar §2b, §2e, Fig 7): the reference's non-augmented model
//! (tokens (s_t, s_t), H heads, token score × softmax positional score, LayerNorm, no residual)
//! trained on Haar O(5) sequences at the reference configuration (H = 64, batch 1024, 200 epochs =
//! 3200 Adam steps, f32 like the reference's torch run); `--fast` runs H = 8 at batch 128 for 4
//! epochs.

use attnlab_lab::icar::claims::nonaugmented::{self as claims, REFERENCE_MSE, ZERO_MSE};
use attnlab_lab::icar::experiments::augmented::ID as AUGMENTED_ID;
use attnlab_lab::icar::experiments::nonaugmented::{self as experiment, Data};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{diverging_bar, matrix_panel};
use crate::plot::{colorbar, dashed, heatmap, panel, seg, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::{okabe_ito, viridis};
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the model's record from the lab, judged against the augmented model's test MSE
/// as this run's `icar.augmented.trained` figure stored it (the reference plateau when absent), then
/// draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let stored = std::fs::read(ctx.out_dir.join("results").join(format!("{AUGMENTED_ID}.json")))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            // The mean over the augmented model's seeds, as its own claims judge it.
            let runs = v.pointer("/record/result/runs")?.as_array()?.clone();
            let mse: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.pointer("/outcome/test_mse").and_then(serde_json::Value::as_f64))
                .collect();
            (!mse.is_empty()).then(|| mse.iter().sum::<f64>() / mse.len() as f64)
        });
    let mut js = claims::judge(&rec, stored);
    let (again, _) = attnlab_lab::confirm::icar_nonaugmented(&ctx.lab)?;
    crate::confirm(&mut js, &claims::judge(&again, stored), again.seed, ctx.fast())?;
    let aug = claims::augmented_baseline(stored);
    let c = &rec.config.train;
    let setting = claims::setting(&rec);
    let aug_name =
        if stored.is_some() { "augmented, trained here (mean of its seeds)" } else { "augmented, reference plateau" };
    render(&NaFig { data: &rec.result, aug, aug_name }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: slim(serde_json::to_value(&rec)?),
        caption: format!(
            "Left: test MSE per epoch of the non-augmented model (black: first seed; grey: the other seeds) with the reference run's final 0.0749, the zero \
             predictor's MSE and the {aug_name} {aug:.4} (dashed). Middle and right: the first seed's run. Middle: the positional softmax of the last query (q = {}) for \
             every head (rows) over keys (columns) — the theory's recurrence would put the mass on the last two keys. \
             Right: the head-averaged token score matrix Q̃ᵀK̃/√E over z = (s, 1) (rows: query features, columns: key \
             features). Setting: {setting}.",
            c.n - 1
        ),
    })
}

struct NaFig<'a> {
    data: &'a Data,
    /// The augmented model's test MSE the claims compare with, and what it is.
    aug: f64,
    aug_name: &'a str,
}

impl Figure for NaFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 590)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (top, key) = root.split_vertically(560);
        let (left, rest) = top.split_horizontally(580);
        let (mid, right) = rest.split_horizontally(580);
        let Some(first) = self.data.runs.first() else { return Ok(()) };
        let o = &first.outcome;
        let last = o.curve.last().map_or(1.0, |c| c.epoch as f64).max(2.0);
        let mut ch = panel(
            &left,
            "test MSE, non-augmented model",
            (1.0..last).log_scale(),
            (0.02..0.5).log_scale(),
            "epoch",
            "MSE",
        )?;
        for r in &self.data.runs {
            let pts: Vec<(f64, f64)> =
                r.outcome.curve.iter().filter(|c| c.epoch > 0).map(|c| (c.epoch as f64, c.test)).collect();
            crate::tidy::note_xy(
                "test MSE, non-augmented model",
                &format!("trained, seed {}", r.seed),
                "epoch",
                "MSE",
                &pts,
            );
        }
        for other in &self.data.runs[1..] {
            ch.draw_series(LineSeries::new(
                other.outcome.curve.iter().filter(|c| c.epoch > 0).map(|c| (c.epoch as f64, c.test)),
                okabe_ito::GREY.stroke_width(1),
            ))?;
        }
        let mut lines: Vec<Vec<(f64, f64)>> = self
            .data
            .runs
            .iter()
            .map(|r| r.outcome.curve.iter().filter(|c| c.epoch > 0).map(|c| (c.epoch as f64, c.test)).collect())
            .collect();
        let mut labels = vec![format!("trained, seed {} ({:.4}; other seeds grey)", first.seed, o.test_mse)];
        ch.draw_series(LineSeries::new(
            o.curve.iter().filter(|c| c.epoch > 0).map(|c| (c.epoch as f64, c.test)),
            okabe_ito::BLACK.stroke_width(2),
        ))?
        .label(labels[0].clone())
        .legend(seg(okabe_ito::BLACK, 2));
        for (name, y, col) in [
            ("reference run, H = 64", REFERENCE_MSE, okabe_ito::VERMILLION),
            ("zero predictor", ZERO_MSE, okabe_ito::GREY),
            (self.aug_name, self.aug, okabe_ito::BLUE),
        ] {
            crate::tidy::note_xy("test MSE, non-augmented model", name, "epoch", "MSE", &[(1.0, y), (last, y)]);
            let label = format!("{name} ({y:.4})");
            theory_line(&mut ch, [(1.0, y), (last, y)], col, 2, label.clone())?;
            lines.push(vec![(1.0, y), (last, y)]);
            labels.push(label);
        }
        crate::plot::legend_auto(&mut ch, &lines, &labels.iter().map(String::as_str).collect::<Vec<_>>())?;
        let (map, bar) = mid.split_horizontally(490);
        let h = o.pe_last_row.len();
        let n = o.config.n;
        let hi = o.pe_last_row.iter().flatten().copied().fold(0.0, f64::max).max(1e-9);
        let mut ch = panel(
            &map,
            &format!("softmax PE attention of query {} per head", n - 1),
            -0.5..n as f64 - 0.5,
            -0.5..h as f64 - 0.5,
            "key position",
            "head",
        )?;
        let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let ys: Vec<f64> = (0..h).map(|i| i as f64).collect();
        for (head, row) in o.pe_last_row.iter().enumerate() {
            let pts: Vec<(f64, f64)> = row.iter().enumerate().map(|(k, &w)| (k as f64, w)).collect();
            crate::tidy::note_xy(
                &format!("softmax PE attention of query {} per head", n - 1),
                &format!("head {head}"),
                "key position",
                "attention weight",
                &pts,
            );
        }
        heatmap(&mut ch, &xs, &ys, |i, j| viridis(o.pe_last_row[j][i] / hi))?;
        // The keys the §3b theory weights (offsets 0 and 1 from the query: the two latest tokens).
        // The right-hand line sits just inside the last column, so it does not vanish into the axis.
        let (k0, k1) = (n as f64 - 2.5, n as f64 - 0.6);
        for x in [k0, k1] {
            ch.draw_series(dashed(vec![(x, -0.5), (x, h as f64 - 0.5)], WHITE, 2))?;
        }
        colorbar(&bar, 0.0, hi, "weight", viridis)?;
        let m = &first.token_score;
        let z = o.config.d + 1;
        let (rmap, rbar) = right.split_vertically(470);
        let s = m.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        matrix_panel(
            &rmap,
            "token score, head average (s | 1)",
            m,
            z,
            z,
            s,
            &|_, _| true,
            "key feature",
            "query feature",
        )?;
        diverging_bar(&rbar, s, "token score entry")?;
        crate::plot::legend_row(
            &key,
            &[(
                crate::plot::Glyph::DashedOn(WHITE, viridis(0.1)),
                "middle: between the white dashes, the keys at offsets 0–1 (the two latest tokens) that the §3b theory weights for commuting W",
            )],
        )?;
        Ok(())
    }
}

/// The result file without each run's trained parameters (22 305 numbers a run, 1.4 MB of JSON for
/// the three seeds; nothing draws or judges them): they stay in the cache.
fn slim(mut record: serde_json::Value) -> serde_json::Value {
    if let Some(runs) = record.pointer_mut("/result/runs").and_then(serde_json::Value::as_array_mut) {
        for run in runs {
            if let Some(params) = run.pointer_mut("/outcome/params") {
                let n = params.as_array().map_or(0, Vec::len);
                *params = serde_json::Value::String(format!(
                    "{n} trained parameters, left out of this file; kept in the cache"
                ));
            }
        }
    }
    record
}
