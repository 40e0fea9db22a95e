//! Tidy tables of what a figure draws: `results/<figure-id>.csv`, one row per plotted point, so
//! pandas and matplotlib can redraw the figure. Columns, in this order: `panel`, `series`, `x_name`,
//! `x`, `y_name`, `y`, `lo`, `hi` (the drawn interval, if any), `seed` (the run's, where a point is
//! one run's). A missing or non-finite value is an empty field, never a string in a numeric column.
//!
//! A figure either builds its table from its data ([`Tidy::write`]; [`Tidy::write_gz`] for the four
//! dense-grid figures, whose table is `results/<figure-id>.csv.gz`), or draws with panel helpers
//! that [`note`] each series as they draw it: [`crate::render::render`] records the notes of its
//! first (SVG) pass and writes them, so the table holds exactly what was drawn.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::Path;

use crate::FigureError;

/// One plotted point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The panel (its title or a short name).
    pub panel: String,
    /// The series within the panel (its legend label).
    pub series: String,
    /// What x is, with its unit.
    pub x_name: String,
    /// x.
    pub x: f64,
    /// What y is, with its unit.
    pub y_name: String,
    /// y.
    pub y: f64,
    /// The drawn interval around y, if any.
    pub interval: Option<[f64; 2]>,
    /// The run's seed, where the point is one run's.
    pub seed: Option<u64>,
}

/// The rows of one figure's table.
#[derive(Debug, Clone, Default)]
pub struct Tidy {
    rows: Vec<Point>,
}

/// One CSV field (RFC 4180 quoting).
fn text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// A number, or an empty field when it is not finite.
fn num(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { String::new() }
}

impl Tidy {
    /// Adds a point.
    pub fn push(&mut self, p: Point) {
        self.rows.push(p);
    }

