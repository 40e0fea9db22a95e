//! REPORT.md: independent findings counted before rows, registration, designs and multiplicity;
//! the Findings section; one row per claim (theorems, reproductions and fidelity, then the controls
//! apart), a section per figure with its caption and image, and the ledger of pass rules; built
//! from every `results/<figure-id>.json`. The text is deterministic (no wall
//! times: those go to `timings.csv`), so two identical runs write identical reports.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use attnlab_comparator::{Judgement, Kind, Registered, Verdict, fmt_interval, fmt_num};

use crate::{FigureError, FigureResult, FigureSpec, Mode};

/// "3 agree, 1 disagree, 0 inconclusive" of the headline verdicts, with ", 2 not judged" when
/// there are such rows (smoke judgements are labelled so).
pub fn verdict_counts<'a>(js: impl IntoIterator<Item = &'a Judgement>) -> String {
    let js: Vec<&Judgement> = js.into_iter().collect();
    let n = |v: Verdict| js.iter().filter(|j| j.headline() == v).count();
    let smoke = if js.iter().any(|j| j.smoke) { "smoke: " } else { "" };
    let not_judged = match n(Verdict::NotJudged) {
        0 => String::new(),
        k => format!(", {k} not judged"),
    };
    format!(
        "{smoke}{} agree, {} disagree, {} inconclusive{not_judged}",
        n(Verdict::Agrees),
        n(Verdict::Disagrees),
        n(Verdict::Inconclusive)
    )
}

/// The verdict counts of each kind, e.g. "theorem: 3 agree, …; reproduction: …; control: …".
pub fn counts_by_kind(js: &[&Judgement]) -> Vec<(Kind, String, usize)> {
    Kind::ALL
        .iter()
        .map(|&k| {
            let of: Vec<&Judgement> = js.iter().copied().filter(|j| j.claim.kind == k).collect();
            (k, verdict_counts(of.iter().copied()), of.len())
        })
        .collect()
}

fn observed(j: &Judgement) -> String {
    observation(&j.observed)
}

fn observation(o: &attnlab_comparator::Observation) -> String {
    if o.interval[0] == o.interval[1] {
        return fmt_num(o.value);
    }
    format!("{} {} ({}, n={})", fmt_num(o.value), fmt_interval(o.interval), o.method, o.n)
}

fn verdict_word(v: Verdict) -> String {
    match v {
        Verdict::Agrees => "agrees".to_string(),
        Verdict::Disagrees => "**disagrees**".to_string(),
        Verdict::Inconclusive => "*inconclusive*".to_string(),
        Verdict::NotJudged => "not judged".to_string(),
    }
}

/// The verdict cell: the headline (a confirmation run's where there is one), with the verdict on
/// the first data and under the original rule beside it.
fn verdict_cell(j: &Judgement) -> String {
    let mut v = verdict_word(j.headline());
    if j.smoke {
        v = format!("smoke: {v}");
    }
    if j.excludes_predicted {
        v.push_str(" ⚑ (the interval excludes the predicted value)");
    }
    if let Some(c) = &j.confirmation {
        v.push_str(&format!(" (confirmation, seed {}; first run: {})", c.seed, j.verdict));
    }
    if let Some(o) = &j.original {
        match (&o.at, o.verdict) {
            // The first rule judged another statistic, which today's data do not give: no verdict to
            // re-apply (the ledger table below says what it was).
            (Some(_), attnlab_comparator::Verdict::NotJudged) => {
                v.push_str("; original rule: on another statistic, not re-applied (see the ledger)")
            }
            (Some(_), verdict) => {
                v.push_str(&format!("; original rule: {verdict} (as first reported; see the ledger)"))
            }
            (None, verdict) => v.push_str(&format!("; original rule: {verdict}")),
        }
    }
    v
}

