//! Fig 2c (accuracy vs N; U heat maps), Fig 2d (PC–label overlaps), Fig 2e (2 paths, σ⊥ = 5) and
//! the pre-kernel heat maps of the Markov task, with their claims.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};
use attnlab_core::MeanSe;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::experiment::{self, Config, Data, Which};
use super::style::diverging;
use crate::plot::{dashed, legend, panel, seg};
use crate::render::{DrawResult, Figure, render};
use crate::style::{FONT, okabe_ito};
use crate::{Ctx, FigureError, FigureOutput, FigureSpec};

const THEORY: RGBColor = okabe_ito::BLUE;
const GP: RGBColor = okabe_ito::VERMILLION;

fn claim(id: &str, statement: impl Into<String>, section: &str) -> Claim {
    Claim::new(id, "paths", statement, section)
}

/// A yes/no check as a claim: predicted 1 (true), observed 1 or 0, tolerance 0.
fn check(id: &str, statement: String, section: &str, ok: bool, fig: &str) -> Judgement {
    Judgement::new(claim(id, statement, section), 1.0, Observation::exact(if ok { 1.0 } else { 0.0 }), Tolerance::Absolute(0.0), fig, "(1 = holds)")
}

/// The sampled mean predictor's accuracy with its SE over chains.
fn chain_obs(s: &experiment::SampleSummary) -> Observation {
    let m = MeanSe::of(&s.chain_accuracy);
    Observation { value: s.acc_samples, se: m.se, n: m.n }
}

/// Theory-vs-samples claims at every sampled width (spec §6, §8.4).
fn sample_claims(prefix: &str, d: &Data, fig: &str) -> Vec<Judgement> {
    let mut js = Vec::new();
    for s in &d.samples {
        let n = s.width;
        js.push(Judgement::new(
            claim(
                &format!("{prefix}.samples-accuracy.N{n}"),
                format!(
                    "test accuracy of the Gibbs-sampled mean predictor equals the theory's at N = {n} ({} chains × {} samples after {} burn-in; min ESS {:.0}, max split-R̂ {:.3})",
                    s.chains, s.samples, s.burn_in, s.min_ess, s.max_rhat
                ),
                "§6, §8.4",
            ),
            s.acc_theory,
            chain_obs(s),
            Tolerance::Absolute(0.01),
            fig,
            "fraction",
        ));
        js.push(Judgement::new(
            claim(&format!("{prefix}.samples-correlation.N{n}"), format!("correlation of sampled and theory mean predictors on 1000 test inputs at N = {n}"), "§6"),
            1.0,
            Observation::exact(s.corr),
            Tolerance::Absolute(0.01),
            fig,
            "",
        ));
        js.push(Judgement::new(
            claim(
                &format!("{prefix}.samples-U.N{n}"),
                format!(
                    "sampled U matches theory within the finite-N gap 1.5/N (spec §6, §10.10: ~13% at N = 10, ~2% at N = 50): relative Frobenius gap ‖U_s − U_t‖/‖U_t‖ at N = {n}"
                ),
                "§6, §8.4, §10.10",
            ),
            0.0,
            Observation { value: s.rel_gap, se: s.rel_gap_se, n: s.chains },
            Tolerance::Absolute(1.5 / n as f64),
            fig,
            "",
        ));
    }
    js
}

