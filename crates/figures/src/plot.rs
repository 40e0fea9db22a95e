//! Plot building blocks shared by the figures: panels, heat maps, colour bars, theory lines.
//!
//! House rules, which every figure follows through these helpers:
//! - every axis and colour bar is labelled, with its unit ([`panel`], [`colorbar`]);
//! - theory is dashed and in the legend ([`dashed`]); experiment is its runs' mean with a
//!   Student-t 95% band, each run thin underneath ([`runs_with_mean`]), or points with intervals;
//! - legends sit in the corner of the data area that covers the fewest drawn points
//!   ([`legend_auto`]), or outside the charts in a row of their own ([`legend_row`]);
//! - ticks include both ends of the data: linear panels keep room for the last label
//!   ([`MARGIN_RIGHT`]), a tick at 0 reads "0" ([`tick_in`]); log axes get a tick at every
//!   1–9 × 10^k and labels at 1, 2, 5 × 10^k ([`log_ticks`]);
//! - one colour-blind-safe palette per kind of quantity: Okabe–Ito for lines, viridis for
//!   magnitudes, RdBu (or blue–vermillion) for signed values ([`crate::style`]);
//! - a figure is at most 1600 px wide, and text is at least 14 plotters units (11.3 px in the SVG,
//!   about 12 px in the PNG).

use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use crate::render::{DrawError, DrawResult};
use crate::style::{FONT, okabe_ito};

/// A 2-D chart with f64 axes.
pub type Chart<'a, DB> = AxesChart<'a, DB, RangedCoordf64, RangedCoordf64>;

/// A 2-D chart with any x and y coordinate kinds (linear, log, …).
pub type AxesChart<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// Builds a captioned panel with labelled axes on `area`.
///
/// The axes are any f64 coordinates plotters can build: `lo..hi` for linear, `(lo..hi).log_scale()`
/// for logarithmic.
pub fn panel<'a, DB, X, Y>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
    x: X,
    y: Y,
    x_desc: &str,
    y_desc: &str,
) -> Result<AxesChart<'a, DB, X::CoordDescType, Y::CoordDescType>, DrawError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 18))
        .margin(8)
        // Room for the last x tick label, which is centred on the right end of the axis (a
        // narrower margin cut "1000" to "100").
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(42)
        .y_label_area_size(60)
        .build_cartesian_2d(x, y)?;
    let (xr, yr) = (chart.x_range(), chart.y_range());
    // A log axis gets its ticks from `log_ticks` (a tick at every 1–9 × 10^k, labels at 1, 2, 5).
    let (x_log, y_log) = log_axes(&chart);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(if x_log { 0 } else { 10 })
        .y_labels(if y_log { 0 } else { 10 })
        .x_label_formatter(&|v| if x_log { String::new() } else { tick_in(*v, &xr) })
        .y_label_formatter(&|v| if y_log { String::new() } else { tick_in(*v, &yr) })
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    log_ticks(area, &chart, x_log, y_log, 14)?;
    Ok(chart)
}

/// A log axis range around data [`lo`, `hi`] (both > 0) that ends on labelled ticks of
/// [`log_tick_values`] — 1, 2, 5 × 10^k, or powers of 10 beyond 4 decades — with at least
/// `pad` (a factor, ≥ 1) of room on each side, so both ends of the data have a label beyond them.
pub fn log_range_125(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    let (lo, hi) = (lo.min(hi) / pad, lo.max(hi) * pad);
    if !(lo > 0.0 && hi.is_finite()) {
        return (lo, hi);
    }
    let steps: &[f64] = if hi / lo > 1e4 { &[1.0] } else { &[1.0, 2.0, 5.0] };
    let down = |v: f64| {
        let k = v.log10().floor();
        steps.iter().rev().map(|m| m * 10f64.powf(k)).find(|&t| t <= v * (1.0 + 1e-12)).unwrap_or(10f64.powf(k))
    };
    let up = |v: f64| {
        let k = v.log10().floor();
        steps
            .iter()
            .map(|m| m * 10f64.powf(k))
            .chain([10f64.powf(k + 1.0)])
            .find(|&t| t >= v * (1.0 - 1e-12))
            .unwrap_or(10f64.powf(k + 1.0))
    };
    (down(lo), up(hi))
}

