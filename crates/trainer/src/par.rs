//! Parallel loops of the trainer's fused CPU ops on candle's own worker pool (the one its
//! element-wise ops use), so that a training step runs one set of worker threads instead of
//! candle's and rayon's taking turns (and spin-waiting) on the same cores.

use std::sync::Mutex;

/// Calls `f(i, item)` for every item of `items` (i its index), spread over candle's worker pool;
/// on the calling thread alone when candle runs single-threaded.
pub(crate) fn for_each<I: Send>(items: Vec<I>, f: impl Fn(usize, I) + Sync) {
    if items.len() <= 1 || candle_core::utils::get_num_threads() <= 1 {
        for (i, item) in items.into_iter().enumerate() {
            f(i, item);
        }
        return;
    }
    let slots: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    candle_core::utils::barrier_pool().execute_chunked(slots.len(), |range| {
        for i in range {
            let item = slots[i].lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(item) = item {
                f(i, item);
            }
        }
    });
}