fn acc_claims(prefix: &str, d: &Data, fig: &str) -> Vec<Judgement> {
    let finite: Vec<&attnlab_paths::markov_task::WidthResult> = d.theory.iter().filter(|r| r.width <= 1000.0).collect();
    let above = finite.iter().all(|r| r.test_accuracy > d.gp_accuracy);
    // Monotonicity on the paper's width grid (spec §5: N ∈ {10, 30, 50, 100, 300, 500, 1000}); the
    // finer grid of the figure is reported in the statement.
    const PAPER_GRID: [f64; 7] = [10.0, 30.0, 50.0, 100.0, 300.0, 500.0, 1000.0];
    let on_grid: Vec<f64> = d.theory.iter().filter(|r| PAPER_GRID.contains(&r.width)).map(|r| r.test_accuracy).collect();
    let mono = on_grid.windows(2).all(|w| w[1] <= w[0] + 1e-12);
    let all_mono = d.theory.windows(2).all(|w| w[1].test_accuracy <= w[0].test_accuracy + 1e-12);
    let bumps: Vec<String> = d
        .theory
        .windows(2)
        .filter(|w| w[1].test_accuracy > w[0].test_accuracy + 1e-12)
        .map(|w| format!("{:.1}% at N = {} → {:.1}% at N = {}", 100.0 * w[0].test_accuracy, w[0].width, 100.0 * w[1].test_accuracy, w[1].width))
        .collect();
    let last = d.theory.last().map_or(f64::NAN, |r| r.test_accuracy);
    let first = d.theory.first().map_or(f64::NAN, |r| r.test_accuracy);
    let mut js = vec![
        check(
            &format!("{prefix}.theory-above-gp"),
            format!(
                "theory accuracy exceeds the GP (all paths) accuracy {:.1}% at every N ≤ 1000 (N = {}: {:.1}%)",
                100.0 * d.gp_accuracy,
                finite.first().map_or(0.0, |r| r.width),
                100.0 * first
            ),
            "§7 Fig 2c/2e",
            above,
            fig,
        ),
        check(
            &format!("{prefix}.theory-monotone"),
            format!(
                "theory accuracy falls monotonically with N on the paper's grid N = 10, 30, 50, 100, 300, 500, 1000 ({} of these widths computed: {}){}",
                on_grid.len(),
                on_grid.iter().map(|a| format!("{:.1}%", 100.0 * a)).collect::<Vec<_>>().join(", "),
                if all_mono { String::new() } else { format!("; on the finer figure grid it is not strictly monotone: {} (within the ±0.6-point SE of a 1000-input accuracy)", bumps.join(", ")) }
            ),
            "§7 Fig 2c",
            mono,
            fig,
        ),
        Judgement::new(
            claim(
                &format!("{prefix}.gp-limit"),
                format!("theory accuracy at N = {} tends to the GP (all paths) accuracy", d.theory.last().map_or(0.0, |r| r.width)),
                "§3 Role of α",
            ),
            d.gp_accuracy,
            Observation::exact(last),
            Tolerance::Absolute(0.005),
            fig,
            "fraction",
        ),
    ];
    js.extend(sample_claims(prefix, d, fig));
    js
}

/// Fig 2c top.
pub fn accuracy4(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status, cfg) = experiment::run(ctx, Which::Four)?;
    let d = &rec.result;
    let mut js = acc_claims("paths.fig2c", d, spec.id);
    let first = d.theory.first().map_or(f64::NAN, |r| r.test_accuracy);
    js.push(check(
        "paths.fig2c.theory-near-gd",
        format!(
            "at N = {} the theory accuracy ({:.1}%) is near or above the GP good+denoising line ({:.1}%): ≥ GP_gd − 1 point",
            d.theory[0].width,
            100.0 * first,
            100.0 * d.gp_good_denoising
        ),
        "§7 Fig 2c",
        first >= d.gp_good_denoising - 0.01,
        spec.id,
    ));
    render(&AccuracyFig { cfg: &cfg, data: d, title: "4 paths (g, a1, d, a2), σ⊥ = 1", ref_lines: true }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Test accuracy (1000 inputs) of the mean predictor vs width N on the hidden-Markov-chain task \
             (P = 100, T = 30 + bos, n_f = 200, τ = 0.01, β = 10). Dashed blue with crosses: theory (U solved \
             at each N). Black dots: blocked-Gibbs posterior samples of the finite-width network (2 chains; \
             bars ±1.96 SE over chains). Vermillion: GP limit with all 4 paths (solid), good path only \
             (dashed), good + denoising (dotted). The data are one draw of our own seeded generator, so the \
             numbers differ from the paper's (spec §8.5: an independent draw gave 82.7% GP, 94.9% at N = 10). \
             Largest single U solve: {:.3} s.",
            d.max_solve_s
        ),
    })
}

/// Fig 2e.
pub fn accuracy2(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status, cfg) = experiment::run(ctx, Which::Two)?;
    let d = &rec.result;
    let mut js = acc_claims("paths.fig2e", d, spec.id);
    let ugd = d.theory[0].u[0][0][1];
    js.push(check(
        "paths.fig2e.negative-gd",
        format!("the g–d cross weight U_gd is negative at N = {} ({:.3}; spec §8.5's independent draw: −1.79) and tends to 0 as N grows ({:.3} at N = {})",
            d.theory[0].width, ugd, d.theory.last().map_or(f64::NAN, |r| r.u[0][0][1]), d.theory.last().map_or(0.0, |r| r.width)),
        "§5 Mechanism, §8.5",
        ugd < 0.0 && d.theory.last().is_some_and(|r| r.u[0][0][1].abs() < 0.05),
        spec.id,
    ));
    render(&AccuracyFig { cfg: &cfg, data: d, title: "2 paths (g, d), σ⊥ = 5", ref_lines: false }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: "Left: as Fig 2c for the 2-path network (layer 1 = [good, zero head (uniform)], layer 2 = \
                  [uniform]) with out-of-plane noise σ⊥ = 5. Dashed blue with crosses: theory; black dots: Gibbs \
                  samples; vermillion: GP limit. Right: the entries of U_1 vs N — theory dashed (g,g blue, d,d \
                  green, g,d vermillion), sampled points with ±1.96 SE bars. The negative g–d weight cancels the \
                  noise the two paths share."
            .into(),
    })
}

