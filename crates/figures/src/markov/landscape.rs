//! Figure `markov.canonical.landscape`: L(e, w, b*) over (e, w) for (p,q) = (0.2,0.3) and (0.5,0.8),
//! with the global and unigram sets, energy level lines and the separatrix (spec §3), all from the
//! experiment's record.

use attnlab_lab::markov::claims::canonical::landscape as claims;
use attnlab_lab::markov::experiments::canonical::landscape::{self as experiment, Config, Data, LevelLine};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::pq_caption;
use crate::plot::{Glyph, colorbar, dashed, finite_runs, heatmap, legend_row, panel};
use crate::render::{DrawResult, Figure, render};
use crate::style::{UNIGRAM, okabe_ito, viridis};
use crate::tidy::Tidy;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the landscape's record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let js = claims::judge(&rec);
    let d = &rec.result;
    render(&LandscapeFig { cfg: &rec.config, data: d }, &ctx.out_dir, spec.id)?;
    table(&rec.config, d).write_gz(&ctx.out_dir, spec.id)?;
    // The result file keeps what is judged; the drawn grids and level lines are in the table
    // (and the whole record in the cache).
    let mut slim = rec.clone();
    for p in &mut slim.result.panels {
        p.gap_fraction.clear();
    }
    for l in &mut slim.result.levels {
        l.e.clear();
    }
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&slim)?,
        caption: "Colour: (L(e, w, b*) − H*)/(U − H*), so 0 is the entropy rate and 1 the unigram loss \
                  drawn as log₁₀ from −2, i.e. 1% of the way from H* to U and below, to the largest value on the grid; 0 = the unigram level). Dashed sky blue: the global-minimum set c(w)e² = s*; dashed vermillion: the \
                  unigram set e = 0; dashed orange: w = −1/√2, where c(w) = 0; thin grey: level lines of the conserved energy E(e, w) = e² − w² − \
                  sign(w)ln|w|; dashed black: the separatrix E = E* ≈ −0.847 through the saddle (0, −1/√2). \
                  For (0.2, 0.3) (p+q < 1) the global set lies at w > −1/√2, for (0.5, 0.8) (p+q > 1) at w < −1/√2. \
                  The drawn grid and lines are in results/markov.canonical.landscape.csv.gz."
            .into(),
    })
}

