//! Figure `markov.canonical.landscape`: L(e, w, b*) over (e, w) for (p,q) = (0.2,0.3) and (0.5,0.8),
//! with the global and unigram sets, energy level lines and the separatrix (spec §3).

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_core::Range1;
use attnlab_markov::BinaryChain;
use attnlab_markov::canonical::{Canonical, W_CRIT, separatrix_energy};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::{chain, code_version, pq_caption, pq_tag};
use crate::plot::{colorbar, dashed, finite_runs, heatmap, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::{GLOBAL, UNIGRAM, okabe_ito, viridis};
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// The chains drawn, one panel each.
    pub chains: Vec<BinaryChain>,
    /// e axis.
    pub e: Range1,
    /// w axis.
    pub w: Range1,
}

/// One panel's numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Panel {
    /// The chain.
    pub chain: BinaryChain,
    /// (L(e,w,b*) − H*)/(U − H*) on the grid, `gap_fraction[i_e][i_w]`.
    pub gap_fraction: Vec<Vec<f64>>,
    /// max |∂L/∂b| at the closed-form b* over the grid.
    pub max_db_at_bstar: f64,
    /// max |L − H*| over points of the global set.
    pub max_err_global_set: f64,
    /// max |L − U| over points of the unigram set.
    pub max_err_unigram_set: f64,
    /// max |finite-difference ∂²L/∂e² − closed form| on the unigram set.
    pub max_err_curvature: f64,
    /// Finite-difference ∂²L/∂e² at (0, w = 0, ln(p/q)).
    pub fd_curvature_w0: f64,
}

/// The experiment's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// One per chain.
    pub panels: Vec<Panel>,
}

fn compute(cfg: &Config) -> Data {
    let panels = cfg
        .chains
        .iter()
        .map(|ch| {
            let m = Canonical::new(ch);
            let th = m.chain;
            let mut max_db: f64 = 0.0;
            let gap_fraction = cfg
                .e
                .points()
                .into_iter()
                .map(|e| {
                    cfg.w
                        .points()
                        .into_iter()
                        .map(|w| {
                            let g = m.reduced(e, w);
                            max_db = max_db.max(g.db.abs());
                            (g.loss - th.entropy_rate) / th.gap
                        })
                        .collect()
                })
                .collect();
            let ws = Range1::new(-2.0, 2.0, 81).map(|r| r.points()).unwrap_or_default();
            let max_err_global_set = ws
                .iter()
                .filter_map(|&w| m.global_point(w))
                .map(|g| (m.loss(g.e, g.w, g.b) - th.entropy_rate).abs())
                .fold(0.0, f64::max);
            let max_err_unigram_set = ws
                .iter()
                .map(|&w| {
                    let u = m.unigram_point(w);
                    (m.loss(u.e, u.w, u.b) - th.unigram_loss).abs()
                })
                .fold(0.0, f64::max);
            let fd = |w: f64| {
                let b = th.unigram_logit;
                let h = 1e-4;
                (m.loss(h, w, b) - 2.0 * m.loss(0.0, w, b) + m.loss(-h, w, b)) / (h * h)
            };
            let max_err_curvature =
                ws.iter().map(|&w| (fd(w) - m.unigram_curvature_e(w)).abs()).fold(0.0, f64::max);
            Panel {
                chain: *ch,
                gap_fraction,
                max_db_at_bstar: max_db,
                max_err_global_set,
                max_err_unigram_set,
                max_err_curvature,
                fd_curvature_w0: fd(0.0),
            }
        })
        .collect();
    Data { panels }
}