/// The registration cell: before-results, or after-results with how it was confirmed. `seeds` maps
/// a figure id to its experiment record's base seed: a result on another seed than the ledger's
/// fresh block predates it.
fn registered_cell(
    j: &Judgement,
    ledger: Option<&attnlab_comparator::Ledger>,
    seeds: &std::collections::HashMap<String, u64>,
) -> String {
    match j.registered {
        Some(Registered::BeforeResults) => "before-results".into(),
        Some(Registered::AfterResults) => {
            let e = ledger.and_then(|l| l.entry(&j.claim.id, j.smoke).ok());
            let fresh = e.and_then(|e| e.fresh_seeds.clone().zip(e.fresh_seed));
            match (&j.confirmation, fresh) {
                (Some(c), _) => format!("after-results; confirmed on seed {}", c.seed),
                (None, Some((text, base))) if seeds.get(&j.figure) == Some(&base) => {
                    format!("after-results; this run on fresh seeds ({text})")
                }
                (None, Some((_, base))) => format!(
                    "after-results; **confirmation pending** (this result predates the fresh seed block {base}: regenerate it)"
                ),
                (None, None) => "after-results; **confirmation pending**".into(),
            }
        }
        None => "**not in the ledger** (stale result)".into(),
    }
}

fn claim_table(
    md: &mut String,
    rows: &[&Judgement],
    ledger: Option<&attnlab_comparator::Ledger>,
    seeds: &std::collections::HashMap<String, u64>,
) {
    let _ = writeln!(
        md,
        "| claim id | kind | statement | source (quality) | predicted | observed (95% interval, method) | pass interval | verdict | rule registered | derived from | figure |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
    for j in rows {
        let unit = if j.unit.is_empty() { String::new() } else { format!(" {}", j.unit) };
        let predicted = j.predicted.map_or_else(|| "—".to_string(), |p| format!("{}{unit}", fmt_num(p)));
        let quality = j.source_quality.map_or_else(
            || "?".to_string(),
            |q| {
                if q.is_weak() { format!("**{q}**") } else { q.to_string() }
            },
        );
        let mut obs = format!("{}{}", observed(j), unit);
        if let Some(c) = &j.confirmation {
            obs.push_str(&format!("; confirmation: {}", observation(&c.observed)));
        }
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} | [{}]({}.svg) |",
            j.claim.id,
            j.claim.kind,
            j.claim.statement.replace('|', "\\|"),
            j.claim.source.replace('|', "\\|"),
            quality,
            predicted,
            obs,
            fmt_interval(j.pass_interval),
            verdict_cell(j),
            registered_cell(j, ledger, seeds),
            j.derived_from.as_deref().map_or_else(|| "—".to_string(), |d| format!("`{d}`")),
            j.figure,
            j.figure
        );
    }
}

/// Every stored figure result under `<out>/results/`, in registry order (a figure never run is
/// left out).
pub fn stored_results(out: &Path, specs: &[FigureSpec]) -> Result<Vec<FigureResult>, FigureError> {
    let mut results = Vec::new();
    for s in specs {
        let p = out.join("results").join(format!("{}.json", s.id));
        if let Ok(bytes) = std::fs::read(&p) {
            results.push(serde_json::from_slice::<FigureResult>(&bytes)?);
        }
    }
    Ok(results)
}

/// A stochastic row: an observation with an interval that is not a point (not exact).
fn stochastic(j: &Judgement) -> bool {
    j.observed.method != attnlab_comparator::Method::Exact && j.verdict != Verdict::NotJudged
}

