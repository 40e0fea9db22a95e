//! Figure `markov.canonical.landscape`: L(e, w, b*) over (e, w) for (p,q) = (0.2,0.3) and (0.5,0.8),
//! with the global and unigram sets, energy level lines and the separatrix (spec §3), all from the
//! experiment's record.

use attnlab_lab::markov::claims::canonical::landscape as claims;
use attnlab_lab::markov::experiments::canonical::landscape::{self as experiment, Config, Data, LevelLine};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::pq_caption;
use crate::plot::{colorbar, dashed, finite_runs, heatmap, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::{GLOBAL, UNIGRAM, okabe_ito, viridis};
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the landscape's record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let js = claims::judge(&rec);
    let d = &rec.result;
    render(&LandscapeFig { cfg: &rec.config, data: d }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: "Colour: (L(e, w, b*) − H*)/(U − H*), so 0 is the entropy rate and 1 the unigram loss \
                  (clipped at 2). Dashed sky blue: the global-minimum set c(w)e² = s*; solid vermillion: the \
                  unigram set e = 0; thin dashed blue: w = −1/√2, where c(w) = 0; thin grey: level lines of the conserved energy E(e, w) = e² − w² − \
                  sign(w)ln|w|; dashed black: the separatrix E = E* ≈ −0.847 through the saddle (0, −1/√2). \
                  For (0.2, 0.3) (p+q < 1) the global set lies at w > −1/√2, for (0.5, 0.8) (p+q > 1) at w < −1/√2."
            .into(),
    })
}

struct LandscapeFig<'a> {
    cfg: &'a Config,
    data: &'a Data,
}

/// An energy level line E(e, w) = level as its upper (`sign` 1) or lower (−1) branch, NaN where
/// the level does not reach w.
fn level_curve(line: &LevelLine, ws: &[f64], sign: f64) -> Vec<(f64, f64)> {
    ws.iter().zip(&line.e).map(|(&w, e)| (w, e.map_or(f64::NAN, |e| sign * e))).collect()
}

impl Figure for LandscapeFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1300, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (main, bar) = root.split_horizontally(1200);
        let areas = main.split_evenly((1, self.data.panels.len()));
        let (es, ws) = (self.cfg.e.points(), self.cfg.w.points());
        let wfine = &self.data.w_fine;
        let w_crit = self.data.w_crit;
        for (area, p) in areas.iter().zip(&self.data.panels) {
            let mut ch = panel(area, &pq_caption(&p.chain), -2.0..2.0, -2.5..2.5, "w (FFN weight)", "e (embedding)")?;
            heatmap(&mut ch, &ws, &es, |i, j| viridis(p.gap_fraction[j][i] / 2.0))?;
            for line in &self.data.levels {
                for sign in [1.0, -1.0] {
                    for run in finite_runs(level_curve(line, wfine, sign)) {
                        ch.draw_series(LineSeries::new(run, okabe_ito::GREY.mix(0.8).stroke_width(1)))?;
                    }
                }
            }
            for sign in [1.0, -1.0] {
                // The separatrix is the E* level through the saddle, on the w < 0 side only.
                let sep: Vec<(f64, f64)> = level_curve(&self.data.separatrix, wfine, sign)
                    .into_iter()
                    .map(|(w, e)| if w < 0.0 { (w, e) } else { (w, f64::NAN) })
                    .collect();
                for (k, run) in finite_runs(sep).into_iter().enumerate() {
                    let s = ch.draw_series(dashed(run, okabe_ito::BLACK, 2))?;
                    if sign > 0.0 && k == 0 {
                        s.label("separatrix E = E*").legend(seg(okabe_ito::BLACK, 2));
                    }
                }
            }
            ch.draw_series(LineSeries::new(vec![(-2.0, 0.0), (2.0, 0.0)], UNIGRAM.stroke_width(3)))?
                .label("unigram set (L = U)")
                .legend(seg(UNIGRAM, 3));
            let glob = |sign: f64| wfine.iter().zip(&p.global_set_e).map(move |(&w, e)| match *e {
                Some(e) if e <= 2.5 => (w, sign * e),
                _ => (w, f64::NAN),
            });
            for (k, run) in finite_runs(glob(1.0)).into_iter().chain(finite_runs(glob(-1.0))).enumerate() {
                let s = ch.draw_series(dashed(run, okabe_ito::SKY, 3))?;
                if k == 0 {
                    s.label("global set (L = H*)").legend(seg(okabe_ito::SKY, 3));
                }
            }
            ch.draw_series(dashed(vec![(w_crit, -2.5), (w_crit, 2.5)], GLOBAL, 1))?;
            legend(&mut ch, SeriesLabelPosition::LowerRight)?;
        }
        colorbar(&bar, 0.0, 2.0, "(L − H*)/(U − H*)", viridis)?;
        Ok(())
    }
}
