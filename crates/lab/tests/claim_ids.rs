//! A claim lives in exactly one place: every claim id in the committed `figures/REPORT.md` is
//! written out in full in its paper's claims module, so one grep finds where it is judged.

use std::path::Path;

fn read_rs(dir: &Path, out: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            read_rs(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
}

/// Claim ids of the report's verdict table (rows that start with a backquoted id).
fn report_ids(report: &str) -> Vec<String> {
    report
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|id| id.contains('.'))
        .map(String::from)
        .collect()
}

#[test]
fn every_reported_claim_id_is_written_out_in_its_claims_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let report = std::fs::read_to_string(root.join("figures/REPORT.md")).expect("figures/REPORT.md is committed");
    let ids = report_ids(&report);
    assert!(ids.len() > 100, "found only {} claim ids in REPORT.md: has its table format changed?", ids.len());
    let mut missing = Vec::new();
    for id in &ids {
        let paper = id.split('.').next().unwrap_or_default();
        let mut text = String::new();
        read_rs(&root.join("crates/lab/src").join(paper).join("claims"), &mut text);
        if !text.contains(id.as_str()) {
            missing.push(id.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} claim ids are not written out in crates/lab/src/<paper>/claims/: {missing:?}",
        missing.len()
    );
}
