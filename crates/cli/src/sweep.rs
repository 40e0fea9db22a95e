//! `attnlab markov sweep`: a researcher's own (p, q) grid of `markov train` runs, run here
//! (`--jobs` at a time) or written out for a Slurm cluster (`--slurm DIR`), through the task
//! machinery of `cargo xtask figures` (one cached task per run). Writes `OUT/sweep.csv` (one row
//! per run, the columns of `markov train --json`) and `OUT/sweep.svg`/`.png` (the phase diagram).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use attnlab_lab::markov::experiments::train::{run_tasks, train_one};
use attnlab_lab::task::{self, Task};
use attnlab_lab::{Lab, Mode};
use attnlab_markov::BinaryChain;
use attnlab_trainer::{Data, TrainConfig, TrainSettings};
use clap::Args;
use serde_json::{Value, json};

use crate::markov::ShapeArgs;

/// Most runs one sweep may plan (a bigger grid is almost surely a typo in --seeds or n).
pub const MAX_RUNS: usize = 100_000;

/// Which output layers a sweep trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TyingArg {
    /// Weight tying only.
    Tied,
    /// Untied only.
    Untied,
    /// Both, one panel each.
    Both,
}

/// Arguments of `attnlab markov sweep`.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// p values: `lo:hi:n` (n evenly spaced values, both ends included) or a comma list; each in (0, 1).
    #[arg(long, value_name = "GRID", allow_hyphen_values = true)]
    pub p: String,
    /// q values, as --p.
    #[arg(long, value_name = "GRID", allow_hyphen_values = true)]
    pub q: String,
    /// Output layers: tied, untied or both.
    #[arg(long, value_enum, default_value = "tied")]
    pub tying: TyingArg,
    /// Seeds per cell (replicate s runs with seed --seed + s).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The model and its training (every run of the grid).
    #[command(flatten)]
    pub shape: ShapeArgs,
    /// Output folder: sweep.csv, sweep.svg, sweep.png.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Cache folder (default: OUT/.cache); on a cluster, one every node can write.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Runs at a time (default: the number of cores; each gets cores/jobs threads).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// List the runs (tasks) and what they would cost, without running anything.
    #[arg(long)]
    pub plan: bool,
    /// Only assemble sweep.csv and the figure from results already cached; fail naming every
    /// missing run (what the final job of a Slurm submission runs).
    #[arg(long, conflicts_with = "plan")]
    pub from_cache: bool,
    /// Write DIR/tasks.jsonl and DIR/submit.sh (an sbatch array over the runs, then a job writing
    /// sweep.csv and the figure) instead of running; submit with `bash DIR/submit.sh`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["plan", "from_cache"])]
    pub slurm: Option<PathBuf>,
    /// With --slurm: the partition of both jobs.
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    /// With --slurm: the time limit of each array task (e.g. 00:30:00).
    #[arg(long, requires = "slurm")]
    pub time: Option<String>,
    /// With --slurm: CPUs (threads) per array task.
    #[arg(long, requires = "slurm", default_value_t = 1)]
    pub cpus_per_task: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Grid values from `lo:hi:n` or `a,b,c`; the error names `field`.
pub fn parse_grid(field: &str, s: &str) -> anyhow::Result<Vec<f64>> {
    let num = |t: &str| -> anyhow::Result<f64> {
        let v: f64 = t
            .trim()
            .parse()
            .with_context(|| format!("invalid `{field}`: `{t}` is not a number (give lo:hi:n or a comma list)"))?;
        anyhow::ensure!(v.is_finite(), "invalid `{field}`: {t} is not finite");
        Ok(v)
    };
    let parts: Vec<&str> = s.split(':').collect();
    let values = match parts.as_slice() {
        [lo, hi, n] => {
            let (lo, hi) = (num(lo)?, num(hi)?);
            let n: usize = n
                .trim()
                .parse()
                .with_context(|| format!("invalid `{field}`: the count `{n}` in lo:hi:n is not a whole number"))?;
            anyhow::ensure!(
                (1..=1000).contains(&n),
                "invalid `{field}`: the count n = {n} in lo:hi:n must be 1 to 1000"
            );
            anyhow::ensure!(n == 1 || hi > lo, "invalid `{field}`: lo:hi:n needs hi > lo (got {lo}:{hi})");
            if n == 1 {
                vec![lo]
            } else {
                (0..n).map(|k| lo + (hi - lo) * k as f64 / (n - 1) as f64).map(|x| (x * 1e12).round() / 1e12).collect()
            }
        }
        [list] => list.split(',').map(num).collect::<anyhow::Result<Vec<f64>>>()?,
        _ => anyhow::bail!("invalid `{field}`: `{s}` is neither lo:hi:n nor a comma list"),
    };
    anyhow::ensure!(!values.is_empty(), "invalid `{field}`: no values");
    anyhow::ensure!(values.windows(2).all(|w| w[1] > w[0]), "invalid `{field}`: values must increase");
    Ok(values)
}

