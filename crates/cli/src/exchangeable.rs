//! `attnlab exchangeable e1 … e5`: the rate checks of Zhang et al. (attention via exchangeability,
//! spec `exchangeable.md` §3), each with the spec's parameters as defaults. Every command prints the
//! fitted log-log `slope`, its seeded bootstrap 95% `slope_ci`, the spec's `pass_interval` and the
//! comparator's `verdict` (agrees when the CI lies inside the pass interval). The experiments and
//! the verdicts come from `attnlab_lab::exchangeable` (`experiments`, `claims`): the same claims
//! functions the figures call, so the CLI and REPORT.md give one answer per claim.

use std::time::Instant;

use attnlab_comparator::Judgement;
use attnlab_lab::exchangeable::claims;
use attnlab_lab::exchangeable::experiments::SlopeFit;
use attnlab_lab::exchangeable::experiments::e1::{self, E1Config};
use attnlab_lab::exchangeable::experiments::e2::{self, E2Config};
use attnlab_lab::exchangeable::experiments::e3::{self, E3Config};
use attnlab_lab::exchangeable::experiments::e4::{self, E4Config};
use attnlab_lab::exchangeable::experiments::e5::{self, E5Config};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::limits::{REPLICATES, at_most};

/// Exchangeability-paper commands.
#[derive(Debug, Subcommand)]
pub enum ExchangeableCmd {
    /// E1 (T2): RMSE of softmax attention to its limit m_W(q, z) against L = 16 … 4096 on M1(b),
    /// slope −1/2 expected; with the unbounded-key control (slope ≈ −0.31).
    #[command(allow_negative_numbers = true)]
    E1(E1Args),
    /// E2 (T1, T2): attention vs the latent-posterior functional vs m_W(q, z_true) on M1(a); each
    /// RMSE slope −1/2 expected.
    #[command(allow_negative_numbers = true)]
    E2(E2Args),
    /// E3 (T3): bias O(1/w), fluctuation ~ w^(1/4), the schedule w_L = L^(2/5) (slope ≈ −2/5), CME
    /// attention → Nadaraya–Watson at O(1/λ), and CME with λ_L = 0.1·L^(-1/2).
    #[command(allow_negative_numbers = true)]
    E3(E3Args),
    /// E4 (T4): supervised ERM of the temperature w on M1(a): parameter error ~ N^(-1/2) at every L,
    /// excess risk not growing with L; OLS on flattened keys as the control.
    #[command(allow_negative_numbers = true)]
    E4(E4Args),
    /// E5 (T5): on M2, downstream/pretraining excess ≈ κ²/2 for a target in the weak direction and
    /// ≈ 1/2 in the strong one.
    #[command(allow_negative_numbers = true)]
    E5(E5Args),
}

