//! `cargo xtask`: project automation. `cargo xtask figures` regenerates every figure, `REPORT.md`
//! and `figures/results/*.json`; it is a thin wrapper over the `attnlab-figures` crate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use attnlab_figures::{Mode, Options};
use clap::{Parser, Subcommand};

/// attnlab project tasks.
#[derive(Parser)]
#[command(name = "cargo xtask", about = "attnlab project tasks (run as `cargo xtask <task>`)")]
struct Cli {
    #[command(subcommand)]
    task: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate every figure (SVG + PNG), figures/REPORT.md and figures/results/*.json and *.csv.
    ///
    /// The work is a list of tasks — one per training run for the Markov training figures, one per
    /// experiment otherwise — each cached by a content hash of (experiment, config, seed, code
    /// version) under figures/.cache. Tasks run first, `--jobs` at a time, longest first, with an
    /// estimate of the time left; then every figure draws from the cache and prints whether its
    /// tasks were rebuilt or reused, and why. `--plan` lists the tasks without running anything;
    /// `--slurm DIR` writes them for an `sbatch --array` instead.
    Figures {
        /// Smaller grids and fewer replicates, same code: the smoke run (≤ 1 minute on 2 cores
        /// once built). Its verdicts say `smoke:`.
        #[arg(long, conflicts_with = "quick")]
        fast: bool,
        /// A laptop run of at most 15 minutes: the Markov training figures at N 256, 4 seeds, fewer
        /// groups and 2×2 phase grids; ICAR Figs 5/7 with one seed (Fig 7: 100 epochs), the η grid
        /// at d ∈ {2, 5, 10}; shorter paths Gibbs chains; the paths Fig 3 stand-in with 150 Adam
        /// steps and P 200 (its GD network stays near chance, so its GD-structure claims say nothing
        /// at that size). Every claim states the sizes it ran at; the rest at full size. 13 min on
        /// 2 cores from an empty cache (measured; README lists every reduction). Without --quick or
        /// --fast every experiment runs at the paper's sizes (about 11.5 h of single-thread compute,
        /// about 6 h on 2 cores from an empty cache: `--plan` estimates it per task).
        #[arg(long)]
        quick: bool,
        /// Only figures whose id starts with ID (e.g. `markov.train` or `markov`), or, when ID is a whole
        /// figure id (`markov.train.memory`), that figure alone; repeatable.
        #[arg(long, value_name = "ID")]
        only: Vec<String>,
        /// Ignore cached results and recompute everything selected.
        #[arg(long)]
        force: bool,
        /// Output folder (default: <workspace>/figures).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// List the figure ids and exit.
        #[arg(long)]
        list: bool,
        /// List every task (figure, experiment, config, seed, key, estimated cost, cached or not)
        /// without running anything.
        #[arg(long)]
        plan: bool,
        /// With --plan: one JSON object per task, a line each (the format of tasks.jsonl).
        #[arg(long, requires = "plan")]
        json: bool,
        /// Tasks run at a time (default: the number of cores; each task gets cores/jobs threads).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Cache folder (default: <out>/.cache). On a cluster, a folder every node can write.
        #[arg(long, value_name = "DIR")]
        cache: Option<PathBuf>,
        /// Draw only from results already in the cache; fail naming every task whose result is
        /// missing (what the final job of a Slurm submission runs).
        #[arg(long)]
        from_cache: bool,
        /// Write DIR/tasks.jsonl and DIR/submit.sh (an sbatch array over the tasks, then a job
        /// drawing the figures from the cache) instead of running; submit with `bash DIR/submit.sh`.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["plan", "from_cache"])]
        slurm: Option<PathBuf>,
        /// With --slurm: the partition of both jobs.
        #[arg(long, requires = "slurm")]
        partition: Option<String>,
        /// With --slurm: the time limit of each array task (Slurm syntax, e.g. 01:00:00).
        #[arg(long, requires = "slurm")]
        time: Option<String>,
        /// With --slurm: CPUs (threads) per array task.
        #[arg(long, requires = "slurm", default_value_t = 1)]
        cpus_per_task: usize,
    },
    /// Carry cached results over a code change that moves no number (early cutoff). For every
    /// task of the selected figures that is not cached under its key but is under an older code
    /// version, a sample covering every code path of its unit is rerun under the new code and
    /// compared with the old records bit for bit (wall times aside); all identical → every other
    /// such task is carried over to its new key (logged in <cache>/aliases.jsonl, each record
    /// naming the verifying commit); any difference → nothing is carried over. `--plan` lists the
    /// groups and samples without running anything.
    Rekey {
        /// The smoke sizes (as `figures --fast`).
        #[arg(long, conflicts_with = "quick")]
        fast: bool,
        /// The laptop sizes (as `figures --quick`).
        #[arg(long)]
        quick: bool,
        /// Only figures whose id starts with ID (as `figures --only`); repeatable.
        #[arg(long, value_name = "ID")]
        only: Vec<String>,
        /// Output folder whose cache to use (default: <workspace>/figures).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Cache folder (default: <out>/.cache).
        #[arg(long, value_name = "DIR")]
        cache: Option<PathBuf>,
        /// Sampled tasks run at a time (default: the number of cores).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// List the groups and their samples; run nothing.
        #[arg(long)]
        plan: bool,
    },
    /// Run one task of a tasks file (what each array task of a Slurm submission runs): line
    /// `--index` (from 0) of FILE, into the cache folder `--cache`. A cached task returns at once;
    /// a failed one exits 1 and writes <FILE's folder>/failed/<index>.txt naming it.
    RunTask {
        /// tasks.jsonl written by `figures --slurm` or `--plan --json`.
        file: PathBuf,
        /// Which task (0-based line number).
        #[arg(long)]
        index: usize,
        /// Cache folder to read and write.
        #[arg(long, value_name = "DIR")]
        cache: PathBuf,
    },
    /// Speed benchmarks. `cargo xtask bench markov`: one training step of the GPT-style model at
    /// the reference shape (B 16, N 1024, d 8, 1 layer, tied, AdamW) — model step only (one fixed
    /// batch, like ../shared/bench/torch_markov_step.py) and with data sampling — plus the wall time
    /// of a full default run (400 iterations with evaluation). `cargo xtask bench icar`: one Adam
    /// step (gradient over a batch of 1024 sequences, n 50, d 5) of the ICAR augmented model and of
    /// the non-augmented model (H 64, f32 and f64), plus the wall time of the full Fig 5 and Fig 7
    /// trainings (3200 steps each).
    Bench {
        /// What to benchmark.
        #[arg(value_parser = ["markov", "icar"])]
        what: String,
        /// Threads (sets RAYON_NUM_THREADS for a child process).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Timed steps (median reported).
        #[arg(long, default_value_t = 30)]
        steps: usize,
        /// Skip the full run(s).
        #[arg(long)]
        no_full_run: bool,
        /// One JSON line (keys as the PyTorch anchor: ms_per_step, tokens_per_s, threads, …).
        #[arg(long)]
        json: bool,
        /// Internal: run in this process (the parent sets the thread count).
        #[arg(long, hide = true)]
        child: bool,
    },
}

fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn main() -> ExitCode {
    // Training keeps freed memory for reuse (process-wide, so the binary's choice).
    attnlab_kernels::alloc::keep_freed_memory();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    match Cli::parse().task {
        Command::Figures {
            fast,
            quick,
            only,
            force,
            out,
            list,
            plan,
            json,
            jobs,
            cache,
            from_cache,
            slurm,
            partition,
            time,
            cpus_per_task,
        } => {
            if list {
                for s in attnlab_figures::registry() {
                    println!("{:<32} {}", s.id, s.title);
                }
                return Ok(());
            }
            anyhow::ensure!(jobs != Some(0), "invalid `jobs` = 0: must be at least 1");
            let jobs = jobs.unwrap_or_else(attnlab_lab::task::available_cores);
            // Still single-threaded here: nothing above starts a thread.
            attnlab_lab::task::candle_inline_for_jobs(jobs);
            let out_dir = out.unwrap_or_else(|| workspace_root().join("figures"));
            let opts = Options {
                cache_dir: cache.unwrap_or_else(|| attnlab_lab::task::default_cache(&out_dir)),
                out_dir,
                mode: if fast {
                    Mode::Fast
                } else if quick {
                    Mode::Quick
                } else {
                    Mode::Full
                },
                only,
                force,
                jobs,
                from_cache,
            };
            if plan {
                return print_plan(&opts, json);
            }
            if let Some(dir) = slurm {
                return write_slurm(&opts, &dir, attnlab_lab::slurm::SlurmOptions { partition, time, cpus_per_task });
            }
            eprintln!("attnlab figures: {} mode → {}", opts.mode.name(), opts.out_dir.display());
            let summary = attnlab_figures::run(&opts).context("figures failed")?;
            eprintln!(
                "done in {:.1} s: {} figure(s), {} — report: {}",
                summary.wall_time_s,
                summary.ran.len(),
                attnlab_figures::report::verdict_counts(summary.ran.iter().flat_map(|r| &r.judgements)),
                summary.report.display()
            );
            Ok(())
        }
        Command::Rekey { fast, quick, only, out, cache, jobs, plan } => {
            anyhow::ensure!(jobs != Some(0), "invalid `jobs` = 0: must be at least 1");
            let jobs = jobs.unwrap_or_else(attnlab_lab::task::available_cores);
            attnlab_lab::task::candle_inline_for_jobs(jobs);
            let out_dir = out.unwrap_or_else(|| workspace_root().join("figures"));
            let mode = if fast {
                Mode::Fast
            } else if quick {
                Mode::Quick
            } else {
                Mode::Full
            };
            let opts = Options {
                cache_dir: cache.unwrap_or_else(|| attnlab_lab::task::default_cache(&out_dir)),
                out_dir,
                mode,
                only,
                force: false,
                jobs,
                from_cache: false,
            };
            rekey(&opts, plan)
        }
        Command::RunTask { file, index, cache } => {
            let (task, status) = attnlab_lab::registry::run_from_file(&file, index, &cache)?;
            eprintln!("task {index}: {} — {status}", task.name());
            Ok(())
        }
        Command::Bench { what, threads, steps, no_full_run, json, child } => {
            anyhow::ensure!(threads >= 1, "invalid `threads` = 0: must be at least 1");
            anyhow::ensure!(steps >= 1, "invalid `steps` = 0: must be at least 1");
            if !child {
                // candle and rayon read the thread count at start-up: measure in a child process.
                let mut cmd = std::process::Command::new(std::env::current_exe().context("own path")?);
                cmd.args([
                    "bench",
                    what.as_str(),
                    "--child",
                    "--threads",
                    &threads.to_string(),
                    "--steps",
                    &steps.to_string(),
                ]);
                if no_full_run {
                    cmd.arg("--no-full-run");
                }
                if json {
                    cmd.arg("--json");
                }
                let status =
                    cmd.env("RAYON_NUM_THREADS", threads.to_string()).status().context("starting the benchmark")?;
                anyhow::ensure!(status.success(), "benchmark failed");
                return Ok(());
            }
            if what == "icar" {
                bench_icar(threads, steps, no_full_run, json)
            } else {
                bench_markov(threads, steps, no_full_run, json)
            }
        }
    }
}

/// The tasks of a figures run.
fn tasks_of(opts: &Options) -> anyhow::Result<Vec<attnlab_lab::task::Task>> {
    let lab = attnlab_lab::Lab::new(&opts.cache_dir, opts.force, opts.mode);
    let ids = attnlab_figures::selected_ids(&opts.only)?;
    Ok(attnlab_lab::registry::plan(&lab, ids.iter().copied())?)
}

/// The commit this build runs from (`git rev-parse`), `+modified` when tracked files differ from it.
fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(workspace_root())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match (git(&["rev-parse", "--short=12", "HEAD"]), git(&["status", "--porcelain", "--untracked-files=no"])) {
        (Some(head), Some(status)) if status.is_empty() => head,
        (Some(head), Some(_)) => format!("{head}+modified"),
        _ => "unknown (not a git checkout)".into(),
    }
}

/// `cargo xtask rekey`.
fn rekey(opts: &Options, plan_only: bool) -> anyhow::Result<()> {
    let lab = attnlab_lab::Lab::new(&opts.cache_dir, false, opts.mode);
    let plan = tasks_of(opts)?;
    let groups = attnlab_lab::rekey::groups(&lab, &plan);
    let to_compute = plan.iter().filter(|t| !t.cached).count();
    eprintln!(
        "{} task(s) planned, {to_compute} not cached under their key; {} of those cached under an older code version, in {} group(s)",
        plan.len(),
        groups.iter().map(|g| g.candidates.len()).sum::<usize>(),
        groups.len()
    );
    for g in &groups {
        let est: f64 = g.sample.iter().map(|&k| plan[g.candidates[k].task].cost_s).sum();
        eprintln!(
            "  {}: {} → {}: {} task(s); sample of {} covering every code path (about {} single-thread):",
            g.unit,
            g.from,
            g.to,
            g.candidates.len(),
            g.sample.len(),
            attnlab_lab::task::human_duration(est)
        );
        for &k in &g.sample {
            let t = &plan[g.candidates[k].task];
            eprintln!("    {} [{}]", t.name(), config_summary(&t.config));
        }
    }
    if plan_only || groups.is_empty() {
        return Ok(());
    }
    let commit = commit();
    let outcomes = attnlab_lab::rekey::rekey(&lab, &plan, &groups, &commit, opts.jobs)?;
    for o in &outcomes {
        if o.differences.is_empty() && o.failures.is_empty() {
            eprintln!(
                "{}: {} sampled task(s) identical to their old records (wall times aside{}); {} task(s) carried over to {} (verified by {commit})",
                o.unit,
                o.sampled.len(),
                if o.dropped.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; fields the new code no longer writes, dropped: {}{}",
                        o.dropped.join(", "),
                        if o.rederived.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " ({} derived by the claims now, equal to the stored values)",
                                o.rederived.join(", ")
                            )
                        }
                    )
                },
                o.aliased,
                o.to
            );
        } else {
            eprintln!(
                "{}: NOT carried over — {} difference(s), {} failure(s); every task reruns:",
                o.unit,
                o.differences.len(),
                o.failures.len()
            );
            for d in o.differences.iter().chain(&o.failures).take(20) {
                eprintln!("    {d}");
            }
        }
    }
    let after = tasks_of(opts)?;
    eprintln!("to compute now: {} task(s)", after.iter().filter(|t| !t.cached).count());
    Ok(())
}

/// `figures --plan`: every task, without running anything.
fn print_plan(opts: &Options, json: bool) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let tasks = tasks_of(opts)?;
    let mut text = String::new();
    if json {
        for t in &tasks {
            let _ = writeln!(text, "{}", serde_json::to_string(t)?);
        }
        return print_out(&text);
    }
    let _ = writeln!(
        text,
        "{:>5}  {:<30} {:<26} {:>6}  {:<12} {:>9}  {:<6}  config",
        "index", "figure", "experiment", "seed", "key", "est. s", "cached"
    );
    for (i, t) in tasks.iter().enumerate() {
        let figure = match t.figures.as_slice() {
            [one] => one.clone(),
            [first, rest @ ..] => format!("{first} (+{})", rest.len()),
            [] => String::new(),
        };
        let _ = writeln!(
            text,
            "{i:>5}  {figure:<30} {:<26} {:>6}  {:<12} {:>9.1}  {:<6}  {}",
            t.experiment,
            t.seed,
            &t.key[..12],
            t.cost_s,
            if t.cached {
                "yes"
            } else if t.damaged.is_some() {
                "DAMAGED"
            } else {
                "no"
            },
            config_summary(&t.config)
        );
    }
    for (i, t) in tasks.iter().enumerate() {
        if let Some(why) = &t.damaged {
            let _ = writeln!(text, "task {i} ({}): {why}; counted as to compute", t.name());
        }
    }
    let todo: Vec<&attnlab_lab::task::Task> = tasks.iter().filter(|t| !t.cached).collect();
    let est: f64 = todo.iter().map(|t| t.cost_s).sum();
    let _ = writeln!(
        text,
        "{} task(s), {} cached; to compute: {} task(s), about {} single-thread, about {} on {} job(s)",
        tasks.len(),
        tasks.len() - todo.len(),
        todo.len(),
        attnlab_lab::task::human_duration(est),
        attnlab_lab::task::human_duration(est / opts.jobs as f64),
        opts.jobs
    );
    print_out(&text)
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error.
fn print_out(text: &str) -> anyhow::Result<()> {
    Ok(attnlab_lab::progress::print_stdout(text)?)
}

/// The fields of a training run's config a reader scans for (`--plan`'s last column); other
/// experiments' configs are long: `--plan --json` has them whole.
fn config_summary(c: &serde_json::Value) -> String {
    let keys = ["arch", "tying", "layers", "d", "seq_len", "batch", "iters", "memory"];
    if c.get("seq_len").is_none() || c.get("arch").is_none() {
        return "(see --plan --json)".into();
    }
    let mut parts: Vec<String> =
        keys.iter().filter_map(|k| c.get(*k).filter(|v| !v.is_null()).map(|v| format!("{k}={v}"))).collect();
    if let Some(data) = c.get("data") {
        parts.push(format!("data={data}"));
    }
    parts.join(" ")
}

/// `figures --slurm DIR`: the tasks and the script submitting them.
fn write_slurm(opts: &Options, dir: &std::path::Path, slurm: attnlab_lab::slurm::SlurmOptions) -> anyhow::Result<()> {
    let tasks = tasks_of(opts)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let abs = |p: &std::path::Path| -> anyhow::Result<String> {
        std::fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
        Ok(p.canonicalize().with_context(|| format!("{}", p.display()))?.display().to_string())
    };
    let me = std::env::current_exe().context("own path")?.display().to_string();
    let cache = abs(&opts.cache_dir)?;
    let out = abs(&opts.out_dir)?;
    let tasks_file = abs(dir)? + "/tasks.jsonl";
    let mut last =
        vec![me.clone(), "figures".into(), "--from-cache".into(), "--cache".into(), cache.clone(), "--out".into(), out];
    match opts.mode {
        Mode::Fast => last.push("--fast".into()),
        Mode::Quick => last.push("--quick".into()),
        Mode::Full => {}
    }
    for o in &opts.only {
        last.extend(["--only".into(), o.clone()]);
    }
    let jobs = attnlab_lab::slurm::Jobs {
        name: "attnlab-figures".into(),
        task_command: vec![me, "run-task".into(), tasks_file, "--cache".into(), cache],
        final_command: last,
    };
    let script = attnlab_lab::slurm::write(dir, &tasks, &jobs, &slurm)?;
    eprintln!(
        "{} task(s) ({} cached) written to {}; submit with: bash {}",
        tasks.len(),
        tasks.iter().filter(|t| t.cached).count(),
        dir.join("tasks.jsonl").display(),
        script.display()
    );
    Ok(())
}

fn bench_icar(threads: usize, steps: usize, no_full_run: bool, json: bool) -> anyhow::Result<()> {
    use attnlab_icar::{augmented as icar, bench, nonaugmented as icar_nonaug};
    let b = bench::icar_step(steps);
    let (full_aug_s, full_nonaug_s) = if no_full_run {
        (None, None)
    } else {
        let a = icar::train_augmented(&icar::AugConfig::reference(0));
        let n = icar_nonaug::train_nonaug(&icar_nonaug::NonAugConfig::reference(0));
        (Some(a.wall_s), Some(n.wall_s))
    };
    let r2 = |x: f64| (x * 100.0).round() / 100.0;
    let v = serde_json::json!({
        "augmented_ms_per_step": r2(b.augmented_ms),
        "nonaug_f32_ms_per_step": r2(b.nonaug_f32_ms),
        "nonaug_f64_ms_per_step": r2(b.nonaug_f64_ms),
        "threads": threads,
        "batch": 1024, "n": 50, "d": 5, "heads": 64,
        "full_fig5_s": full_aug_s,
        "full_fig7_s": full_nonaug_s,
        "full_run_steps": 3200,
        "kernel": attnlab_kernels::code_path(),
        "engine": "attnlab (hand-written gradients)",
    });
    if json {
        println!("{v}");
    } else {
        println!("icar step, batch 1024, n 50, d 5, {threads} thread(s), kernel {}", attnlab_kernels::code_path());
        println!("  augmented (§2a)              : {:8.2} ms/step", b.augmented_ms);
        println!("  non-augmented (§2b, H 64) f32: {:8.2} ms/step", b.nonaug_f32_ms);
        println!("  non-augmented (§2b, H 64) f64: {:8.2} ms/step", b.nonaug_f64_ms);
        if let (Some(a), Some(n)) = (full_aug_s, full_nonaug_s) {
            println!("  full Fig 5 training          : {a:8.1} s (3200 steps, test every epoch)");
            println!("  full Fig 7 training          : {n:8.1} s (3200 steps, test every epoch)");
        }
    }
    Ok(())
}

fn bench_markov(threads: usize, steps: usize, no_full_run: bool, json: bool) -> anyhow::Result<()> {
    use attnlab_trainer::bench;
    let cfg = bench::reference_config().check()?;
    let model = bench::step(&cfg, steps, false)?;
    let with_data = bench::step(&cfg, steps, true)?;
    let full_run_s = if no_full_run {
        None
    } else {
        let t0 = std::time::Instant::now();
        cfg.clone().run()?;
        Some(t0.elapsed().as_secs_f64())
    };
    let v = serde_json::json!({
        "ms_per_step": (model.ms_per_step * 100.0).round() / 100.0,
        "tokens_per_s": model.tokens_per_s.round(),
        "threads": threads,
        "batch": cfg.batch, "seq_len": cfg.seq_len, "d": cfg.d, "layers": cfg.layers,
        "ms_per_step_with_data": (with_data.ms_per_step * 100.0).round() / 100.0,
        "tokens_per_s_with_data": with_data.tokens_per_s.round(),
        "full_run_s": full_run_s,
        "full_run_iters": cfg.iters,
        "attention_kernel": attnlab_kernels::code_path(),
        "engine": "attnlab/candle",
    });
    if json {
        println!("{v}");
    } else {
        println!(
            "markov step, B {} N {} d {} L {} tied, AdamW, {threads} thread(s), kernel {}",
            cfg.batch,
            cfg.seq_len,
            cfg.d,
            cfg.layers,
            attnlab_kernels::code_path()
        );
        println!("  model step only : {:8.2} ms/step  {:>10.0} tokens/s", model.ms_per_step, model.tokens_per_s);
        println!(
            "  with data       : {:8.2} ms/step  {:>10.0} tokens/s",
            with_data.ms_per_step, with_data.tokens_per_s
        );
        if let Some(s) = full_run_s {
            println!(
                "  full default run: {s:8.2} s ({} iterations, evaluation every {} on {} batches)",
                cfg.iters, cfg.eval_every, cfg.eval_batches
            );
        }
    }
    Ok(())
}