    /// Adds the points of one series: (x, y) pairs, no interval.
    #[allow(clippy::too_many_arguments)]
    pub fn series(
        &mut self,
        panel: &str,
        series: &str,
        x_name: &str,
        y_name: &str,
        seed: Option<u64>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) {
        for (x, y) in points {
            self.rows.push(Point {
                panel: panel.into(),
                series: series.into(),
                x_name: x_name.into(),
                x,
                y_name: y_name.into(),
                y,
                interval: None,
                seed,
            });
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The CSV text.
    pub fn csv(&self) -> String {
        let mut s = String::from("panel,series,x_name,x,y_name,y,lo,hi,seed\n");
        for r in &self.rows {
            let (lo, hi) = r.interval.map_or((String::new(), String::new()), |[a, b]| (num(a), num(b)));
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{lo},{hi},{}",
                text(&r.panel),
                text(&r.series),
                text(&r.x_name),
                num(r.x),
                text(&r.y_name),
                num(r.y),
                r.seed.map_or(String::new(), |v| v.to_string())
            );
        }
        s
    }

    /// Writes `<out>/results/<id>.csv` (atomically).
    pub fn write(&self, out: &Path, id: &str) -> Result<(), FigureError> {
        let path = out.join("results").join(format!("{id}.csv"));
        attnlab_core::io::write_atomic(&path, self.csv().as_bytes()).map_err(|e| FigureError::io(&path, e))
    }

    /// Writes `<out>/results/<id>.csv.gz` (atomically): the same table gzip-compressed, for the
    /// figures whose drawn data (fine grids, flow paths, per-seed traces) would make a plain CSV of
    /// several MB. `pandas.read_csv` reads it as it is. The gzip header carries no time or name,
    /// so the same table gives the same bytes.
    pub fn write_gz(&self, out: &Path, id: &str) -> Result<(), FigureError> {
        use std::io::Write as _;
        let path = out.join("results").join(format!("{id}.csv.gz"));
        let mut gz = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
        let bytes =
            gz.write_all(self.csv().as_bytes()).and_then(|()| gz.finish()).map_err(|e| FigureError::io(&path, e))?;
        attnlab_core::io::write_atomic(&path, &bytes).map_err(|e| FigureError::io(&path, e))
    }
}

thread_local! {
    static RECORDER: RefCell<Option<Tidy>> = const { RefCell::new(None) };
}

/// Starts recording the points panel helpers [`note`] on this thread.
pub(crate) fn start() {
    RECORDER.with(|r| *r.borrow_mut() = Some(Tidy::default()));
}

/// Stops recording and returns what was noted.
pub(crate) fn take() -> Tidy {
    RECORDER.with(|r| r.borrow_mut().take()).unwrap_or_default()
}

/// Notes one drawn series of (x, y) points (no interval, no seed) while a recording runs.
pub(crate) fn note_xy(panel: &str, series: &str, x_name: &str, y_name: &str, points: &[(f64, f64)]) {
    note(|| {
        points
            .iter()
            .map(|&(x, y)| Point {
                panel: panel.into(),
                series: series.into(),
                x_name: x_name.into(),
                x,
                y_name: y_name.into(),
                y,
                interval: None,
                seed: None,
            })
            .collect()
    });
}

/// Notes a drawn matrix `m` (row-major, `rows` × `cols`): one row per entry, series "row i", x the
/// column index, y the entry (entries not shown are left out).
pub(crate) fn note_matrix(
    panel: &str,
    m: &[f64],
    rows: usize,
    cols: usize,
    shown: &dyn Fn(usize, usize) -> bool,
    x_name: &str,
    y_name: &str,
) {
    note(|| {
        (0..rows)
            .flat_map(|i| (0..cols).map(move |j| (i, j)))
            .filter(|&(i, j)| shown(i, j))
            .map(|(i, j)| Point {
                panel: panel.into(),
                series: format!("row {i} ({y_name})"),
                x_name: x_name.into(),
                x: j as f64,
                y_name: "value".into(),
                y: m[i * cols + j],
                interval: None,
                seed: None,
            })
            .collect()
    });
}

/// Notes drawn points while a recording runs (nothing otherwise).
pub(crate) fn note(points: impl FnOnce() -> Vec<Point>) {
    RECORDER.with(|r| {
        if let Some(t) = r.borrow_mut().as_mut() {
            t.rows.extend(points());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gzip_table_reads_back_as_the_csv_and_is_deterministic() {
        use std::io::Read as _;
        let mut t = Tidy::default();
        t.series("a", "e = 0.5", "w", "gap", None, [(0.0, 1.0), (0.5, f64::NAN)]);
        let dir = std::env::temp_dir().join(format!("attnlab-tidy-gz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("results")).unwrap();
        t.write_gz(&dir, "x").unwrap();
        let first = std::fs::read(dir.join("results/x.csv.gz")).unwrap();
        t.write_gz(&dir, "x").unwrap();
        assert_eq!(std::fs::read(dir.join("results/x.csv.gz")).unwrap(), first, "same table, same bytes");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&first[..]).read_to_string(&mut text).unwrap();
        assert_eq!(text, t.csv());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rows_are_tidy_and_missing_values_empty() {
        let mut t = Tidy::default();
        t.series("a, b", "tied", "iteration", "loss (nats)", Some(3), [(0.0, 0.69), (10.0, f64::NAN)]);
        t.push(Point {
            panel: "p".into(),
            series: "mean".into(),
            x_name: "m".into(),
            x: 2.0,
            y_name: "loss".into(),
            y: 0.5,
            interval: Some([0.4, 0.6]),
            seed: None,
        });
        assert_eq!(
            t.csv(),
            "panel,series,x_name,x,y_name,y,lo,hi,seed\n\"a, b\",tied,iteration,0,loss (nats),0.69,,,3\n\"a, b\",tied,iteration,10,loss (nats),,,,3\np,mean,m,2,loss,0.5,0.4,0.6,\n"
        );
        assert_eq!(t.len(), 3);
    }
}
