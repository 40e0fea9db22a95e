//! Fuzz-style property test: every config constructor, fed arbitrary f64s (NaN, ±∞, negatives, 0,
//! 1, huge, tiny), never panics, accepts exactly the valid inputs, and names the first bad field.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::panic::catch_unwind;

use attnlab_core::{ConfigError, Range1};
use attnlab_markov::canonical::CanonicalPoint;
use attnlab_markov::sgd::SgdRun;
use attnlab_markov::{BinaryChain, FlowConfig, LaggedChain, MultiStateChain, SgdConfig};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn wild() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(1.0),
        Just(-1.0),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        Just(1.0 - f64::EPSILON),
        -2.0..2.0f64,
        any::<f64>(),
    ]
}

fn count() -> impl Strategy<Value = usize> {
    prop_oneof![Just(0usize), Just(1), Just(2), 0usize..10, any::<usize>()]
}

fn open01(x: f64) -> bool {
    x > 0.0 && x < 1.0
}

/// Checks the outcome: `expect` is the first bad field (None if all valid).
fn check<T: std::fmt::Debug>(
    r: std::thread::Result<Result<T, ConfigError>>,
    expect: Option<&str>,
) -> Result<(), TestCaseError> {
    let r = r.map_err(|_| TestCaseError::fail("constructor panicked"))?;
    match (r, expect) {
        (Ok(_), None) => Ok(()),
        (Ok(v), Some(f)) => Err(TestCaseError::fail(format!("accepted {v:?} though `{f}` is invalid"))),
        (Err(e), None) => Err(TestCaseError::fail(format!("rejected valid input: {e}"))),
        (Err(e), Some(f)) => {
            prop_assert_eq!(e.field, f);
            let msg = e.to_string();
            prop_assert!(msg.contains(&format!("`{f}`")), "message does not name the field: {}", msg);
            Ok(())
        }
    }
}

fn first_bad<'a>(checks: &[(&'a str, bool)]) -> Option<&'a str> {
    checks.iter().find(|(_, ok)| !ok).map(|(f, _)| *f)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/config_fuzz.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn binary_chain(p in wild(), q in wild()) {
        check(catch_unwind(|| BinaryChain::new(p, q)), first_bad(&[("p", open01(p)), ("q", open01(q))]))?;
    }

    #[test]
    fn multi_state(p in wild(), v in count()) {
        check(catch_unwind(|| MultiStateChain::new(p, v)), first_bad(&[("p", open01(p)), ("states", v >= 2)]))?;
    }

    #[test]
    fn lagged(order in count(), alpha in wild()) {
        let chain = BinaryChain::new(0.2, 0.3).unwrap();
        check(
            catch_unwind(|| LaggedChain::new(chain, order, alpha)),
            first_bad(&[("order", order >= 1), ("alpha", (0.0..=1.0).contains(&alpha))]),
        )?;
    }

    #[test]
    fn range(lo in wild(), hi in wild(), n in count()) {
        check(
            catch_unwind(|| Range1::new(lo, hi, n)),
            first_bad(&[("lo", lo.is_finite()), ("hi", hi.is_finite() && hi > lo), ("n", n >= 2)]),
        )?;
    }

    #[test]
    fn flow(t in wild(), r in wild(), a in wild(), g in wild()) {
        let pos = |x: f64| x.is_finite() && x > 0.0;
        check(
            catch_unwind(|| FlowConfig::new(t, r, a, g)),
            first_bad(&[("t_max", pos(t)), ("rtol", pos(r)), ("atol", pos(a)), ("grad_tol", pos(g))]),
        )?;
    }

    #[test]
    fn sgd(lr in wild(), mu in wild(), steps in count(), std in wild()) {
        check(
            catch_unwind(|| SgdConfig::new(lr, mu, steps, std)),
            first_bad(&[
                ("momentum", (0.0..1.0).contains(&mu)),
                ("lr", lr.is_finite() && lr > 0.0),
                ("steps", steps >= 1),
                ("init_std", std.is_finite() && std >= 0.0),
            ]),
        )?;
    }

    #[test]
    fn canonical_point(e in wild(), w in wild(), b in wild()) {
        check(
            catch_unwind(|| CanonicalPoint::new(e, w, b)),
            first_bad(&[("e", e.is_finite()), ("w", w.is_finite()), ("b", b.is_finite())]),
        )?;
    }

    #[test]
    fn sgd_run(b in wild(), seeds in count(), every in count()) {
        let chain = BinaryChain::new(0.2, 0.3).unwrap();
        let sgd = SgdConfig::new(0.01, 0.9, 10, 0.1).unwrap();
        check(
            catch_unwind(|| SgdRun::new(chain, sgd, b, seeds, every)),
            first_bad(&[("b_init", b.is_finite()), ("seeds", seeds >= 1), ("log_every", every >= 1)]),
        )?;
    }
}
