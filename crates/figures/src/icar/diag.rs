//! Figures `icar.diagonal.unitary` and `icar.diagonal.orthogonal` (spec icar §2c, §3b, Fig 3 left
//! and right): full-gradient descent on the exact closed-form loss of the diagonal multi-head
//! model, as `unitary.py` (H = d = 10, lr 1e-2, 100 steps) and `orthogonal.py` (H = 8, d = 10,
//! lr 1e-3, 10⁵ steps) do, from 0.1·N(0, 1). Heat maps of A, B, BᵀA and P (masked above the first
//! superdiagonal, last row and column cropped), and the gauge-invariant claims: loss → 0,
//! C = cI or c·blockdiag(J₂), c·P_{t,t+1} = 1, P_{t,t}/P_{t,t+1} = 0 or −½, ABᵀ = cI (H = d).

use attnlab_icar::diagonal::Case;
use attnlab_lab::icar::claims::diagonal as claims;
use attnlab_lab::icar::experiments::diagonal::{self as experiment, Config, Data};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{diverging_bar, matrix_panel, max_abs};
use crate::plot::{legend, panel, seg, text, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the run's record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let orth = spec.id.ends_with("orthogonal");
    let (rec, status) = experiment::run(&ctx.lab, if orth { Case::Orthogonal } else { Case::Unitary })?;
    let js = claims::judge(&rec);
    let cfg = &rec.config;
    let d = &rec.result;
    let setting = claims::setting(cfg);
    render(&DiagFig { cfg, data: d }, &ctx.out_dir, spec.id)?;
    let caption = format!(
        "Top, left to right: A (heads × coordinates: query-key vectors a_h), B (value vectors b_h), BᵀA and P after \
         gradient descent on the exact loss ({setting}); P is masked above the first superdiagonal (grey) and its last \
         row and column are cropped, as in the paper. A and B themselves are not unique (GL(H), scale and sign \
         symmetries); the invariants are. Diverging colour scale, symmetric around 0, one scale per panel. Bottom: the \
         loss along the run and the invariants (theory: {}).",
        if orth {
            "C = c·blockdiag(J₂), c·P[t,t+1] = 1, P[t,t]/P[t,t+1] = −½"
        } else {
            "C = cI, c·P[t,t+1] = 1, P[t,t] = 0, ABᵀ = cI"
        }
    );
    Ok(FigureOutput { judgements: js, status, record: serde_json::to_value(&rec)?, caption })
}

struct DiagFig<'a> {
    cfg: &'a Config,
    data: &'a Data,
}

/// One heat-map panel: title, row-major entries, rows, columns, which entries are shown, x and y labels.
type MatrixPanel<'a> = (&'a str, &'a [f64], usize, usize, &'a dyn Fn(usize, usize) -> bool, &'a str, &'a str);