/// Arguments of `attnlab exchangeable e1`.
#[derive(Debug, Args)]
pub struct E1Args {
    /// w in W = wI (> 0).
    #[arg(long, default_value_t = 2.0)]
    pub w: f64,
    /// Replicates per L (≥ 2).
    #[arg(long, default_value_t = 1000)]
    pub replicates: usize,
    /// Base seed (replicate r at length index i uses a seed derived from (seed, i, r)).
    #[arg(long, default_value_t = 601)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `attnlab exchangeable e2`.
#[derive(Debug, Args)]
pub struct E2Args {
    /// w in W = wI (> 0).
    #[arg(long, default_value_t = 2.0)]
    pub w: f64,
    /// Replicates per L (≥ 2).
    #[arg(long, default_value_t = 1000)]
    pub replicates: usize,
    /// Base seed.
    #[arg(long, default_value_t = 602)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `attnlab exchangeable e3`.
#[derive(Debug, Args)]
pub struct E3Args {
    /// Replicates per L of the w sweep (E3(ii), F3b).
    #[arg(long, default_value_t = 1000)]
    pub replicates: usize,
    /// Replicates per L of the schedule w_L = L^(2/5) (E3(iii)).
    #[arg(long, default_value_t = 2000)]
    pub schedule_replicates: usize,
    /// Replicates of the CME runs (E3(iv)).
    #[arg(long, default_value_t = 200)]
    pub cme_replicates: usize,
    /// Base seed.
    #[arg(long, default_value_t = 603)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `attnlab exchangeable e4`.
#[derive(Debug, Args)]
pub struct E4Args {
    /// The label's temperature w*, inside the ERM's search range (0.25, 16).
    #[arg(long, default_value_t = 3.0)]
    pub w_star: f64,
    /// Fresh training sets per (L, N) cell (≥ 2); the OLS control uses as many at N = 1024.
    #[arg(long, default_value_t = 40)]
    pub train_sets: usize,
    /// Test sequences per L (≥ 10).
    #[arg(long, default_value_t = 40_000)]
    pub test_size: usize,
    /// Base seed.
    #[arg(long, default_value_t = 604)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `attnlab exchangeable e5`.
#[derive(Debug, Args)]
pub struct E5Args {
    /// w in W = wI, so Wᵀq_c = w·q_c (≥ 0; 0 is uniform attention).
    #[arg(long, default_value_t = 0.5)]
    pub w: f64,
    /// Sequences per κ (≥ 10).
    #[arg(long, default_value_t = 8000)]
    pub n: usize,
    /// Sequence length L (≥ 1).
    #[arg(long, default_value_t = 1024)]
    pub len: usize,
    /// Condition numbers κ ≥ 1, comma-separated.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, default_values_t = vec![1.0, 2.0, 4.0, 8.0])]
    pub kappas: Vec<f64>,
    /// Base seed.
    #[arg(long, default_value_t = 605)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs an exchangeability command; returns (result, json?).
pub fn execute(cmd: &ExchangeableCmd) -> anyhow::Result<(Value, bool)> {
    let t0 = Instant::now();
    let (mut v, json) = match cmd {
        ExchangeableCmd::E1(a) => (e1(a)?, a.json),
        ExchangeableCmd::E2(a) => (e2(a)?, a.json),
        ExchangeableCmd::E3(a) => (e3(a)?, a.json),
        ExchangeableCmd::E4(a) => (e4(a)?, a.json),
        ExchangeableCmd::E5(a) => (e5(a)?, a.json),
    };
    v["wall_s"] = json!(t0.elapsed().as_secs_f64());
    Ok((v, json))
}

/// `{slope, slope_ci, predicted, pass_interval, verdict}` of one fit; the verdict is the claim's
/// judgement `j` (made in `attnlab_lab::exchangeable::claims` from this fit).
fn judged(fit: &SlopeFit, j: &Judgement) -> Value {
    json!({ "slope": fit.slope, "slope_ci": fit.ci, "predicted": j.predicted, "pass_interval": j.pass_interval, "verdict": j.verdict })
}

/// Puts the headline fit's keys at the top level of `v`.
fn headline(mut v: Value, fit: &SlopeFit, j: &Judgement) -> Value {
    if let (Value::Object(m), Value::Object(h)) = (&mut v, judged(fit, j)) {
        for (k, x) in h.into_iter().rev() {
            m.shift_insert(0, k, x);
        }
    }
    v
}

fn e1(a: &E1Args) -> anyhow::Result<Value> {
    at_most("replicates", a.replicates as u64, 100_000, REPLICATES)?;
    let mut cfg = E1Config::spec(a.replicates);
    cfg.w = a.w;
    let r = e1::compute(&cfg, a.seed)?;
    Ok(headline(
        json!({
            "experiment": "E1",
            "w": cfg.w,
            "replicates": cfg.replicates,
            "seed": a.seed,
            "lens": r.lens,
            "rmse": r.rmse,
            "slope_l_ge_64": {
                "slope": r.fit_tail.slope,
                "slope_ci": r.fit_tail.ci,
                "note": "descriptive, not judged: E1 is judged on the slope over every L (spec §3 E1)",
            },
            "control": {
                "description": "unbounded keys k ~ N(z, I), q ~ N(0, I), W = I, v = k",
                "rmse": r.control_rmse,
                "fit": judged(&r.control_fit, &claims::e1::control(&cfg, &r)),
            },
        }),
        &r.fit,
        &claims::e1::slope(&cfg, &r),
    ))
}

fn e2(a: &E2Args) -> anyhow::Result<Value> {
    at_most("replicates", a.replicates as u64, 100_000, REPLICATES)?;
    let mut cfg = E2Config::spec(a.replicates);
    cfg.w = a.w;
    let r = e2::compute(&cfg, a.seed)?;
    let js = claims::e2::judge(&cfg, &r);
    let curves: Vec<Value> = (0..3)
        .map(|c| json!({ "curve": claims::e2::CURVES[c], "rmse": r.rmse[c], "fit": judged(&r.fits[c], &js[c]) }))
        .collect();
    Ok(headline(
        json!({ "experiment": "E2", "w": cfg.w, "replicates": cfg.replicates, "seed": a.seed, "lens": r.lens, "curves": curves }),
        &r.fits[0],
        &js[0],
    ))
}

fn e3(a: &E3Args) -> anyhow::Result<Value> {
    at_most("replicates", a.replicates as u64, 100_000, REPLICATES)?;
    at_most("schedule_replicates", a.schedule_replicates as u64, 100_000, REPLICATES)?;
    at_most("cme_replicates", a.cme_replicates as u64, 100_000, REPLICATES)?;
    let mut cfg = E3Config::spec(1.0);
    cfg.sweep_replicates = a.replicates;
    cfg.schedule_replicates = a.schedule_replicates;
    cfg.cme_replicates = a.cme_replicates;
    cfg.cme_schedule_replicates = a.cme_replicates;
    let r = e3::compute(&cfg, a.seed)?;
    let argmin: Vec<Value> = r
        .sweeps
        .iter()
        .map(|s| json!({ "len": s.len, "argmin_w_grid": s.argmin_w, "argmin_w": s.argmin_w_refined }))
        .collect();
    use claims::e3 as c;
    Ok(headline(
        json!({
            "experiment": "E3",
            "seed": a.seed,
            "schedule": { "lens": cfg.schedule_lens, "rmse": r.schedule },
            "bias": judged(&r.bias_fit, &c::bias(&cfg, &r)),
            "fluctuation": judged(&r.fluct_fit, &c::fluctuation(&cfg, &r)),
            "cme_nw": judged(&r.cme_gap_fit, &c::cme_nw(&cfg, &r)),
            "cme_schedule": judged(&r.cme_schedule_fit, &c::cme_schedule(&cfg, &r)),
            "argmin_w": argmin,
            "argmin_slope": judged(&r.argmin_fit, &c::argmin(&cfg, &r)),
        }),
        &r.schedule_fit,
        &c::schedule(&cfg, &r),
    ))
}

fn e4(a: &E4Args) -> anyhow::Result<Value> {
    at_most("train_sets", a.train_sets as u64, 100_000, REPLICATES)?;
    at_most(
        "test_size",
        a.test_size as u64,
        10_000_000,
        "the test sequences would not fit in memory (about 80 bytes each per length)",
    )?;
    let mut cfg = E4Config::spec(a.train_sets, a.test_size, a.train_sets);
    cfg.w_star = a.w_star;
    let r = e4::compute(&cfg, a.seed)?;
    use claims::e4 as c;
    let per_len: Vec<Value> = r
        .per_len
        .iter()
        .map(|p| {
            json!({
                "len": p.len,
                "w_opt": p.w_opt,
                "param_err": p.param_err,
                "param_fit": judged(&p.param_fit, &c::param_slope(&cfg, &r, p)),
                "excess": p.excess.iter().map(|m| m.mean).collect::<Vec<_>>(),
                "excess_fit": judged(&p.excess_fit, &c::excess_slope(&cfg, p)),
                "attention_gap": p.attn_gap.mean,
                "ols_gap": p.ols_gap.mean,
            })
        })
        .collect();
    let last = r.per_len.last().ok_or_else(|| anyhow::anyhow!("no sequence length"))?;
    Ok(headline(
        json!({
            "experiment": "E4",
            "headline": "parameter-error slope in N at the largest L",
            "seed": a.seed,
            "ns": r.ns,
            "per_len": per_len,
            "excess_ratio_max": r.excess_ratio_max,
            "excess_ratio_ci": r.excess_ratio_ci,
            "excess_ratio_verdict": c::excess_ratio(&cfg, &r).verdict,
            "ols_gap_fit": judged(&r.ols_gap_fit, &c::ols_control(&cfg, &r)),
        }),
        &last.param_fit,
        &c::param_slope(&cfg, &r, last),
    ))
}

fn e5(a: &E5Args) -> anyhow::Result<Value> {
    at_most("n", a.n as u64, 10_000_000, "the pretraining sequences would not fit in memory")?;
    at_most("len", a.len as u64, 1_000_000, "each sequence's tokens would not fit in memory")?;
    let mut cfg = E5Config::spec(a.n);
    cfg.w = a.w;
    cfg.len = a.len;
    cfg.kappas = a.kappas.clone();
    let r = e5::compute(&cfg, a.seed)?;
    let ratios: Vec<Value> = r
        .per_kappa
        .iter()
        .map(|k| {
            json!({
                "kappa": k.kappa,
                "theta_e1": k.ratio[0],
                "theta_e1_ci": k.ratio_ci[0],
                "theta_e2": k.ratio[1],
                "theta_e2_ci": k.ratio_ci[1],
                "e_pre": k.e_pre,
                "e_down": k.e_down,
                "e_down_relative": k.e_down_rel,
            })
        })
        .collect();
    Ok(headline(
        json!({
            "experiment": "E5",
            "headline": "slope of E_down/E_pre in κ for θ = e2 (weak direction)",
            "w": cfg.w,
            "len": cfg.len,
            "n": cfg.n,
            "seed": a.seed,
            "ratios": ratios,
            "strong_direction": judged(&r.fits[0], &claims::e5::strong_slope(&cfg, &r)),
        }),
        &r.fits[1],
        &claims::e5::weak_slope(&cfg, &r),
    ))
}
