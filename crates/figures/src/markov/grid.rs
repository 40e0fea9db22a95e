//! The phase diagram of a user's sweep (`attnlab markov sweep`): one panel per model and tying,
//! each (p, q) cell coloured by where its final held-out loss sits between H* (0) and U (1), mean
//! over its seeds, with the theory boundary p + q = 1 dashed. Same statistic as the first row of
//! `markov.train.phase` (`claims::train::phase::position`).

use std::path::{Path, PathBuf};

use attnlab_lab::markov::claims::train::phase::position;
use attnlab_lab::markov::experiments::train::TrainOutcome;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::FigureError;
use crate::plot::{colorbar, dashed, heatmap, panel};
use crate::render::{DrawResult, Figure, render};
use crate::style::viridis;

/// One panel: a title and the outcomes `cells[i][j]` of the runs at (p_i, q_j), one per seed.
pub struct SweepPanel {
    /// Caption (model, tying, sizes).
    pub title: String,
    /// `cells[i][j][seed]`.
    pub cells: Vec<Vec<Vec<TrainOutcome>>>,
}

/// Whether `v` is evenly spaced (the map draws cells of equal width around each value).
pub fn evenly_spaced(v: &[f64]) -> bool {
    v.len() < 3 || v.windows(2).all(|w| ((w[1] - w[0]) - (v[1] - v[0])).abs() <= 1e-9 * (1.0 + v[1].abs()))
}

/// Draws `<dir>/<stem>.svg` and `.png`; `ps` and `qs` must be increasing and evenly spaced.
pub fn draw(
    dir: &Path,
    stem: &str,
    ps: &[f64],
    qs: &[f64],
    panels: &[SweepPanel],
) -> Result<Vec<PathBuf>, FigureError> {
    if !evenly_spaced(ps) || !evenly_spaced(qs) {
        return Err(FigureError::Draw(
            "the phase diagram needs evenly spaced p and q values (give them as lo:hi:n)".into(),
        ));
    }
    render(&Grid { ps, qs, panels }, dir, stem)
}

struct Grid<'a> {
    ps: &'a [f64],
    qs: &'a [f64],
    panels: &'a [SweepPanel],
}

impl Figure for Grid<'_> {
    fn size(&self) -> (u32, u32) {
        (560 * self.panels.len().max(1) as u32 + 110, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (maps, bar) = root.split_horizontally(560 * self.panels.len().max(1) as u32);
        let areas = maps.split_evenly((1, self.panels.len().max(1)));
        for (area, p) in areas.iter().zip(self.panels) {
            let mut ch = panel(area, &p.title, 0.0..1.0, 0.0..1.0, "p = P(0→1)", "q = P(1→0)")?;
            heatmap(&mut ch, self.ps, self.qs, |i, j| {
                let v = position(&p.cells[i][j]);
                if v.is_finite() { viridis(v.clamp(0.0, 1.0)) } else { RGBColor(190, 190, 190) }
            })?;
            ch.draw_series(dashed(vec![(0.0, 1.0), (1.0, 0.0)], RGBColor(255, 255, 255), 2))?
                .label("theory boundary p + q = 1")
                .legend(crate::plot::seg(RGBColor(120, 120, 120), 2));
            crate::plot::legend(&mut ch, SeriesLabelPosition::UpperRight)?;
        }
        colorbar(&bar, 0.0, 1.0, "final loss: 0 = H*, 1 = U (grey: U − H* < 0.03)", viridis)
    }
}
