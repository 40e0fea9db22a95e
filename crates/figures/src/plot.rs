//! Plot building blocks shared by the figures: panels, heat maps, colour bars, theory lines.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::{CoordTranslate, Shift};
use plotters::coord::types::RangedCoordf64;
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
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()?;
    Ok(chart)
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
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .draw()?;
    let n = 100;
    chart.draw_series((0..n).map(|k| {
        let a = lo + (hi - lo) * k as f64 / n as f64;
        let b = lo + (hi - lo) * (k + 1) as f64 / n as f64;
        Rectangle::new([(0.0, a), (1.0, b)], cmap((k as f64 + 0.5) / n as f64).filled())
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

/// A legend glyph: a short line segment in `color` (dashes are too short to show at legend size).
pub fn seg(color: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(width))
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
        .label_font((FONT, 12))
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
    fn finite_runs_split_at_gaps() {
        let r = finite_runs(vec![(0.0, 1.0), (1.0, 1.0), (2.0, f64::NAN), (3.0, 1.0), (4.0, 1.0), (5.0, 2.0)]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].len(), 3);
    }
}
