//! The committed ledger of every pass rule (`crates/lab/ledger.jsonl`, one entry per claim or family
//! of claims; format in `attnlab_comparator::ledger`). A figure run registers every judgement with
//! it and refuses one whose rule in code differs from its entry, so a rule cannot change without
//! the ledger saying when and from what.

use std::sync::OnceLock;

use attnlab_comparator::{Ledger, LedgerError};

/// The ledger's text, as committed.
pub const TEXT: &str = include_str!("../ledger.jsonl");

/// The parsed ledger (parsed once).
pub fn ledger() -> Result<&'static Ledger, LedgerError> {
    static PARSED: OnceLock<Result<Ledger, LedgerError>> = OnceLock::new();
    PARSED.get_or_init(|| Ledger::parse(TEXT)).as_ref().map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    /// The committed ledger parses (every line, every after-results entry with its original).
    #[test]
    fn the_committed_ledger_parses() {
        let l = super::ledger().expect("crates/lab/ledger.jsonl parses");
        assert!(l.entries.len() > 100);
    }
}