struct AccuracyFig<'a> {
    cfg: &'a Config,
    data: &'a Data,
    title: &'a str,
    ref_lines: bool,
}

impl Figure for AccuracyFig<'_> {
    fn size(&self) -> (u32, u32) {
        if self.ref_lines { (900, 620) } else { (1500, 620) }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let d = self.data;
        let (left, right) = if self.ref_lines { (root.clone(), None) } else {
            let (l, r) = root.split_horizontally(800);
            (l, Some(r))
        };
        let xs: Vec<f64> = d.theory.iter().map(|r| r.width).collect();
        let (x0, x1) = (xs[0] * 0.8, xs[xs.len() - 1] * 1.25);
        let mut vals: Vec<f64> = d.theory.iter().map(|r| r.test_accuracy).collect();
        vals.push(d.gp_accuracy);
        if self.ref_lines {
            vals.extend([d.gp_good, d.gp_good_denoising]);
        }
        vals.extend(d.samples.iter().map(|s| s.acc_samples));
        let lo = vals.iter().copied().fold(1.0, f64::min) * 100.0 - 1.5;
        let hi = (vals.iter().copied().fold(0.0, f64::max) * 100.0 + 1.5).min(100.5);
        let mut ch = panel(&left, self.title, (x0..x1).log_scale(), lo..hi, "width N (log scale)", "test accuracy (%)")?;
        let line = |v: f64| vec![(x0, 100.0 * v), (x1, 100.0 * v)];
        ch.draw_series(LineSeries::new(line(d.gp_accuracy), GP.stroke_width(2)))?
            .label(format!("GP, all paths ({:.1}%)", 100.0 * d.gp_accuracy))
            .legend(seg(GP, 2));
        if self.ref_lines {
            ch.draw_series(DashedLineSeries::new(line(d.gp_good), 10, 6, GP.stroke_width(2)))?
                .label(format!("GP, good path ({:.1}%)", 100.0 * d.gp_good))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 7, y)], GP.stroke_width(2)));
            ch.draw_series(DashedLineSeries::new(line(d.gp_good_denoising), 2, 4, GP.stroke_width(2)))?
                .label(format!("GP, good + denoising ({:.1}%)", 100.0 * d.gp_good_denoising))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 2, y)], GP.stroke_width(2)));
        }
        let th: Vec<(f64, f64)> = d.theory.iter().map(|r| (r.width, 100.0 * r.test_accuracy)).collect();
        ch.draw_series(dashed(th.clone(), THEORY, 2))?.label("theory (U solved at each N)").legend(seg(THEORY, 2));
        ch.draw_series(th.iter().map(|&p| Cross::new(p, 6, THEORY.stroke_width(2))))?;
        for s in &d.samples {
            let m = MeanSe::of(&s.chain_accuracy);
            let (x, y, e) = (s.width as f64, 100.0 * s.acc_samples, 100.0 * 1.96 * m.se);
            ch.draw_series(std::iter::once(PathElement::new(vec![(x, y - e), (x, y + e)], BLACK.stroke_width(2))))?;
        }
        ch.draw_series(d.samples.iter().map(|s| Circle::new((s.width as f64, 100.0 * s.acc_samples), 5, BLACK.filled())))?
            .label(format!("Gibbs samples ({} chains)", self.cfg.chains))
            .legend(|(x, y)| Circle::new((x + 9, y), 4, BLACK.filled()));
        legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        if let Some(right) = right {
            // U entries vs N (2-path network: g = 0, d = 1).
            let entries = [((0, 0), "U_gg", THEORY), ((1, 1), "U_dd", okabe_ito::GREEN), ((0, 1), "U_gd", okabe_ito::VERMILLION)];
            let mut all: Vec<f64> = d.theory.iter().flat_map(|r| entries.iter().map(move |((i, j), _, _)| r.u[0][*i][*j])).collect();
            all.extend(d.samples.iter().flat_map(|s| entries.iter().map(move |((i, j), _, _)| s.u_sampled[*i][*j])));
            let ulo = all.iter().copied().fold(0.0, f64::min) - 0.3;
            let uhi = all.iter().copied().fold(1.0, f64::max) + 0.3;
            let mut ch = panel(&right, "order parameter U_1 (paths g, d)", (x0..x1).log_scale(), ulo..uhi, "width N (log scale)", "U entry")?;
            for ((i, j), name, col) in entries {
                ch.draw_series(dashed(d.theory.iter().map(|r| (r.width, r.u[0][i][j])), col, 2))?
                    .label(format!("{name} theory"))
                    .legend(seg(col, 2));
                for s in &d.samples {
                    let (x, y, e) = (s.width as f64, s.u_sampled[i][j], 1.96 * s.u_se[i][j]);
                    ch.draw_series(std::iter::once(PathElement::new(vec![(x, y - e), (x, y + e)], col.stroke_width(2))))?;
                    ch.draw_series(std::iter::once(Circle::new((x, y), 5, col.filled())))?;
                }
            }
            ch.draw_series(LineSeries::new(vec![(x0, 0.0), (x1, 0.0)], okabe_ito::GREY.stroke_width(1)))?;
            legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}

