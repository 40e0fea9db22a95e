//! The ledger of pass rules: one committed entry per claim (or family of claims, `*` standing for any
//! text in the id) with its rule, its rationale, when it was fixed (`before-results` or
//! `after-results`), the original rule of an after-results entry, and how the prediction is known
//! (the spec's tags). [`Ledger::register`] stamps a judgement with its entry and refuses one whose
//! rule differs from it: a rule cannot change in code without its ledger entry changing too, and an
//! entry that changes once its claim has results must say so (`after-results`, keeping its
//! original). One JSON object per line; lines starting with `#` are comments.

use serde::{Deserialize, Serialize};

use crate::{Judgement, Original, Tolerance, Verdict, judge_interval};

/// When a rule was fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Registered {
    /// Declared before the claim had any results.
    BeforeResults,
    /// Set or changed once the claim's numbers were known (the seeds are deterministic, so they
    /// were fixed): judged again on a confirmation run with fresh seeds where one exists.
    AfterResults,
}

impl std::fmt::Display for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Registered::BeforeResults => "before-results",
            Registered::AfterResults => "after-results",
        })
    }
}

/// How the predicted value or behaviour is known (the spec's tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceQuality {
    /// A statement of the paper (theorem, figure, table).
    Paper,
    /// The authors' reference code.
    Code,
    /// Derived here (or reconstructed from standard theory) and checked numerically.
    Derived,
    /// Recalled from the paper, wording or numbers not verified against it.
    Recalled,
    /// Inferred from a figure script's lines or parameters, not stated by the paper.
    Inferred,
}

impl SourceQuality {
    /// A prediction the spec itself does not vouch for.
    pub fn is_weak(self) -> bool {
        matches!(self, SourceQuality::Recalled | SourceQuality::Inferred)
    }
}

impl std::fmt::Display for SourceQuality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SourceQuality::Paper => "paper",
            SourceQuality::Code => "code",
            SourceQuality::Derived => "derived",
            SourceQuality::Recalled => "recalled",
            SourceQuality::Inferred => "inferred",
        })
    }
}

/// A rule as the ledger states it: a fixed tolerance, or `"computed"` for a pass interval computed
/// from the data or the size (the rationale says how).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LedgerTolerance {
    /// The tolerance exactly as declared in code.
    Fixed(Tolerance),
    /// Computed per claim (the word `computed`).
    Computed(Computed),
}

/// The marker of a computed tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Computed {
    /// The only value.
    Computed,
}

impl LedgerTolerance {
    fn admits(&self, t: &Tolerance) -> bool {
        match self {
            LedgerTolerance::Fixed(f) => f == t,
            LedgerTolerance::Computed(_) => true,
        }
    }
}

/// A rule as first declared (after-results entries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginalRule {
    /// Its tolerance.
    pub tolerance: Tolerance,
    /// Its rationale, verbatim (or, where the first rule had none, the claim's statement then).
    pub rationale: String,
    /// Where the observation itself changed since (another statistic, another size), the verdict
    /// the original rule gave as reported then, with `at`; else None and the original rule is
    /// judged on today's observation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// The commit and sizes that verdict was reported at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// One ledger line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Claim id, or a pattern where `*` stands for any text.
    pub id: String,
    /// Only for smoke (`--fast`) judgements (true), only for the others (false), or both (absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoke: Option<bool>,
    /// The rule.
    pub tolerance: LedgerTolerance,
    /// The rationale, verbatim as in code.
    pub rationale: String,
    /// When it was fixed.
    pub registered: Registered,
    /// The original rule (after-results only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<OriginalRule>,
    /// How the prediction is known.
    pub source_quality: SourceQuality,
    /// Why the rule changed, when (commit or issue), for after-results entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// After-results entries whose own run is the confirmation: the seeds it uses, first used after
    /// the rule was frozen here (the others get a separate confirmation run,
    /// [`crate::Judgement::confirmation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh_seeds: Option<String>,
    /// The base seed of that fresh block, as the experiment's record states it: a result whose
    /// record has another seed predates the block, and its confirmation is still pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh_seed: Option<u64>,
}

/// Why a judgement cannot be registered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LedgerError {
    /// A ledger line does not parse.
    #[error("ledger line {line}: {message}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// An after-results entry without its original rule, or a before-results one with one.
    #[error("ledger entry `{0}`: an after-results entry keeps its original rule, a before-results one has none")]
    Original(String),
    /// No entry names the claim.
    #[error(
        "claim `{0}` has no ledger entry: add its rule to the ledger (registered before-results only if no result of it exists yet)"
    )]
    Missing(String),
    /// More than one entry names the claim.
    #[error("claim `{id}` matches {} ledger entries ({})", .entries.len(), .entries.join(", "))]
    Ambiguous {
        /// The claim.
        id: String,
        /// The matching entries' ids.
        entries: Vec<String>,
    },
    /// The rule in code differs from the ledger's.
    #[error(
        "the rule of claim `{id}` differs from its ledger entry `{entry}` (code: {code}; ledger: {ledger}): a changed rule needs its ledger entry changed, registered after-results with its original kept if the claim already had results"
    )]
    Changed {
        /// The claim.
        id: String,
        /// The entry.
        entry: String,
        /// The rule in code.
        code: String,
        /// The rule in the ledger.
        ledger: String,
    },
}

