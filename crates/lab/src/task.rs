//! Tasks, the unit of work of a figures run or a sweep: one experiment with its config and seed,
//! cached by content hash, and the [`Paper`] interface through which a paper lists and runs its
//! tasks. [`execute_with`] runs tasks N at a time (one thread each, longest first) with a live
//! estimate of the time left; `slurm` writes them out for an `sbatch --array`. The registry of
//! papers (`crate::registry`) plans and dispatches; this module names no paper.
//!
//! A Markov training figure is many tasks (one per training run, experiment id [`TRAIN_RUN`]); every
//! other figure is one task (its experiment). Figures then draw from the cache.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use attnlab_core::{CacheKey, CacheStatus};
use serde::{Deserialize, Serialize};

use crate::{Lab, LabError, Mode, code_version};

/// The experiment id of one Markov training run (`markov train` with a checked config); also the
/// name of its own code version (`build/source_hash.rs` `UNITS`).
pub const TRAIN_RUN: &str = "markov.train.run";

/// The code version keying experiment `id` of `paper`: a unit's own where it has one (a training
/// run), else its paper's.
pub fn version_of(paper: &str, id: &str) -> String {
    if crate::experiment::source_hashes().iter().any(|(name, _)| *name == id) {
        code_version(id)
    } else {
        code_version(paper)
    }
}

/// What the same work (experiment, config and seed) cost when last stored, under whichever code
/// version: the estimate for a task whose own result is not cached. The cache's run index names
/// the last key stored per (experiment, config, seed); a key of another config is no estimate (the
/// full-size run's time priced a `--quick` plan at 2.6 h for what the per-mode estimates put at
/// 25 minutes).
fn previous_wall_time(cache: &attnlab_core::Cache, key: &CacheKey) -> Option<f64> {
    let prev = cache.last_key_of_run(key)?;
    cache.stored_wall_time(&prev)
}

/// A paper's experiments, as the registry (`crate::registry::PAPERS`) sees them: one value per
/// paper, in its `experiments` module.
pub trait Paper: Sync {
    /// The paper's name: the first part of its figure ids and its cache-key code version.
    fn name(&self) -> &'static str;
    /// The tasks of figure `figure` (one of this paper's) at the lab's size.
    fn tasks(&self, lab: &Lab, figure: &str) -> Result<Vec<Task>, LabError>;
    /// Runs a task this paper planned into the lab's cache.
    fn run_task(&self, lab: &Lab, task: &Task) -> Result<CacheStatus, LabError>;
}

/// One unit of work.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Task {
    /// The figures (or the sweep) that need it.
    pub figures: Vec<String>,
    /// The experiment it runs (the cache id), e.g. `markov.train.run` or `icar.nonaugmented`.
    pub experiment: String,
    /// The paper whose code it runs (its code version keys the cache).
    pub paper: String,
    /// The size it was planned at.
    pub mode: Mode,
    /// The seed.
    pub seed: u64,
    /// The content hash of (experiment, config, seed, code version): the cache file's name.
    pub key: String,
    /// The code version it was planned with.
    pub code_version: String,
    /// Estimated single-thread cost, seconds: the stored run's own time when cached, else what the
    /// same experiment took last time, else a model of the training step (Markov runs).
    pub cost_s: f64,
    /// Whether a sound result was in the cache when planned.
    pub cached: bool,
    /// Why the entry under its key is unusable, when one is there but damaged (does not parse or
    /// fails its checksum): it counts as to compute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damaged: Option<String>,
    /// The checked config, with the field names of the result files (`seq_len`, `layers`, `iters`, `d`, …).
    pub config: serde_json::Value,
}

impl Task {
    /// A task of `paper`'s experiment `id` run with `config` and `seed` for `figure`; `estimate_s`
    /// is the cost used when nothing better is known.
    pub fn new<C: Serialize>(
        lab: &Lab,
        paper: &str,
        id: &str,
        figure: &str,
        config: &C,
        seed: u64,
        estimate_s: f64,
    ) -> Result<Self, LabError> {
        let version = version_of(paper, id);
        let key = CacheKey::new(id, config, seed, &version);
        let stored = lab.cache.reading().stored_wall_time(&key);
        Ok(Self {
            figures: vec![figure.to_string()],
            experiment: id.to_string(),
            paper: paper.to_string(),
            mode: lab.mode,
            seed,
            key: key.digest(),
            code_version: version,
            cost_s: stored
                .or_else(|| (id != TRAIN_RUN).then(|| previous_wall_time(&lab.cache, &key)).flatten())
                .unwrap_or(estimate_s),
            cached: lab.cache.has(&key),
            damaged: match lab.cache.entry(&key.digest()) {
                attnlab_core::Entry::Damaged(why) => Some(why),
                _ => None,
            },
            config: serde_json::to_value(config)?,
        })
    }

