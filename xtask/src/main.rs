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
}

fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn main() -> ExitCode {
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
            let js: Vec<_> = summary.ran.iter().flat_map(|r| r.judgements.clone()).collect();
            eprintln!(
                "done in {:.1} s: {} figure(s), {} — report: {}",
                summary.wall_time_s,
                summary.ran.len(),
                attnlab_figures::report::verdict_counts(&js),
                summary.report.display()
            );
            Ok(())
        }
    }
}
