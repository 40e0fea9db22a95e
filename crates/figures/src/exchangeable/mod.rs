//! Figures of Zhang et al., attention via exchangeability (spec `exchangeable.md` §3, F1–F5). The
//! paper has no numerical experiments; these are attnlab's own rate checks. Each figure gets its
//! record from `attnlab_lab::exchangeable::experiments` and its judgements from
//! `attnlab_lab::exchangeable::claims` (each slope judged by its seeded bootstrap 95% CI against the
//! spec's pass interval), and only draws.

pub mod f1;
pub mod f2;
pub mod f3;
pub mod f4;
pub mod f5;

pub(crate) use attnlab_lab::exchangeable::claims::fit_label;
use plotters::coord::Shift;
use plotters::prelude::*;

use attnlab_lab::exchangeable::experiments as ex;

use crate::FigureSpec;
use crate::plot::{dashed, dseg};
use crate::render::{DrawResult, Figure};
use crate::style::FONT;

/// The exchangeability figures, in report order.
pub fn figures() -> Vec<FigureSpec> {
    vec![
        FigureSpec {
            id: ex::e1::ID,
            title: "E1 (T2): attention → tilted mean m_W at rate L⁻¹ᐟ²; unbounded-key control",
            run: f1::run,
        },
        FigureSpec {
            id: ex::e2::ID,
            title: "E2 (T1, T2): attention, posterior functional and m_W(q, z) converge at L⁻¹ᐟ²",
            run: f2::run,
        },
        FigureSpec {
            id: ex::e3::ID,
            title: "E3 (T3): bias–variance of the attention/NW/CME estimate of E[v | k = q, z]",
            run: f3::run,
        },
        FigureSpec {
            id: ex::e4::ID,
            title: "E4 (T4): supervised ERM of the attention temperature, rate in N free of L",
            run: f4::run,
        },
        FigureSpec {
            id: ex::e5::ID,
            title: "E5 (T5): self-supervised representation, downstream cost ∝ κ² in the weak direction",
            run: f5::run,
        },
    ]
}

/// One drawn series of a log-log panel.
pub(crate) struct Series {
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
    /// Optional [lo, hi] error bar per point.
    pub bars: Option<Vec<[f64; 2]>>,
    /// Theory / reference lines are dashed and have no markers.
    pub reference: bool,
    /// A secondary data series: a thin line with hollow markers (a component of a solid series of
    /// the same colour).
    pub thin: bool,
    /// A single marked point (a diamond, e.g. a minimum the claim is about), no line.
    pub mark: bool,
    /// Whether it has its own legend entry (false: its key is part of another series' label; its
    /// label still names it in the figure's table).
    pub keyed: bool,
    /// The legend's text when it differs from `label` (the table's series name).
    pub key: Option<String>,
}

impl Series {
    pub fn data(label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            color,
            points,
            bars: None,
            reference: false,
            thin: false,
            mark: false,
            keyed: true,
            key: None,
        }
    }
    pub fn reference(label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Self { reference: true, ..Self::data(label, color, points) }
    }
    pub fn thin(label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Self { thin: true, ..Self::data(label, color, points) }
    }
    pub fn mark(label: impl Into<String>, color: RGBColor, at: (f64, f64)) -> Self {
        Self { mark: true, ..Self::data(label, color, vec![at]) }
    }
    /// The same series with legend text `key` (the table keeps `label`).
    pub fn keyed_as(self, key: impl Into<String>) -> Self {
        Self { key: Some(key.into()), ..self }
    }
    /// The same series without its own legend entry.
    pub fn unkeyed(self) -> Self {
        Self { keyed: false, ..self }
    }
    /// The reference power law x^slope over the range of `xs`, through the geometric-mean point of
    /// `through` (the curve it is compared with).
    pub fn slope_through(
        label: impl Into<String>,
        color: RGBColor,
        xs: &[f64],
        slope: f64,
        through: &[(f64, f64)],
    ) -> Self {
        let (x0, y0) = anchor(through);
        Self::reference(label, color, power_line(xs, slope, x0, y0))
    }
}

/// The points (x_i, y_i).
pub(crate) fn points(xs: &[f64], ys: &[f64]) -> Vec<(f64, f64)> {
    xs.iter().copied().zip(ys.iter().copied()).collect()
}