/// The ticks of a log axis over `lo..hi`: (value, labelled). A tick at every 1–9 × 10^k; labels at
/// 1, 2, 5 × 10^k over at most 4 decades, at powers of 10 beyond; when that labels fewer than two
/// ticks, every tick is labelled.
pub fn log_tick_values(lo: f64, hi: f64) -> Vec<(f64, bool)> {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    if !(lo > 0.0 && hi.is_finite()) {
        return Vec::new();
    }
    let decades = (hi / lo).log10();
    let mut out = Vec::new();
    let mut k = lo.log10().floor() as i32;
    while 10f64.powi(k) <= hi * (1.0 + 1e-12) && out.len() < 400 {
        for m in 1..=9 {
            let v = f64::from(m) * 10f64.powi(k);
            if v >= lo * (1.0 - 1e-12) && v <= hi * (1.0 + 1e-12) {
                let major = if decades > 4.0 { m == 1 } else { matches!(m, 1 | 2 | 5) };
                out.push((v, major));
            }
        }
        k += 1;
    }
    if out.iter().filter(|t| t.1).count() < 2 {
        for t in &mut out {
            t.1 = true;
        }
    }
    out
}

/// Draws the ticks and labels of the log axes of `chart` (built on `area`, with plotters' own
/// labels off on those axes): plotters labelled nothing below 0.1 on a 0.03–0.3 axis.
pub fn log_ticks<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    area: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x_log: bool,
    y_log: bool,
    size: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let (bx, by) = area.get_base_pixel();
    let rel = |p: (i32, i32)| (p.0 - bx, p.1 - by);
    if x_log {
        for (v, major) in log_tick_values(xr.start, xr.end) {
            let (px, py) = rel(chart.backend_coord(&(v, yr.start)));
            let len = if major { 6 } else { 3 };
            area.draw(&PathElement::new(vec![(px, py), (px, py + len)], BLACK.stroke_width(1)))?;
            if major {
                area.draw(&Text::new(
                    tick(v),
                    (px, py + 8),
                    (FONT, size).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
                ))?;
            }
        }
    }
    if y_log {
        for (v, major) in log_tick_values(yr.start, yr.end) {
            let (px, py) = rel(chart.backend_coord(&(xr.start, v)));
            let len = if major { 6 } else { 3 };
            area.draw(&PathElement::new(vec![(px - len, py), (px, py)], BLACK.stroke_width(1)))?;
            if major {
                area.draw(&Text::new(
                    tick(v),
                    (px - 9, py),
                    (FONT, size).into_font().color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center)),
                ))?;
            }
        }
    }
    Ok(())
}

/// Whether each axis of `chart` is logarithmic: a log axis maps the arithmetic middle of its range
/// off the middle pixel.
pub fn log_axes<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &ChartContext<'_, DB, Cartesian2d<X, Y>>,
) -> (bool, bool) {
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let (px, py) = chart.plotting_area().get_pixel_range();
    let mid_x = chart.backend_coord(&(0.5 * (xr.start + xr.end), yr.start)).0;
    let mid_y = chart.backend_coord(&(xr.start, 0.5 * (yr.start + yr.end))).1;
    ((mid_x - (px.start + px.end) / 2).abs() > 3, (mid_y - (py.start + py.end) / 2).abs() > 3)
}

/// Right margin of every panel, in pixels (room for a tick label centred on the axis end).
pub const MARGIN_RIGHT: u32 = 30;