/// The sweep's grid and its runs, in (tying, p, q, seed) order.
struct Plan {
    ps: Vec<f64>,
    qs: Vec<f64>,
    tyings: Vec<bool>,
    runs: Vec<TrainConfig>,
}

fn plan_runs(a: &SweepArgs) -> anyhow::Result<Plan> {
    let ps = parse_grid("p", &a.p)?;
    let qs = parse_grid("q", &a.q)?;
    anyhow::ensure!(a.seeds >= 1, "invalid `seeds` = 0: must be at least 1");
    let tyings = match a.tying {
        TyingArg::Tied => vec![true],
        TyingArg::Untied => vec![false],
        TyingArg::Both => vec![true, false],
    };
    let n = (ps.len() * qs.len() * tyings.len()).saturating_mul(a.seeds.try_into().unwrap_or(usize::MAX));
    anyhow::ensure!(
        n <= MAX_RUNS,
        "invalid `seeds`/grid: {} p × {} q × {} tying × {} seeds = {n} runs, more than {MAX_RUNS}",
        ps.len(),
        qs.len(),
        tyings.len(),
        a.seeds
    );
    let mut runs = Vec::with_capacity(n);
    for &tying in &tyings {
        for &p in &ps {
            for &q in &qs {
                let data = Data::binary(BinaryChain::new(p, q)?);
                for s in 0..a.seeds {
                    let seed = a.seed.checked_add(s).context("invalid `seed`: seed + seeds overflows")?;
                    let run = TrainSettings { tying, ..a.shape.settings(data, seed) }.check()?;
                    if runs.is_empty() {
                        // Every run has the same shape: one check of the memory it needs.
                        crate::markov::fits_in_memory(&run)?;
                    }
                    runs.push(run);
                }
            }
        }
    }
    Ok(Plan { ps, qs, tyings, runs })
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
    p.canonicalize().with_context(|| p.display().to_string())
}

/// The command line that repeats this sweep with `extra` flags (absolute paths; no Slurm flags).
fn command(a: &SweepArgs, out: &Path, cache: &Path, extra: &[&str]) -> anyhow::Result<Vec<String>> {
    let me = std::env::current_exe().context("own path")?.display().to_string();
    let tying = match a.tying {
        TyingArg::Tied => "tied",
        TyingArg::Untied => "untied",
        TyingArg::Both => "both",
    };
    let mut v: Vec<String> = [me.as_str(), "markov", "sweep", "--p", &a.p, "--q", &a.q, "--tying", tying]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
    v.extend(a.shape.to_args());
    let mut kv = |k: &str, val: String| {
        v.push(k.to_string());
        v.push(val);
    };
    kv("--seeds", a.seeds.to_string());
    kv("--seed", a.seed.to_string());
    kv("--out", out.display().to_string());
    kv("--cache", cache.display().to_string());
    v.extend(extra.iter().map(|s| (*s).to_string()));
    Ok(v)
}

