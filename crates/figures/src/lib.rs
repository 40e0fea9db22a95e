//! attnlab figures: one function per paper figure. Each gets its experiment's result and its claims'
//! judgements from the paper's home in `attnlab-lab` and only draws: SVG + PNG with the theory dashed
//! over the experiment.
//!
//! [`run`] regenerates the registry of figures into an output folder (default `figures/`), writes
//! `results/<figure-id>.json` for each and assembles `REPORT.md`, `verdicts.json` and `timings.csv`
//! from all of them.

pub mod exchangeable;
pub mod findings;
pub mod icar;
pub mod markov;
pub mod outline;
pub mod paths;
pub mod plot;
pub mod render;
pub mod report;
pub mod style;
pub mod tidy;

use std::path::{Path, PathBuf};
use std::time::Instant;

use attnlab_comparator::Judgement;
use attnlab_core::CacheStatus;
pub use attnlab_lab::{Lab, LabError, Mode};
use attnlab_lab::{progress, registry};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Errors of the figure pipeline.
#[derive(Debug, Error)]
pub enum FigureError {
    /// A config was rejected (names the field).
    #[error(transparent)]
    Config(#[from] attnlab_core::ConfigError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// plotters failed to draw.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// `--only` matched no figure.
    #[error("no figure id starts with `{0}`; known ids: {1}")]
    UnknownFigure(String, String),
    /// A judged claim has no source or no rationale for its tolerance.
    #[error(
        "claim `{0}` has no source or no rationale for its pass interval (declare a `Rule` with a reason next to the claim)"
    )]
    Unexplained(String),
    /// Tasks failed (each named by index, experiment, figures and key); the results of the others
    /// are kept in the cache, so a rerun does only the failed ones.
    #[error("{} task(s) failed; the others' results are kept in the cache:\n{}", .0.len(), .0.iter().map(|f| format!("  task {}: {}: {}", f.index, f.task, f.error)).collect::<Vec<_>>().join("\n"))]
    Tasks(Vec<attnlab_lab::task::Failure>),
    /// `--from-cache` found tasks without a sound stored result (missing, or damaged: named so).
    #[error("--from-cache: {} task(s) have no sound stored result in {cache} (did they fail?):\n{}", .missing.len(), .missing.join("\n"))]
    NotCached {
        /// The cache folder.
        cache: String,
        /// The missing tasks, by index and name.
        missing: Vec<String>,
    },
    /// A judgement's rule differs from the ledger, or has no entry there.
    #[error(transparent)]
    Ledger(#[from] attnlab_comparator::LedgerError),
    /// A paper-scale claim whose design cannot reach one of the verdicts (from its n and method
    /// alone): fix the design (more seeds, a run-level analysis), never the band.
    #[error(
        "claim `{id}` {fault} (n = {n}, {method} interval, pass interval {pass}): fix its design with more seeds or a better analysis"
    )]
    Undecidable {
        /// The claim.
        id: String,
        /// What it cannot reach.
        fault: &'static str,
        /// Its n.
        n: usize,
        /// Its interval method.
        method: attnlab_comparator::Method,
        /// Its pass interval.
        pass: String,
    },
    /// An experiment failed (training, a solver, a bad config: the lab's error says which).
    #[error(transparent)]
    Lab(#[from] LabError),
    /// A result could not be (de)serialised.
    #[error("serialisation: {0}")]
    Json(#[from] serde_json::Error),
}

impl FigureError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }
}

/// What every figure function gets.
pub struct Ctx {
    /// Output folder (`figures/`).
    pub out_dir: PathBuf,
    /// Where the experiments run (cache and mode).
    pub lab: Lab,
}

impl Ctx {
    /// True in fast mode.
    pub fn fast(&self) -> bool {
        self.lab.fast()
    }
}

/// What a figure function returns.
pub struct FigureOutput {
    /// The claims it judged.
    pub judgements: Vec<Judgement>,
    /// Whether its experiment was reused or rebuilt, and why.
    pub status: CacheStatus,
    /// The experiment's record (config, seed, code version, wall time, data), as JSON.
    pub record: serde_json::Value,
    /// A caption in words: what is drawn, and which lines are theory.
    pub caption: String,
}

/// The stored result of one figure: `results/<id>.json`, from which REPORT.md is built.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FigureResult {
    /// Figure id (also the stem of its SVG/PNG).
    pub id: String,
    /// Title.
    pub title: String,
    /// Caption.
    pub caption: String,
    /// Mode it was made in.
    pub mode: Mode,
    /// Made by a smoke run (`--fast`): it proves the pipeline runs, not the science; every
    /// judgement below is labelled `smoke` too.
    #[serde(default)]
    pub smoke: bool,
    /// "reused (…)" or "rebuilt (…)". Kept in `timings.csv`, not in the result file (it changes on
    /// every redraw while the result does not).
    #[serde(skip_serializing, default)]
    pub status: String,
    /// Wall time of this figure step (reading its experiments' results back and drawing), seconds.
    /// Kept in `timings.csv`, not in the result file, for the same reason.
    #[serde(skip_serializing, default)]
    pub step_time_s: f64,
    /// Single-thread seconds its experiment tasks took to compute (now or when first computed; a
    /// task shared by several figures counts for each).
    #[serde(default)]
    pub compute_s: f64,
    /// Judged claims.
    pub judgements: Vec<Judgement>,
    /// The experiment record.
    pub record: serde_json::Value,
}

