//! Figures of Makkuva et al. (spec `markov.md`): the canonical (e, w, b) landscape and its basins,
//! H* and U over the (p, q) square, SGD on the exact loss, and the trained-transformer figures
//! (F3–F16 of spec §5 and the (p, q) phase diagrams). Each draws the record of its experiment in
//! `attnlab_lab::markov::experiments` and returns the judgements of `attnlab_lab::markov::claims`.

pub mod attention;
pub mod basins;
pub mod entropy;
pub mod grid;
pub mod landscape;
pub mod phase;
pub mod sgd;
pub mod sweep;
pub mod train;

use attnlab_markov::BinaryChain;

use attnlab_lab::markov::experiments as ex;

use crate::FigureSpec;

/// The Markov figures, in report order.
pub fn figures() -> Vec<FigureSpec> {
    vec![
        FigureSpec {
            id: ex::canonical::landscape::ID,
            title: "Canonical (e, w) loss landscape at b*",
            run: landscape::run,
        },
        FigureSpec {
            id: ex::canonical::basin::ID,
            title: "Basins of gradient flow: theory vs integration",
            run: basins::run,
        },
        FigureSpec { id: ex::chain::ID, title: "Entropy rate H* and unigram loss U over (p, q)", run: entropy::run },
        FigureSpec {
            id: ex::canonical::sgd::ID,
            title: "SGD with momentum on the exact canonical loss",
            run: sgd::run,
        },
        FigureSpec {
            id: ex::train::curves::THEORY_ID,
            title: "Theory model (§2a) and attention-free model (F15): tied vs untied",
            run: train::run,
        },
        FigureSpec {
            id: ex::train::curves::TYING_ID,
            title: "GPT-style model, tied vs untied (F4, F6): plateau at U and escape",
            run: train::run,
        },
        FigureSpec {
            id: ex::train::curves::DEPTH_ID,
            title: "GPT-style model at depths L = 1 … 8, p = 0.5, q = 0.8 (F3)",
            run: train::run,
        },
        FigureSpec {
            id: ex::train::phase::ID,
            title: "Phase diagrams over (p, q): theory and GPT-style models, tied vs untied",
            run: phase::run,
        },
        FigureSpec {
            id: ex::train::curves::MEMORY_ID,
            title: "Order-2 lagged chain: memory mask m vs full attention (F9, F10, F12)",
            run: train::run,
        },
        FigureSpec {
            id: ex::train::sweep::ID,
            title: "Order-2 lagged chain: final loss and P̂ vs memory m, by depth (F11, F12)",
            run: sweep::run,
        },
        FigureSpec {
            id: ex::train::attention::ID,
            title: "Theory model: attention output ratio (F13) and attention matrix (F14)",
            run: attention::run,
        },
        FigureSpec { id: ex::train::curves::STATES_ID, title: "V = 5 states, tied vs untied (F16)", run: train::run },
    ]
}

/// Panel caption for a chain: `p = 0.5, q = 0.8 (p+q > 1)`.
pub(crate) fn pq_caption(c: &BinaryChain) -> String {
    let s = c.p() + c.q();
    let rel = if s > 1.0 {
        ">"
    } else if s < 1.0 {
        "<"
    } else {
        "="
    };
    format!("p = {}, q = {} (p+q {rel} 1)", c.p(), c.q())
}