/// Writes `<out>/REPORT.md` and the baseline `<out>/verdicts.json` (one {"id", "kind", "verdict"}
/// per claim, the headline verdict, what `attnlab check` compares with) from the stored `results`,
/// both atomically. Every stored judgement is registered with the ledger again (so a result file
/// written before a field existed gets it); one the ledger no longer admits is shown as stale.
pub fn write_report(out: &Path, results: &[FigureResult]) -> Result<PathBuf, FigureError> {
    let ledger = attnlab_lab::ledger::ledger().ok();
    let mut results = results.to_vec();
    let mut stale: Vec<String> = Vec::new();
    for r in &mut results {
        for j in &mut r.judgements {
            // A design's decidability follows from the row itself, registered or not.
            j.decidable = attnlab_comparator::decidable(j.observed.method, j.observed.n, j.pass_interval);
            if let Some(l) = ledger
                && let Err(e) = l.register(j)
            {
                j.registered = None;
                stale.push(format!("`{}` ({e})", j.claim.id));
            }
        }
    }
    let results = &results;
    let seeds: std::collections::HashMap<String, u64> = results
        .iter()
        .filter_map(|r| r.record.get("seed").and_then(serde_json::Value::as_u64).map(|s| (r.id.clone(), s)))
        .collect();
    let all: Vec<&Judgement> = results.iter().flat_map(|r| r.judgements.iter()).collect();
    let smoke = results.iter().any(|r| r.mode == Mode::Fast);
    let mut md = String::new();
    let _ = writeln!(md, "# attnlab report\n");
    if smoke {
        let fast: Vec<String> =
            results.iter().filter(|r| r.mode == Mode::Fast).map(|r| format!("`{}`", r.id)).collect();
        let _ = writeln!(
            md,
            "> **SMOKE RUN** (`--fast`): these figures ran at toy sizes to prove the pipeline runs, not \
             the science. Every verdict below from a fast figure is labelled `smoke:` and is no \
             evidence for or against a claim. Fast figures: {}.\n",
            fast.join(", ")
        );
    }
    let _ = writeln!(md, "Generated by `cargo xtask figures` (attnlab {}).\n", attnlab_core::CODE_VERSION);
    summary(&mut md, &all, &stale, ledger, &seeds);
    let main: Vec<&Judgement> = all.iter().copied().filter(|j| j.claim.kind != Kind::Control).collect();
    let controls: Vec<&Judgement> = all.iter().copied().filter(|j| j.claim.kind == Kind::Control).collect();
    findings_section(&mut md, &main, smoke);
    let _ = writeln!(md, "## Claims: theorems, reproductions and fidelity\n");
    claim_table(&mut md, &main, ledger, &seeds);
    let _ = writeln!(
        md,
        "\n## Controls\n\nSanity checks, negative controls, identities that hold by construction and regressions of deterministic tables; they show the pipeline measures what it says, and confirm nothing about the papers.\n"
    );
    claim_table(&mut md, &controls, ledger, &seeds);
    let _ = writeln!(md, "\n## Figures\n");
    for r in results {
        let _ = writeln!(md, "### `{}` — {}\n", r.id, r.title);
        let _ = writeln!(md, "![{}]({}.png)\n", r.id, r.id);
        let _ = writeln!(md, "{}\n", r.caption);
        let seed = r.record.get("seed").and_then(|v| v.as_u64()).map_or("-".into(), |s| s.to_string());
        let _ = writeln!(
            md,
            "*{} mode; seed {seed}. Files: [`{id}.svg`]({id}.svg), [`{id}.png`]({id}.png), [`{id}.pdf`]({id}.pdf), [`results/{id}.json`](results/{id}.json){csv}.*\n",
            r.mode.name(),
            id = r.id,
            csv = [".csv", ".csv.gz"]
                .iter()
                .find(|ext| out.join("results").join(format!("{}{ext}", r.id)).is_file())
                .map_or(String::new(), |ext| format!(", [`results/{id}{ext}`](results/{id}{ext})", id = r.id)),
        );
    }
    let _ = writeln!(md, "## The ledger of pass rules\n");
    let _ = writeln!(
        md,
        "Every pass rule is declared once next to its claim in `crates/lab/src/<paper>/claims/` and registered in the ledger `crates/lab/ledger.jsonl`, with when it was fixed. **before-results**: declared before the claim had any result. **after-results**: set or changed once the claim's numbers were known (the seeds are deterministic, so the numbers were already fixed); the original rule is kept and its verdict shown, and the claim is judged again on seeds never used before the rule was frozen in the ledger — a separate confirmation run, or this run itself where its seeds are a fresh block (said per row). A figure run refuses a judgement whose rule differs from its ledger entry.\n"
    );
    let _ = writeln!(md, "| claim id | rule | pass interval | rationale | registered | original rule (its verdict) |");
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for j in &all {
        let original = j.original.as_ref().map_or_else(
            || "—".to_string(),
            |o| {
                let at = o.at.as_deref().map_or(String::new(), |a| format!(", as reported at {a}"));
                format!("{} — {} ({}{at})", o.tolerance, o.rationale.replace('|', "\\|"), o.verdict)
            },
        );
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} | {} | {} |",
            j.claim.id,
            j.tolerance,
            fmt_interval(j.pass_interval),
            j.rationale.replace('|', "\\|"),
            registered_cell(j, ledger, &seeds),
            original
        );
    }
    let path = out.join("REPORT.md");
    attnlab_core::io::write_atomic(&path, md.as_bytes()).map_err(|e| FigureError::io(&path, e))?;
    let baseline: Vec<serde_json::Value> = all
        .iter()
        .map(|j| serde_json::json!({ "id": j.claim.id, "kind": j.claim.kind, "verdict": j.headline() }))
        .collect();
    let vpath = out.join("verdicts.json");
    attnlab_core::io::write_json_atomic(&vpath, &baseline).map_err(|e| FigureError::io(&vpath, e))?;
    Ok(path)
}