/// Attaches to every after-results claim of `js` (its ledger entry says so, and names no fresh
/// seed block of its own run) the judgement of the same claim in `confirmation`, made on the
/// experiment's confirmation run with seed `seed` (`attnlab_lab::confirm`): the frozen rule judged
/// on fresh data, the claim's headline.
pub fn confirm(js: &mut [Judgement], confirmation: &[Judgement], seed: u64, smoke: bool) -> Result<(), FigureError> {
    let ledger = attnlab_lab::ledger::ledger()?;
    for j in js.iter_mut() {
        let e = ledger.entry(&j.claim.id, smoke)?;
        if e.registered == attnlab_comparator::Registered::AfterResults
            && e.fresh_seeds.is_none()
            && let Some(c) = confirmation.iter().find(|c| c.claim.id == j.claim.id)
        {
            j.confirm(c, seed);
        }
    }
    Ok(())
}

/// One entry of the figure registry.
pub struct FigureSpec {
    /// Figure id, e.g. `markov.canonical.landscape`.
    pub id: &'static str,
    /// Title.
    pub title: &'static str,
    /// Gets the experiment's result and the claims' judgements from the lab, and draws the figure.
    pub run: fn(&Ctx, &FigureSpec) -> Result<FigureOutput, FigureError>,
}

/// Every figure attnlab knows, in report order.
pub fn registry() -> Vec<FigureSpec> {
    let mut v = markov::figures();
    v.extend(exchangeable::figures());
    v.extend(icar::figures());
    v.extend(paths::figures());
    v
}

/// Options of a figures run (`cargo xtask figures`).
#[derive(Debug, Clone)]
pub struct Options {
    /// Output folder.
    pub out_dir: PathBuf,
    /// Cache folder.
    pub cache_dir: PathBuf,
    /// Fast mode.
    pub mode: Mode,
    /// Run only figures whose id starts with one of these.
    pub only: Vec<String>,
    /// Ignore the cache.
    pub force: bool,
    /// Tasks run at a time (each on `cores / jobs` threads).
    pub jobs: usize,
    /// Draw only from stored results: fail, naming them, if any task's result is missing (the
    /// drawing job after a Slurm array).
    pub from_cache: bool,
}

/// Summary of a run.
pub struct Summary {
    /// Results of the figures run now.
    pub ran: Vec<FigureResult>,
    /// Path of REPORT.md.
    pub report: PathBuf,
    /// Total wall time, seconds.
    pub wall_time_s: f64,
}

/// The ids of the figures `--only` selects (every figure when empty), in report order: a value
/// that is a figure's whole id selects that figure alone (`markov.train.memory` is not also
/// `markov.train.memory-sweep`), any other value every figure whose id starts with it. A value
/// that matches nothing is an error listing the known ids.
pub fn selected_ids(only: &[String]) -> Result<Vec<&'static str>, FigureError> {
    let all: Vec<&'static str> = registry().iter().map(|s| s.id).collect();
    if only.is_empty() {
        return Ok(all);
    }
    let picks = |id: &str, o: &str| if all.contains(&o) { id == o } else { id.starts_with(o) };
    let sel: Vec<&'static str> = all.iter().copied().filter(|id| only.iter().any(|o| picks(id, o))).collect();
    if sel.is_empty() {
        return Err(FigureError::UnknownFigure(only.join(","), all.join(", ")));
    }
    Ok(sel)
}