/// Display order of the 4-path U (the paper's g, d, a1, a2; path indices 0, 2, 1, 3).
const ORDER4: [usize; 4] = [0, 2, 1, 3];

/// Fig 2c bottom.
pub fn order(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status, _cfg) = experiment::run(ctx, Which::Four)?;
    let d = &rec.result;
    let at = |n: f64| d.theory.iter().find(|r| r.width == n);
    let mut js = Vec::new();
    if let Some(r) = at(10.0) {
        let u = &r.u[0];
        let (gg, a1, dd, a2, gd) = (u[0][0], u[1][1], u[2][2], u[3][3], u[0][2]);
        js.push(check(
            "paths.fig2c.order.pattern",
            format!(
                "at N = 10: large positive g,g ({gg:.2}) and d,d ({dd:.2}) above the adversarial a1 ({a1:.2}), a2 ({a2:.2}); negative g,d ({gd:.2}) (spec §8.5's draw: 14.47, 8.03, 0.57, 0.37, −3.77)"
            ),
            "§5 Mechanism, §7 Fig 2c",
            gg > a1.max(a2) && dd > a1.max(a2) && gd < 0.0 && a1 < 1.0 && a2 < 1.0,
            spec.id,
        ));
    }
    let dist: Vec<(f64, f64)> = d
        .theory
        .iter()
        .map(|r| {
            let n = r.u[0].len();
            let s: f64 = (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| (r.u[0][i][j] - if i == j { 1.0 } else { 0.0 }).powi(2)).sum();
            (r.width, s.sqrt())
        })
        .collect();
    js.push(check(
        "paths.fig2c.order.to-identity",
        format!(
            "‖U − I‖_F decreases monotonically with N towards the GP value I ({:.3} at N = {} → {:.4} at N = {})",
            dist[0].1,
            dist[0].0,
            dist[dist.len() - 1].1,
            dist[dist.len() - 1].0
        ),
        "§3 Role of α, §7 Fig 2c",
        dist.windows(2).all(|w| w[1].1 < w[0].1),
        spec.id,
    ));
    for s in &d.samples {
        let n = s.width as f64;
        for (i, j, name) in [(0, 0, "g,g"), (2, 2, "d,d"), (0, 2, "g,d")] {
            js.push(Judgement::new(
                claim(
                    &format!("paths.fig2c.order.U-{}.N{}", name.replace(',', ""), s.width),
                    format!("sampled U_{name} at N = {} against theory, within the finite-N relative gap 1.5/N", s.width),
                    "§6, §10.10",
                ),
                s.u_theory[i][j],
                Observation { value: s.u_sampled[i][j], se: s.u_se[i][j], n: s.chains },
                Tolerance::Relative(1.5 / n),
                spec.id,
                "",
            ));
        }
    }
    render(&OrderFig { data: d }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: "Order parameter U_1 (the weights of the path–path kernels in K), rows and columns in the \
                  paper's order g, d, a1, a2. Top row: theory at N = 10, 100, 1000. Bottom row: the Gibbs-sampled \
                  U = ⟨w_π·w_π'⟩/N at the sampled widths. Diverging RdBu scale (colour-blind safe) with symmetric \
                  limits ±max|U| per panel; numbers in the cells. At small N the good and denoising paths get \
                  large weights and a negative cross weight that cancels their shared noise; adversarial paths \
                  are suppressed; U → I as N grows."
            .into(),
    })
}

