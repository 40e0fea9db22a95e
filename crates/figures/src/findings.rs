//! The Findings section's text: one entry per phenomenon behind rows that do not agree, written
//! after reading the evidence, in `crates/figures/findings.md`. Each entry names the claims it
//! explains (ids, `*` for any text), whether it is an artefact (size, horizon, design,
//! implementation) or a finding, and says what was expected, what was seen and what decides it.
//! REPORT.md places each entry beside its rows and lists every non-agreeing row no entry explains.

use attnlab_comparator::ledger::matches;

/// The committed text.
pub const TEXT: &str = include_str!("../findings.md");

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Short title.
    pub title: String,
    /// The claim ids (or patterns) it explains.
    pub ids: Vec<String>,
    /// `finding`, or `artefact (size|horizon|design|implementation)`.
    pub class: String,
    /// The paragraph(s), markdown.
    pub text: String,
}

impl Finding {
    /// Whether it explains claim `id`.
    pub fn covers(&self, id: &str) -> bool {
        self.ids.iter().any(|p| matches(p, id))
    }
}

/// Parses the findings text: entries start at `## title`, followed by `ids: a, b.*` and
/// `class: …` lines, then the text up to the next `## `. Anything before the first entry is
/// ignored. An entry without ids or class is an error naming it.
pub fn parse(text: &str) -> Result<Vec<Finding>, String> {
    let mut out: Vec<Finding> = Vec::new();
    let mut cur: Option<Finding> = None;
    let close = |f: Finding, out: &mut Vec<Finding>| -> Result<(), String> {
        if f.ids.is_empty() || f.class.is_empty() {
            return Err(format!("finding `{}` needs an `ids:` and a `class:` line", f.title));
        }
        out.push(Finding { text: f.text.trim().to_string(), ..f });
        Ok(())
    };
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            if let Some(f) = cur.take() {
                close(f, &mut out)?;
            }
            cur = Some(Finding { title: title.trim().into(), ids: vec![], class: String::new(), text: String::new() });
            continue;
        }
        let Some(f) = cur.as_mut() else { continue };
        if let Some(ids) = line.strip_prefix("ids:") {
            f.ids.extend(ids.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
        } else if let Some(class) = line.strip_prefix("class:") {
            f.class = class.trim().into();
        } else {
            f.text.push_str(line);
            f.text.push('\n');
        }
    }
    if let Some(f) = cur.take() {
        close(f, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_refuses_an_incomplete_one() {
        let t = "# Findings\nintro\n## A\nids: x.*, y\nclass: finding\nline one\n\nline two\n## B\nids: z\nclass: artefact (horizon)\nt\n";
        let f = parse(t).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].ids, ["x.*", "y"]);
        assert_eq!(f[0].text, "line one\n\nline two");
        assert!(f[0].covers("x.q") && f[0].covers("y") && !f[0].covers("z"));
        assert_eq!(f[1].class, "artefact (horizon)");
        assert!(parse("## C\nclass: finding\n").is_err());
    }

    #[test]
    fn the_committed_findings_parse() {
        let f = parse(TEXT).expect("crates/figures/findings.md parses");
        assert!(!f.is_empty());
    }
}
