//! Parallel loops of the trainer's fused CPU ops (rayon), run inline when there is nothing to split.

use rayon::prelude::*;

/// Calls `f(i, item)` for every item of `items` (i its index), spread over rayon's pool; on the
/// calling thread alone for a single item or a single-threaded pool.
pub(crate) fn for_each<I: Send>(items: Vec<I>, f: impl Fn(usize, I) + Sync) {
    if items.len() <= 1 || rayon::current_num_threads() <= 1 {
        for (i, item) in items.into_iter().enumerate() {
            f(i, item);
        }
        return;
    }
    items.into_par_iter().enumerate().for_each(|(i, item)| f(i, item));
}