/// The parsed ledger.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Its entries, in file order.
    pub entries: Vec<Entry>,
}

/// `*` in `pattern` matches any text (possibly empty); everything else literally.
pub fn matches(pattern: &str, id: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == id;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !id.starts_with(first) || !id[first.len()..].ends_with(last) || id.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &id[first.len()..id.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

impl Ledger {
    /// Parses the ledger's text.
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let e: Entry =
                serde_json::from_str(line).map_err(|e| LedgerError::Parse { line: i + 1, message: e.to_string() })?;
            if (e.registered == Registered::AfterResults) != e.original.is_some() {
                return Err(LedgerError::Original(e.id));
            }
            entries.push(e);
        }
        Ok(Self { entries })
    }

    /// The entry for claim `id` of a smoke (`smoke`) or real run: of the entries whose pattern
    /// matches, the most specific (most literal characters; `a.L*.est` before `a.L*`); two equally
    /// specific ones are ambiguous.
    pub fn entry(&self, id: &str, smoke: bool) -> Result<&Entry, LedgerError> {
        let literal = |e: &Entry| e.id.len() - e.id.matches('*').count();
        let found: Vec<&Entry> =
            self.entries.iter().filter(|e| e.smoke.is_none_or(|s| s == smoke) && matches(&e.id, id)).collect();
        let best = found.iter().map(|e| literal(e)).max().unwrap_or(0);
        let found: Vec<&Entry> = found.into_iter().filter(|e| literal(e) == best).collect();
        match found.as_slice() {
            [] => Err(LedgerError::Missing(id.into())),
            [one] => Ok(one),
            many => Err(LedgerError::Ambiguous { id: id.into(), entries: many.iter().map(|e| e.id.clone()).collect() }),
        }
    }

    /// Stamps `j` with its ledger entry: `registered`, `source_quality`, the original rule's
    /// pass interval and verdict on the same observation (after-results entries), and its
    /// decidability recomputed; refuses a judgement whose rule or rationale differs from the
    /// entry's. Idempotent, so stored results are registered again when a report is built.
    pub fn register(&self, j: &mut Judgement) -> Result<(), LedgerError> {
        let e = self.entry(&j.claim.id, j.smoke)?;
        if !e.tolerance.admits(&j.tolerance) || e.rationale != j.rationale {
            let ledger = match &e.tolerance {
                LedgerTolerance::Fixed(t) => t.to_string(),
                LedgerTolerance::Computed(_) => "computed".into(),
            };
            return Err(LedgerError::Changed {
                id: j.claim.id.clone(),
                entry: e.id.clone(),
                code: format!("{} — {}", j.tolerance, j.rationale),
                ledger: format!("{ledger} — {}", e.rationale),
            });
        }
        j.registered = Some(e.registered);
        j.source_quality = Some(e.source_quality);
        j.decidable = crate::decidable(j.observed.method, j.observed.n, j.pass_interval);
        j.original = e.original.as_ref().map(|o| {
            let pass_interval = o.tolerance.pass_interval(j.predicted);
            let verdict = match (o.verdict, j.verdict) {
                (Some(then), _) => then,
                (None, Verdict::NotJudged) => Verdict::NotJudged,
                (None, _) => judge_interval(j.observed.interval, pass_interval),
            };
            Original {
                tolerance: o.tolerance,
                rationale: o.rationale.clone(),
                pass_interval,
                verdict,
                at: o.at.clone(),
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Claim, Kind, Observation, Rule};

    const TEXT: &str = r#"
# a comment
{"id":"a.b.*.est","tolerance":{"absolute":0.02},"rationale":"r1","registered":"before-results","source_quality":"paper"}
{"id":"a.c","tolerance":{"absolute":0.05},"rationale":"r2","registered":"after-results","original":{"tolerance":{"within":[0.2,0.3]},"rationale":"r0"},"source_quality":"inferred"}
{"id":"a.d.*","tolerance":"computed","rationale":"r3","registered":"before-results","source_quality":"derived"}
{"id":"a.e","smoke":true,"tolerance":{"absolute":0.01},"rationale":"r4","registered":"before-results","source_quality":"code"}
{"id":"a.e","smoke":false,"tolerance":{"within":[0.5,1.0]},"rationale":"r5","registered":"before-results","source_quality":"code"}
"#;

    fn judged(id: &str, predicted: f64, ci: [f64; 2], rule: Rule) -> Judgement {
        let c = Claim::new(id, "p", Kind::Theorem, "s", "§");
        Judgement::new(c, Some(predicted), Observation::bootstrap(ci[0] / 2.0 + ci[1] / 2.0, ci, 8), rule, "f", "")
    }

    #[test]
    fn patterns() {
        assert!(matches("a.b.*.est", "a.b.L1.est"));
        assert!(!matches("a.b.*.est", "a.b.L1"));
        assert!(matches("x*y*z", "xyz") && matches("x*y*z", "x1y2z") && !matches("x*y*z", "xz"));
        assert!(matches("exact", "exact") && !matches("exact", "exactly"));
        assert!(!matches("ab*ba", "aba"), "prefix and suffix may not overlap");
    }

    #[test]
    fn registers_and_refuses_a_changed_rule() {
        let l = Ledger::parse(TEXT).unwrap();
        let mut j = judged("a.b.L1.est", 0.5, [0.49, 0.51], Rule::abs(0.02, "r1"));
        l.register(&mut j).unwrap();
        assert_eq!(j.registered, Some(Registered::BeforeResults));
        assert_eq!(j.source_quality, Some(SourceQuality::Paper));
        assert!(j.original.is_none());
        // The same claim with a widened band, or a reworded rationale, is refused.
        let mut wide = judged("a.b.L1.est", 0.5, [0.49, 0.51], Rule::abs(0.03, "r1"));
        assert!(matches!(l.register(&mut wide), Err(LedgerError::Changed { .. })));
        let mut reworded = judged("a.b.L1.est", 0.5, [0.49, 0.51], Rule::abs(0.02, "r1 (admits 0.51)"));
        assert!(matches!(l.register(&mut reworded), Err(LedgerError::Changed { .. })));
        let mut none = judged("z", 0.5, [0.49, 0.51], Rule::abs(0.02, "r1"));
        assert_eq!(l.register(&mut none), Err(LedgerError::Missing("z".into())));
    }

    #[test]
    fn after_results_keeps_the_original_verdict() {
        let l = Ledger::parse(TEXT).unwrap();
        // Theory 0.25; interval [0.096, 0.178]: the original [0.2, 0.3] disagrees, ±0.05 too here.
        let mut j = judged("a.c", 0.25, [0.096, 0.178], Rule::abs(0.05, "r2"));
        l.register(&mut j).unwrap();
        assert_eq!(j.registered, Some(Registered::AfterResults));
        let o = j.original.as_ref().unwrap();
        assert_eq!(o.pass_interval, [0.2, 0.3]);
        assert_eq!(o.verdict, Verdict::Disagrees);
        // A confirmation judged under the frozen rule is the headline.
        let fresh = judged("a.c", 0.25, [0.22, 0.27], Rule::abs(0.05, "r2"));
        j.confirm(&fresh, 90_000);
        assert_eq!(j.headline(), Verdict::Agrees);
        assert_eq!(j.verdict, Verdict::Disagrees);
    }

    #[test]
    fn computed_rules_smoke_rules_and_bad_lines() {
        let l = Ledger::parse(TEXT).unwrap();
        let mut j = judged("a.d.x", 0.5, [0.4, 0.6], Rule::within(0.1, 0.9, "r3"));
        l.register(&mut j).unwrap();
        let mut real = judged("a.e", 0.5, [0.6, 0.9], Rule::within(0.5, 1.0, "r5"));
        l.register(&mut real).unwrap();
        let mut smoke = judged("a.e", 0.5, [0.6, 0.9], Rule::abs(0.01, "r4"));
        smoke.smoke = true;
        l.register(&mut smoke).unwrap();
        assert!(matches!(Ledger::parse("{\"id\":1}"), Err(LedgerError::Parse { line: 1, .. })));
        let no_original = r#"{"id":"x","tolerance":"computed","rationale":"r","registered":"after-results","source_quality":"paper"}"#;
        assert_eq!(Ledger::parse(no_original).unwrap_err(), LedgerError::Original("x".into()));
        // The most specific pattern wins; two equally specific ones are ambiguous.
        let more = format!(
            "{}\n{}",
            TEXT,
            r#"{"id":"a.*","tolerance":"computed","rationale":"r","registered":"before-results","source_quality":"paper"}"#
        );
        Ledger::parse(&more).unwrap().register(&mut j).unwrap();
        let twin = format!(
            "{}\n{}",
            TEXT,
            r#"{"id":"a.*.x","tolerance":"computed","rationale":"r","registered":"before-results","source_quality":"paper"}"#
        );
        assert!(matches!(Ledger::parse(&twin).unwrap().register(&mut j), Err(LedgerError::Ambiguous { .. })));
    }
}
