//! `attnlab markov …`: the Markov paper's closed forms and the canonical (e, w, b) model.

use anyhow::Context as _;
use attnlab_core::config::rules;
use attnlab_core::rng::child_seed;
use attnlab_lab::markov::claims::canonical::sgd as sgd_claims;
use attnlab_markov::canonical::{Canonical, c_of, separatrix_energy};
use attnlab_markov::chain::{ChainTheory, LaggedTheory, MultiStateTheory};
use attnlab_markov::flow::{Endpoint, gradient_flow};
use attnlab_markov::sgd::{SgdRun, SgdSummary, run_seed};
use attnlab_markov::{BinaryChain, FlowConfig, LaggedChain, MultiStateChain, SgdConfig};
use clap::{Args, Subcommand};

use crate::limits::at_most;
use serde_json::{Value, json};

/// Markov-paper commands.
#[derive(Debug, Subcommand)]
pub enum MarkovCmd {
    /// Closed forms of a binary chain (spec markov §3, §6): π, entropy rate H*, unigram loss U,
    /// bigram logits, slope s*, accuracies; with --states the V-state chain, with --order the
    /// lagged order-k chain.
    #[command(allow_negative_numbers = true)]
    Theory(TheoryArgs),
    /// The canonical 3-parameter model (e, w, b) at one point (spec markov §2c, §3): loss, optimal
    /// bias b*, energy, predicted basin, and where gradient flow from (e, w) actually ends.
    #[command(allow_negative_numbers = true)]
    Canonical(CanonicalArgs),
    /// SGD with momentum on the exact canonical loss from a small Gaussian init, over several seeds
    /// (spec markov §3 "Check [derived]"): final losses against H* and U, and the verdict.
    #[command(allow_negative_numbers = true)]
    Sgd(SgdArgs),
    /// Train a transformer on a Markov chain with the seeded candle trainer (spec markov §2, §5):
    /// GPT-style (§2b), theory (§2a) or attention-free MLP model, tied or untied. Reports the final
    /// loss on fresh held-out batches against H* and U, the spec §6 verdict, the plateau at U and the
    /// model's P(x_{n+1}=1 | x_n).
    #[command(allow_negative_numbers = true)]
    Train(TrainArgs),
    /// Evaluate weights saved by `markov train --save-weights`: the run is rebuilt from the file's
    /// metadata (its validated config) and evaluated on held-out batches. With the training run's
    /// seed (the default) these are the very batches of that run's final evaluation, so `final_loss`
    /// comes back to the last bit; --seed draws other held-out batches, --p/--q another binary chain.
    Eval(EvalArgs),
    /// Train a grid of runs over (p, q) — tied, untied or both, several seeds per cell — here
    /// (--jobs at a time, each run cached on its own, with an estimate of the time left) or on a
    /// Slurm cluster (--slurm DIR writes the tasks and a submit script). Writes OUT/sweep.csv (one
    /// row per run, columns named as the keys of `markov train --json`: p, q, seed, final_loss,
    /// entropy_rate, unigram_loss, ending, plateau_iters, p1_given_0, …, config.*) and
    /// OUT/sweep.svg/.png: where each cell's final loss sits between H* and U, with the theory
    /// boundary p + q = 1.
    #[command(allow_negative_numbers = true)]
    Sweep(Box<crate::sweep::SweepArgs>),
}

/// Arguments of `attnlab markov eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The safetensors file written by `markov train --save-weights`.
    #[arg(long)]
    pub weights: std::path::PathBuf,
    /// Seed of the held-out batches [default: the training run's seed].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Evaluate on a binary chain with this p instead of the training chain's (give --q too).
    #[arg(long, requires = "q")]
    pub p: Option<f64>,
    /// Evaluate on a binary chain with this q (give --p too).
    #[arg(long, requires = "p")]
    pub q: Option<f64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Model choice on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ModelArg {
    /// Spec §2b: pre-LN GPT, GELU, 2-logit head (defaults d 8, 400 iterations).
    Gpt,
    /// Spec §2a: no layer norm, ReLU FFN, scalar sigmoid head (defaults d 4, 1000 iterations).
    Theory,
    /// F15: the theory model without attention.
    Mlp,
}

