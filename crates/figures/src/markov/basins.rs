//! Figure `markov.canonical.basin`: for p = q = 0.1 and p = q = 0.9, the predicted basin of every
//! initial (e, w) (spec §3 "Basins of attraction") against where gradient flow actually ends, and the
//! drift of the conserved energy along every trajectory.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_core::Range1;
use attnlab_markov::{BinaryChain, FlowConfig};
use attnlab_markov::canonical::{Basin, Canonical, W_CRIT, separatrix_energy};
use attnlab_markov::flow::{Endpoint, FlowOutcome, gradient_flow};
use plotters::coord::Shift;
use plotters::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{chain, code_version, pq_caption, pq_tag};
use crate::plot::{dashed, finite_runs, heatmap, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::{GLOBAL, UNIGRAM, okabe_ito, tint};
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// One panel per chain.
    pub chains: Vec<BinaryChain>,
    /// Initial e values.
    pub e: Range1,
    /// Initial w values.
    pub w: Range1,
    /// Integrator settings.
    pub flow: FlowConfig,
    /// Points closer than this to a basin boundary (|E − E*|, |w + 1/√2|, |w|, |e|) are reported
    /// but left out of the agreement fraction: their fate is decided by rounding.
    pub margin: f64,
}

/// One initial point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    /// Theory's prediction.
    pub predicted: Basin,
    /// Integration result (trajectory kept for a few points only).
    pub flow: FlowOutcome,
    /// Within `margin` of a boundary.
    pub near_boundary: bool,
}

/// One panel's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Panel {
    /// The chain.
    pub chain: BinaryChain,
    /// Points, row-major over (e, w).
    pub points: Vec<Point>,
}

/// The experiment's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// One per chain.
    pub panels: Vec<Panel>,
}

fn agrees(pred: Basin, end: Endpoint) -> bool {
    matches!((pred, end), (Basin::Global, Endpoint::Global) | (Basin::Unigram, Endpoint::Unigram))
}

fn compute(cfg: &Config) -> Data {
    let (es, ws) = (cfg.e.points(), cfg.w.points());
    let total = (cfg.chains.len() * es.len() * ws.len()) as u64;
    let bar = attnlab_lab::progress::bar(total, "  basins {bar:30} {pos}/{len} flows ({eta})");
    let panels = cfg
        .chains
        .iter()
        .map(|ch| {
            let m = Canonical::new(ch);
            let grid: Vec<(usize, f64, f64)> =
                es.iter().flat_map(|&e| ws.iter().map(move |&w| (e, w))).enumerate().map(|(k, (e, w))| (k, e, w)).collect();
            let points = grid
                .par_iter()
                .map(|&(k, e, w)| {
                    // Keep the path of every 7th point for drawing.
                    let keep = if k % 7 == 3 { 80 } else { 0 };
                    let flow = gradient_flow(&m, e, w, &cfg.flow, keep);
                    bar.inc(1);
                    Point {
                        predicted: m.predicted_basin(e, w),
                        near_boundary: Canonical::separatrix_distance(e, w) < cfg.margin,
                        flow,
                    }
                })
                .collect();
            Panel { chain: *ch, points }
        })
        .collect();
    bar.finish_and_clear();
    Data { panels }
}

/// Runs the figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let n = if ctx.fast() { 24 } else { 48 };
    let cfg = Config {
        chains: vec![chain(0.1, 0.1)?, chain(0.9, 0.9)?],
        e: Range1::new(-2.0, 2.0, n)?,
        w: Range1::new(-2.0, 2.0, n)?,
        flow: FlowConfig::new(1e5, 1e-10, 1e-12, 1e-9)?,
        margin: 0.05,
    };
    let (rec, status) =
        ctx.lab.cache.get_or_compute(spec.id, &cfg, 0, &code_version(), || Ok::<_, FigureError>(compute(&cfg)))?;
    let d = &rec.result;
    let mut js = Vec::new();
    let mut max_drift: f64 = 0.0;
    let mut n_flows = 0;
    for p in &d.panels {
        let away: Vec<&Point> = p.points.iter().filter(|pt| !pt.near_boundary).collect();
        let ok = away.iter().filter(|pt| agrees(pt.predicted, pt.flow.endpoint)).count();
        let near = p.points.len() - away.len();
        let near_ok = p.points.iter().filter(|pt| pt.near_boundary && agrees(pt.predicted, pt.flow.endpoint)).count();
        js.push(Judgement::new(
            Claim::new(
                &format!("markov.canonical.basin.{}", pq_tag(&p.chain)),
                "markov",
                format!(
                    "gradient flow from each of {} initial (e, w) ends in the predicted basin (fraction that agree; {} points within {} of a basin boundary left out, {near_ok}/{near} of them agree too)",
                    away.len(),
                    near,
                    cfg.margin
                ),
                "§3 Basins of attraction",
            ),
            1.0,
            Observation::fraction(ok, away.len()),
            Tolerance::Absolute(0.02),
            spec.id,
            "",
        ));
        for pt in &p.points {
            if let Some(dr) = pt.flow.energy_drift {
                max_drift = max_drift.max(dr);
                n_flows += 1;
            }
        }
    }
    js.push(Judgement::new(
        Claim::new(
            "markov.canonical.energy",
            "markov",
            format!("E(e,w) = e² − w² − sign(w)ln|w| is conserved along gradient flow with b at b* (max relative drift over {n_flows} trajectories)"),
            "§3 Conserved energy",
        ),
        0.0,
        Observation::exact(max_drift),
        Tolerance::Absolute(1e-4),
        spec.id,
        "",
    ));
    render(&BasinFig { cfg: &cfg, data: d }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Background (theory): the predicted basin of each initial point — light blue: global set \
             (loss H*), light vermillion: unigram set (loss U). Markers (experiment): where gradient flow \
             (Dormand–Prince 5(4), rtol 1e-10, b held at b*) from a {n}×{n} grid actually ends — blue \
             circle: H*, vermillion circle: U, grey: undecided at t = 10⁵; a black cross marks a \
             disagreement. Thin lines: sampled trajectories. Dashed black: the separatrix E = E*; \
             dashed blue: w = −1/√2."
        ),
    })
}