impl Figure for DiagFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1500, 860)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let m = &self.cfg.model;
        let x = &self.data.fit.params;
        let (top, bottom) = root.split_vertically(540);
        let (maps, bars) = top.split_vertically(440);
        let cols = maps.split_evenly((1, 4));
        let barcols = bars.split_evenly((1, 4));
        let (h, d, t) = (m.heads(), m.d(), m.t());
        let c = &self.data.c;
        let n = t - 1; // crop [:-1, :-1]
        let pc: Vec<f64> = (0..n * n).map(|k| x.p[(k / n) * t + k % n]).collect();
        let all = |_: usize, _: usize| true;
        let mask = |i: usize, j: usize| j <= i + 1;
        let panels: [MatrixPanel<'_>; 4] = [
            ("A (query-key vectors)", &x.a, h, d, &all, "coordinate k", "head h"),
            ("B (value vectors)", &x.b, h, d, &all, "coordinate i", "head h"),
            ("BᵀA = C", c, d, d, &all, "k", "i"),
            ("P (positional attention)", &pc, n, n, &mask, "key position j", "row t"),
        ];
        for (k, (title, mat, r, cc, shown, xd, yd)) in panels.into_iter().enumerate() {
            let s = (0..r * cc).filter(|&q| shown(q / cc, q % cc)).map(|q| mat[q].abs()).fold(0.0, f64::max);
            matrix_panel(&cols[k], title, mat, r, cc, s, shown, xd, yd)?;
            diverging_bar(
                &barcols[k],
                s,
                &format!("entry of {}", title.split_whitespace().next().unwrap_or("the matrix")),
            )?;
        }
        let (left, right) = bottom.split_horizontally(900);
        let curve = &self.data.fit.curve;
        let hi = curve.iter().map(|p| p.1).fold(1.0, f64::max) * 2.0;
        let lo = curve.iter().map(|p| p.1).filter(|v| *v > 0.0).fold(hi, f64::min).max(1e-16) / 2.0;
        let last = curve.last().map_or(1.0, |p| p.0 as f64 + 1.0);
        let mut ch = panel(
            &left,
            "exact loss along gradient descent",
            (1.0..last).log_scale(),
            (lo..hi).log_scale(),
            "iteration + 1",
            "loss (sum over rows)",
        )?;
        let pts: Vec<(f64, f64)> = curve.iter().map(|&(i, l)| (i as f64 + 1.0, l)).collect();
        crate::tidy::note_xy(
            "exact loss along gradient descent",
            "GD on the exact loss",
            "iteration + 1",
            "loss (sum over rows)",
            &pts,
        );
        // Near the end the loss is at round-off (a difference of O(100) terms in f64): a value ≤ 0
        // has no place on a log axis, so the line breaks there and the point is marked at the floor.
        let positive = curve.iter().map(|&(i, l)| (i as f64 + 1.0, if l > 0.0 { l } else { f64::NAN }));
        for (k, run) in crate::plot::finite_runs(positive).into_iter().enumerate() {
            let s = ch.draw_series(LineSeries::new(run, okabe_ito::BLACK.stroke_width(2)))?;
            if k == 0 {
                s.label("GD on the exact loss").legend(seg(okabe_ito::BLACK, 2));
            }
        }
        // A positive value between two non-positive ones is a run of one point: a dot.
        let isolated = (0..curve.len()).filter(|&k| {
            curve[k].1 > 0.0 && (k == 0 || curve[k - 1].1 <= 0.0) && curve.get(k + 1).is_none_or(|p| p.1 <= 0.0)
        });
        ch.draw_series(
            isolated.map(|k| Circle::new((curve[k].0 as f64 + 1.0, curve[k].1), 3, okabe_ito::BLACK.filled())),
        )?;
        let nonpos: Vec<(f64, f64)> = curve.iter().filter(|p| p.1 <= 0.0).map(|&(i, _)| (i as f64 + 1.0, lo)).collect();
        if !nonpos.is_empty() {
            ch.draw_series(nonpos.iter().map(|&p| TriangleMarker::new(p, 5, okabe_ito::VERMILLION.stroke_width(2))))?
                .label("loss ≤ 0 at round-off (drawn on the axis)")
                .legend(|(x, y)| TriangleMarker::new((x + 9, y), 5, okabe_ito::VERMILLION.stroke_width(2)));
        }
        let init = (m.rows() * m.d()) as f64;
        theory_line(
            &mut ch,
            [(1.0, init), (last, init)],
            okabe_ito::GREY,
            1,
            format!("(T−1)·d = {init} (loss at C = 0)"),
        )?;
        legend(&mut ch, SeriesLabelPosition::LowerLeft)?;
        let inv = &self.data.invariants;
        let lines = [
            format!("final loss            {:.2e}", self.data.fit.loss),
            format!("c = mean diag(BᵀA)    {:.4}", inv.c),
            format!("‖C − cS‖/‖C‖          {:.1e}", inv.c_structure_residual),
            format!("c·P[t,t+1]            {:.6}  (theory 1)", inv.c_times_p),
            format!(
                "P[t,t]/P[t,t+1]       {:.5}  (theory {})",
                inv.pe_ratio,
                if m.case() == Case::Orthogonal { "−0.5" } else { "0" }
            ),
            format!("max |P[t,j<t]|/P[t,t+1] {:.1e}", inv.off_entries),
            format!("‖ABᵀ − cI‖/‖ABᵀ‖      {:.2e}", inv.abt_residual),
        ];
        for (k, l) in lines.iter().enumerate() {
            text(&right, l, (20, 50 + 30 * k as i32), 16)?;
        }
        let _ = max_abs;
        Ok(())
    }
}