/// Sequence lengths (or sample sizes) as x coordinates.
pub(crate) fn as_x(ns: &[usize]) -> Vec<f64> {
    ns.iter().map(|&n| n as f64).collect()
}

/// A reference power law c·x^slope through (x0, y0), evaluated at the ends of `xs`.
fn power_line(xs: &[f64], slope: f64, x0: f64, y0: f64) -> Vec<(f64, f64)> {
    let (lo, hi) = (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(0.0, f64::max));
    [lo, hi].iter().map(|&x| (x, y0 * (x / x0).powf(slope))).collect()
}

/// The geometric-mean point of a curve (to anchor reference lines).
fn anchor(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let lx = points.iter().map(|p| p.0.ln()).sum::<f64>() / n;
    let ly = points.iter().map(|p| p.1.ln()).sum::<f64>() / n;
    (lx.exp(), ly.exp())
}

/// Draws a log-log panel with the given series (ranges from the data, padded).
pub(crate) fn loglog_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    x_ticks: Option<&[f64]>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let all =
        || series.iter().flat_map(|s| s.points.iter().copied()).filter(|p| p.0 > 0.0 && p.1 > 0.0 && p.1.is_finite());
    let bars = || {
        series
            .iter()
            .filter_map(|s| s.bars.as_ref())
            .flatten()
            .flat_map(|b| [b[0], b[1]])
            .filter(|v| *v > 0.0 && v.is_finite())
    };
    let xlo = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let xhi = all().map(|p| p.0).fold(0.0, f64::max);
    let ylo = all().map(|p| p.1).chain(bars()).fold(f64::INFINITY, f64::min);
    let yhi = all().map(|p| p.1).chain(bars()).fold(0.0, f64::max);
    let (xlo, xhi) = (xlo / 1.25, xhi * 1.25);
    // y ends on labelled ticks beyond the data (both ends of the data have a label past them).
    let (ylo, yhi) = crate::plot::log_range_125(ylo, yhi, 1.1);
    // An unkeyed series is drawn without a legend entry (its key is in another's label).
    let labels: Vec<&str> = series.iter().filter(|s| s.keyed).map(|s| s.key.as_deref().unwrap_or(&s.label)).collect();
    let yhi = legend_headroom(
        area,
        (xlo, xhi),
        (ylo, yhi),
        all().chain(
            series
                .iter()
                .filter_map(|s| s.bars.as_ref().map(|b| (s, b)))
                .flat_map(|(s, b)| s.points.iter().zip(b).map(|(p, b)| (p.0, b[1]))),
        ),
        &labels,
    );
    let mut ch = ChartBuilder::on(area)
        .caption(caption, (FONT, 18))
        .margin(8)
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d((xlo..xhi).log_scale(), (ylo..yhi).log_scale())?;
    // Log axes: ticks and labels from `log_ticks` (plotters' own missed whole decades); with
    // `x_ticks`, x is labelled exactly at those values.
    ch.configure_mesh()
        .disable_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(if x_ticks.is_some() { 40 } else { 0 })
        .y_labels(0)
        .y_label_formatter(&|_| String::new())
        .x_label_formatter(&|v| match x_ticks {
            Some(ts) if ts.iter().any(|t| (v / t - 1.0).abs() < 1e-6) => crate::plot::tick(*v),
            _ => String::new(),
        })
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    crate::plot::log_ticks(area, &ch, x_ticks.is_none(), true, 14)?;
    crate::tidy::note(|| {
        series
            .iter()
            .flat_map(|s| {
                s.points.iter().enumerate().map(move |(i, &(x, y))| crate::tidy::Point {
                    panel: caption.to_string(),
                    series: s.label.clone(),
                    x_name: x_desc.to_string(),
                    x,
                    y_name: y_desc.to_string(),
                    y,
                    interval: s.bars.as_ref().and_then(|b| b.get(i).copied()),
                    seed: None,
                })
            })
            .collect()
    });
    let mut lines = Vec::new();
    for s in series {
        let pts: Vec<(f64, f64)> =
            s.points.iter().copied().filter(|p| p.0 > 0.0 && p.1 > 0.0 && p.1.is_finite()).collect();
        let keyed = s.keyed;
        let key_text = s.key.clone().unwrap_or_else(|| s.label.clone());
        if s.reference {
            let a = ch.draw_series(dashed(pts.clone(), s.color, 2))?;
            if keyed {
                a.label(key_text.clone()).legend(dseg(s.color, 2));
            }
        } else if s.mark {
            let c = s.color;
            let a = ch
                .draw_series(pts.iter().map(|&p| {
                    EmptyElement::at(p) + Polygon::new(vec![(0, -9), (9, 0), (0, 9), (-9, 0)], c.filled())
                }))?;
            if keyed {
                a.label(key_text.clone()).legend(move |(x, y)| {
                    Polygon::new(vec![(x + 9, y - 6), (x + 15, y), (x + 9, y + 6), (x + 3, y)], c.filled())
                });
            }
        } else if s.thin {
            let c = s.color;
            let a = ch.draw_series(LineSeries::new(pts.clone(), c.stroke_width(1)))?;
            if keyed {
                a.label(key_text.clone()).legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (18, 0)], c.stroke_width(1))
                        + Circle::new((9, 0), 3, c.stroke_width(1))
                });
            }
            ch.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.stroke_width(1))))?;
        } else {
            let c = s.color;
            let a = ch.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?;
            if keyed {
                a.label(key_text.clone()).legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (18, 0)], c.stroke_width(2))
                        + Circle::new((9, 0), 4, c.filled())
                });
            }
            ch.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        }
        if let Some(b) = &s.bars {
            let bars: Vec<Vec<(f64, f64)>> = s
                .points
                .iter()
                .zip(b)
                .filter(|(_, b)| b[0] > 0.0)
                .map(|(p, b)| vec![(p.0, b[0]), (p.0, b[1])])
                .collect();
            ch.draw_series(bars.iter().map(|b| PathElement::new(b.clone(), s.color.stroke_width(2))))?;
            lines.extend(bars);
        }
        lines.push(pts);
    }
    crate::plot::legend_auto(&mut ch, &lines, &labels)?;
    Ok(())
}