/// Runs `attnlab markov sweep` and returns its summary.
pub fn run(a: &SweepArgs) -> anyhow::Result<Value> {
    anyhow::ensure!(a.jobs != Some(0), "invalid `jobs` = 0: must be at least 1");
    let plan = plan_runs(a)?;
    let cache_dir = a.cache.clone().unwrap_or_else(|| task::default_cache(&a.out));
    let lab = Lab::new(&cache_dir, false, Mode::Full);
    let tasks: Vec<Task> = run_tasks(&lab, "markov.sweep", &plan.runs)?;
    let cached = tasks.iter().filter(|t| t.cached).count();
    let est: f64 = tasks.iter().filter(|t| !t.cached).map(|t| t.cost_s).sum();
    let jobs = a.jobs.unwrap_or_else(task::available_cores);
    if a.plan {
        return Ok(json!({
            "runs": tasks.len(),
            "cached": cached,
            "to_compute": tasks.len() - cached,
            "estimated_single_thread_s": est,
            "estimated_s_on_jobs": est / jobs as f64,
            "jobs": jobs,
            "tasks": tasks.iter().map(|t| json!({ "key": t.key, "seed": t.seed, "cached": t.cached, "cost_s": t.cost_s, "config": t.config })).collect::<Vec<_>>(),
        }));
    }
    // Every folder the sweep writes is checked before anything runs.
    crate::outputs::folder("out", &a.out)?;
    crate::outputs::folder("cache", &cache_dir)?;
    if let Some(dir) = &a.slurm {
        crate::outputs::folder("slurm", dir)?;
        let out = absolute(&a.out)?;
        let cache = absolute(&cache_dir)?;
        let tasks_file = absolute(dir)?.join("tasks.jsonl");
        let me = std::env::current_exe().context("own path")?.display().to_string();
        let jobs = attnlab_lab::slurm::Jobs {
            name: "attnlab-sweep".into(),
            task_command: vec![
                me,
                "run-task".into(),
                tasks_file.display().to_string(),
                "--cache".into(),
                cache.display().to_string(),
            ],
            final_command: command(a, &out, &cache, &["--from-cache"])?,
        };
        let opts = attnlab_lab::slurm::SlurmOptions {
            partition: a.partition.clone(),
            time: a.time.clone(),
            cpus_per_task: a.cpus_per_task,
        };
        let script = attnlab_lab::slurm::write(dir, &tasks, &jobs, &opts)?;
        return Ok(json!({
            "runs": tasks.len(),
            "cached": cached,
            "estimated_single_thread_s": est,
            "tasks": tasks_file.display().to_string(),
            "submit": script.display().to_string(),
            "next": format!("bash {}", script.display()),
        }));
    }
    if a.from_cache {
        let missing: Vec<String> = tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.cached)
            .map(|(i, t)| format!("task {i} (seed {}, key {})", t.seed, &t.key[..12]))
            .collect();
        anyhow::ensure!(
            missing.is_empty(),
            "--from-cache: {} run(s) have no stored result in {} (did they fail?): {}",
            missing.len(),
            cache_dir.display(),
            missing.join(", ")
        );
    }
    let done = attnlab_lab::registry::execute(&lab, &tasks, jobs);
    if !done.failures.is_empty() {
        let lines: Vec<String> =
            done.failures.iter().map(|f| format!("  task {}: {}: {}", f.index, f.task, f.error)).collect();
        anyhow::bail!(
            "{} run(s) failed (the others' results are kept in {}):\n{}",
            lines.len(),
            cache_dir.display(),
            lines.join("\n")
        );
    }
    // Every run is cached now: read them back in plan order.
    let reading = Lab { cache: lab.cache.reading(), ..lab };
    let outcomes = plan.runs.iter().map(|c| train_one(&reading, c).map(|(o, _)| o)).collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    // One row per run: the record of `markov train --json`, less its wall time (kept in the cache's
    // records), so that the same sweep gives the same file wherever it ran.
    // Each row names the build that wrote it (version, commit, Cargo.lock hash; not the CPU
    // kernel path, which may differ between the hosts of one cluster run).
    let build = crate::provenance();
    let mut rows = Vec::with_capacity(outcomes.len());
    for o in &outcomes {
        let mut r = crate::markov::run_record(o)?;
        if let Value::Object(m) = &mut r {
            m.shift_remove("wall_s");
            for key in ["attnlab_version", "git_commit", "cargo_lock_sha256"] {
                m.insert(key.to_string(), build.get(key).cloned().unwrap_or(Value::Null));
            }
        }
        rows.push(r);
    }
    let csv_path = a.out.join("sweep.csv");
    attnlab_core::io::write_atomic(&csv_path, crate::format::csv_rows(&rows).as_bytes())
        .with_context(|| format!("writing {}", csv_path.display()))?;
    // The phase diagram: one panel per tying.
    let per_cell = a.seeds as usize;
    let per_tying = plan.ps.len() * plan.qs.len() * per_cell;
    let panels: Vec<attnlab_figures::markov::grid::SweepPanel> = plan
        .tyings
        .iter()
        .enumerate()
        .map(|(t, &tying)| {
            let block = &outcomes[t * per_tying..(t + 1) * per_tying];
            let cells = (0..plan.ps.len())
                .map(|i| {
                    (0..plan.qs.len())
                        .map(|j| block[(i * plan.qs.len() + j) * per_cell..][..per_cell].to_vec())
                        .collect()
                })
                .collect();
            let c = &plan.runs[t * per_tying];
            attnlab_figures::markov::grid::SweepPanel {
                title: format!(
                    "{} model, {}: L {}, d {}, N {}, B {}, {} it., {} seed(s)/cell",
                    c.arch.name(),
                    if tying { "tied" } else { "untied" },
                    c.layers,
                    c.d,
                    c.seq_len,
                    c.batch,
                    c.iters,
                    per_cell
                ),
                cells,
            }
        })
        .collect();
    let figure = match attnlab_figures::markov::grid::draw(&a.out, "sweep", &plan.ps, &plan.qs, &panels) {
        Ok(paths) => json!(paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()),
        Err(e) => json!(format!("not drawn: {e}")),
    };
    let count = |name: &str| {
        outcomes.iter().filter(|o| attnlab_lab::markov::claims::train::ending::Ending::of(o).name() == name).count()
    };
    Ok(json!({
        "runs": outcomes.len(),
        "computed_now": done.status.iter().filter(|s| s.is_some()).count(),
        "reused": cached,
        "ended_global": count("global"),
        "ended_unigram": count("unigram"),
        "ended_neither": count("neither"),
        "diverged": count("diverged"),
        "csv": csv_path.display().to_string(),
        "figure": figure,
        "cache": cache_dir.display().to_string(),
        "wall_s": done.wall_s,
    }))
}
