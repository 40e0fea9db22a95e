//! One Markov training run, the unit a figures run, a Slurm array task or a sweep schedules: a
//! checked [`TrainConfig`] (seed included) trained by the seeded candle trainer and cached on its
//! own. Its cache key's code version covers this file and the crates it runs (the trainer and its
//! dependencies, less the files a run never executes: `build/source_hash.rs` `UNITS`), not the
//! figure experiments that list runs, so changing a figure's grid or seeds reruns only the runs
//! that are new. How a run ended is judged by the claims from its stored curve
//! (`claims::train::ending`), not here.

use attnlab_core::CacheStatus;
use attnlab_trainer::{TrainConfig, TrainOutcome};

use crate::Lab;
use crate::LabError;
use crate::task::TRAIN_RUN;

/// Trains run `c` (or reads it back from the cache), keeping the evaluation curve and dropping the
/// per-step training losses.
pub fn train_one(lab: &Lab, c: &TrainConfig) -> Result<(TrainOutcome, CacheStatus), LabError> {
    let (rec, status) = lab.cached_each(TRAIN_RUN, TRAIN_RUN, c, c.seed, || {
        let mut o = c.clone().run()?;
        o.train_loss = Vec::new();
        Ok::<_, LabError>(o)
    })?;
    Ok((rec.result, status))
}
