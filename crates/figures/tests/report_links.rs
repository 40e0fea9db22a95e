//! Every link in the committed `figures/REPORT.md` resolves in a fresh clone: each relative link
//! target (figures, PDFs, result JSON and CSV) is a file in the repository.

use std::path::Path;

#[test]
fn every_report_link_resolves_to_a_committed_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../figures");
    let report = std::fs::read_to_string(dir.join("REPORT.md")).expect("figures/REPORT.md is committed");
    let mut targets = Vec::new();
    let mut rest = report.as_str();
    while let Some(i) = rest.find("](") {
        let tail = &rest[i + 2..];
        let Some(end) = tail.find(')') else { break };
        targets.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    assert!(targets.len() > 100, "found only {} links in REPORT.md: has its format changed?", targets.len());
    for ext in [".svg", ".png", ".pdf", ".json"] {
        assert!(targets.iter().any(|t| t.ends_with(ext)), "no {ext} link in REPORT.md");
    }
    let missing: Vec<&String> = targets
        .iter()
        .filter(|t| !t.contains("://") && !t.starts_with('#'))
        .filter(|t| !dir.join(t).is_file())
        .collect();
    assert!(missing.is_empty(), "{} links in REPORT.md point at no file: {missing:?}", missing.len());
}
