//! Saving and loading a run's weights (safetensors, with the validated config in the metadata).
//! Outside a training run's cache key: a run never executes it (`build/source_hash.rs` `UNITS`).

use candle_core::Tensor;

use crate::TrainError;
use crate::config::TrainConfig;
use crate::train::Run;

impl Run {
    /// Saves the weights as safetensors, with the validated config (`config`, JSON) and attnlab's
    /// version (`attnlab_version`) in the file's metadata, so [`Run::load`] can rebuild the run.
    /// The file is written atomically and created the ordinary way, so it gets the permissions of
    /// any file the user creates (the safetensors crate's own file writer leaves it 0600).
    pub fn save(&self, path: &std::path::Path) -> Result<(), TrainError> {
        let err = |reason: String| TrainError::Weights { path: path.to_path_buf(), reason };
        let tensors: Vec<(String, Tensor)> =
            self.model.params.iter().map(|p| (p.name.clone(), p.var.as_tensor().clone())).collect();
        let mut meta = std::collections::HashMap::new();
        meta.insert("attnlab_version".to_string(), attnlab_core::CODE_VERSION.to_string());
        meta.insert("config".to_string(), serde_json::to_string(&self.config).map_err(|e| err(e.to_string()))?);
        let bytes = safetensors::serialize(tensors.iter().map(|(k, t)| (k.as_str(), t)), Some(meta))
            .map_err(|e| err(e.to_string()))?;
        attnlab_core::io::write_atomic(path, &bytes).map_err(|e| err(e.to_string()))
    }

    /// Rebuilds a run from a file written by [`Run::save`]: its config from the metadata (checked
    /// again), then every parameter from its tensor (a missing or misshapen one is an error).
    pub fn load(path: &std::path::Path) -> Result<Self, TrainError> {
        let err = |reason: String| TrainError::Weights { path: path.to_path_buf(), reason };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| err(e.to_string()))?;
        let config = meta.metadata().as_ref().and_then(|m| m.get("config")).ok_or_else(|| {
            err("no `config` in its metadata (not written by `attnlab markov train --save-weights`)".into())
        })?;
        let config: TrainConfig = serde_json::from_str(config).map_err(|e| err(format!("its config: {e}")))?;
        let run = Run::new(config)?;
        let tensors = candle_core::safetensors::load_buffer(&bytes, &run.dev)?;
        for p in &run.model.params {
            let t = tensors.get(&p.name).ok_or_else(|| err(format!("no tensor `{}`", p.name)))?;
            if t.dims() != p.var.as_tensor().dims() {
                return Err(err(format!(
                    "tensor `{}` has shape {:?}, the config needs {:?}",
                    p.name,
                    t.dims(),
                    p.var.as_tensor().dims()
                )));
            }
            p.var.set(&t.to_dtype(p.var.as_tensor().dtype())?)?;
        }
        Ok(run)
    }
}