/// A tick label on a log axis spanning `range`: at 1, 2 and 5 × 10^k over at most 4 decades, at
/// powers of 10 only beyond (else the labels run into each other).
pub fn tick_log(v: f64, range: &std::ops::Range<f64>) -> String {
    let decades = (range.end / range.start).abs().log10().abs();
    if decades > 4.0 {
        let m = v / 10f64.powf(v.log10().floor());
        if v.is_finite() && v > 0.0 && ((m - 1.0).abs() < 1e-6 || (m - 10.0).abs() < 1e-5) {
            tick(v)
        } else {
            String::new()
        }
    } else {
        tick_125(v)
    }
}

/// A tick label for log axes: the value when its leading digit is 1, 2 or 5, else nothing.
pub fn tick_125(v: f64) -> String {
    if !(v.is_finite() && v > 0.0) {
        return String::new();
    }
    let m = v / 10f64.powf(v.log10().floor());
    if [1.0, 2.0, 5.0, 10.0].iter().any(|d| (m - d).abs() < 1e-6 * d) { tick(v) } else { String::new() }
}

/// A tick label on an axis spanning `range`: a value within 1e-9 of the span from 0 on an axis
/// through 0 is 0 (a tick computed as lo + k·step reads "−6e-17" otherwise).
pub fn tick_in(v: f64, range: &std::ops::Range<f64>) -> String {
    let span = (range.end - range.start).abs();
    let through_zero = range.start.min(range.end) <= 0.0 && range.start.max(range.end) >= 0.0;
    if through_zero && v.abs() <= 1e-9 * span { "0".into() } else { tick(v) }
}

/// Pixel points along `lines` (polylines in data coordinates), every ≈ 4 px along each segment,
/// as a chart maps them.
fn pixels<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &ChartContext<'_, DB, CT>,
    lines: &[Vec<(f64, f64)>],
) -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    for line in lines {
        let px: Vec<(i32, i32)> = line
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|p| chart.as_coord_spec().translate(p))
            .collect();
        if let [only] = px.as_slice() {
            out.push(*only);
        }
        for w in px.windows(2) {
            let (a, b) = (w[0], w[1]);
            let len = f64::from((b.0 - a.0).abs().max((b.1 - a.1).abs()).min(4000));
            let steps = (len / 4.0).ceil().max(1.0) as i32;
            for k in 0..=steps {
                let t = f64::from(k) / f64::from(steps);
                out.push((
                    (f64::from(a.0) + t * f64::from(b.0 - a.0)).round() as i32,
                    (f64::from(a.1) + t * f64::from(b.1 - a.1)).round() as i32,
                ));
            }
        }
    }
    out
}

/// The corner of `chart`'s plotting area where a legend box of `box_px` (width, height) covers
/// the fewest drawn pixels of `lines`; ties go to the upper right, then upper left, lower right,
/// lower left.
pub fn empty_corner<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &ChartContext<'_, DB, CT>,
    lines: &[Vec<(f64, f64)>],
    box_px: (i32, i32),
) -> SeriesLabelPosition {
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let pts = pixels(chart, lines);
    let (w, h) = (box_px.0 + 16, box_px.1 + 16);
    let corners = [
        (SeriesLabelPosition::UpperRight, xr.end - w, yr.start),
        (SeriesLabelPosition::UpperLeft, xr.start, yr.start),
        (SeriesLabelPosition::LowerRight, xr.end - w, yr.end - h),
        (SeriesLabelPosition::LowerLeft, xr.start, yr.end - h),
    ];
    let covered =
        |x0: i32, y0: i32| pts.iter().filter(|&&(x, y)| x >= x0 && x <= x0 + w && y >= y0 && y <= y0 + h).count();
    let mut best = (SeriesLabelPosition::UpperRight, usize::MAX);
    for (pos, x0, y0) in corners {
        let c = covered(x0, y0);
        if c < best.1 {
            best = (pos, c);
        }
    }
    best.0
}