/// The drawn data, tidy (`results/<id>.csv.gz`): per chain the colour grid as series "e = …"
/// over x = w with y the gap fraction (L − H*)/(U − H*) (not its log: the colour scale's log and
/// floor are the drawing's), and the global-minimum set's two branches; for both panels the level
/// lines, the separatrix, the unigram set and w = −1/√2 as (w, e) curves.
fn table(cfg: &Config, d: &Data) -> Tidy {
    const W: &str = "w (FFN weight)";
    const E: &str = "e (embedding)";
    let mut t = Tidy::default();
    let (es, ws) = (cfg.e.points(), cfg.w.points());
    let both = "both panels";
    for p in &d.panels {
        let name = pq_caption(&p.chain);
        for (j, &e) in es.iter().enumerate() {
            t.series(
                &format!("{name}: colour"),
                &format!("e = {e}"),
                W,
                "(L − H*)/(U − H*)",
                None,
                ws.iter().zip(&p.gap_fraction[j]).map(|(&w, &g)| (w, g)),
            );
        }
        for (sign, branch) in [(1.0, "e > 0"), (-1.0, "e < 0")] {
            let pts = d.w_fine.iter().zip(&p.global_set_e).filter_map(|(&w, e)| e.map(|e| (w, sign * e)));
            t.series(&name, &format!("global-minimum set c(w)e² = s* (theory), {branch}"), W, E, None, pts);
        }
    }
    let curve = |t: &mut Tidy, line: &LevelLine, series: &str, keep: &dyn Fn(f64) -> bool| {
        for (sign, branch) in [(1.0, "e > 0"), (-1.0, "e < 0")] {
            let pts: Vec<(f64, f64)> =
                level_curve(line, &d.w_fine, sign).into_iter().filter(|&(w, e)| e.is_finite() && keep(w)).collect();
            t.series(both, &format!("{series}, {branch}"), W, E, None, pts);
        }
    };
    for line in &d.levels {
        curve(&mut t, line, &format!("level line E(e, w) = {}", line.level), &|_| true);
    }
    curve(&mut t, &d.separatrix, &format!("separatrix E = E* = {}", d.separatrix.level), &|w| w < 0.0);
    t.series(both, "unigram set e = 0", W, E, None, [(cfg.w.lo(), 0.0), (cfg.w.hi(), 0.0)]);
    t.series(both, "w = −1/√2, c(w) = 0", W, E, None, [(d.w_crit, cfg.e.lo()), (d.w_crit, cfg.e.hi())]);
    t
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
        (1400, 640)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (body, key) = root.split_vertically(600);
        let (main, bar) = body.split_horizontally(1260);
        let areas = main.split_evenly((1, self.data.panels.len()));
        let (es, ws) = (self.cfg.e.points(), self.cfg.w.points());
        let wfine = &self.data.w_fine;
        let w_crit = self.data.w_crit;
        // Colour: log₁₀ of the gap fraction from −2 (1% of the way from H* to U, and below) up to
        // the largest value on the grid, so nothing is clipped above, the unigram level (0) sits
        // mid-scale and the global set (−∞) at the floor.
        let hi = self
            .data
            .panels
            .iter()
            .flat_map(|p| p.gap_fraction.iter().flatten())
            .copied()
            .filter(|g| g.is_finite())
            .fold(10.0, f64::max)
            .log10();
        const FLOOR: f64 = -2.0;
        let cmap = move |g: f64| viridis((g.max(1e-300).log10().max(FLOOR) - FLOOR) / (hi - FLOOR));
        for (area, p) in areas.iter().zip(&self.data.panels) {
            let mut ch = panel(area, &pq_caption(&p.chain), -2.0..2.0, -2.5..2.5, "w (FFN weight)", "e (embedding)")?;
            heatmap(&mut ch, &ws, &es, |i, j| cmap(p.gap_fraction[j][i]))?;
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
                for run in finite_runs(sep) {
                    ch.draw_series(dashed(run, okabe_ito::BLACK, 2))?;
                }
            }
            ch.draw_series(dashed(vec![(-2.0, 0.0), (2.0, 0.0)], UNIGRAM, 3))?;
            let glob = |sign: f64| {
                wfine.iter().zip(&p.global_set_e).map(move |(&w, e)| match *e {
                    Some(e) if e <= 2.5 => (w, sign * e),
                    _ => (w, f64::NAN),
                })
            };
            for run in finite_runs(glob(1.0)).into_iter().chain(finite_runs(glob(-1.0))) {
                ch.draw_series(dashed(run, okabe_ito::SKY, 3))?;
            }
            // Orange: the dark blue of the other theory lines does not show on the colour map.
            ch.draw_series(dashed(vec![(w_crit, -2.5), (w_crit, 2.5)], okabe_ito::ORANGE, 2))?;
        }
        colorbar(&bar, FLOOR, hi, "log₁₀[(L − H*)/(U − H*)]  (≤ −2 drawn as −2)", viridis)?;
        legend_row(
            &key,
            &[
                (Glyph::Dashed(okabe_ito::SKY, 3), "global-minimum set, L = H* (theory)"),
                (Glyph::Dashed(UNIGRAM, 3), "unigram set e = 0, L = U (theory)"),
                (Glyph::Dashed(okabe_ito::BLACK, 2), "separatrix E = E*"),
                (Glyph::Dashed(okabe_ito::ORANGE, 2), "w = −1/√2, c(w) = 0"),
                (Glyph::Line(okabe_ito::GREY, 1), "level lines of the conserved energy E(e, w)"),
            ],
        )?;
        Ok(())
    }
}