    /// A short line naming the task: experiment, the figures it serves and its key.
    pub fn name(&self) -> String {
        format!("{} for {} (key {})", self.experiment, self.figures.join(", "), &self.key[..12.min(self.key.len())])
    }
}

/// A task that failed: which, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Its index in the list given to [`execute`].
    pub index: usize,
    /// Its name ([`Task::name`]).
    pub task: String,
    /// The error.
    pub error: String,
}

/// What [`execute`] did.
#[derive(Debug, Clone, Default)]
pub struct Executed {
    /// Per task (same order as given): status and seconds it took here (None when not run: cached).
    pub status: Vec<Option<(String, f64)>>,
    /// Tasks that failed (their siblings' results are kept).
    pub failures: Vec<Failure>,
    /// Wall time of the whole execution, seconds.
    pub wall_s: f64,
}

/// How a task is run: the registry's `run` (dispatch to its paper), passed in so that this module
/// names no paper.
pub type Runner<'a> = &'a (dyn Fn(&Lab, &Task) -> Result<CacheStatus, LabError> + Sync);

/// Runs every task not yet cached with `run`, `jobs` at a time, longest estimate first; each job gets
/// `threads_per_job` threads (1 when jobs share the cores: one thread per model is fastest for
/// these tiny models). Progress, with an estimate of the time left (the remaining estimated cost,
/// scaled by how far the estimates were off so far, over the jobs), goes to stderr. A failing task
/// does not stop the others.
pub fn execute_with(lab: &Lab, tasks: &[Task], jobs: usize, run: Runner<'_>) -> Executed {
    let start = Instant::now();
    let jobs = jobs.max(1);
    let threads_per_job = (available_cores() / jobs).max(1);
    let mut todo: Vec<usize> = (0..tasks.len()).filter(|&i| !lab.cache.has_digest(&tasks[i].key)).collect();
    todo.sort_by(|&a, &b| tasks[b].cost_s.total_cmp(&tasks[a].cost_s));
    let total_est: f64 = todo.iter().map(|&i| tasks[i].cost_s).sum();
    let status = Mutex::new(vec![None; tasks.len()]);
    let failures = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let progress = Progress::new(todo.len(), total_est, jobs);
    std::thread::scope(|s| {
        for _ in 0..jobs.min(todo.len()) {
            s.spawn(|| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads_per_job).build();
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&i) = todo.get(k) else { break };
                    let t0 = Instant::now();
                    let res = match &pool {
                        Ok(pool) => pool.install(|| run(lab, &tasks[i])),
                        Err(_) => run(lab, &tasks[i]),
                    };
                    let took = t0.elapsed().as_secs_f64();
                    match res {
                        Ok(st) => {
                            if let Ok(mut v) = status.lock() {
                                v[i] = Some((st.to_string(), took));
                            }
                            progress.done(&tasks[i], took, None);
                        }
                        Err(e) => {
                            if let Ok(mut f) = failures.lock() {
                                f.push(Failure { index: i, task: tasks[i].name(), error: e.to_string() });
                            }
                            progress.done(&tasks[i], took, Some(&e.to_string()));
                        }
                    }
                }
            });
        }
    });
    progress.finish();
    let mut failures = failures.into_inner().unwrap_or_default();
    failures.sort_by_key(|f| f.index);
    Executed { status: status.into_inner().unwrap_or_default(), failures, wall_s: start.elapsed().as_secs_f64() }
}

/// Makes candle run each op on the calling thread (`CANDLE_NUM_THREADS=1`) when `jobs` > 1 tasks
/// share the cores, unless the user set `CANDLE_NUM_THREADS`. candle 0.11 sends its element-wise
/// ops through one process-wide worker pool behind one lock, whose workers spin while they wait:
/// two jobs then take turns on that lock and a spinning worker takes a core (measured: a V = 5,
/// N 1024 run of 5000 steps took 467–695 s as one of two jobs against 85 s alone). The pool is
/// built on candle's first op, from the environment; so this must be called at the start of
/// `main`, before any thread is started.
#[allow(unsafe_code)]
pub fn candle_inline_for_jobs(jobs: usize) {
    if jobs > 1 && std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // SAFETY: called from `main` before the process starts any other thread (the binaries'
        // contract above), so no thread can read or write the environment concurrently.
        unsafe { std::env::set_var("CANDLE_NUM_THREADS", "1") };
    }
}

/// The cores this process may use.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Progress of an execution: a bar in estimated seconds with the time left, or (not a terminal) a
/// line per finished task with the same estimate.
struct Progress {
    bar: indicatif::ProgressBar,
    /// (tasks done, their estimated seconds, their real seconds, when a line was last printed).
    state: Mutex<(usize, f64, f64, Instant)>,
    n: usize,
    total_est: f64,
    jobs: usize,
    start: Instant,
}