/// The top of a log-log panel's y range that leaves the legend a free corner: `yhi` itself when a
/// corner of the plot area is free of `points` for a legend of `labels`, otherwise raised so the
/// data stays below the legend's height (at most 60% of the plot height).
fn legend_headroom<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (xlo, xhi): (f64, f64),
    (ylo, yhi): (f64, f64),
    points: impl Iterator<Item = (f64, f64)>,
    labels: &[&str],
) -> f64 {
    let (w, h) = area.dim_in_pixel();
    // The plot area: the panel less its y labels (56), x labels (42), caption (≈ 26) and margins.
    let (pw, ph) = (f64::from(w) - 56.0 - 16.0, f64::from(h) - 42.0 - 16.0 - 26.0);
    let (bw, bh) = crate::plot::legend_box(labels);
    let (bw, bh) = (f64::from(bw + 16), f64::from(bh + 16));
    if pw <= bw || ph <= bh {
        return yhi;
    }
    let pts: Vec<(f64, f64)> = points
        .filter(|p| p.0 > 0.0 && p.1 > 0.0)
        .map(|p| ((p.0 / xlo).ln() / (xhi / xlo).ln() * pw, (yhi / p.1).ln() / (yhi / ylo).ln() * ph))
        .collect();
    let free = |left: bool, top: bool| {
        !pts.iter()
            .any(|&(x, y)| (if left { x <= bw } else { x >= pw - bw }) && (if top { y <= bh } else { y >= ph - bh }))
    };
    if [(true, true), (false, true), (true, false), (false, false)].into_iter().any(|(l, t)| free(l, t)) {
        return yhi;
    }
    let ymax = pts.iter().map(|p| p.1).fold(ph, f64::min);
    let data_span = (yhi / ylo).ln() * (1.0 - ymax / ph);
    let share = (bh / ph).min(0.6);
    (ylo.ln() + data_span / (1.0 - share)).exp().max(yhi)
}

/// A figure of one log-log panel (F1, F2, F5), its series built by the figure's `run`.
pub(crate) struct LogLogFigure<'a> {
    pub caption: &'a str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub series: Vec<Series>,
    /// Label the x axis exactly at these values (else at 1, 2, 5 × 10^k).
    pub x_ticks: Option<Vec<f64>>,
}

impl Figure for LogLogFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 650)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        loglog_panel(root, self.caption, self.x_desc, self.y_desc, &self.series, self.x_ticks.as_deref())
    }
}
