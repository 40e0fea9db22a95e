//! Figure `markov.chain.entropy`: H* and U over the (p, q) square with the p+q = 1 boundary, and the
//! Monte-Carlo cross-entropies of the bigram / unigram predictors on sampled sequences against the
//! closed forms on a slice (spec §3, §6).

use attnlab_core::MeanSe;
use attnlab_lab::markov::claims::chain as claims;
use attnlab_lab::markov::experiments::chain::{self as experiment, Config, Data};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{colorbar, dashed, heatmap, legend, panel, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::{GLOBAL, UNIGRAM, okabe_ito, viridis};
use crate::tidy::{Point, Tidy};
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the chain's record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run(&ctx.lab)?;
    let js = claims::judge(&rec);
    let (cfg, d) = (&rec.config, &rec.result);
    render(&EntropyFig { cfg, data: d }, &ctx.out_dir, spec.id)?;
    table(cfg, d).write_gz(&ctx.out_dir, spec.id)?;
    // The result file keeps what is judged; the drawn (p, q) maps are in the table (and the whole
    // record in the cache).
    let mut slim = rec.clone();
    slim.result.entropy_rate.clear();
    slim.result.unigram_loss.clear();
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&slim)?,
        caption: format!(
            "Left and middle: H* and U (nats) over the (p, q) square; dashed white: p+q = 1, where H* = U \
             (the kernel has no memory). Right (U − H*): the gap a unigram-stuck model leaves. Bottom: \
             the slice q = {} — dashed lines are the closed forms H* (blue) and U (vermillion); markers \
             are Monte-Carlo cross-entropies of the bigram and unigram predictors on {} sampled stationary \
             sequences of {} transitions (error bars: 95%). The maps and the slice are in \
             results/markov.chain.entropy.csv.gz.",
            cfg.slice_q, cfg.sequences, cfg.seq_len
        ),
    })
}

/// The drawn data, tidy (`results/<id>.csv.gz`): the H*, U and U − H* maps as series "q = …" over
/// x = p, and the slice q = `slice_q`: the closed forms and the two Monte-Carlo cross-entropies with
/// their drawn 95% intervals.
fn table(cfg: &Config, d: &Data) -> Tidy {
    let mut t = Tidy::default();
    let g = cfg.grid.points();
    type Entry<'a> = &'a dyn Fn(usize, usize) -> f64;
    let maps: [(&str, Entry<'_>); 3] = [
        ("H* (nats)", &|i, j| d.entropy_rate[i][j]),
        ("U (nats)", &|i, j| d.unigram_loss[i][j]),
        ("U − H* (nats)", &|i, j| d.unigram_loss[i][j] - d.entropy_rate[i][j]),
    ];
    for (title, v) in maps {
        for (j, &q) in g.iter().enumerate() {
            t.series(title, &format!("q = {q}"), "p", title, None, g.iter().enumerate().map(|(i, &p)| (p, v(i, j))));
        }
    }
    let slice = format!("slice q = {}", cfg.slice_q);
    t.series(&slice, "H* (theory)", "p", "loss (nats)", None, d.slice_theory.iter().map(|s| (s.p, s.entropy_rate)));
    t.series(&slice, "U (theory)", "p", "loss (nats)", None, d.slice_theory.iter().map(|s| (s.p, s.unigram_loss)));
    let z = attnlab_comparator::Z95;
    for (series, pick) in [("bigram predictor, sampled", 0), ("unigram predictor, sampled", 1)] {
        for pt in &d.slice {
            let m = if pick == 0 { pt.bigram } else { pt.unigram };
            t.push(Point {
                panel: slice.clone(),
                series: series.into(),
                x_name: "p".into(),
                x: pt.chain.p(),
                y_name: "loss (nats)".into(),
                y: m.mean,
                interval: Some([m.mean - z * m.se, m.mean + z * m.se]),
                seed: None,
            });
        }
    }
    t
}

struct EntropyFig<'a> {
    cfg: &'a Config,
    data: &'a Data,
}

impl Figure for EntropyFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1350, 950)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (top, bottom) = root.split_vertically(500);
        let cols = top.split_evenly((1, 3));
        let g = self.cfg.grid.points();
        let gap: Vec<Vec<f64>> = self
            .data
            .unigram_loss
            .iter()
            .zip(&self.data.entropy_rate)
            .map(|(u, h)| u.iter().zip(h).map(|(a, b)| a - b).collect())
            .collect();
        let ln2 = std::f64::consts::LN_2;
        let maps: [(&str, &Vec<Vec<f64>>, f64); 3] = [
            ("H* (nats)", &self.data.entropy_rate, ln2),
            ("U (nats)", &self.data.unigram_loss, ln2),
            ("U − H* (nats)", &gap, ln2),
        ];
        for (area, (title, vals, vmax)) in cols.iter().zip(maps) {
            let (plot_area, bar) = area.split_horizontally(360);
            let mut ch = panel(&plot_area, title, 0.0..1.0, 0.0..1.0, "p = P(0→1)", "q = P(1→0)")?;
            heatmap(&mut ch, &g, &g, |i, j| viridis(vals[i][j] / vmax))?;
            ch.draw_series(dashed(vec![(0.0, 1.0), (1.0, 0.0)], RGBColor(255, 255, 255), 2))?;
            colorbar(&bar, 0.0, vmax, "nats", viridis)?;
        }
        let slice_title = format!("slice q = {}: closed forms (dashed) vs Monte Carlo (markers)", self.cfg.slice_q);
        let mut ch = panel(&bottom, &slice_title, 0.0..1.0, 0.0..0.75, "p", "loss (nats)")?;
        let q = self.cfg.slice_q;
        let theory = &self.data.slice_theory;
        theory_line(&mut ch, theory.iter().map(|t| (t.p, t.entropy_rate)), GLOBAL, 2, "H* (theory)")?;
        theory_line(&mut ch, theory.iter().map(|t| (t.p, t.unigram_loss)), UNIGRAM, 2, "U (theory)")?;
        theory_line(&mut ch, [(1.0 - q, 0.0), (1.0 - q, 0.75)], okabe_ito::GREY, 1, "p + q = 1")?;
        let z = attnlab_comparator::Z95;
        for (sel, col, shape_label) in
            [(0usize, GLOBAL, "bigram predictor, sampled"), (1usize, UNIGRAM, "unigram predictor, sampled")]
        {
            let pts: Vec<(f64, MeanSe)> = self
                .data
                .slice
                .iter()
                .map(|pt| (pt.chain.p(), if sel == 0 { pt.bigram } else { pt.unigram }))
                .collect();
            ch.draw_series(pts.iter().map(|(p, m)| {
                ErrorBar::new_vertical(*p, m.mean - z * m.se, m.mean, m.mean + z * m.se, col.stroke_width(1), 6)
            }))?;
            let s = if sel == 0 {
                ch.draw_series(pts.iter().map(|(p, m)| Circle::new((*p, m.mean), 4, col.filled())))?
            } else {
                ch.draw_series(pts.iter().map(|(p, m)| Circle::new((*p, m.mean), 4, col.stroke_width(2))))?
            };
            // The key is drawn as the markers are: filled for the bigram, open for the unigram predictor.
            let style = if sel == 0 { col.filled() } else { col.stroke_width(2) };
            s.label(shape_label).legend(move |(x, y)| Circle::new((x + 9, y), 4, style));
        }
        legend(&mut ch, SeriesLabelPosition::LowerRight)?;
        Ok(())
    }
}