/// The headline counts: findings (independent judgements) before rows, by kind, registration,
/// designs, and what chance alone would give.
fn summary(
    md: &mut String,
    all: &[&Judgement],
    stale: &[String],
    ledger: Option<&attnlab_comparator::Ledger>,
    seeds: &std::collections::HashMap<String, u64>,
) {
    let findings: Vec<&Judgement> = all.iter().copied().filter(|j| j.is_finding()).collect();
    let count = |js: &[&Judgement], v: Verdict| js.iter().filter(|j| j.headline() == v).count();
    let _ = writeln!(
        md,
        "**{} independent findings** (theorem, reproduction and fidelity judgements that are not derived from another claim; headline verdicts, a confirmation run's where there is one): {} agree, {} disagree, {} inconclusive. They come from {} rows: {} derived from another claim (the same runs judged again, or a consequence of another row's verdict), {} controls, {} reported without a verdict (single runs; runs outside a theorem's assumptions).\n",
        findings.len(),
        count(&findings, Verdict::Agrees),
        count(&findings, Verdict::Disagrees),
        count(&findings, Verdict::Inconclusive),
        all.len(),
        all.iter().filter(|j| j.claim.kind != Kind::Control && j.derived_from.is_some()).count(),
        all.iter().filter(|j| j.claim.kind == Kind::Control).count(),
        all.iter().filter(|j| j.claim.kind != Kind::Control && j.verdict == Verdict::NotJudged).count(),
    );
    let _ = writeln!(md, "Rows by kind:\n");
    for (k, counts, n) in counts_by_kind(all) {
        let note = match k {
            Kind::Theorem => "a theorem checked on its own model and assumptions",
            Kind::Reproduction => "a published figure's behaviour on the paper's experimental model",
            Kind::Fidelity => {
                "attnlab's runs against the authors' own code at the same setting: evidence about the implementation"
            }
            Kind::Control => {
                "sanity checks, negative controls, identities and deterministic regressions: never counted as confirmations"
            }
        };
        let _ = writeln!(md, "- **{k}** ({n}; {note}): {counts}");
    }
    let after: Vec<&&Judgement> = all.iter().filter(|j| j.registered == Some(Registered::AfterResults)).collect();
    let separate = after.iter().filter(|j| j.confirmation.is_some()).count();
    let pending: Vec<String> = after
        .iter()
        .filter(|j| registered_cell(j, ledger, seeds).contains("pending"))
        .map(|j| format!("`{}`", j.claim.id))
        .collect();
    let _ = writeln!(
        md,
        "\n**Registration.** {} rules were registered before their claim had results; {} were set or changed after (listed in the ledger at the end with their original rule and its verdict; each is judged again on seeds never used before the rule was frozen — {} by a separate confirmation run, the others by their own run's fresh seed block, as each row says).{}{}",
        all.iter().filter(|j| j.registered == Some(Registered::BeforeResults)).count(),
        after.len(),
        separate,
        if pending.is_empty() {
            String::new()
        } else {
            format!(
                " **Confirmation still pending** for {} of them (their results predate the fresh seeds): {}.",
                pending.len(),
                pending.join(", ")
            )
        },
        if stale.is_empty() {
            String::new()
        } else {
            format!(
                " **Stale results** (their rule is not the ledger's any more: regenerate them): {}.",
                stale.join("; ")
            )
        }
    );
    let undecidable: Vec<String> = all
        .iter()
        .filter(|j| j.verdict != Verdict::NotJudged && !j.decidable.both())
        .map(|j| format!("`{}` ({})", j.claim.id, j.decidable.fault().unwrap_or_default()))
        .collect();
    // After the fact: an interval wider than its pass interval could not have agreed at the
    // precision reached (more samples would be needed), whatever n and the method allowed.
    let too_wide: Vec<String> = all
        .iter()
        .filter(|j| j.verdict != Verdict::NotJudged && j.claim.kind != Kind::Control)
        .filter(|j| {
            let (w, pw) = (j.observed.interval[1] - j.observed.interval[0], j.pass_interval[1] - j.pass_interval[0]);
            w.is_finite() && pw.is_finite() && w > pw
        })
        .map(|j| {
            let ratio = (j.observed.interval[1] - j.observed.interval[0]) / (j.pass_interval[1] - j.pass_interval[0]);
            format!("`{}` ({:.2}×)", j.claim.id, ratio)
        })
        .collect();
    let _ = writeln!(
        md,
        "\n**Designs.** Before a paper-scale run counts, every claim's design must be able to decide from its n and interval method alone: the best possible outcome must be able to agree and the worst to disagree (a paper-scale run refuses a claim that cannot). {} {}\n",
        if undecidable.is_empty() {
            "Every judged claim here can.".to_string()
        } else {
            format!("{} cannot (at this run's size): {}.", undecidable.len(), undecidable.join(", "))
        },
        if too_wide.is_empty() {
            "After the fact, no judged interval is wider than its pass interval.".to_string()
        } else {
            format!(
                "After the fact, {} judged intervals are wider than their pass intervals, so at the precision reached they could not agree (more samples, not a wider band, would fix that): {}.",
                too_wide.len(),
                too_wide.join(", ")
            )
        }
    );
    let stochastic_rows: Vec<&Judgement> = all
        .iter()
        .copied()
        .filter(|j| stochastic(j) && j.predicted.is_some() && j.claim.kind != Kind::Control)
        .collect();
    let flagged = stochastic_rows.iter().filter(|j| j.excludes_predicted).count();
    let judged = all.iter().filter(|j| stochastic(j) && j.claim.kind != Kind::Control).count();
    let _ = writeln!(
        md,
        "**Multiplicity.** {} stochastic rows carry a predicted value; if every prediction were exact and every interval a true 95% interval, about {:.1} of them (5%) would exclude it by chance — {} do (⚑). Among the {} stochastic judged rows, chance alone would give at most about {:.1} disagreements (a disagreement needs the interval to miss a pass interval that contains the prediction, which a true 95% interval does less than 5% of the time). Many more ⚑ rows than chance mean finite-size offsets between the theory's limit and the sizes run, not failures of a theorem; each disagreement is explained in Findings.\n",
        stochastic_rows.len(),
        0.05 * stochastic_rows.len() as f64,
        flagged,
        judged,
        0.05 * judged as f64,
    );
    let _ = writeln!(
        md,
        "How to read a row: *predicted* is the theory's value (— where the paper states only a qualitative law); *source (quality)* cites the spec and says how the prediction is known: `paper` (a statement of the paper), `code` (the authors' reference code), `derived` (derived here and checked numerically), **`recalled`** or **`inferred`** (the spec's own tags: not verified against the paper; a disagreement with one of these says as much about the spec as about the model). *Observed* is the experiment's value with its 95% interval and the method that made it: `t` (Student-t, n − 1 degrees of freedom, for a mean of n independent samples), `wilson` (a proportion k/n), `bootstrap` (seeded; a cluster bootstrap where the statement says so), or `exact` (a deterministic number, shown without an interval). The verdict: **agrees** when the observed interval lies inside the pass interval, **disagrees** when they do not overlap, **inconclusive** otherwise; *not judged* rows report a single run or a run outside a theorem's assumptions. ⚑ marks a row whose interval excludes the predicted value even though it may lie inside its pass interval. Machine-readable: `results/<figure-id>.json` (each judgement with `registered`, `original`, `confirmation`, `decidable`, `derived_from`, `source_quality`); the headline verdicts alone: `verdicts.json` (`attnlab check` compares a results folder with it).\n"
    );
}

