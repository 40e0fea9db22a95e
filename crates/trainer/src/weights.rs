//! Saving and loading a run's weights (safetensors, with the validated config in the metadata).
//! Outside a training run's cache key: a run never executes it (`build/source_hash.rs` `UNITS`).

use candle_core::Tensor;

use crate::TrainError;
use crate::config::TrainConfig;
use crate::train::Run;

/// Removes the partial files `.<name>.<host>.<pid>.<tag>.tmp` (what `attnlab_core::io::write_atomic`
/// writes before its rename) next to `path` that a killed process of this host left: their pid no
/// longer runs. Another host's or a live process's partial files are left alone.
fn remove_stale_partials(path: &std::path::Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return };
    let dir = if dir.as_os_str().is_empty() { std::path::Path::new(".") } else { dir };
    let prefix = format!(".{}.", name.to_string_lossy());
    let tag = attnlab_core::io::unique_tag();
    let host = tag.rsplitn(3, '.').nth(2).unwrap_or_default().to_string();
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(mid) = file.strip_prefix(&prefix).and_then(|m| m.strip_suffix(".tmp")) else { continue };
        let mut parts = mid.rsplitn(3, '.');
        let (_, pid, their_host) = (parts.next(), parts.next(), parts.next());
        let alive = pid.is_some_and(|p| std::path::Path::new("/proc").join(p).exists());
        if their_host == Some(host.as_str()) && !alive {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

impl Run {
    /// Saves the weights as safetensors, with the validated config (`config`, JSON) and attnlab's
    /// version (`attnlab_version`) in the file's metadata, so [`Run::load`] can rebuild the run.
    /// The file is written atomically and created the ordinary way, so it gets the permissions of
    /// any file the user creates (the safetensors crate's own file writer leaves it 0600).
    pub fn save(&self, path: &std::path::Path) -> Result<(), TrainError> {
        self.save_with(path, &[])
    }

    /// [`Run::save`] with extra metadata entries (e.g. the build's `git_commit` and
    /// `cargo_lock_sha256`, which only the binary knows). Partial files a killed earlier save of the
    /// same path left behind (this host's, their process gone) are removed first.
    pub fn save_with(&self, path: &std::path::Path, extra: &[(&str, &str)]) -> Result<(), TrainError> {
        let err = |reason: String| TrainError::Weights { path: path.to_path_buf(), reason };
        remove_stale_partials(path);
        let tensors: Vec<(String, Tensor)> =
            self.model.params.iter().map(|p| (p.name.clone(), p.var.as_tensor().clone())).collect();
        let mut meta = std::collections::HashMap::new();
        meta.insert("attnlab_version".to_string(), attnlab_core::CODE_VERSION.to_string());
        meta.insert("config".to_string(), serde_json::to_string(&self.config).map_err(|e| err(e.to_string()))?);
        for (k, v) in extra {
            meta.insert((*k).to_string(), (*v).to_string());
        }
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