pub(crate) fn matrix_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str, u: &[Vec<f64>], names: &[&str], order: &[usize]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n = order.len();
    let lim = u.iter().flatten().fold(0.0f64, |a, v| a.max(v.abs()));
    let mut ch = ChartBuilder::on(area)
        .caption(title, (FONT, 17))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(36)
        .build_cartesian_2d(0.0..n as f64, 0.0..n as f64)?;
    let lab = |v: &f64| {
        let k = v.floor() as usize;
        if (v - v.floor() - 0.5).abs() < 1e-9 && k < n { names[order[k]].to_string() } else { String::new() }
    };
    let ticks: Vec<f64> = (0..n).map(|k| k as f64 + 0.5).collect();
    ch.configure_mesh()
        .disable_mesh()
        .x_labels(2 * n + 1)
        .y_labels(2 * n + 1)
        .x_label_formatter(&lab)
        .y_label_formatter(&|v| lab(&(n as f64 - v)))
        .label_style((FONT, if n > 6 { 10 } else { 14 }))
        .draw()?;
    let _ = ticks;
    for (a, &pa) in order.iter().enumerate() {
        for (b, &pb) in order.iter().enumerate() {
            let v = u[pa][pb];
            let (x, y) = (b as f64, (n - 1 - a) as f64);
            ch.draw_series(std::iter::once(Rectangle::new([(x, y), (x + 1.0, y + 1.0)], diverging(v, lim).filled())))?;
            if n > 6 {
                continue;
            }
            let col = if v.abs() > 0.6 * lim { WHITE } else { BLACK };
            let s = if v.abs() >= 10.0 { format!("{v:.1}") } else { format!("{v:.2}") };
            ch.draw_series(std::iter::once(Text::new(s, (x + 0.5, y + 0.5), (FONT, 14).into_font().color(&col).pos(plotters::style::text_anchor::Pos::new(plotters::style::text_anchor::HPos::Center, plotters::style::text_anchor::VPos::Center)))))?;
        }
    }
    Ok(())
}

struct OrderFig<'a> {
    data: &'a Data,
}

impl Figure for OrderFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 820)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let d = self.data;
        let names: Vec<&str> = d.paths.iter().map(String::as_str).collect();
        let rows = root.split_evenly((2, 3));
        let mut k = 0;
        for n in [10.0, 100.0, 1000.0] {
            if let Some(r) = d.theory.iter().find(|r| r.width == n) {
                matrix_panel(&rows[k], &format!("theory, N = {n}"), &r.u[0], &names, &ORDER4)?;
                k += 1;
            }
        }
        k = 3;
        for s in d.samples.iter().take(3) {
            matrix_panel(&rows[k], &format!("Gibbs samples, N = {}", s.width), &s.u_sampled, &names, &ORDER4)?;
            k += 1;
        }
        Ok(())
    }
}

/// Fig 2d.
pub fn alignment(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status, cfg) = experiment::run(ctx, Which::Four)?;
    let d = &rec.result;
    let mass = |v: &[f64], k: usize| v.iter().take(k).map(|x| x * x).sum::<f64>();
    let (mf, mg) = (mass(&d.align_finite, 5), mass(&d.align_gp, 5));
    let js = vec![check(
        "paths.fig2d.alignment",
        format!(
            "at N = {} the label mass on the top 5 kernel PCs, Σ overlap², exceeds the GP kernel's ({mf:.3} vs {mg:.3})",
            cfg.small_width
        ),
        "§4, §7 Fig 2d",
        mf > mg,
        spec.id,
    )];
    render(&AlignFig { data: d, width: cfg.small_width }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: format!(
            "Overlap |φ_kᵀy|/√P of the k-th principal component of the training kernel with the labels, top {} \
             PCs in descending eigenvalue order: finite width N = {} (blue) vs the GP kernel (orange), 4-path network. \
             With finite width the label mass moves to the leading PCs.",
            cfg.top_pcs, cfg.small_width
        ),
    })
}

struct AlignFig<'a> {
    data: &'a Data,
    width: f64,
}