/// Runs the figure: computes (or reuses) the landscape, judges the claims, draws.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let n = if ctx.fast() { 121 } else { 241 };
    let cfg = Config {
        chains: vec![chain(0.2, 0.3)?, chain(0.5, 0.8)?],
        e: Range1::new(-2.5, 2.5, n)?,
        w: Range1::new(-2.0, 2.0, n)?,
    };
    let (rec, status) =
        ctx.lab.cache.get_or_compute(spec.id, &cfg, 0, &code_version(), || Ok::<_, FigureError>(compute(&cfg)))?;
    let d = &rec.result;
    let fig = spec.id;
    let all = |f: fn(&Panel) -> f64| d.panels.iter().map(f).fold(0.0, f64::max);
    let mut js = vec![
        Judgement::new(
            Claim::new("markov.canonical.bstar", "markov", "at the closed-form optimal bias b*(e,w), ∂L/∂b = 0 (max |∂L/∂b| over both grids)", "§3 Optimal bias"),
            0.0,
            Observation::exact(all(|p| p.max_db_at_bstar)),
            Tolerance::Absolute(1e-10),
            fig,
            "",
        ),
        Judgement::new(
            Claim::new("markov.canonical.global-set", "markov", "L = H* on the global set c·e² = s*, b = ℓ0 + e²/2 (max |L − H*|)", "§3 Global-minimum set"),
            0.0,
            Observation::exact(all(|p| p.max_err_global_set)),
            Tolerance::Absolute(1e-12),
            fig,
            "nats",
        ),
        Judgement::new(
            Claim::new("markov.canonical.unigram-set", "markov", "L = U on the unigram set e = 0, b = ln(p/q) (max |L − U|)", "§3 Unigram critical set"),
            0.0,
            Observation::exact(all(|p| p.max_err_unigram_set)),
            Tolerance::Absolute(1e-12),
            fig,
            "nats",
        ),
        Judgement::new(
            Claim::new("markov.canonical.curvature", "markov", "∂²L/∂e² on the unigram set = 2(p+q−1)pq(1+2w|w|)/(p+q)² (max error of a central finite difference, h = 1e-4, over w ∈ [−2, 2])", "§3 Curvature"),
            0.0,
            Observation::exact(all(|p| p.max_err_curvature)),
            Tolerance::Absolute(1e-6),
            fig,
            "",
        ),
    ];
    // The spec's printed check values (3 decimals) against finite differences.
    for (panel, printed) in d.panels.iter().zip([-0.24, 0.142]) {
        js.push(Judgement::new(
            Claim::new(
                &format!("markov.canonical.curvature.{}", pq_tag(&panel.chain)),
                "markov",
                format!("spec's printed e-curvature at (e, w) = (0, 0) for (p,q) = ({}, {})", panel.chain.p(), panel.chain.q()),
                "§3 Curvature (check)",
            ),
            printed,
            Observation::exact(panel.fd_curvature_w0),
            Tolerance::Absolute(5e-4),
            fig,
            "",
        ));
    }
    render(&LandscapeFig { cfg: &cfg, data: d }, &ctx.out_dir, spec.id)?;
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

/// Energy level curve E(e, w) = level as the upper and lower branches e = ±√(level + w² + sign(w)ln|w|).
fn level_curve(level: f64, ws: &[f64], sign: f64) -> Vec<(f64, f64)> {
    ws.iter().map(|&w| (w, Canonical::energy_level_e(level, w).map_or(f64::NAN, |e| sign * e))).collect()
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
        let wfine: Vec<f64> = Range1::new(-2.0, 2.0, 2001).map(|r| r.points()).unwrap_or_default();
        for (area, p) in areas.iter().zip(&self.data.panels) {
            let m = Canonical::new(&p.chain);
            let mut ch = panel(area, &pq_caption(&p.chain), -2.0..2.0, -2.5..2.5, "w (FFN weight)", "e (embedding)")?;
            heatmap(&mut ch, &ws, &es, |i, j| viridis(p.gap_fraction[j][i] / 2.0))?;
            for level in [-3.0, -2.0, -1.5, -1.2, -0.6, -0.3, 0.0, 0.5, 1.0, 2.0, 3.0] {
                for sign in [1.0, -1.0] {
                    for run in finite_runs(level_curve(level, &wfine, sign)) {
                        ch.draw_series(LineSeries::new(run, okabe_ito::GREY.mix(0.8).stroke_width(1)))?;
                    }
                }
            }
            for sign in [1.0, -1.0] {
                // The separatrix is the E* level through the saddle, on the w < 0 side only.
                let sep: Vec<(f64, f64)> = level_curve(separatrix_energy(), &wfine, sign)
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
            let glob = |sign: f64| wfine.iter().map(move |&w| match m.global_point(w) {
                Some(g) if g.e <= 2.5 => (w, sign * g.e),
                _ => (w, f64::NAN),
            });
            for (k, run) in finite_runs(glob(1.0)).into_iter().chain(finite_runs(glob(-1.0))).enumerate() {
                let s = ch.draw_series(dashed(run, okabe_ito::SKY, 3))?;
                if k == 0 {
                    s.label("global set (L = H*)").legend(seg(okabe_ito::SKY, 3));
                }
            }
            ch.draw_series(dashed(vec![(W_CRIT, -2.5), (W_CRIT, 2.5)], GLOBAL, 1))?;
            legend(&mut ch, SeriesLabelPosition::LowerRight)?;
        }
        colorbar(&bar, 0.0, 2.0, "(L − H*)/(U − H*)", viridis)?;
        Ok(())
    }
}
