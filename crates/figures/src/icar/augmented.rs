//! Figure `icar.augmented.trained` (spec icar §2a, §2e, §3a, §5, Fig 5): the reference's
//! augmented-token one-layer linear-attention transformer trained as `augmented.py` `train()` does
//! (Haar O(5), n = 50, 2^14 sequences, batch 1024, 200 epochs = 3200 Adam steps at lr 1e-2), with
//! its attention blocks against the one-step-GD structure and its test loss against the spec §5
//! reference predictors.

use attnlab_icar::augmented::Layout;
use attnlab_lab::icar::claims::augmented as claims;
use attnlab_lab::icar::experiments::augmented::{self as experiment, Config, Data};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{diverging_bar, matrix_panel};
use crate::plot::{Glyph, panel, seg, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the trained model's record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let mut js = claims::judge(&rec);
    let (again, _) = attnlab_lab::confirm::icar_augmented(&ctx.lab)?;
    crate::confirm(&mut js, &claims::judge(&again), again.seed, ctx.fast())?;
    let cfg = &rec.config;
    let d = &rec.result;
    let c = &cfg.train;
    let r = &d.reference;
    let setting = claims::setting(&rec);
    render(&AugFig { cfg, data: d }, &ctx.out_dir, spec.id)?;
    let rel = d.commuting_shared_rel;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Matrices: the first seed's run. Left: the trained key-query form WqᵀWk (rows: query features sₜ, sₜ₋₁, bias; columns: key features) — \
             the one-step-GD signature is a multiple of I in the (query sₜ, key sₜ₋₁) block and 0 elsewhere. Middle: the \
             value map Ṽ (rows: value coordinates; columns: input features). Right: test MSE per epoch (black: first seed; grey: the other seeds) with the spec \
             §5 reference predictors as dashed lines on the same Haar data: zero ({:.3}), copy-last ({:.3}), one-step GD \
             with one shared scalar ({:.4}) or one scalar per position ({:.4}), exact in-context least squares ({:.4}), and \
             the commuting-theory shared-scalar loss {:.4} (= {rel:.3}/d). Model and training as in the reference ({setting}).",
            r.zero,
            r.copy_last,
            r.gd_shared,
            r.gd_per_position,
            r.exact_ls,
            rel / c.d as f64
        ),
    })
}

struct AugFig<'a> {
    cfg: &'a Config,
    data: &'a Data,
}

impl Figure for AugFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 680)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let d = self.cfg.train.d;
        let l = Layout { d };
        let (e, x) = (l.e(), l.x());
        let (left, rest) = root.split_horizontally(470);
        let (mid, right) = rest.split_horizontally(470);
        let (lmap, lrest) = left.split_vertically(470);
        let (mmap, mrest) = mid.split_vertically(470);
        let ((lbar, _), (mbar, _)) = (lrest.split_vertically(90), mrest.split_vertically(90));
        let Some(first) = self.data.runs.first() else { return Ok(()) };
        let qk = &first.structure.qk;
        let s = qk.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        matrix_panel(
            &lmap,
            "WqᵀWk: query (sₜ | sₜ₋₁ | 1) × key",
            qk,
            x,
            x,
            s,
            &|_, _| true,
            "key feature",
            "query feature",
        )?;
        diverging_bar(&lbar, s, "entry of WqᵀWk")?;
        let o = l.offsets();
        let v = &first.outcome.params[o[2]..o[3]];
        let sv = v.iter().fold(0.0f64, |a, w| a.max(w.abs()));
        matrix_panel(
            &mmap,
            "value map Ṽ (columns: sₜ | sₜ₋₁ | 1)",
            v,
            e,
            x,
            sv,
            &|_, _| true,
            "input feature",
            "value coordinate",
        )?;
        diverging_bar(&mbar, sv, "entry of Ṽ")?;
        let curve = &first.outcome.curve;
        let r = &self.data.reference;
        let last = curve.last().map_or(1.0, |c| c.epoch as f64);
        // Six reference lines span the whole epoch axis, so no corner is free: the legend goes below.
        let (right, key) = right.split_vertically(560);
        let mut ch = panel(
            &right,
            "test MSE vs reference predictors",
            (1.0..last.max(2.0)).log_scale(),
            (0.008..0.6).log_scale(),
            "epoch",
            "MSE (mean over coordinates, positions)",
        )?;
        for r in &self.data.runs {
            let pts: Vec<(f64, f64)> =
                r.outcome.curve.iter().filter(|c| c.epoch > 0).map(|c| (c.epoch as f64, c.test)).collect();
            crate::tidy::note_xy(
                "test MSE vs reference predictors",
                &format!("trained, seed {}", r.seed),
                "epoch",
                "test MSE",
                &pts,
            );
        }
        for other in &self.data.runs[1..] {
            ch.draw_series(LineSeries::new(
                other.outcome.curve.iter().filter(|c| c.epoch > 0).map(|c| (c.epoch as f64, c.test)),
                okabe_ito::GREY.stroke_width(1),
            ))?;
        }
        ch.draw_series(LineSeries::new(
            curve.iter().filter(|c| c.epoch > 0).map(|c| (c.epoch as f64, c.test)),
            okabe_ito::BLACK.stroke_width(2),
        ))?
        .label(format!("trained, seed {} ({:.4}; other seeds grey)", first.seed, first.outcome.test_mse))
        .legend(seg(okabe_ito::BLACK, 2));
        let rel = self.data.commuting_shared_rel;
        let lines = [
            ("zero", r.zero, okabe_ito::GREY),
            ("copy-last", r.copy_last, okabe_ito::SKY),
            ("GD, shared scalar", r.gd_shared, okabe_ito::ORANGE),
            ("GD, per-position scalar", r.gd_per_position, okabe_ito::VERMILLION),
            ("commuting theory, shared scalar", rel / d as f64, okabe_ito::PURPLE),
            ("exact in-context LS", r.exact_ls, okabe_ito::BLUE),
        ];
        let mut entries = vec![(
            Glyph::Line(okabe_ito::BLACK, 2),
            format!("trained, seed {} ({:.4}; other seeds grey)", first.seed, first.outcome.test_mse),
        )];
        for (name, y, col) in lines {
            crate::tidy::note_xy(
                "test MSE vs reference predictors",
                name,
                "epoch",
                "test MSE",
                &[(1.0, y), (last.max(2.0), y)],
            );
            theory_line(&mut ch, [(1.0, y), (last.max(2.0), y)], col, 2, format!("{name} ({y:.4})"))?;
            entries.push((Glyph::Dashed(col, 2), format!("{name} ({y:.4})")));
        }
        crate::plot::legend_row(&key, &entries.iter().map(|(g, l)| (*g, l.as_str())).collect::<Vec<_>>())?;
        Ok(())
    }
}
