//! The `attnlab` command line: argument types (clap) and the commands, which return JSON values
//! that `main` prints as JSON (`--json`) or as a readable table.

pub mod check;
pub mod exchangeable;
pub mod format;
pub mod icar;
pub mod limits;
pub mod markov;
pub mod outputs;
pub mod paths;
pub mod sweep;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// A progress bar on stderr for `len` steps of `unit` (indicatif draws nothing when stderr is not
/// a terminal, so `--json` output piped elsewhere stays clean).
pub(crate) fn progress_bar(len: u64, prefix: String, unit: &str) -> anyhow::Result<indicatif::ProgressBar> {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {unit}  {{elapsed_precise}} (eta {{eta}})"
        ))
        .context("progress template")?
        .progress_chars("=> "),
    );
    bar.set_prefix(prefix);
    Ok(bar)
}

/// The command line, with negative numbers accepted as values in every subcommand: `--tau -1` or
/// `--widths -5,10` reaches the field's own rule (which names the field) instead of clap's bare
/// "unexpected argument '-1' found".
pub fn command() -> clap::Command {
    fn negative_numbers(cmd: clap::Command) -> clap::Command {
        cmd.allow_negative_numbers(true).mut_subcommands(negative_numbers)
    }
    negative_numbers(<Cli as clap::CommandFactory>::command())
}

/// Parses `args` (the program name first) with [`command`]; a usage error exits as clap does.
pub fn parse_from<I, T>(args: I) -> Cli
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command().get_matches_from(args);
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// What `attnlab --version` prints: the package version, the git commit it was built from (empty
/// outside a checkout) and the SHA-256 of the Cargo.lock it was built with — the provenance every
/// result file carries.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git commit ",
    env!("ATTNLAB_GIT_COMMIT"),
    "; Cargo.lock sha256 ",
    env!("ATTNLAB_CARGO_LOCK_SHA256"),
    ")"
);

/// attnlab: transformer-theory papers as executable, checked claims.
#[derive(Debug, Parser)]
#[command(
    name = "attnlab",
    version = VERSION,
    about = "Transformer-theory papers as executable, checked claims",
    long_about = "attnlab computes what a paper predicts (closed forms, solved equations) and what a \
                  model actually does, and judges one against the other.\n\n\
                  Figures and the full report: `cargo xtask figures` (see README.md).\n\
                  Every number is in nats unless a field says bits."
)]
pub struct Cli {
    /// The paper.
    #[command(subcommand)]
    pub paper: Paper,
    /// Output format: `table` (default), `json` (same as a command's `--json`), or one flat record
    /// per run for loading many runs into pandas: `jsonl` (one JSON object per line) or `csv` (a
    /// header line, then the row; nested keys dotted, e.g. `grad.de`).
    #[arg(long, global = true, value_enum)]
    pub format: Option<format::Format>,
}

/// One subcommand per paper.
#[derive(Debug, Subcommand)]
pub enum Paper {
    /// Makkuva et al., "Attention with Markov": single-layer transformers on binary Markov chains.
    #[command(subcommand)]
    Markov(markov::MarkovCmd),
    /// Sander et al., in-context autoregressive learning: one-step GD with augmented tokens, diagonal
    /// multi-head closed forms (loss floors, head orthogonality, positional attention).
    #[command(subcommand)]
    Icar(icar::IcarCmd),
    /// Tiberi et al., attention paths: Bayesian deep multi-head attention at finite width.
    #[command(subcommand)]
    Paths(paths::PathsCmd),
    /// Zhang et al., attention via exchangeability and latent variable models: rate checks E1–E5.
    #[command(subcommand)]
    Exchangeable(exchangeable::ExchangeableCmd),
    /// The verdict table of a results folder; exits 1 if any claim's verdict differs from a baseline.
    Check(check::CheckArgs),
    /// Run one task of a tasks file written by `markov sweep --slurm` or `cargo xtask figures
    /// --slurm` (what each Slurm array task runs): line --index (from 0) into the cache folder
    /// --cache. A cached task returns at once; a failed one exits 2 and writes
    /// <FILE's folder>/failed/<index>.txt naming it.
    RunTask(RunTaskArgs),
}

/// Arguments of `attnlab run-task`.
#[derive(Debug, clap::Args)]
pub struct RunTaskArgs {
    /// The tasks file (tasks.jsonl).
    pub file: std::path::PathBuf,
    /// Which task: its 0-based line number (`$SLURM_ARRAY_TASK_ID`).
    #[arg(long)]
    pub index: usize,
    /// Cache folder to read and write (shared by the nodes).
    #[arg(long, value_name = "DIR")]
    pub cache: std::path::PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs a parsed command and returns its JSON result.
pub fn execute(cli: &Cli) -> anyhow::Result<(serde_json::Value, bool)> {
    match &cli.paper {
        Paper::Markov(cmd) => markov::execute(cmd),
        Paper::Paths(cmd) => paths::execute(cmd),
        Paper::Icar(cmd) => icar::execute(cmd),
        Paper::Exchangeable(cmd) => exchangeable::execute(cmd),
        Paper::RunTask(a) => {
            let (task, status) = attnlab_lab::registry::run_from_file(&a.file, a.index, &a.cache)?;
            Ok((serde_json::json!({ "index": a.index, "task": task.name(), "status": status.to_string() }), a.json))
        }
        Paper::Check(_) => {
            anyhow::bail!("`attnlab check` prints its own table and sets its exit status: run it with `check::run`")
        }
    }
}

/// What every result records about the build that made it: attnlab's version, the git commit
/// (null when not built from a checkout), a SHA-256 of the Cargo.lock it was built with, and the CPU
/// kernel path the attention kernels dispatch to on this machine.
pub fn provenance() -> serde_json::Value {
    let nonempty = |s: &'static str| (!s.is_empty()).then_some(s);
    serde_json::json!({
        "attnlab_version": attnlab_core::CODE_VERSION,
        "git_commit": nonempty(env!("ATTNLAB_GIT_COMMIT")),
        "cargo_lock_sha256": nonempty(env!("ATTNLAB_CARGO_LOCK_SHA256")),
        "cpu_kernel": attnlab_kernels::code_path(),
    })
}

/// Renders a flat-ish JSON object as aligned `key  value` lines (nested objects indented).
pub fn render_text(v: &serde_json::Value) -> String {
    let mut out = String::new();
    render_into(v, 0, &mut out);
    out
}

fn render_into(v: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    if let Value::Object(map) = v {
        let width = map.keys().map(|k| k.len()).max().unwrap_or(0);
        for (k, val) in map {
            match val {
                Value::Object(_) => {
                    out.push_str(&format!("{:indent$}{k}:\n", ""));
                    render_into(val, indent + 2, out);
                }
                Value::Number(n) => {
                    let s = n.as_f64().map_or_else(
                        || n.to_string(),
                        |f| {
                            if !n.is_f64() {
                                n.to_string()
                            } else if f != 0.0 && (f.abs() < 1e-3 || f.abs() >= 1e6) {
                                format!("{f:.3e}")
                            } else {
                                format!("{f:.6}")
                            }
                        },
                    );
                    out.push_str(&format!("{:indent$}{k:<width$}  {s}\n", ""));
                }
                Value::String(s) => out.push_str(&format!("{:indent$}{k:<width$}  {s}\n", "")),
                other => out.push_str(&format!("{:indent$}{k:<width$}  {other}\n", "")),
            }
        }
    }
}