/// The pixel size of a legend box with these labels (12 px text, 18 px glyph).
pub fn legend_box(labels: &[&str]) -> (i32, i32) {
    let chars = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as i32;
    (chars * 7 + 44, labels.len() as i32 * 20 + 10)
}

/// Draws the series legend of `chart` in the corner that covers the fewest of `lines` (the data
/// drawn, in data coordinates), for a legend with these `labels`.
pub fn legend_auto<'a, DB: DrawingBackend + 'a, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'a, DB, CT>,
    lines: &[Vec<(f64, f64)>],
    labels: &[&str],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let pos = empty_corner(chart, lines, legend_box(labels));
    legend(chart, pos)
}

/// Pointwise mean and Student-t 95% interval of runs sampled at the same x (the shortest run's
/// points; a point where any run is non-finite is skipped): (x, mean, lo, hi). One run gives its
/// own values and no width.
pub fn mean_t95(runs: &[Vec<(f64, f64)>]) -> Vec<(f64, f64, f64, f64)> {
    let len = runs.iter().map(Vec::len).min().unwrap_or(0);
    let n = runs.len();
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let ys: Vec<f64> = runs.iter().map(|r| r[i].1).collect();
        if ys.iter().any(|y| !y.is_finite()) {
            continue;
        }
        let m = ys.iter().sum::<f64>() / n as f64;
        let half = if n > 1 {
            let var = ys.iter().map(|y| (y - m).powi(2)).sum::<f64>() / (n - 1) as f64;
            attnlab_comparator::t95(n - 1) * (var / n as f64).sqrt()
        } else {
            0.0
        };
        out.push((runs[0][i].0, m, m - half, m + half));
    }
    out
}

/// Draws a group of runs the house way: each run thin and light, their pointwise mean `width` px
/// thick and, with `clip`, its Student-t 95% band (n runs, n − 1 degrees of freedom) clipped to
/// that range (a probability's band stays in [0, 1]); without, the runs and the mean alone (where
/// many groups' bands would pile up). The legend entry is the mean's.
pub fn runs_with_mean<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    runs: &[Vec<(f64, f64)>],
    color: RGBColor,
    width: u32,
    clip: Option<(f64, f64)>,
    label: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for r in runs {
        chart.draw_series(LineSeries::new(r.clone(), color.mix(0.35).stroke_width(1)))?;
    }
    let stats = mean_t95(runs);
    if let Some(clip) = clip.filter(|_| runs.len() > 1 && stats.len() > 1) {
        let mut poly: Vec<(f64, f64)> = stats.iter().map(|s| (s.0, s.3.clamp(clip.0, clip.1))).collect();
        poly.extend(stats.iter().rev().map(|s| (s.0, s.2.clamp(clip.0, clip.1))));
        chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.22).filled())))?;
    }
    chart
        .draw_series(LineSeries::new(stats.iter().map(|s| (s.0, s.1)), color.stroke_width(width)))?
        .label(label.to_string())
        .legend(seg(color, width));
    Ok(())
}

/// The y values [`runs_with_mean`] draws for `runs` with `clip`: every run's points and, with a
/// band, its edges clipped as drawn — what a panel's y range must hold.
pub fn runs_with_mean_extent(runs: &[Vec<(f64, f64)>], clip: Option<(f64, f64)>) -> Vec<f64> {
    let band = clip.map_or_else(Vec::new, |(a, b)| {
        mean_t95(runs).iter().flat_map(|s| [s.2.clamp(a, b), s.3.clamp(a, b)]).collect()
    });
    runs.iter().flatten().map(|p| p.1).chain(band).collect()
}

