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
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Regenerate every figure (SVG + PNG), figures/REPORT.md and figures/results/*.json.
    ///
    /// Experiments are cached by a content hash of (config, seed, code version) under
    /// figures/.cache; each figure prints whether it was rebuilt or reused, and why.
    Figures {
        /// Smaller grids and fewer replicates, same code (≤ 2 minutes on 2 cores once built).
        #[arg(long)]
        fast: bool,
        /// Only figures whose id starts with ID (e.g. `markov.canonical.basin` or `markov`); repeatable.
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
        Task::Figures { fast, only, force, out, list } => {
            if list {
                for s in attnlab_figures::registry() {
                    println!("{:<32} {}", s.id, s.title);
                }
                return Ok(());
            }
            let out_dir = out.unwrap_or_else(|| workspace_root().join("figures"));
            let opts = Options {
                cache_dir: out_dir.join(".cache"),
                out_dir,
                mode: if fast { Mode::Fast } else { Mode::Full },
                only,
                force,
            };
            eprintln!(
                "attnlab figures: {} mode → {}",
                if fast { "fast" } else { "full" },
                opts.out_dir.display()
            );
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
        Task::Bench { what, threads, steps, no_full_run, json, child } => {
            anyhow::ensure!(threads >= 1, "invalid `threads` = 0: must be at least 1");
            anyhow::ensure!(steps >= 1, "invalid `steps` = 0: must be at least 1");
            if !child {
                // candle and rayon read the thread count at start-up: measure in a child process.
                let mut cmd = std::process::Command::new(std::env::current_exe().context("own path")?);
                cmd.args(["bench", what.as_str(), "--child", "--threads", &threads.to_string(), "--steps", &steps.to_string()]);
                if no_full_run {
                    cmd.arg("--no-full-run");
                }
                if json {
                    cmd.arg("--json");
                }
                let status = cmd.env("RAYON_NUM_THREADS", threads.to_string()).status().context("starting the benchmark")?;
                anyhow::ensure!(status.success(), "benchmark failed");
                return Ok(());
            }
            if what == "icar" { bench_icar(threads, steps, no_full_run, json) } else { bench_markov(threads, steps, no_full_run, json) }
        }
    }
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
        println!("markov step, B {} N {} d {} L {} tied, AdamW, {threads} thread(s), kernel {}", cfg.batch, cfg.seq_len, cfg.d, cfg.layers, attnlab_kernels::code_path());
        println!("  model step only : {:8.2} ms/step  {:>10.0} tokens/s", model.ms_per_step, model.tokens_per_s);
        println!("  with data       : {:8.2} ms/step  {:>10.0} tokens/s", with_data.ms_per_step, with_data.tokens_per_s);
        if let Some(s) = full_run_s {
            println!("  full default run: {s:8.2} s ({} iterations, evaluation every {} on {} batches)", cfg.iters, cfg.eval_every, cfg.eval_batches);
        }
    }
    Ok(())
}
