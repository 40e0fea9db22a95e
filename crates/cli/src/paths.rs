//! `attnlab paths …`: the attention-paths theory (Tiberi et al., spec `paths.md`) on a JSON case or
//! on the hidden-Markov-chain task.

use anyhow::Context as _;
use attnlab_core::config::rules;
use attnlab_paths::case::Case;
use attnlab_paths::markov_task::{MarkovTask, MarkovTheory, NetConfig, TaskSeeds};
use attnlab_paths::solver::SolverOptions;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

/// Attention-paths commands.
#[derive(Debug, Subcommand)]
pub enum PathsCmd {
    /// Solve the order parameters U of a Bayesian deep multi-head attention network on a JSON case
    /// (spec §3): CASE.json holds `x` (P × N0 × T, x[p][i][t] = feature i of token t), `y` (P
    /// labels), `heads` (per layer a list of N0 × N0 matrices W, logits[s,t] = x_sᵀ W x_t, softmax
    /// over the key s), `readout` ("last_token" | "average_pooling"), `tau` (≥ 0) and `width` (N;
    /// all widths equal, all prior variances 1). Prints U = [U_1, …, U_L], u_a, action_per_width
    /// (S/N), train_mean, iterations and max_grad.
    Theory(TheoryArgs),
    /// The hidden-Markov-chain classification task of spec §5 (n_f 200, T 30 + bos, P 100, 1000
    /// test inputs, β 10): theory accuracy and U for each width, and the GP accuracies.
    Markov(MarkovArgs),
}

/// Arguments of `attnlab paths theory`.
#[derive(Debug, Args)]
pub struct TheoryArgs {
    /// The case file (JSON).
    #[arg(long)]
    pub input: std::path::PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Network configuration on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConfigArg {
    /// Layer 1 = [good, random], layer 2 = [uniform, random]: paths g, a1, d, a2.
    FourPaths,
    /// Layer 1 = [good, zero], layer 2 = [uniform]: paths g, d (Fig 2e; use --sigma-perp 5).
    TwoPaths,
}

/// Arguments of `attnlab paths markov`.
#[derive(Debug, Args)]
pub struct MarkovArgs {
    /// Widths N (comma-separated, each > 0).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, default_value = "10,30,50,100,300,500,1000")]
    pub widths: Vec<f64>,
    /// Network configuration.
    #[arg(long, value_enum, default_value = "four-paths")]
    pub config: ConfigArg,
    /// Out-of-plane noise σ⊥ (0 ≤ σ⊥ ≤ 50): 1 for Fig 2c, 5 for Fig 2e.
    #[arg(long, default_value_t = 1.0)]
    pub sigma_perp: f64,
    /// Likelihood variance τ (> 0).
    #[arg(long, default_value_t = 0.01)]
    pub tau: f64,
    /// Seed of the data and the random heads (ChaCha8).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a paths command; returns (result, json?).
pub fn execute(cmd: &PathsCmd) -> anyhow::Result<(Value, bool)> {
    match cmd {
        PathsCmd::Theory(a) => Ok((theory(a)?, a.json)),
        PathsCmd::Markov(a) => Ok((markov(a)?, a.json)),
    }
}

fn theory(a: &TheoryArgs) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(&a.input)
        .with_context(|| format!("invalid `input`: cannot read {}", a.input.display()))?;
    let case = Case::from_json(&text)?;
    let sol = case.solve(&SolverOptions::default())?;
    Ok(serde_json::to_value(sol)?)
}

/// The largest σ⊥ `paths markov` solves (see where it is checked).
const SIGMA_PERP_MAX: f64 = 50.0;

fn markov(a: &MarkovArgs) -> anyhow::Result<Value> {
    if a.widths.is_empty() {
        anyhow::bail!("invalid `widths`: give at least one width");
    }
    for &w in &a.widths {
        // A width counts units: N ≥ 1 (a positive N below 1 used to run and print nonsense).
        if rules::positive("widths", w)? < 1.0 {
            return Err(attnlab_core::ConfigError::new("widths", w, "must be at least 1 (a width counts units)").into());
        }
    }
    rules::positive("tau", a.tau)?;
    let task = MarkovTask::spec(a.sigma_perp)?;
    // Past σ⊥ ≈ 50 the kernel is out-of-plane noise, σ⊥² times the signal, against τ = 0.01, and
    // the saddle-point solve slows from seconds to minutes (measured at N = 10: 2.3 s at σ⊥ = 30,
    // 74 s at 100): refused, as a run of no end in sight, until the solver is rescaled for it.
    if a.sigma_perp > SIGMA_PERP_MAX {
        return Err(attnlab_core::ConfigError::new(
            "sigma_perp",
            a.sigma_perp,
            format!(
                "must be at most {SIGMA_PERP_MAX}: beyond it the saddle-point solve is ill-conditioned (the kernel is σ⊥² times the signal against τ) and takes minutes; the paper uses 1 (Fig 2c) and 5 (Fig 2e)"
            ),
        )
        .into());
    }
    let config = match a.config {
        ConfigArg::FourPaths => NetConfig::FourPaths,
        ConfigArg::TwoPaths => NetConfig::TwoPaths,
    };
    let seeds = TaskSeeds::from_base(a.seed);
    let th = MarkovTheory::new(task, config, seeds, a.tau)?;
    let gp = th.gp_accuracy()?;
    let gp_ref = |c: NetConfig| -> anyhow::Result<f64> {
        let heads = task.heads(c, seeds.heads);
        let t = MarkovTheory::from_parts(task, c, heads, th.train.clone(), th.test.clone(), a.tau);
        Ok(t.gp_accuracy()?)
    };
    let mut rows = Vec::new();
    let mut start = None;
    for &w in &a.widths {
        let (r, p) = th.solve_width(w, start.as_ref())?;
        start = Some(p);
        rows.push(serde_json::to_value(r)?);
    }
    Ok(json!({
        "config": config,
        "paths": config.path_names(),
        "sigma_perp": a.sigma_perp,
        "tau": a.tau,
        "seed": a.seed,
        "gp_accuracy": gp,
        "gp_good_path_accuracy": gp_ref(NetConfig::GoodOnly)?,
        "gp_good_denoising_accuracy": gp_ref(NetConfig::GoodDenoising)?,
        "widths": rows,
    }))
}