impl Progress {
    fn new(n: usize, total_est: f64, jobs: usize) -> Self {
        let bar = crate::progress::bar(
            (total_est * 1000.0).round() as u64,
            "{spinner} tasks [{bar:30}] {msg} (elapsed {elapsed})",
        );
        if n == 0 {
            bar.finish_and_clear();
        }
        Self { bar, state: Mutex::new((0, 0.0, 0.0, Instant::now())), n, total_est, jobs, start: Instant::now() }
    }

    /// Records a finished task (its estimate and its real time) and redraws the estimate of the
    /// time left.
    fn done(&self, task: &Task, took: f64, error: Option<&str>) {
        let Ok(mut st) = self.state.lock() else { return };
        st.0 += 1;
        st.1 += task.cost_s;
        st.2 += took;
        let (k, est_done, real_done, last_line) = *st;
        // Not a terminal: a line per task for short runs, else about every 2 % or 30 s (and every
        // failure).
        let every = (self.n / 50).max(1);
        let line = self.bar.is_hidden() && (k % every == 0 || k == self.n || last_line.elapsed().as_secs() >= 30);
        if line || error.is_some() {
            st.3 = Instant::now();
        }
        drop(st);
        // Real time per estimated second so far, applied to what is left, over the jobs.
        let ratio = if est_done > 0.0 { real_done / est_done } else { 1.0 };
        let left_s = (self.total_est - est_done).max(0.0) * ratio / self.jobs as f64;
        let msg = format!("{k}/{} done, about {} left", self.n, human_duration(left_s));
        self.bar.inc((task.cost_s * 1000.0).round() as u64);
        self.bar.set_message(msg.clone());
        if line || error.is_some() {
            let what = match error {
                Some(e) => format!("FAILED: {e}"),
                None => format!("{took:.1} s"),
            };
            crate::progress::println(&format!("  task {} {what} — {msg}", task.name()));
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
        if self.n > 0 {
            crate::progress::println(&format!(
                "  {} task(s) ran in {} on {} job(s)",
                self.n,
                human_duration(self.start.elapsed().as_secs_f64()),
                self.jobs
            ));
        }
    }
}

/// "1 h 05 min", "3 min 20 s", "12 s".
pub fn human_duration(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

/// Writes `tasks` one JSON object a line (atomically).
pub fn write_jsonl(path: &Path, tasks: &[Task]) -> Result<(), LabError> {
    let mut text = String::new();
    for t in tasks {
        text.push_str(&serde_json::to_string(t)?);
        text.push('\n');
    }
    attnlab_core::io::write_atomic(path, text.as_bytes()).map_err(|e| LabError::io(path, e))
}

/// Task `index` (0-based) of a tasks file.
pub fn read_task(path: &Path, index: usize) -> Result<Task, LabError> {
    let file = std::fs::File::open(path).map_err(|e| LabError::io(path, e))?;
    let mut count = 0;
    for (k, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| LabError::io(path, e))?;
        if k == index {
            return serde_json::from_str(&line).map_err(|e| LabError::NotATask {
                path: path.to_path_buf(),
                line: k + 1,
                reason: e.to_string(),
            });
        }
        count = k + 1;
    }
    Err(LabError::TaskIndex { index, path: path.to_path_buf(), count })
}

/// Where a figures run or a sweep stores results by default: `<out>/.cache`.
pub fn default_cache(out: &Path) -> PathBuf {
    out.join(".cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(human_duration(12.4), "12 s");
        assert_eq!(human_duration(200.0), "3 min 20 s");
        assert_eq!(human_duration(3900.0), "1 h 05 min");
    }

    #[test]
    fn the_previous_time_is_an_estimate_only_for_the_same_config_and_seed() {
        let dir = std::env::temp_dir().join(format!("attnlab-task-est-{}", std::process::id()));
        let cache = attnlab_core::Cache::new(&dir, false);
        cache.get_or_compute("t.e", &1.0, 1, "v1", || Ok::<_, attnlab_core::Miss>(0.0)).unwrap();
        let stored = cache.stored_wall_time(&CacheKey::new("t.e", &1.0, 1, "v1")).unwrap();
        assert_eq!(
            previous_wall_time(&cache, &CacheKey::new("t.e", &1.0, 1, "v2")),
            Some(stored),
            "same work, new code"
        );
        assert_eq!(previous_wall_time(&cache, &CacheKey::new("t.e", &2.0, 1, "v2")), None, "another config");
        assert_eq!(previous_wall_time(&cache, &CacheKey::new("t.e", &1.0, 2, "v1")), None, "another seed");
        assert_eq!(previous_wall_time(&cache, &CacheKey::new("t.f", &1.0, 1, "v1")), None, "another experiment");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_index_names_the_field() {
        let dir = std::env::temp_dir().join(format!("attnlab-task-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("tasks.jsonl");
        std::fs::write(&f, "{}\n").unwrap();
        let e = read_task(&f, 5).unwrap_err().to_string();
        assert!(e.contains("`index` = 5") && e.contains("1 task(s)"), "{e}");
        let e = read_task(&f, 0).unwrap_err().to_string();
        assert!(e.contains("line 1: not a task"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