/// The model and training shape of a run (`markov train`) or of every run of a grid (`markov sweep`).
#[derive(Debug, Clone, Args)]
pub struct ShapeArgs {
    /// Architecture.
    #[arg(long, value_enum, default_value = "gpt")]
    pub model: ModelArg,
    /// Depth L (GPT only).
    #[arg(long, default_value_t = 1)]
    pub layers: usize,
    /// Width d [default: 8 for gpt, 4 for theory/mlp].
    #[arg(long)]
    pub d: Option<usize>,
    /// Sequence length N.
    #[arg(long, default_value_t = 1024)]
    pub seq_len: usize,
    /// Batch size B.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Iterations [default: 400 for gpt, 1000 for theory/mlp].
    #[arg(long)]
    pub iters: Option<usize>,
    /// Peak learning rate of the OneCycle schedule.
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f64,
    /// Evaluate every this many iterations (on fresh batches).
    #[arg(long, default_value_t = 10)]
    pub eval_every: usize,
}

impl ShapeArgs {
    /// The architecture.
    pub fn arch(&self) -> attnlab_trainer::Arch {
        use attnlab_trainer::Arch;
        match self.model {
            ModelArg::Gpt => Arch::Gpt,
            ModelArg::Theory => Arch::Theory,
            ModelArg::Mlp => Arch::Mlp,
        }
    }

    /// The model's defaults on `data` with `seed`, with every field these options set (not checked:
    /// the caller runs the one check every config goes through).
    pub fn settings(&self, data: attnlab_trainer::Data, seed: u64) -> attnlab_trainer::TrainSettings {
        use attnlab_trainer::TrainSettings;
        let defaults = TrainSettings::defaults(self.arch(), data, seed);
        TrainSettings {
            layers: self.layers,
            d: self.d.unwrap_or(defaults.d),
            iters: self.iters.unwrap_or(defaults.iters),
            seq_len: self.seq_len,
            batch: self.batch,
            lr: self.lr,
            eval_every: self.eval_every,
            ..defaults
        }
    }

    /// These options as command-line words (to repeat a command).
    pub fn to_args(&self) -> Vec<String> {
        let model = match self.model {
            ModelArg::Gpt => "gpt",
            ModelArg::Theory => "theory",
            ModelArg::Mlp => "mlp",
        };
        let mut v = vec!["--model".to_string(), model.to_string(), "--layers".into(), self.layers.to_string()];
        if let Some(d) = self.d {
            v.extend(["--d".into(), d.to_string()]);
        }
        v.extend(["--seq-len".into(), self.seq_len.to_string(), "--batch".into(), self.batch.to_string()]);
        if let Some(i) = self.iters {
            v.extend(["--iters".into(), i.to_string()]);
        }
        v.extend(["--lr".into(), self.lr.to_string(), "--eval-every".into(), self.eval_every.to_string()]);
        v
    }
}

/// Arguments of `attnlab markov train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Repeat a run from its own output: a JSON file written by `markov train --json` (its `config`
    /// holds every field that can change the numbers; a bare config object works too). A run option
    /// given beside it is refused (edit the file instead); a field the file has that a config does
    /// not is refused, naming it. --save-weights, --curve and the output format still apply.
    #[arg(
        long,
        conflicts_with_all = [
            "p", "q", "tying", "no_tying", "order", "memory", "states", "eval_batches", "seed",
            "model", "layers", "d", "seq_len", "batch", "iters", "lr", "eval_every",
        ]
    )]
    pub config: Option<std::path::PathBuf>,
    /// p = P(0→1), in (0, 1) (with --states: the probability of leaving the current state).
    #[arg(long, required_unless_present = "config")]
    pub p: Option<f64>,
    /// q = P(1→0), in (0, 1) (binary chains only).
    #[arg(long, required_unless_present_any = ["states", "config"])]
    pub q: Option<f64>,
    /// Weight tying (the default): GPT lm_head = wte; theory/MLP a = e.
    #[arg(long, overrides_with = "no_tying")]
    pub tying: bool,
    /// Untied output layer.
    #[arg(long)]
    pub no_tying: bool,
    /// Order k of the lagged switching chain (spec §1); 1 = first order.
    #[arg(long, default_value_t = 1)]
    pub order: usize,
    /// Memory m: position n attends to n−m..=n only (m+1 tokens). Default: full causal attention.
    #[arg(long)]
    pub memory: Option<usize>,
    /// Number of states V of the multi-state chain (stay with probability 1−p).
    #[arg(long, conflicts_with = "q")]
    pub states: Option<usize>,
    /// The model and its training.
    #[command(flatten)]
    pub shape: ShapeArgs,
    /// Fresh batches per evaluation.
    #[arg(long, default_value_t = 4)]
    pub eval_batches: usize,
    /// Seed of init, data and evaluation (ChaCha8).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Save the trained weights here (safetensors, PyTorch-style names).
    #[arg(long)]
    pub save_weights: Option<std::path::PathBuf>,
    /// Include the evaluation curve in the output.
    #[arg(long)]
    pub curve: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `attnlab markov sgd`.