/// Fills a grid of cells centred at `xs` × `ys` with `color(i, j)` (i indexes xs, j ys).
///
/// The map is rasterised at the chart's pixel resolution and drawn as one bitmap, so an SVG holds
/// one embedded PNG instead of a rectangle per cell.
pub fn heatmap<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    xs: &[f64],
    ys: &[f64],
    color: impl Fn(usize, usize) -> RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if xs.is_empty() || ys.is_empty() {
        return Ok(());
    }
    let half = |v: &[f64]| if v.len() > 1 { (v[1] - v[0]) / 2.0 } else { 0.5 };
    let (hx, hy) = (half(xs), half(ys));
    let area = chart.plotting_area();
    let (xr, yr) = (area.get_x_range(), area.get_y_range());
    let xmin = (xs[0] - hx).max(xr.start);
    let xmax = (xs[xs.len() - 1] + hx).min(xr.end);
    let ymin = (ys[0] - hy).max(yr.start);
    let ymax = (ys[ys.len() - 1] + hy).min(yr.end);
    let (px0, py0) = chart.backend_coord(&(xmin, ymax));
    let (px1, py1) = chart.backend_coord(&(xmax, ymin));
    let (w, h) = ((px1 - px0).max(1) as u32, (py1 - py0).max(1) as u32);
    let cell = |v: f64, lo: f64, step: f64, n: usize| (((v - lo) / step).floor().max(0.0) as usize).min(n - 1);
    let mut buf = Vec::with_capacity((w * h * 3) as usize);
    for v in 0..h {
        let y = ymax - (f64::from(v) + 0.5) / f64::from(h) * (ymax - ymin);
        let j = cell(y, ys[0] - hy, 2.0 * hy, ys.len());
        for u in 0..w {
            let x = xmin + (f64::from(u) + 0.5) / f64::from(w) * (xmax - xmin);
            let c = color(cell(x, xs[0] - hx, 2.0 * hx, xs.len()), j);
            buf.extend_from_slice(&[c.0, c.1, c.2]);
        }
    }
    if let Some(img) = BitMapElement::with_owned_buffer((xmin, ymax), (w, h), buf) {
        chart.draw_series(std::iter::once(img))?;
    }
    Ok(())
}

/// A vertical colour bar for values in [lo, hi] drawn with `cmap` on [0, 1].
pub fn colorbar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
    label: &str,
    cmap: impl Fn(f64) -> RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(50)
        .margin_right(6)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(label)
        .y_label_formatter(&|v| tick_in(*v, &(lo..hi)))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 14))
        .draw()?;
    let n = 100;
    chart.draw_series((0..n).map(|k| {
        let a = lo + (hi - lo) * k as f64 / n as f64;
        let b = lo + (hi - lo) * (k + 1) as f64 / n as f64;
        Rectangle::new([(0.0, a), (1.0, b)], cmap((k as f64 + 0.5) / n as f64).filled())
    }))?;
    Ok(())
}

/// A horizontal colour bar for signed values over ±`lim`, labelled: `cmap` gets v/lim ∈ [−1, 1].
pub fn signed_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lim: f64,
    label: &str,
    cmap: impl Fn(f64) -> RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let lim = lim.max(1e-12);
    let mut ch = ChartBuilder::on(area)
        .margin(4)
        .margin_left(40)
        .margin_right(40)
        .x_label_area_size(22)
        .caption(label, (FONT, 14))
        .build_cartesian_2d(-lim..lim, 0.0..1.0)?;
    ch.configure_mesh()
        .disable_mesh()
        .disable_y_axis()
        .x_labels(5)
        .x_label_formatter(&|v| tick_in(*v, &(-lim..lim)))
        .label_style((FONT, 14))
        .draw()?;
    let n = 100;
    ch.draw_series((0..n).map(|k| {
        let a = -lim + 2.0 * lim * k as f64 / n as f64;
        let b = -lim + 2.0 * lim * (k + 1) as f64 / n as f64;
        Rectangle::new([(a, 0.0), (b, 1.0)], cmap((a + b) / 2.0 / lim).filled())
    }))?;
    Ok(())
}