/// The Findings section: every theorem, reproduction or fidelity row that does not agree, grouped
/// by the phenomenon `crates/figures/findings.md` says it is, and the rows no entry explains.
fn findings_section(md: &mut String, main: &[&Judgement], smoke: bool) {
    let _ = writeln!(md, "## Findings\n");
    let open: Vec<&Judgement> =
        main.iter().copied().filter(|j| !matches!(j.headline(), Verdict::Agrees | Verdict::NotJudged)).collect();
    if smoke {
        let _ = writeln!(
            md,
            "A smoke run decides nothing: the entries below are written for the paper-scale results and are not matched against these rows.\n"
        );
        return;
    }
    let entries = crate::findings::parse(crate::findings::TEXT).unwrap_or_default();
    let _ = writeln!(
        md,
        "{} theorem, reproduction and fidelity rows do not agree. Each entry below is one phenomenon: what was expected, what was seen, and whether it is an artefact (of size, horizon, design or implementation) or a finding, with the evidence that decides it.\n",
        open.len()
    );
    for f in &entries {
        let rows: Vec<&&Judgement> = open.iter().filter(|j| f.covers(&j.claim.id)).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(md, "### {} — {}\n", f.title, f.class);
        let list: Vec<String> = rows
            .iter()
            .map(|j| {
                let weak =
                    j.source_quality.filter(|q| q.is_weak()).map_or(String::new(), |q| format!(", prediction {q}"));
                format!("`{}` ({}{weak})", j.claim.id, j.headline())
            })
            .collect();
        let _ = writeln!(md, "Rows: {}.\n", list.join(", "));
        let _ = writeln!(md, "{}\n", f.text);
    }
    let loose: Vec<String> = open
        .iter()
        .filter(|j| !entries.iter().any(|f| f.covers(&j.claim.id)))
        .map(|j| format!("`{}` ({})", j.claim.id, j.headline()))
        .collect();
    if !loose.is_empty() {
        let _ = writeln!(md, "**Not yet explained** ({}): {}.\n", loose.len(), loose.join(", "));
    }
}

