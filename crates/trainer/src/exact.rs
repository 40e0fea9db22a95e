//! Exact finite-N loss (filled below).