/// Style of a theory line: dashed, in `color`.
pub fn dashed<I>(points: I, color: RGBColor, width: u32) -> DashedLineSeries<std::vec::IntoIter<(f64, f64)>, i32>
where
    I: IntoIterator<Item = (f64, f64)>,
{
    let pts: Vec<(f64, f64)> = points.into_iter().collect();
    DashedLineSeries::new(pts, 7, 5, color.stroke_width(width))
}

/// A theory reference line or curve through `points`: dashed, in `color`, with `label` in the
/// legend as a dashed segment (the house rule: theory dashed and in the legend).
pub fn theory_line<'a, DB: DrawingBackend + 'a, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'a, DB, CT>,
    points: impl IntoIterator<Item = (f64, f64)>,
    color: RGBColor,
    width: u32,
    label: impl Into<String>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart.draw_series(dashed(points, color, width))?.label(label).legend(dseg(color, width));
    Ok(())
}

/// A legend glyph: a short solid line segment in `color` (an experiment's line).
pub fn seg(color: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(width))
}

/// A legend glyph for a dashed (theory) line: three dashes in `color` over the same 18 px as [`seg`].
pub fn dseg(
    color: RGBColor,
    width: u32,
) -> impl Fn((i32, i32)) -> plotters::element::DashedPathElement<std::vec::IntoIter<(i32, i32)>, i32> {
    move |(x, y)| plotters::element::DashedPathElement::new(vec![(x, y), (x + 18, y)], 4, 3, color.stroke_width(width))
}

/// Draws the series legend of `chart` in a standard style at `pos`.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(okabe_ito::GREY)
        .label_font((FONT, 14))
        .draw()?;
    Ok(())
}

/// A tick label: at most 6 significant digits, trailing zeros trimmed ("500", "0.25", "1e-05").
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() < 1e-3 || v.abs() >= 1e6 {
        return format!("{v:.0e}");
    }
    let s = format!("{:.*}", (5 - v.abs().log10().floor() as i32).clamp(0, 9) as usize, v);
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// Splits a polyline into the runs where every point is finite (for curves with gaps).
pub fn finite_runs(points: impl IntoIterator<Item = (f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![Vec::new()];
    for (x, y) in points {
        if x.is_finite() && y.is_finite() {
            if let Some(r) = runs.last_mut() {
                r.push((x, y));
            }
        } else if runs.last().is_some_and(|r| !r.is_empty()) {
            runs.push(Vec::new());
        }
    }
    runs.retain(|r| r.len() > 1);
    runs
}

/// How a legend entry drawn outside a chart looks.
#[derive(Debug, Clone, Copy)]
pub enum Glyph {
    /// A solid line of this width.
    Line(RGBColor, u32),
    /// A dashed line of this width (theory).
    Dashed(RGBColor, u32),
    /// A filled circle (sampled points).
    Dot(RGBColor),
    /// A filled square (an area or a heat-map colour).
    Patch(RGBColor),
    /// A solid line of this width carrying marker shape `k` of [`marker_shape`] (a group that is
    /// told apart by its marker as well as its colour).
    Marked(RGBColor, u32, usize),
    /// A ring of the first colour on a square of the second (a white ring as drawn on a map).
    RingOn(RGBColor, RGBColor),
    /// A cross (×) in this colour.
    Cross(RGBColor),
    /// A dashed line of the first colour on a patch of the second (a white dash as drawn on a map).
    DashedOn(RGBColor, RGBColor),
}

/// Marker shape `k % 5` (circle, square, triangle, cross, diamond) in `col` at pixel `(x, y)`: the
/// legend key of a group whose line carries the same shapes (`markov::train`'s `markers`, which
/// draws them in data coordinates; plotters' dynamic elements need a `'static` backend, so the two
/// cannot share one element constructor).
pub fn marker_shape<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    k: usize,
    col: RGBColor,
    (x, y): (i32, i32),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let style = col.filled();
    match k % 5 {
        0 => area.draw(&Circle::new((x, y), 4, style))?,
        1 => area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], style))?,
        2 => area.draw(&TriangleMarker::new((x, y), 5, style))?,
        3 => area.draw(&Cross::new((x, y), 4, col.stroke_width(2)))?,
        _ => area.draw(&Polygon::new(vec![(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)], style))?,
    }
    Ok(())
}