impl Figure for AlignFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let d = self.data;
        let k = d.align_finite.len();
        let hi = d.align_finite.iter().chain(&d.align_gp).copied().fold(0.0, f64::max) * 1.1 + 1e-3;
        let mut ch = panel(root, "PC–label overlap (4 paths)", 0.0..k as f64 + 1.0, 0.0..hi, "principal component k", "|φ_kᵀ y| / √P")?;
        ch.draw_series(d.align_finite.iter().enumerate().map(|(i, &v)| {
            let x = i as f64 + 1.0;
            Rectangle::new([(x - 0.4, 0.0), (x, v)], okabe_ito::BLUE.filled())
        }))?
        .label(format!("finite width N = {}", self.width))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], okabe_ito::BLUE.filled()));
        ch.draw_series(d.align_gp.iter().enumerate().map(|(i, &v)| {
            let x = i as f64 + 1.0;
            Rectangle::new([(x, 0.0), (x + 0.4, v)], okabe_ito::ORANGE.filled())
        }))?
        .label("GP limit")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], okabe_ito::ORANGE.filled()));
        legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}

/// Pre-kernel heat maps.
pub fn kernels(ctx: &Ctx, spec: &FigureSpec) -> Result<FigureOutput, FigureError> {
    let (rec, status, cfg) = experiment::run(ctx, Which::Four)?;
    let d = &rec.result;
    // Class-block contrast: (mean within-class − mean between-class) / mean |K| over the 50 examples
    // (first 25 of class +1, last 25 of class −1).
    let contrast = |k: &[Vec<f64>]| {
        let n = k.len();
        let (mut w, mut b, mut a, mut nw, mut nb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..n {
            for j in 0..n {
                if (i < n / 2) == (j < n / 2) {
                    w += k[i][j];
                    nw += 1.0;
                } else {
                    b += k[i][j];
                    nb += 1.0;
                }
                a += k[i][j].abs();
            }
        }
        (w / nw - b / nb) / (a / (n * n) as f64)
    };
    let m = d.kernels.len();
    let (cg, cf) = (contrast(&d.kernels[m - 2].1), contrast(&d.kernels[m - 1].1));
    let js = vec![check(
        "paths.kernels.block",
        format!(
            "the finite-width kernel (N = {}) shows a stronger class-block structure than the GP kernel: (within − between)/mean|K| = {cf:.3} vs {cg:.3}",
            cfg.small_width
        ),
        "§7 (app.) pre-kernels",
        cf > cg,
        spec.id,
    )];
    render(&KernelFig { data: d }, &ctx.out_dir, spec.id)?;
    Ok(FigureOutput {
        judgements: js,
        status,
        record: serde_json::to_value(&rec)?,
        caption: "Kernels on training examples 0–24 (class +1) and 75–99 (class −1) of the 4-path network: the \
                  same-path pre-kernels Π·C_ππ of the good (g), adversarial (a1, a2) and denoising (d) paths, the GP \
                  kernel Σ_π C_ππ and the finite-width kernel Σ U_ππ' C_ππ' at N = 10. Diverging RdBu scale with \
                  symmetric limits per panel."
            .into(),
    })
}

/// Tick label of the 50 displayed examples (0–24, then 75–99). The axes put a tick every 5 displayed
/// examples (`x_labels(11)`), so 0, 25 and 50 are ticks; only those carry a label.
fn example_label(v: f64) -> String {
    match v.round() as i64 {
        0 => "0".into(),
        25 => "25 | 75".into(),
        50 => "100".into(),
        _ => String::new(),
    }
}

struct KernelFig<'a> {
    data: &'a Data,
}

impl Figure for KernelFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1260, 860)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let areas = root.split_evenly((2, 3));
        for (area, (name, k)) in areas.iter().zip(&self.data.kernels) {
            let n = k.len();
            let lim = k.iter().flatten().fold(0.0f64, |a, v| a.max(v.abs()));
            let mut ch = ChartBuilder::on(area)
                .caption(format!("{name} (±{lim:.3})"), (FONT, 16))
                .margin(10)
                .x_label_area_size(28)
                .y_label_area_size(52)
                .build_cartesian_2d(0.0..n as f64, 0.0..n as f64)?;
            ch.configure_mesh().disable_mesh().x_desc("example").y_desc("example").label_style((FONT, 11)).axis_desc_style((FONT, 12)).x_labels(11).y_labels(11)
                .x_label_formatter(&|v| example_label(*v))
                .y_label_formatter(&|v| example_label(n as f64 - *v))
                .draw()?;
            let xs: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
            let mut c2 = ch;
            crate::plot::heatmap(&mut c2, &xs, &xs, |i, j| diverging(k[n - 1 - j][i], lim))?;
        }
        Ok(())
    }
}
