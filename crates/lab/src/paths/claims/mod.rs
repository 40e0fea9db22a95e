//! paths claims: a result → judgements through the comparator.
