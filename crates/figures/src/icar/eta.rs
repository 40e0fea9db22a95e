//! Figure `icar.augmented.eta` (spec icar §3a, §5 table; no reference figure): the optimal step
//! η*(T, d) = d/(T+d−2) and loss* = (d−1)/(T+d−2) against trained theoretical augmented heads
//! (complex single linear-attention head, commuting unitary W, random initial phases) over a grid
//! of T and d; the trained step size is the gauge-invariant η_eff = d·Re E⟨ŝ_{T+1}, s_{T+1}⟩/(T−1).

use attnlab_icar::head::{HeadEval, HeadTrain};
use attnlab_lab::icar::claims::augmented as claims;
use attnlab_lab::icar::experiments::augmented::{self as experiment, EtaConfig, EtaData};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::{Glyph, legend_auto, legend_row, panel, theory_line};
use crate::render::{DrawResult, Figure, render};
use crate::style::okabe_ito;
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// Runs the figure: the heads' record and judgements from the lab, then draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status) = experiment::run_eta(&ctx.lab)?;
    let js = claims::judge_eta(&rec);
    let cfg = &rec.config;
    let data = &rec.result;
    let first = cfg.runs.first();
    let heads = cfg.runs.iter().take_while(|r| Some(r.setting) == first.map(|f| f.setting)).count();
    render(&EtaFig { cfg, data }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Left: the optimal one-step-GD step size η*(T, d) = d/(T+d−2) (dashed, one colour per d) against the \
             trained theoretical augmented heads' gauge-invariant step size η_eff = d·Re E⟨ŝ_{{T+1}}, s_{{T+1}}⟩/(T−1) \
             (filled markers: the mean over a point's {heads} heads with its 95% Student-t interval over heads; small \
             rings: each head, drawn just right of its T). Right: loss* = (d−1)/(T+d−2) (dashed) against the trained \
             heads' loss on fresh sequences (control-variate estimate). Complex single linear-attention head on \
             commuting unitary W, ‖s_1‖ = 1, |s_1,k|² = 1/d, uniformly random phases; each head trained from a small \
             random init with Adam ({steps} steps, batch {batch} fresh sequences) and evaluated on {eval} fresh \
             sequences; seeds 1000 + 1000·d + T + 100000·j, j = 0…{last}.",
            heads = heads,
            steps = first.map_or(0, |r| r.steps),
            batch = first.map_or(0, |r| r.batch),
            eval = first.map_or(0, |r| r.eval_samples),
            last = heads.saturating_sub(1),
        ),
    })
}

struct EtaFig<'a> {
    cfg: &'a EtaConfig,
    data: &'a EtaData,
}

/// One colour per d (seven Okabe–Ito colours, yellow left out: too light on white).
const COLORS: [RGBColor; 7] = [
    okabe_ito::BLACK,
    okabe_ito::ORANGE,
    okabe_ito::SKY,
    okabe_ito::GREEN,
    okabe_ito::BLUE,
    okabe_ito::VERMILLION,
    okabe_ito::PURPLE,
];

impl Figure for EtaFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1300, 590)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (top, key) = root.split_vertically(560);
        let areas = top.split_evenly((1, 2));
        let tmin = self.cfg.runs.iter().map(|r| r.setting.t()).min().unwrap_or(2) as f64;
        let tmax = self.cfg.runs.iter().map(|r| r.setting.t()).max().unwrap_or(100) as f64;
        for (k, area) in areas.iter().enumerate() {
            let (title, ylab) = if k == 0 {
                ("step size: η* (theory) vs trained η_eff", "η")
            } else {
                ("loss: loss* (theory) vs trained", "E‖ŝ − s‖²")
            };
            let mut ch = panel(
                area,
                title,
                (tmin * 0.8..tmax * 1.25).log_scale(),
                (0.008..0.8).log_scale(),
                "context length T",
                ylab,
            )?;
            let mut lines = Vec::new();
            let mut labels = Vec::new();
            for (ci, th) in self.data.theory.iter().enumerate() {
                let d = th.d;
                let col = COLORS[ci % COLORS.len()];
                let theory: Vec<(f64, f64)> =
                    th.t.iter().copied().zip(if k == 0 { &th.eta } else { &th.loss }.iter().copied()).collect();
                crate::tidy::note_xy(title, &format!("d = {d} (theory)"), "context length T", ylab, &theory);
                theory_line(&mut ch, theory.clone(), col, 2, format!("d = {d}"))?;
                lines.push(theory);
                labels.push(format!("d = {d}"));
                let pairs: Vec<(&HeadTrain, &HeadEval)> =
                    self.cfg.runs.iter().zip(&self.data.evals).filter(|(r, _)| r.setting.d() == d).collect();
                for point in pairs.chunk_by(|a, b| a.0.setting == b.0.setting) {
                    let t = point[0].0.setting.t() as f64;
                    let vals: Vec<f64> = point
                        .iter()
                        .map(|(_, e)| if k == 0 { e.effective_eta.mean } else { e.loss_paired.mean })
                        .collect();
                    // Each head as a small hollow dot, the mean over heads with its Student-t
                    // interval (the claims' statistic) as a filled marker and bar.
                    for (&(r, _), &v) in point.iter().zip(&vals) {
                        crate::tidy::note(|| {
                            vec![crate::tidy::Point {
                                panel: title.into(),
                                series: format!("d = {d} (one trained head)"),
                                x_name: "context length T".into(),
                                x: t,
                                y_name: ylab.into(),
                                y: v,
                                interval: None,
                                seed: Some(r.seed),
                            }]
                        });
                        ch.draw_series(std::iter::once(Circle::new((t * 1.04, v.max(1e-3)), 2, col.stroke_width(1))))?;
                    }
                    let obs = claims::over_seeds(&vals);
                    let [lo, hi] = obs.interval;
                    crate::tidy::note(|| {
                        vec![crate::tidy::Point {
                            panel: title.into(),
                            series: format!("d = {d} (mean over {} heads, 95% t interval)", vals.len()),
                            x_name: "context length T".into(),
                            x: t,
                            y_name: ylab.into(),
                            y: obs.value,
                            interval: Some([lo, hi]),
                            seed: Some(point[0].0.seed),
                        }]
                    });
                    ch.draw_series(std::iter::once(Circle::new((t, obs.value.max(1e-3)), 5, col.filled())))?;
                    ch.draw_series(std::iter::once(PathElement::new(
                        vec![(t, lo.max(1e-3)), (t, hi)],
                        col.stroke_width(2),
                    )))?;
                    lines.push(vec![(t, lo.max(1e-3)), (t, hi)]);
                }
            }
            legend_auto(&mut ch, &lines, &labels.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        legend_row(
            &key,
            &[
                (Glyph::Dashed(okabe_ito::GREY, 2), "theory: η* = d/(T+d−2), loss* = (d−1)/(T+d−2)"),
                (
                    Glyph::Dot(okabe_ito::GREY),
                    "trained heads: their mean with its 95% t interval over heads (small rings: each head)",
                ),
            ],
        )?;
        Ok(())
    }
}
