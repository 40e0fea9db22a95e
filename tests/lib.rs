//! Integration-test crate: the tests live beside this file (`markov_theorems.rs`, `config_fuzz.rs`, …).
