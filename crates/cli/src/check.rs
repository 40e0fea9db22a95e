//! `attnlab check`: the verdict table of a results folder, compared claim by claim with a committed
//! baseline, so a research repository's CI can guard a paper's claims.
//!
//! Exit status: 0 when every claim's kind and verdict equal the baseline's; 1 when any differs, or a
//! claim is in one and not the other (each named on stderr); 2 when the folder or the baseline is
//! missing or unreadable.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use attnlab_comparator::{Judgement, Kind, Verdict, fmt_interval, fmt_num};

use crate::format::Format;
use serde::{Deserialize, Serialize};

/// Arguments of `attnlab check`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Print the verdict table of a results folder; exit 1 if any claim's verdict differs from a baseline",
    long_about = "Reads every `<figure-id>.json` that `cargo xtask figures` wrote into a results folder, \
                  prints one row per judged claim (verdict, kind, id, observed value with its 95% interval \
                  and method, pass interval) and compares each claim's kind and verdict with a baseline \
                  file: a JSON list of {\"id\", \"kind\", \"verdict\"} objects, as `cargo xtask figures` \
                  writes to `verdicts.json` next to REPORT.md.\n\n\
                  Exit status: 0 all claims as in the baseline; 1 some claim changed verdict or kind, \
                  appeared or disappeared (each is named); 2 the folder or the baseline is missing or \
                  unreadable."
)]
pub struct CheckArgs {
    /// Results folder (the `results/` that `cargo xtask figures` writes next to REPORT.md).
    #[arg(long, default_value = "figures/results")]
    pub results: PathBuf,
    /// Baseline verdicts: a JSON list of {"id", "kind", "verdict"}.
    #[arg(long, default_value = "figures/verdicts.json")]
    pub baseline: PathBuf,
    /// Print the table and the differences as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// One line of a baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// Claim id.
    pub id: String,
    /// Claim kind.
    pub kind: Kind,
    /// Verdict.
    pub verdict: Verdict,
}

/// A figure result file, as far as `check` reads it.
#[derive(Deserialize)]
struct ResultFile {
    judgements: Vec<Judgement>,
}

/// Every judged claim in `dir`'s result files (files sorted by name, claims in file order). A JSON
/// file without a `judgements` list (e.g. a timings file) is skipped; one that is not JSON is an error.
pub fn read_results(dir: &Path) -> anyhow::Result<Vec<Judgement>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("invalid `results`: folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", f.display()))?;
        if v.get("judgements").is_none() {
            continue;
        }
        let r: ResultFile =
            serde_json::from_value(v).with_context(|| format!("{}: judgements in an unknown format", f.display()))?;
        all.extend(r.judgements);
    }
    if all.is_empty() {
        bail!("invalid `results`: folder {} holds no judged claims (run `cargo xtask figures` first)", dir.display());
    }
    Ok(all)
}

/// Reads a baseline file.
pub fn read_baseline(path: &Path) -> anyhow::Result<Vec<BaselineEntry>> {
    let bytes = std::fs::read(path).with_context(|| format!("invalid `baseline`: {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| {
        format!("invalid `baseline`: {}: expected a JSON list of {{\"id\", \"kind\", \"verdict\"}}", path.display())
    })
}

/// The baseline entries of judged claims (what `cargo xtask figures` writes to `verdicts.json`).
pub fn baseline_of(js: &[Judgement]) -> Vec<BaselineEntry> {
    js.iter().map(|j| BaselineEntry { id: j.claim.id.clone(), kind: j.claim.kind, verdict: j.headline() }).collect()
}

/// The differences between judged claims and a baseline, one line each, naming the claim.
pub fn differences(js: &[Judgement], baseline: &[BaselineEntry]) -> Vec<String> {
    let base: BTreeMap<&str, &BaselineEntry> = baseline.iter().map(|b| (b.id.as_str(), b)).collect();
    let now: BTreeMap<&str, &Judgement> = js.iter().map(|j| (j.claim.id.as_str(), j)).collect();
    let mut out = Vec::new();
    for j in js {
        match base.get(j.claim.id.as_str()) {
            None => {
                out.push(format!("{}: new claim ({} {}), not in the baseline", j.claim.id, j.claim.kind, j.headline()))
            }
            Some(b) if b.verdict != j.headline() || b.kind != j.claim.kind => {
                out.push(format!("{}: was {} {}, now {} {}", j.claim.id, b.kind, b.verdict, j.claim.kind, j.headline()))
            }
            Some(_) => {}
        }
    }
    for b in baseline {
        if !now.contains_key(b.id.as_str()) {
            out.push(format!("{}: in the baseline ({} {}) but not in the results", b.id, b.kind, b.verdict));
        }
    }
    out
}

/// Runs `attnlab check`: prints the verdict table on stdout in `format` (`--json` is `json`; the
/// global `--format` wins: `jsonl` and `csv` give one flat record per claim) and returns the
/// differences.
pub fn run(args: &CheckArgs, format: Option<Format>) -> anyhow::Result<Vec<String>> {
    let js = read_results(&args.results)?;
    let baseline = read_baseline(&args.baseline)?;
    let diffs = differences(&js, &baseline);
    let format = format.unwrap_or(if args.json { Format::Json } else { Format::Table });
    let claims: Vec<serde_json::Value> = js
        .iter()
        .map(|j| {
            serde_json::json!({
                "id": j.claim.id, "kind": j.claim.kind, "verdict": j.headline(), "smoke": j.smoke,
                "predicted": j.predicted, "observed": j.observed, "pass_interval": j.pass_interval.map(|x| x.is_finite().then_some(x)),
            })
        })
        .collect();
    if format == Format::Json {
        let v = serde_json::json!({ "claims": claims, "differences": diffs });
        attnlab_lab::progress::print_stdout(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
    } else if format == Format::Jsonl {
        let mut text = String::new();
        for c in &claims {
            text.push_str(&serde_json::to_string(&serde_json::Value::Object(crate::format::flatten(c)))?);
            text.push('\n');
        }
        attnlab_lab::progress::print_stdout(&text)?;
    } else if format == Format::Csv {
        attnlab_lab::progress::print_stdout(&crate::format::csv_rows(&claims))?;
    } else {
        let w = js.iter().map(|j| j.claim.id.len()).max().unwrap_or(0);
        let mut text = String::new();
        for j in &js {
            let o = &j.observed;
            let _ = writeln!(
                text,
                "{:<12} {:<12} {:<w$}  observed {} {} ({}, n={})  pass {}{}",
                if j.smoke { format!("smoke:{}", j.headline()) } else { j.headline().to_string() },
                j.claim.kind,
                j.claim.id,
                fmt_num(o.value),
                fmt_interval(o.interval),
                o.method,
                o.n,
                fmt_interval(j.pass_interval),
                if j.excludes_predicted { "  (interval excludes the predicted value)" } else { "" }
            );
        }
        let mut counts: BTreeMap<(Kind, String), usize> = BTreeMap::new();
        for j in &js {
            *counts.entry((j.claim.kind, j.headline().to_string())).or_default() += 1;
        }
        let summary: Vec<String> = counts.iter().map(|((k, v), n)| format!("{k} {v}: {n}")).collect();
        let _ = writeln!(text, "{} claims; {}", js.len(), summary.join(", "));
        attnlab_lab::progress::print_stdout(&text)?;
    }
    Ok(diffs)
}
