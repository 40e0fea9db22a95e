//! Figure `markov.canonical.sgd`: SGD with momentum on the exact canonical loss from a small
//! Gaussian initialisation (20 seeds) at four chains; the final loss against H* and U
//! (spec §3 "Basins … Consequence" and "Check [derived]").

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_markov::SgdConfig;
use attnlab_markov::chain::ChainTheory;
use attnlab_markov::flow::Endpoint;
use attnlab_markov::sgd::{SgdRun, SgdSummary, SgdTrace, run_all};
use plotters::coord::Shift;
use plotters::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{chain, code_version, pq_caption, pq_tag};
use crate::plot::{dashed, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::{GLOBAL, UNIGRAM, okabe_ito};
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

/// The experiment's config: one SGD run per chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// The runs.
    pub runs: Vec<SgdRun>,
}

/// One chain's traces.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    /// The run.
    pub run: SgdRun,
    /// One trace per seed.
    pub traces: Vec<SgdTrace>,
}

/// The experiment's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// One per chain.
    pub results: Vec<RunResult>,
}

/// Runs the figure.
pub fn run(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    // The spec's check: init N(0, 0.1²), 5000 steps, 20 seeds, lr 0.01, momentum 0.9 (cheap enough
    // to run at full size in fast mode too).
    let sgd = SgdConfig::new(0.01, 0.9, 5000, 0.1)?;
    let runs = [(0.2, 0.3), (0.1, 0.1), (0.5, 0.8), (0.9, 0.9)]
        .into_iter()
        .map(|(p, q)| Ok(SgdRun::new(chain(p, q)?, sgd, 0.0, 20, 10)?))
        .collect::<Result<Vec<_>, FigureError>>()?;
    let cfg = Config { runs };
    let seed = 7;
    let (rec, status) = ctx.lab.cache.get_or_compute(spec.id, &cfg, seed, &code_version(), || {
        let results = cfg
            .runs
            .par_iter()
            .enumerate()
            .map(|(k, run)| RunResult { run: *run, traces: run_all(run, attnlab_core::rng::child_seed(seed, k as u64)) })
            .collect();
        Ok::<_, FigureError>(Data { results })
    })?;
    let d = &rec.result;
    let mut js = Vec::new();
    for r in &d.results {
        let t = ChainTheory::new(&r.run.chain);
        let s = SgdSummary::new(&r.run, &r.traces);
        let name = if s.predicted_end == Endpoint::Global { "H*" } else { "U" };
        let hits = s.hits();
        js.push(Judgement::new(
            Claim::new(
                &format!("markov.canonical.sgd.{}", pq_tag(&r.run.chain)),
                "markov",
                format!(
                    "small init N(0, 0.1²) converges to {name} when p+q {} 1: mean final loss over {} seeds after {} steps ({hits}/{} ended at {name}; H* = {:.4}, U = {:.4})",
                    if t.switching < 1.0 { "<" } else { ">" },
                    r.traces.len(),
                    r.run.sgd.steps(),
                    r.traces.len(),
                    t.entropy_rate,
                    t.unigram_loss
                ),
                "§3 Basins, Check [derived]",
            ),
            s.predicted_loss,
            Observation::mean(s.final_loss()),
            Tolerance::Absolute(0.01),
            spec.id,
            "nats",
        ));
    }
    render(&SgdFig { data: d }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: "Exact population loss along SGD with momentum (lr 0.01, μ 0.9, full gradient of the \
                  exact loss) from e, w ~ N(0, 0.1²), b = 0; one thin line per seed (20 seeds). Dashed: \
                  H* (blue) and U (vermillion). The theory predicts H* for p+q < 1 and U for p+q > 1."
            .into(),
    })
}

struct SgdFig<'a> {
    data: &'a Data,
}

impl Figure for SgdFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 850)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let areas = root.split_evenly((2, 2));
        for (area, r) in areas.iter().zip(&self.data.results) {
            let t = ChainTheory::new(&r.run.chain);
            let steps = r.run.sgd.steps() as f64;
            let lo = (t.entropy_rate - 0.03).max(0.0);
            let hi = r.traces.iter().flat_map(|tr| tr.curve.iter().map(|c| c.1)).fold(t.unigram_loss, f64::max) + 0.02;
            // Log step axis (step + 1), so the early escape and the long flat end both show.
            let mut ch = panel(
                area,
                &pq_caption(&r.run.chain),
                (1.0..steps + 1.0).log_scale(),
                lo..hi.min(lo + 1.0),
                "step + 1 (log scale)",
                "exact loss (nats)",
            )?;
            for (k, tr) in r.traces.iter().filter(|tr| !tr.diverged).enumerate() {
                let s = ch.draw_series(LineSeries::new(
                    tr.curve.iter().map(|&(s, l)| (s as f64 + 1.0, l)),
                    okabe_ito::BLACK.mix(0.35).stroke_width(1),
                ))?;
                if k == 0 {
                    s.label("SGD runs (20 seeds)").legend(seg(okabe_ito::BLACK, 1));
                }
            }
            ch.draw_series(dashed(vec![(1.0, t.entropy_rate), (steps + 1.0, t.entropy_rate)], GLOBAL, 2))?
                .label(format!("H* = {:.4} (theory)", t.entropy_rate))
                .legend(seg(GLOBAL, 2));
            ch.draw_series(dashed(vec![(1.0, t.unigram_loss), (steps + 1.0, t.unigram_loss)], UNIGRAM, 2))?
                .label(format!("U = {:.4} (theory)", t.unigram_loss))
                .legend(seg(UNIGRAM, 2));
            legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}