/// Runs the selected figures, prints one line per figure (rebuilt/reused and why), writes
/// `results/<id>.json` and regenerates REPORT.md from every stored figure result.
pub fn run(opts: &Options) -> Result<Summary, FigureError> {
    let start = Instant::now();
    let specs = registry();
    let ids = selected_ids(&opts.only)?;
    let selected: Vec<&FigureSpec> = specs.iter().filter(|s| ids.contains(&s.id)).collect();
    let lab = Lab::new(&opts.cache_dir, opts.force, opts.mode);
    // Tasks first (N at a time, longest first), then every figure draws from the cache.
    let plan = registry::plan(&lab, selected.iter().map(|s| s.id))?;
    if opts.from_cache {
        let missing: Vec<String> = plan
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.cached)
            .map(|(i, t)| match &t.damaged {
                Some(why) => format!("  task {i}: {} — {why}", t.name()),
                None => format!("  task {i}: {}", t.name()),
            })
            .collect();
        if !missing.is_empty() {
            return Err(FigureError::NotCached { cache: opts.cache_dir.display().to_string(), missing });
        }
    }
    let done = registry::execute(&lab, &plan, opts.jobs);
    if !done.failures.is_empty() {
        return Err(FigureError::Tasks(done.failures));
    }
    let ctx = Ctx { out_dir: opts.out_dir.clone(), lab: lab.drawing() };
    let results_dir = opts.out_dir.join("results");
    let mut ran = Vec::new();
    let total = selected.len();
    // The last run's status and drawing time of every figure (`timings.csv`).
    let previous = report::stored_timings(&opts.out_dir);
    for (k, spec) in selected.into_iter().enumerate() {
        let t0 = Instant::now();
        let last_s = previous.get(spec.id).map(|t| t.1);
        let spinner = progress::figure_spinner(spec.id, k + 1, total, last_s);
        let out = (spec.run)(&ctx, spec);
        spinner.finish_and_clear();
        let mut out = out?;
        // Every claim states where it comes from and why its pass interval is this wide.
        if let Some(j) =
            out.judgements.iter().find(|j| j.claim.source.trim().is_empty() || j.rationale.trim().is_empty())
        {
            return Err(FigureError::Unexplained(j.claim.id.clone()));
        }
        // A fast run is a smoke run: every verdict it makes says so.
        if opts.mode == Mode::Fast {
            for j in &mut out.judgements {
                j.smoke = true;
            }
        }
        // Every rule is the one the ledger registered; at paper scale every design can decide.
        let ledger = attnlab_lab::ledger::ledger()?;
        for j in &mut out.judgements {
            ledger.register(j)?;
            if opts.mode == Mode::Full
                && j.verdict != attnlab_comparator::Verdict::NotJudged
                && let Some(fault) = j.decidable.fault()
            {
                return Err(FigureError::Undecidable {
                    id: j.claim.id.clone(),
                    fault,
                    n: j.observed.n,
                    method: j.observed.method,
                    pass: attnlab_comparator::fmt_interval(j.pass_interval),
                });
            }
        }
        // What its tasks did in this run (the drawing step itself only reads them back).
        let mine: Vec<usize> = (0..plan.len()).filter(|&i| plan[i].figures.iter().any(|f| f == spec.id)).collect();
        let ran_now: Vec<&(String, f64)> = mine.iter().filter_map(|&i| done.status[i].as_ref()).collect();
        let compute_s: f64 = mine.iter().map(|&i| done.status[i].as_ref().map_or(plan[i].cost_s, |s| s.1)).sum();
        let status = match ran_now.as_slice() {
            [] => out.status.to_string(),
            [one] if mine.len() == 1 => one.0.clone(),
            [first, ..] => format!("rebuilt {} of {} tasks (first: {})", ran_now.len(), mine.len(), first.0),
        };
        let res = FigureResult {
            smoke: opts.mode == Mode::Fast,
            id: spec.id.into(),
            title: spec.title.into(),
            caption: out.caption,
            mode: opts.mode,
            status,
            step_time_s: t0.elapsed().as_secs_f64(),
            compute_s,
            judgements: out.judgements,
            record: out.record,
        };
        let verdicts = report::verdict_counts(&res.judgements);
        progress::println(&format!("{:<32} {} in {:.1} s — {verdicts}", res.id, res.status, res.step_time_s));
        let path = results_dir.join(format!("{}.json", res.id));
        attnlab_core::io::write_json_atomic(&path, &res).map_err(|e| FigureError::io(&path, e))?;
        ran.push(res);
    }
    let wall = start.elapsed().as_secs_f64();
    // Every stored result (this run's and earlier ones'), read once for the report and the timings.
    let mut stored = report::stored_results(&opts.out_dir, &specs)?;
    for r in &mut stored {
        // This run's status and time, else the last run's.
        let now = ran.iter().find(|x| x.id == r.id).map(|x| (x.status.clone(), x.step_time_s));
        if let Some((status, step_s)) = now.or_else(|| previous.get(r.id.as_str()).cloned()) {
            r.status = status;
            r.step_time_s = step_s;
        }
    }
    let report = report::write_report(&opts.out_dir, &stored)?;
    report::write_timings(&opts.out_dir, &stored, wall)?;
    Ok(Summary { ran, report, wall_time_s: wall })
}

#[cfg(test)]
mod tests {
    use super::selected_ids;

    fn sel(only: &[&str]) -> Vec<&'static str> {
        selected_ids(&only.iter().map(|s| (*s).to_string()).collect::<Vec<_>>()).expect("selects")
    }

    #[test]
    fn only_takes_a_whole_id_alone_and_anything_else_as_a_prefix() {
        assert_eq!(sel(&["markov.train.memory"]), ["markov.train.memory"]);
        assert_eq!(sel(&["markov.train.memory-sweep"]), ["markov.train.memory-sweep"]);
        assert_eq!(sel(&["markov.train.mem"]), ["markov.train.memory", "markov.train.memory-sweep"]);
        assert!(sel(&["markov"]).len() > 10 && sel(&["markov"]).iter().all(|id| id.starts_with("markov.")));
        assert!(selected_ids(&["nonsense".to_string()]).is_err());
    }
}
