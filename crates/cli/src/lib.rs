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
                  Every number is in nats unless a field says bits.",
    after_long_help = EXIT_STATUSES
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

/// Exit status of a command that ran to its end but whose result lies outside a theorem's
/// assumptions (a run diverged, a loss is not finite): the result is printed, a warning names the
/// cause on stderr, and no agree/disagree verdict comes from those runs.
pub const EXIT_OUTSIDE_ASSUMPTIONS: u8 = 3;

/// The exit statuses, as `--help` and README state them.
pub const EXIT_STATUSES: &str = "Exit status: 0 done; 1 `check` found claims that differ from the baseline; \
2 bad input or a failed computation (refused before computing where the input can be checked; the message \
names the field); 3 done, but outside a theorem's assumptions (a run diverged or a loss is not finite: the \
result is printed, stderr says why, and those runs give no verdict). A closed stdout (`| head`) ends the \
program quietly with the status it would have had.";

/// Why a command's result lies outside its theorem's assumptions, if it does: a run that diverged
/// (`diverged_at`), runs that diverged among several (`diverged` > 0), or a loss that is not finite
/// (`final_loss` null: JSON has no NaN). `None` for every other result.
pub fn outside_assumptions(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    if let Some(at) = v.get("diverged_at").and_then(Value::as_u64) {
        return Some(format!(
            "the run diverged at iteration {at} (non-finite loss: a learning rate or initial scale too large?)"
        ));
    }
    if let Some(k) = v.get("diverged").and_then(Value::as_u64).filter(|&k| k > 0) {
        let n = v.get("runs").or_else(|| v.get("seeds")).and_then(Value::as_u64);
        let of = n.map_or_else(String::new, |n| format!(" of {n}"));
        let left_out = if n == Some(k) { "all are left out: no verdict" } else { "they are left out of the verdict" };
        return Some(format!(
            "{k}{of} runs diverged (non-finite loss: a learning rate or initial scale too large?); {left_out}"
        ));
    }
    if v.get("final_loss").is_some_and(Value::is_null) {
        return Some("the loss is not finite (weights holding NaN or ∞?)".into());
    }
    None
}

/// Runs a parsed command and returns its JSON result.
pub fn execute(cli: &Cli) -> anyhow::Result<(serde_json::Value, bool)> {
    match &cli.paper {
        Paper::Markov(cmd) => markov::execute(cmd),
        Paper::Paths(cmd) => paths::execute(cmd),
        Paper::Icar(cmd) => icar::execute(cmd),
        Paper::Exchangeable(cmd) => exchangeable::execute(cmd),
        Paper::RunTask(a) => {
            // The tasks file is the user's `FILE`: named as such when it cannot be read.
            outputs::readable("FILE", " (the tasks file)", &a.file)?;
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