/// Where [`legend_row`] puts each entry's top-left corner in an area `width` px wide: left to
/// right from (12, 8), each entry as wide as its glyph and label, wrapping to a new 20 px row.
fn legend_row_layout<'a>(width: u32, labels: impl IntoIterator<Item = &'a str>) -> Vec<(i32, i32)> {
    let (mut x, mut y) = (12, 8);
    let mut at = Vec::new();
    for l in labels {
        let w = 34 + l.chars().count() as i32 * 7 + 24;
        if x + w > width as i32 && x > 12 {
            x = 12;
            y += 20;
        }
        at.push((x, y));
        x += w;
    }
    at
}

/// The height in px that [`legend_row`] needs for `labels` in an area `width` px wide (its rows
/// plus margins), so a figure can size the area before drawing.
pub fn legend_row_height(width: u32, labels: &[&str]) -> u32 {
    legend_row_layout(width, labels.iter().copied()).last().map_or(8, |&(_, y)| y as u32) + 28
}

/// Stroke width of group `k` of `n` drawn on one panel: earlier groups wider (2, 4 or 6 px), so a
/// later group's line drawn on top of an identical earlier one leaves the earlier one as a rim.
pub fn layered_width(k: usize, n: usize) -> u32 {
    2 + 2 * (n.saturating_sub(1 + k)).min(2) as u32
}

/// A legend as one row of entries in its own `area` (beside or below the charts, so it covers no
/// data): each entry a glyph and its label, 12 px text, left to right, wrapping to a second row.
pub fn legend_row<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[(Glyph, &str)]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let at = legend_row_layout(area.dim_in_pixel().0, entries.iter().map(|e| e.1));
    for (&(glyph, label), (x, y)) in entries.iter().zip(at) {
        let mid = y + 7;
        match glyph {
            Glyph::Line(c, t) => area.draw(&PathElement::new(vec![(x, mid), (x + 26, mid)], c.stroke_width(t)))?,
            Glyph::Dashed(c, t) => {
                for k in 0..3 {
                    area.draw(&PathElement::new(vec![(x + 10 * k, mid), (x + 10 * k + 6, mid)], c.stroke_width(t)))?;
                }
            }
            Glyph::Dot(c) => area.draw(&Circle::new((x + 13, mid), 4, c.filled()))?,
            Glyph::Patch(c) => area.draw(&Rectangle::new([(x + 6, y), (x + 20, y + 14)], c.filled()))?,
            Glyph::RingOn(ring, bg) => {
                area.draw(&Rectangle::new([(x + 4, y - 2), (x + 22, y + 16)], bg.filled()))?;
                area.draw(&Circle::new((x + 13, mid), 5, ring.stroke_width(2)))?;
            }
            Glyph::Cross(c) => area.draw(&Cross::new((x + 13, mid), 5, c.stroke_width(3)))?,
            Glyph::DashedOn(fg, bg) => {
                area.draw(&Rectangle::new([(x - 2, y - 2), (x + 28, y + 16)], bg.filled()))?;
                for k in 0..3 {
                    area.draw(&PathElement::new(vec![(x + 10 * k, mid), (x + 10 * k + 6, mid)], fg.stroke_width(2)))?;
                }
            }
            Glyph::Marked(c, t, k) => {
                area.draw(&PathElement::new(vec![(x, mid), (x + 26, mid)], c.stroke_width(t)))?;
                marker_shape(area, k, c, (x + 13, mid))?;
            }
        }
        area.draw(&Text::new(label.to_string(), (x + 32, y), (FONT, 14)))?;
    }
    Ok(())
}