struct BasinFig<'a> {
    cfg: &'a Config,
    data: &'a Data,
}

impl Figure for BasinFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let areas = root.split_evenly((1, self.data.panels.len()));
        let (es, ws) = (self.cfg.e.points(), self.cfg.w.points());
        let fine: Vec<f64> = Range1::new(-2.0, 2.0, 401).map(|r| r.points()).unwrap_or_default();
        let efine: Vec<f64> = Range1::new(-2.0, 2.0, 401).map(|r| r.points()).unwrap_or_default();
        for (area, p) in areas.iter().zip(&self.data.panels) {
            let m = Canonical::new(&p.chain);
            let mut ch = panel(area, &pq_caption(&p.chain), -2.1..2.1, -2.1..3.0, "initial w", "initial e")?;
            heatmap(&mut ch, &fine, &efine, |i, j| match m.predicted_basin(efine[j], fine[i]) {
                Basin::Global => tint(GLOBAL, 0.8),
                Basin::Unigram => tint(UNIGRAM, 0.8),
                Basin::Degenerate => RGBColor(230, 230, 230),
            })?;
            for pt in p.points.iter().filter(|pt| !pt.flow.path.is_empty()) {
                let col = endpoint_color(pt.flow.endpoint);
                ch.draw_series(LineSeries::new(pt.flow.path.iter().map(|&(e, w)| (w, e)), col.mix(0.5).stroke_width(1)))?;
            }
            let start = |k: usize| (ws[k % ws.len()], es[k / ws.len()]);
            ch.draw_series(
                p.points.iter().enumerate().map(|(k, pt)| Circle::new(start(k), 2, endpoint_color(pt.flow.endpoint).filled())),
            )?;
            ch.draw_series(
                p.points
                    .iter()
                    .enumerate()
                    .filter(|(_, pt)| !agrees(pt.predicted, pt.flow.endpoint))
                    .map(|(k, _)| Cross::new(start(k), 5, okabe_ito::BLACK.stroke_width(2))),
            )?;
            let sep = |sign: f64| fine.iter().map(move |&w| match Canonical::energy_level_e(separatrix_energy(), w) {
                Some(e) if w < 0.0 && e <= 2.1 => (w, sign * e),
                _ => (w, f64::NAN),
            });
            let mut first = true;
            for run in finite_runs(sep(1.0)).into_iter().chain(finite_runs(sep(-1.0))) {
                let s = ch.draw_series(dashed(run, okabe_ito::BLACK, 2))?;
                if std::mem::take(&mut first) {
                    s.label("separatrix E = E* (theory)").legend(seg(okabe_ito::BLACK, 2));
                }
            }
            ch.draw_series(dashed(vec![(W_CRIT, -2.1), (W_CRIT, 2.1)], GLOBAL, 2))?
                .label("w = −1/√2 (theory)")
                .legend(seg(GLOBAL, 2));
            ch.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label("flow ends at H*")
                .legend(|(x, y)| Circle::new((x + 9, y), 4, GLOBAL.filled()));
            ch.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label("flow ends at U")
                .legend(|(x, y)| Circle::new((x + 9, y), 4, UNIGRAM.filled()));
            legend(&mut ch, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    }
}

fn endpoint_color(e: Endpoint) -> RGBColor {
    match e {
        Endpoint::Global => GLOBAL,
        Endpoint::Unigram => UNIGRAM,
        Endpoint::Undecided | Endpoint::Degenerate => okabe_ito::GREY,
    }
}