#[derive(Debug, Args)]
pub struct SgdArgs {
    /// p = P(0→1), in (0, 1).
    #[arg(long)]
    pub p: f64,
    /// q = P(1→0), in (0, 1).
    #[arg(long)]
    pub q: f64,
    /// Number of seeds (replicates, ≥ 1).
    #[arg(long, default_value_t = 20)]
    pub seeds: usize,
    /// Steps per run (≥ 1).
    #[arg(long, default_value_t = 5000)]
    pub steps: usize,
    /// Learning rate (> 0).
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    /// Momentum μ in [0, 1).
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f64,
    /// Standard deviation σ of the N(0, σ²) initialisation of e and w (≥ 0).
    #[arg(long, default_value_t = 0.1)]
    pub init_std: f64,
    /// Initial bias b (finite).
    #[arg(long, default_value_t = 0.0)]
    pub b_init: f64,
    /// Base seed; replicate i uses a seed derived from (seed, i).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `attnlab markov theory`.
#[derive(Debug, Args)]
pub struct TheoryArgs {
    /// p = P(x_{n+1} = 1 | x_n = 0), in (0, 1). With --states: the probability of leaving a state.
    #[arg(long)]
    pub p: f64,
    /// q = P(x_{n+1} = 0 | x_n = 1), in (0, 1). Not used with --states.
    #[arg(long, required_unless_present = "states")]
    pub q: Option<f64>,
    /// Number of states V ≥ 2 of the multi-state chain (stay 1−p, each other state p/(V−1)).
    #[arg(long, conflicts_with = "q")]
    pub states: Option<usize>,
    /// Lag k ≥ 1 of the lagged switching chain x_{n+1} ~ P(· | x_{n−k+1}) (spec §1, §4): adds the
    /// best loss under each memory mask m = 0..k.
    #[arg(long)]
    pub order: Option<usize>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `attnlab markov canonical`.
#[derive(Debug, Args)]
pub struct CanonicalArgs {
    /// p = P(0→1), in (0, 1).
    #[arg(long)]
    pub p: f64,
    /// q = P(1→0), in (0, 1).
    #[arg(long)]
    pub q: f64,
    /// Embedding scale e (finite).
    #[arg(long)]
    pub e: f64,
    /// FFN weight w (finite).
    #[arg(long)]
    pub w: f64,
    /// Output bias b (finite); default: the optimal bias b*(e, w).
    #[arg(long)]
    pub b: Option<f64>,
    /// Final time of the gradient-flow integration (> 0).
    #[arg(long, default_value_t = 1e5)]
    pub t_max: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a Markov command; returns (result, json?).
pub fn execute(cmd: &MarkovCmd) -> anyhow::Result<(Value, bool)> {
    match cmd {
        MarkovCmd::Theory(a) => Ok((theory(a)?, a.json)),
        MarkovCmd::Canonical(a) => Ok((canonical(a)?, a.json)),
        MarkovCmd::Sgd(a) => Ok((sgd(a)?, a.json)),
        MarkovCmd::Train(a) => Ok((train(a)?, a.json)),
        MarkovCmd::Eval(a) => Ok((eval(a)?, a.json)),
        MarkovCmd::Sweep(a) => Ok((crate::sweep::run(a)?, a.json)),
    }
}

fn eval(a: &EvalArgs) -> anyhow::Result<Value> {
    use attnlab_trainer::{Data, Run, TrainSettings, train::reference_lines};
    // A path that cannot be read is the user's `weights`, named as such.
    crate::outputs::readable("weights", "", &a.weights)?;
    let mut run = Run::load(&a.weights)?;
    let mut settings: TrainSettings = run.config.settings();
    if let Some(seed) = a.seed {
        settings.seed = seed;
    }
    if let (Some(p), Some(q)) = (a.p, a.q) {
        if !matches!(settings.data, Data::Binary { .. }) {
            anyhow::bail!(
                "invalid `p`/`q`: the weights were trained on a {} chain, not a binary one",
                if matches!(settings.data, Data::MultiState { .. }) { "multi-state" } else { "lagged" }
            );
        }
        settings.data = Data::binary(BinaryChain::new(p, q)?);
    }
    // The same weights under the (possibly re-seeded) config.
    run.config = settings.check()?;
    // The sizes come from the weights file's metadata, which anyone can edit: the same bounds as a
    // training run, and a bound on the evaluation stream the final evaluation replays.
    fits_in_memory(&run.config)?;
    eval_work_is_bounded(&run.config)?;
    let e = run.final_evaluation()?;
    let (h_star, unigram, pi1) = reference_lines(&run.config.data);
    Ok(json!({
        "weights": a.weights.display().to_string(),
        "seed": run.config.seed,
        "final_loss": e.loss,
        "final_loss_se": e.se,
        "entropy_rate": h_star,
        "unigram_loss": unigram,
        "pi1": pi1,
        "p1_given_0": e.p1_given_0,
        "p1_given_1": e.p1_given_1,
        "units": "nats",
        "config": serde_json::to_value(&run.config)?,
    }))
}

/// Symbols the final evaluation of `c` draws: the held-out stream of every logged evaluation
/// (replayed so the final batches are the training run's own), then the final batches.
pub fn eval_symbols(c: &attnlab_trainer::TrainSettings) -> u128 {
    let evals = c.iters.div_ceil(c.eval_every.max(1)) as u128;
    (evals * c.eval_batches as u128 + c.final_batches as u128) * c.batch as u128 * c.seq_len as u128
}

/// Refuses a weights file whose metadata would make `markov eval` replay more than 1e10 symbols
/// (about a minute and a half of sampling on one core), naming the fields and the estimated time.
fn eval_work_is_bounded(c: &attnlab_trainer::TrainSettings) -> anyhow::Result<()> {
    let symbols = eval_symbols(c);
    if symbols > 10_000_000_000 {
        anyhow::bail!(
            "invalid `iters` / `eval_every` / `eval_batches` in the weights file's metadata: evaluating them replays {symbols:.2e} symbols ({} iterations, an evaluation every {} of {} batches of {} × {}): at most 1e10 (about {:.1} h on one core at ≈ 10 ns a symbol); was the metadata edited?",
            c.iters,
            c.eval_every,
            c.eval_batches,
            c.batch,
            c.seq_len,
            symbols as f64 * 10e-9 / 3600.0
        );
    }
    Ok(())
}

fn theory(a: &TheoryArgs) -> anyhow::Result<Value> {
    at_most(
        "order",
        a.order.unwrap_or(1) as u64,
        100_000,
        "the order-k chain's per-memory losses would not fit in memory",
    )?;
    let ln2 = std::f64::consts::LN_2;
    if let Some(v) = a.states {
        let chain = MultiStateChain::new(a.p, v)?;
        let t = MultiStateTheory::new(&chain);
        return Ok(json!({
            "chain": "multi_state",
            "p": t.p,
            "states": t.states,
            "entropy_rate": t.entropy_rate,
            "unigram_loss": t.unigram_loss,
            "gap": t.unigram_loss - t.entropy_rate,
            "entropy_rate_bits": t.entropy_rate / ln2,
            "unigram_loss_bits": t.unigram_loss / ln2,
            "switching_regime": t.switching_regime,
            "units": "nats",
        }));
    }
    let q = a.q.context("--q is required without --states")?;
    let chain = BinaryChain::new(a.p, q)?;
    let t = ChainTheory::new(&chain);
    let m = Canonical::new(&chain);
    let mut v = json!({
        "chain": "binary",
        "p": t.p,
        "q": t.q,
        "pi0": t.pi0,
        "pi1": t.pi1,
        "switching": t.switching,
        "regime": if t.switching > 1.0 { "p+q>1: with weight tying the unigram point is a local minimum (T2)" } else if t.switching < 1.0 { "p+q<1: the unigram point is a saddle (T3)" } else { "p+q=1: memoryless, H* = U" },
        "entropy_rate": t.entropy_rate,
        "unigram_loss": t.unigram_loss,
        "gap": t.gap,
        "entropy_rate_bits": t.entropy_rate / ln2,
        "unigram_loss_bits": t.unigram_loss / ln2,
        "logit0": t.logit0,
        "logit1": t.logit1,
        "slope": t.slope,
        "unigram_logit": t.unigram_logit,
        "bayes_accuracy": t.bayes_accuracy,
        "unigram_accuracy": t.unigram_accuracy,
        "canonical_unigram_curvature_e_at_w0": m.unigram_curvature_e(0.0),
        "units": "nats",
    });
    if let Some(k) = a.order {
        let lag = LaggedTheory::new(&LaggedChain::stationary(chain, k)?);
        let windows: serde_json::Map<String, Value> =
            (0..=k).map(|m| (format!("m={m}"), json!(lag.windowed_loss(m)))).collect();
        v["lagged"] = json!({
            "order": k,
            "entropy_rate": lag.entropy_rate,
            "unigram_loss": lag.unigram_loss,
            "best_loss_with_memory": windows,
        });
    }
    Ok(v)
}

fn canonical(a: &CanonicalArgs) -> anyhow::Result<Value> {
    let chain = BinaryChain::new(a.p, a.q)?;
    let e = rules::finite("e", a.e)?;
    let w = rules::finite("w", a.w)?;
    let b_given = a.b.map(|b| rules::finite("b", b)).transpose()?;
    let flow_cfg = FlowConfig::new(a.t_max, 1e-10, 1e-12, 1e-9)?;
    let m = Canonical::new(&chain);
    let b_star = m.optimal_bias(e, w);
    let b = b_given.unwrap_or(b_star);
    let g = m.loss_grad(e, w, b);
    if ![g.loss, g.de, g.dw, g.db].iter().all(|v| v.is_finite()) {
        anyhow::bail!(
            "invalid `e` = {e} / `w` = {w}: the loss or its gradient is not a finite number there (e² and w² must stay far below 1e308; |e|, |w| up to about 1e6 are meaningful)"
        );
    }
    let flow = gradient_flow(&m, e, w, &flow_cfg, 0);
    Ok(json!({
        "p": a.p, "q": a.q, "e": e, "w": w, "b": b,
        "c": c_of(w),
        "loss": g.loss,
        "grad": { "de": g.de, "dw": g.dw, "db": g.db },
        "optimal_bias": b_star,
        "loss_at_optimal_bias": m.loss(e, w, b_star),
        "entropy_rate": m.chain.entropy_rate,
        "unigram_loss": m.chain.unigram_loss,
        "energy": Canonical::energy(e, w),
        "separatrix_energy": separatrix_energy(),
        "unigram_curvature_e_at_w": m.unigram_curvature_e(w),
        "unigram_point_at_w": m.classify_unigram(w),
        "predicted_basin": m.predicted_basin(e, w),
        "gradient_flow": {
            "endpoint": flow.endpoint,
            "end_e": flow.end.0,
            "end_w": flow.end.1,
            "final_loss": flow.final_loss,
            "time": flow.t,
            "converged": flow.converged,
            "energy_drift": flow.energy_drift,
        },
        "units": "nats",
    }))
}

fn sgd(a: &SgdArgs) -> anyhow::Result<Value> {
    at_most("seeds", a.seeds as u64, 1_000_000, "each seed's trajectory is kept; more would not fit in memory")?;
    at_most("steps", a.steps as u64, 100_000_000, "more steps per seed would run for days")?;
    // The work is seeds × steps, and every seed keeps its logged trajectory (its first 100 steps,
    // then one point in 100): both products are bounded, with the cost in the message.
    let work = a.seeds as u128 * a.steps as u128;
    let points = a.seeds as u128 * (a.steps as u128 / 100 + 101);
    if work > 10_000_000_000 {
        anyhow::bail!(
            "invalid `seeds` × `steps` = {} × {} = {work:.2e} SGD steps: at most 1e10 (about 60 ns a step on one core: this would take about {:.1} h); use fewer seeds or steps",
            a.seeds,
            a.steps,
            work as f64 * 60e-9 / 3600.0
        );
    }
    if points > 50_000_000 {
        anyhow::bail!(
            "invalid `seeds` × `steps`: {} seeds keep {points:.2e} logged trajectory points (about {:.1} GB): at most 5e7; use fewer seeds or steps",
            a.seeds,
            points as f64 * 40.0 / 1e9
        );
    }
    let chain = BinaryChain::new(a.p, a.q)?;
    let cfg = SgdConfig::new(a.lr, a.momentum, a.steps, a.init_std)?;
    let run = SgdRun::new(chain, cfg, a.b_init, a.seeds, 100)?;
    let t = ChainTheory::new(&chain);
    // The seeds one by one (as `run_all` runs them, child seeds of --seed), with a progress bar
    // over the SGD steps that shows the time left.
    let bar = crate::progress_bar(
        a.seeds as u64 * a.steps as u64,
        format!("SGD on the exact loss, {} seed{}", a.seeds, if a.seeds == 1 { "" } else { "s" }),
        "steps",
    )?;
    let traces: Vec<_> = (0..a.seeds as u64)
        .map(|i| {
            let t = run_seed(&run, child_seed(a.seed, i));
            bar.inc(a.steps as u64);
            t
        })
        .collect();
    bar.finish_and_clear();
    let s = SgdSummary::new(&run, &traces);
    let name = if s.predicted_end == Endpoint::Global { "entropy_rate" } else { "unigram_loss" };
    // The same claim the figure `markov.canonical.sgd` judges, at this chain and these runs.
    let j = sgd_claims::judge_run(&run, &traces);
    // Diverged runs (`diverged` > 0): `main` warns on stderr and exits 3 (outside the theorem's
    // assumptions); the claim counts only the runs that did not diverge.
    let fl = s.final_loss();
    Ok(json!({
        "p": a.p, "q": a.q,
        "seed": a.seed, "seeds": a.seeds, "steps": a.steps, "lr": a.lr, "momentum": a.momentum,
        "init_std": a.init_std, "b_init": a.b_init,
        "entropy_rate": t.entropy_rate,
        "unigram_loss": t.unigram_loss,
        "predicted": name,
        "final_loss_mean": fl.mean,
        "final_loss_se": fl.se,
        "ended_global": s.ended_global,
        "ended_unigram": s.ended_unigram,
        "undecided": s.undecided,
        "diverged": s.diverged,
        "ended_as_predicted": j.observed.value,
        "ended_as_predicted_interval": j.observed.interval,
        "interval_method": j.observed.method,
        "pass_interval": j.pass_interval,
        "verdict": j.verdict,
        "final_losses": s.final_losses,
        "units": "nats",
    }))
}

/// The run's settings from the command-line options (checked by the caller).
fn settings_from_args(a: &TrainArgs) -> anyhow::Result<attnlab_trainer::TrainSettings> {
    use attnlab_trainer::{Data, TrainSettings};
    let p = a.p.context("--p is required without --config")?;
    let data = match (a.states, a.q) {
        (Some(v), _) => Data::MultiState { chain: MultiStateChain::new(p, v)? },
        (None, Some(q)) => {
            let chain = BinaryChain::new(p, q)?;
            rules::at_least("order", a.order, 1)?;
            if a.order == 1 {
                Data::binary(chain)
            } else {
                Data::Lagged { chain: LaggedChain::stationary(chain, a.order)? }
            }
        }
        (None, None) => anyhow::bail!("give --q (binary chain) or --states (V-state chain)"),
    };
    // Every field the command line sets; the caller runs the one check every config goes through.
    Ok(TrainSettings {
        tying: !a.no_tying,
        memory: a.memory,
        eval_batches: a.eval_batches,
        ..a.shape.settings(data, a.seed)
    })
}

/// Bytes a training run needs, estimated: every activation of a step and its gradient kept for the
/// backward pass (about 32·d floats per token and layer: q, k, v, attention output, two norms, the
/// 4d-wide MLP in and out, residuals — twice, with gradients), the logits, f32, and a factor 3 for
/// candle's intermediates; the parameters are negligible at these sizes.
pub fn memory_estimate(c: &attnlab_trainer::TrainSettings) -> f64 {
    let tokens = c.batch as f64 * c.seq_len as f64;
    3.0 * 4.0 * tokens * (32.0 * c.d as f64 * c.layers as f64 + 16.0 + c.vocab() as f64)
}

/// The memory this machine has free (MemAvailable of /proc/meminfo), if it can tell.
fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    line.split_whitespace().nth(1)?.parse::<f64>().ok().map(|kib| kib * 1024.0)
}

/// Refuses, up front and naming the field that grew most over its default, a run that would need
/// more memory than the machine has free.
pub fn fits_in_memory(c: &attnlab_trainer::TrainSettings) -> anyhow::Result<()> {
    at_most(
        "iters",
        c.iters as u64,
        10_000_000,
        "the per-step loss record grows by 8 bytes a step, and 10^7 steps already take days at the reference shape",
    )?;
    at_most(
        "eval_batches",
        c.eval_batches as u64,
        100_000,
        "the held-out batches of one evaluation would not fit in memory",
    )?;
    let (Some(free), need) = (available_memory(), memory_estimate(c)) else { return Ok(()) };
    if need <= free {
        return Ok(());
    }
    let d = attnlab_trainer::TrainSettings::defaults(c.arch, c.data, c.seed);
    let ratios = [
        ("seq_len", c.seq_len as f64 / d.seq_len as f64),
        ("batch", c.batch as f64 / d.batch as f64),
        ("d", c.d as f64 / d.d as f64),
        ("layers", c.layers as f64 / d.layers as f64),
        // The vocabulary against a binary chain's 2 symbols.
        ("states", c.vocab() as f64 / 2.0),
    ];
    let field = ratios.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map_or("seq_len", |r| r.0);
    anyhow::bail!(
        "invalid `{field}`: a run with batch {}, seq_len {}, d {}, layers {}, {} symbols needs about {:.1} GiB of memory (estimated), and this machine has {:.1} GiB available",
        c.batch,
        c.seq_len,
        c.d,
        c.layers,
        c.vocab(),
        need / (1u64 << 30) as f64,
        free / (1u64 << 30) as f64
    )
}

/// The validated config of a run repeated from a file: the `config` of a `markov train --json`
/// output, or a bare config object, checked like any other config.
fn config_from_file(path: &std::path::Path) -> anyhow::Result<attnlab_trainer::TrainConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading --config {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).with_context(|| format!("--config {} is not JSON", path.display()))?;
    let cfg = v.get("config").cloned().unwrap_or(v);
    // Parsed from its pretty text, one key a line, so a type error's line names its field.
    let pretty = serde_json::to_string_pretty(&cfg)?;
    let parsed: attnlab_trainer::TrainConfig = serde_json::from_str(&pretty).map_err(|e| {
        let field = pretty
            .lines()
            .nth(e.line().saturating_sub(1))
            .and_then(|l| l.trim().strip_prefix('"'))
            .and_then(|l| l.split('"').next())
            .map_or_else(String::new, |f| format!(" (field `{f}`)"));
        // (The position is in the re-printed text, not the user's file: left out.)
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or(&what).to_string();
        anyhow::anyhow!(
            "invalid `config`: --config {} is not a valid `markov train` config{field}: {what}",
            path.display()
        )
    })?;
    // A field the config does not have (a misspelling, a field of another command) would be
    // silently ignored: refuse it, naming it.
    let back = serde_json::to_value(&parsed)?;
    if let Some(field) = unknown_field("", &cfg, &back) {
        anyhow::bail!(
            "invalid `config`: --config {} has a field `{field}` that a `markov train` config does not have (misspelt?)",
            path.display()
        );
    }
    Ok(parsed)
}

/// The first key of `given` (dotted from `prefix`) that `known` lacks, descending into objects.
fn unknown_field(prefix: &str, given: &Value, known: &Value) -> Option<String> {
    let (Value::Object(g), Value::Object(k)) = (given, known) else { return None };
    for (key, gv) in g {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match k.get(key) {
            None => return Some(path),
            Some(kv) => {
                if let Some(f) = unknown_field(&path, gv, kv) {
                    return Some(f);
                }
            }
        }
    }
    None
}

fn train(a: &TrainArgs) -> anyhow::Result<Value> {
    use attnlab_trainer::Run;
    let cfg = match &a.config {
        Some(path) => config_from_file(path)?,
        None => settings_from_args(a)?.check()?,
    };
    fits_in_memory(&cfg)?;
    // The weights file is checked before training, not after.
    if let Some(path) = &a.save_weights {
        crate::outputs::file("save_weights", path)?;
    }
    let arch = cfg.arch;
    let mut run = Run::new(cfg)?;
    let bar = crate::progress_bar(run.config.iters as u64, format!("training {}", arch.name()), "it")?;
    let out = run.train(|_| bar.inc(1))?;
    bar.finish_and_clear();
    if let Some(path) = &a.save_weights {
        save_weights(&run, path)?;
    }
    let mut v = run_record(&out)?;
    if a.curve {
        v["curve"] = serde_json::to_value(&out.curve)?;
    }
    Ok(v)
}

/// Writes the run's weights to `path` (`Run::save`: atomically, with the user's usual permissions).
fn save_weights(run: &attnlab_trainer::Run, path: &std::path::Path) -> anyhow::Result<()> {
    let build = crate::provenance();
    let field = |k: &str| build.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let (commit, lock) = (field("git_commit"), field("cargo_lock_sha256"));
    run.save_with(path, &[("git_commit", &commit), ("cargo_lock_sha256", &lock)])
        .with_context(|| format!("saving weights to {}", path.display()))
}

/// The record of one training run, as `markov train --json` prints it and `markov sweep` writes
/// each row of sweep.csv: the chain in the words of the command line (p, q, states, order), the
/// run's settings, its results, and the whole validated config.
pub fn run_record(out: &attnlab_trainer::TrainOutcome) -> anyhow::Result<Value> {
    use attnlab_lab::markov::claims::train::ending::{Ending, Plateau, PlateauLength};
    use attnlab_trainer::Data;
    let (ending, plateau) = (Ending::of(out), Plateau::of_run(out));
    let arch = out.config.arch;
    let (p, q, states, order) = match &out.config.data {
        Data::Binary { chain, .. } => (chain.p(), Some(chain.q()), None, 1),
        Data::Lagged { chain } => (chain.chain().p(), Some(chain.chain().q()), None, chain.order()),
        Data::MultiState { chain } => (chain.p(), None, Some(chain.states()), 1),
    };
    Ok(json!({
        "p": p,
        "q": q,
        "states": states,
        "order": order,
        "memory": out.config.memory,
        "lr": out.config.lr,
        "model": arch.name(),
        "tying": out.config.tying,
        "layers": out.config.layers,
        "d": out.config.d,
        "seq_len": out.config.seq_len,
        "batch": out.config.batch,
        "iters": out.config.iters,
        "seed": out.config.seed,
        "num_params": out.num_params,
        "final_loss": out.final_loss,
        "final_loss_se": out.final_loss_se,
        "entropy_rate": out.entropy_rate,
        "unigram_loss": out.unigram_loss,
        "pi1": out.pi1,
        "ending": ending.name(),
        "plateau_entered": plateau.entered,
        "plateau_left": plateau.left,
        // A number or null, never a string in a numeric column: null with `plateau_never_left`
        // true when the run was still on the plateau at its end.
        "plateau_iters": match plateau.length() {
            PlateauLength::NeverEntered => json!(0),
            PlateauLength::NeverLeft { .. } => Value::Null,
            PlateauLength::Iters(n) => json!(n),
        },
        "plateau_never_left": matches!(plateau.length(), PlateauLength::NeverLeft { .. }),
        "p1_given_0": out.p1_given_0,
        "p1_given_1": out.p1_given_1,
        "diverged_at": out.diverged_at,
        "attention_kernel": attnlab_kernels::code_path(),
        "wall_s": out.wall_s,
        "units": "nats",
        // Every field that can change the numbers (the validated config, schedule and optimiser
        // included), so the run can be repeated from its own output.
        "config": serde_json::to_value(&out.config)?,
    }))
}