/// Writes a line of text at pixel position `pos` of `area`.
pub fn text<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &str, pos: (i32, i32), size: u32) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.draw(&Text::new(s.to_string(), pos, (FONT, size)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels() {
        assert_eq!(tick(500.0), "500");
        assert_eq!(tick(0.30000000000000004), "0.3");
        assert_eq!(tick(-2.5), "-2.5");
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(1e-5), "1e-5");
    }

    #[test]
    fn a_log_range_ends_on_labelled_ticks_beyond_the_data() {
        // f2's data reached 0.29 with the top label at 0.2; f5's lowest point 0.44 sat below the 0.5 label.
        assert_eq!(log_range_125(0.012, 0.29, 1.05), (0.01, 0.5));
        assert_eq!(log_range_125(0.44, 1.9, 1.05), (0.2, 2.0));
        let (lo, hi) = log_range_125(3e-9, 0.7, 1.05);
        assert_eq!((lo, hi), (1e-9, 1.0), "beyond 4 decades only powers of 10 are labelled");
        for (lo, hi) in [(0.012, 0.29), (0.44, 1.9), (3e-9, 0.7)] {
            let (a, b) = log_range_125(lo, hi, 1.05);
            let labels: Vec<f64> = log_tick_values(a, b).into_iter().filter(|t| t.1).map(|t| t.0).collect();
            assert!(labels.iter().any(|&t| t <= lo) && labels.iter().any(|&t| t >= hi), "{lo}..{hi}: {labels:?}");
        }
    }

    #[test]
    fn log_ticks_label_every_decade_in_range() {
        let t = log_tick_values(0.03, 0.3);
        let labelled: Vec<f64> = t.iter().filter(|t| t.1).map(|t| t.0).collect();
        assert_eq!(labelled.len(), 3, "{labelled:?}");
        assert!((labelled[0] - 0.05).abs() < 1e-12 && (labelled[2] - 0.2).abs() < 1e-12);
        assert!(t.iter().all(|t| t.0 >= 0.03 - 1e-12 && t.0 <= 0.3 + 1e-12));
        let wide: Vec<f64> = log_tick_values(1e-6, 1e3).iter().filter(|t| t.1).map(|t| t.0).collect();
        assert_eq!(wide.len(), 10);
        assert!(log_tick_values(3.0, 4.0).iter().all(|t| t.1));
    }

    #[test]
    fn ticks_near_zero_read_zero() {
        assert_eq!(tick_in(-6e-17, &(-1.0..1.0)), "0");
        assert_eq!(tick_in(1e-5, &(0.0..1e-4)), "1e-5");
        assert_eq!(tick_in(1e-12, &(1e-13..1e-11)), "1e-12");
    }

    #[test]
    fn mean_band_is_a_t_interval() {
        let runs =
            vec![vec![(0.0, 1.0), (1.0, 2.0)], vec![(0.0, 3.0), (1.0, 2.0)], vec![(0.0, 2.0), (1.0, 2.0), (2.0, 9.0)]];
        let s = mean_t95(&runs);
        assert_eq!(s.len(), 2);
        let half = attnlab_comparator::t95(2) * (1.0f64 / 3.0).sqrt();
        assert!((s[0].1 - 2.0).abs() < 1e-12 && (s[0].3 - 2.0 - half).abs() < 1e-12);
        assert_eq!((s[1].2, s[1].3), (2.0, 2.0));
    }

    #[test]
    fn finite_runs_split_at_gaps() {
        let r = finite_runs(vec![(0.0, 1.0), (1.0, 1.0), (2.0, f64::NAN), (3.0, 1.0), (4.0, 1.0), (5.0, 2.0)]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].len(), 3);
    }
}