/// The rows of `<out>/timings.csv` as [`write_timings`] wrote them: figure id → (status, drawing
/// seconds). Empty when the file is missing; a row that does not parse is skipped.
pub fn stored_timings(out: &Path) -> std::collections::HashMap<String, (String, f64)> {
    let text = std::fs::read_to_string(out.join("timings.csv")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let (id, _) = line.split_once(',')?;
            let (status_start, status_end) = (line.find('"')?, line.rfind('"')?);
            let step_s = line.rsplit_once(',')?.1.parse().ok()?;
            (status_end > status_start)
                .then(|| (id.to_string(), (line[status_start + 1..status_end].to_string(), step_s)))
        })
        .collect()
}

/// Writes `<out>/timings.csv`: one row per stored figure result (figure id, mode, cache status, compute seconds of its tasks,
/// step wall time in seconds), kept out of REPORT.md so the report is deterministic.
pub fn write_timings(out: &Path, results: &[FigureResult], total_wall_s: f64) -> Result<PathBuf, FigureError> {
    let mut csv = String::from("figure,mode,status,compute_s,step_time_s\n");
    for r in results {
        let _ = writeln!(
            csv,
            "{},{},\"{}\",{:.3},{:.3}",
            r.id,
            r.mode.name(),
            r.status.replace('"', "'"),
            r.compute_s,
            r.step_time_s
        );
    }
    let _ = writeln!(csv, "total (this run),,,,{total_wall_s:.3}");
    let path = out.join("timings.csv");
    attnlab_core::io::write_atomic(&path, csv.as_bytes()).map_err(|e| FigureError::io(&path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::{stored_timings, write_timings};
    use crate::{FigureResult, Mode};

    fn result(id: &str, status: &str, step_time_s: f64) -> FigureResult {
        FigureResult {
            id: id.into(),
            title: String::new(),
            caption: String::new(),
            mode: Mode::Full,
            smoke: false,
            status: status.into(),
            step_time_s,
            compute_s: 12.5,
            judgements: Vec::new(),
            record: serde_json::Value::Null,
        }
    }

    /// What `write_timings` writes, `stored_timings` reads back (status with commas and quotes
    /// included), and the result file itself carries neither (they change on every redraw).
    #[test]
    fn timings_round_trip_and_stay_out_of_the_result_file() {
        let dir = std::env::temp_dir().join(format!("attnlab-timings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rs = [
            result("a.b", "rebuilt 3 of 4 tasks (first: rebuilt (code version changed x → y))", 0.25),
            result("c", "reused (cache hit \"abc\", 1)", 1.5),
        ];
        write_timings(&dir, &rs, 3.0).unwrap();
        let back = stored_timings(&dir);
        assert_eq!(back.len(), 2);
        assert_eq!(
            back["a.b"],
            ("rebuilt 3 of 4 tasks (first: rebuilt (code version changed x → y))".to_string(), 0.25)
        );
        assert_eq!(back["c"], ("reused (cache hit 'abc', 1)".to_string(), 1.5));
        let json = serde_json::to_value(&rs[0]).unwrap();
        assert!(json.get("status").is_none() && json.get("step_time_s").is_none(), "{json}");
        assert_eq!(json["compute_s"], 12.5);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
