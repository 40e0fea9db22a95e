//! Content-hash cache of experiment results: key = SHA-256 of (id, config, seed, code version).
//!
//! Each entry is a `ResultRecord` stored at `<dir>/<key>.json`; an index file per experiment id
//! remembers the last key so that a rebuild can say *why* (config, seed or code version changed).
//! All writes are atomic.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Serialize, de::DeserializeOwned};
use serde::{Deserialize};
use sha2::{Digest, Sha256};

use crate::io::write_json_atomic;
use crate::record::ResultRecord;

/// What identifies a result: the experiment id, a hash of its config, its seed and code version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// Experiment id.
    pub id: String,
    /// SHA-256 (hex) of the config's JSON.
    pub config_hash: String,
    /// Base seed.
    pub seed: u64,
    /// Code version of the experiment.
    pub code_version: String,
}

impl CacheKey {
    /// Builds the key of experiment `id` run with `config`, `seed` and `code_version`.
    pub fn new<C: Serialize>(id: &str, config: &C, seed: u64, code_version: &str) -> Self {
        let json = serde_json::to_vec(config).unwrap_or_default();
        Self { id: id.into(), config_hash: hex(&Sha256::digest(&json)), seed, code_version: code_version.into() }
    }

    /// The content hash naming the cache file.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for part in [self.id.as_bytes(), self.config_hash.as_bytes(), self.code_version.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.update(self.seed.to_le_bytes());
        hex(&h.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a result was computed now or read back, and why — one line for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// Read from the cache.
    Reused {
        /// Short content hash.
        digest: String,
    },
    /// Computed now, for the given reason.
    Rebuilt {
        /// Why: "--force", "no cached result", "config changed", "code version changed a → b", …
        reason: String,
    },
}

impl std::fmt::Display for CacheStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheStatus::Reused { digest } => write!(f, "reused (cache hit {digest})"),
            CacheStatus::Rebuilt { reason } => write!(f, "rebuilt ({reason})"),
        }
    }
}

/// A folder of cached results.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    force: bool,
}

impl Cache {
    /// A cache in `dir`; with `force`, every lookup misses (and says so).
    pub fn new(dir: impl Into<PathBuf>, force: bool) -> Self {
        Self { dir: dir.into(), force }
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether ignoring the cache (`--force`).
    pub fn forced(&self) -> bool {
        self.force
    }

    /// The same folder, reading what is there (`--force` off): after forced tasks ran, what draws
    /// the figures reads their fresh results back instead of recomputing them.
    pub fn reading(&self) -> Self {
        Self { dir: self.dir.clone(), force: false }
    }

    /// The wall time (s) of the stored result of `key`, if one is stored and reads back (`--force`
    /// ignored: this asks what is there).
    pub fn stored_wall_time(&self, key: &CacheKey) -> Option<f64> {
        #[derive(Deserialize)]
        struct Head {
            wall_time_s: f64,
        }
        let bytes = std::fs::read(self.entry_path(key)).ok()?;
        serde_json::from_slice::<Head>(&bytes).ok().map(|h| h.wall_time_s)
    }

    /// Whether a result is stored for `key` and would be reused (false under `--force`).
    pub fn has(&self, key: &CacheKey) -> bool {
        self.has_digest(&key.digest())
    }

    /// Whether a result is stored under the content hash `digest` ([`CacheKey::digest`]) and would
    /// be reused (false under `--force`).
    pub fn has_digest(&self, digest: &str) -> bool {
        !self.force && self.dir.join(format!("{digest}.json")).is_file()
    }

    /// The wall time of the last stored result of experiment `id` (any config), if any: what
    /// the same experiment cost last time, as an estimate.
    pub fn last_wall_time(&self, id: &str) -> Option<f64> {
        let prev: CacheKey = std::fs::read(self.index_path(id)).ok().and_then(|b| serde_json::from_slice(&b).ok())?;
        self.stored_wall_time(&prev)
    }

    fn entry_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.digest()))
    }

    fn index_path(&self, id: &str) -> PathBuf {
        let safe: String = id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        self.dir.join("index").join(format!("{safe}.json"))
    }

    /// Returns the cached record for (`id`, `config`, `seed`, `code_version`) or computes it with
    /// `compute`, timing it and storing it. The status says which, and why.
    pub fn get_or_compute<C, R, E>(
        &self,
        id: &str,
        config: &C,
        seed: u64,
        code_version: &str,
        compute: impl FnOnce() -> Result<R, E>,
    ) -> Result<(ResultRecord<C, R>, CacheStatus), E>
    where
        C: Serialize + DeserializeOwned + Clone,
        R: Serialize + DeserializeOwned,
    {
        self.lookup(id, config, seed, code_version, true, compute)
    }

    /// [`get_or_compute`](Self::get_or_compute) for an experiment run many times with different
    /// configs (one training run of a grid): no index of its last key is kept, since "what changed
    /// since the last run of this id" means nothing there; a miss says only that this run is new.
    pub fn get_or_compute_each<C, R, E>(
        &self,
        id: &str,
        config: &C,
        seed: u64,
        code_version: &str,
        compute: impl FnOnce() -> Result<R, E>,
    ) -> Result<(ResultRecord<C, R>, CacheStatus), E>
    where
        C: Serialize + DeserializeOwned + Clone,
        R: Serialize + DeserializeOwned,
    {
        self.lookup(id, config, seed, code_version, false, compute)
    }

    fn lookup<C, R, E>(
        &self,
        id: &str,
        config: &C,
        seed: u64,
        code_version: &str,
        indexed: bool,
        compute: impl FnOnce() -> Result<R, E>,
    ) -> Result<(ResultRecord<C, R>, CacheStatus), E>
    where
        C: Serialize + DeserializeOwned + Clone,
        R: Serialize + DeserializeOwned,
    {
        let key = CacheKey::new(id, config, seed, code_version);
        let path = self.entry_path(&key);
        let reason = if self.force {
            "--force".to_string()
        } else {
            match std::fs::read(&path) {
                Ok(bytes) => match serde_json::from_slice::<ResultRecord<C, R>>(&bytes) {
                    Ok(rec) => {
                        return Ok((rec, CacheStatus::Reused { digest: key.digest()[..12].to_string() }));
                    }
                    Err(e) => format!("cached file unreadable ({e})"),
                },
                Err(_) if indexed => self.miss_reason(&key),
                Err(_) => "no cached result for this config and seed".into(),
            }
        };
        let start = Instant::now();
        let result = compute()?;
        let record = ResultRecord {
            id: id.to_string(),
            config: config.clone(),
            seed,
            code_version: code_version.to_string(),
            wall_time_s: start.elapsed().as_secs_f64(),
            result,
        };
        // A cache that cannot be written is not fatal: the result is still correct.
        let written = write_json_atomic(&path, &record).and_then(|()| if indexed { write_json_atomic(&self.index_path(id), &key) } else { Ok(()) });
        if let Err(e) = written {
            eprintln!("warning: could not write cache entry {}: {e}", path.display());
        } else if let Err(e) = std::fs::read(&path).map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice::<ResultRecord<C, R>>(&b).map(|_| ()).map_err(|e| e.to_string())) {
            // JSON has no NaN or ∞: such a value is stored as null and the record can never be reused.
            eprintln!("warning: the cached result of {id} does not read back ({e}); it will be recomputed every run (a NaN or ∞ stored as null?)");
        }
        Ok((record, CacheStatus::Rebuilt { reason }))
    }

    fn miss_reason(&self, key: &CacheKey) -> String {
        let prev: Option<CacheKey> =
            std::fs::read(self.index_path(&key.id)).ok().and_then(|b| serde_json::from_slice(&b).ok());
        match prev {
            None => "no cached result".into(),
            Some(prev) => {
                let mut why = Vec::new();
                if prev.code_version != key.code_version {
                    why.push(format!("code version changed {} → {}", prev.code_version, key.code_version));
                }
                if prev.config_hash != key.config_hash {
                    why.push("config changed".into());
                }
                if prev.seed != key.seed {
                    why.push(format!("seed changed {} → {}", prev.seed, key.seed));
                }
                if why.is_empty() { "cached file missing".into() } else { why.join(", ") }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("attnlab-cache-{name}-{}", std::process::id()))
    }

    #[test]
    fn miss_then_hit_then_reasons() {
        let dir = tmp("a");
        let cache = Cache::new(&dir, false);
        let run = |cfg: f64, seed, ver: &str| {
            cache.get_or_compute("t.x", &cfg, seed, ver, || Ok::<_, ()>(cfg * 2.0)).unwrap()
        };
        let (r, s) = run(1.5, 1, "v1");
        assert_eq!(r.result, 3.0);
        assert_eq!(s, CacheStatus::Rebuilt { reason: "no cached result".into() });
        let (r2, s2) = run(1.5, 1, "v1");
        assert_eq!(r2, r);
        assert!(matches!(s2, CacheStatus::Reused { .. }));
        let (_, s3) = run(2.5, 1, "v1");
        assert_eq!(s3.to_string(), "rebuilt (config changed)");
        let (_, s4) = run(2.5, 2, "v2");
        assert_eq!(s4.to_string(), "rebuilt (code version changed v1 → v2, seed changed 1 → 2)");
        let forced = Cache::new(&dir, true);
        let (_, s5) = forced.get_or_compute("t.x", &2.5, 2, "v2", || Ok::<_, ()>(5.0)).unwrap();
        assert_eq!(s5.to_string(), "rebuilt (--force)");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_nan_result_is_never_reusable_and_says_why() {
        // JSON stores NaN as null: the record cannot be read back, so it is rebuilt, with the reason.
        let dir = tmp("nan");
        let cache = Cache::new(&dir, false);
        let run = || cache.get_or_compute("t.nan", &1.0, 1, "v", || Ok::<_, ()>(vec![1.0, f64::NAN])).unwrap().1;
        assert_eq!(run().to_string(), "rebuilt (no cached result)");
        let again = run().to_string();
        assert!(again.starts_with("rebuilt (cached file unreadable (invalid type: null"), "{again}");
        let ok = || cache.get_or_compute("t.some", &1.0, 1, "v", || Ok::<_, ()>(vec![Some(1.0), None])).unwrap().1;
        ok();
        assert!(matches!(ok(), CacheStatus::Reused { .. }), "Option<f64> round-trips");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn digest_depends_on_every_part() {
        let base = CacheKey::new("a", &1.0, 1, "v");
        assert_ne!(base.digest(), CacheKey::new("b", &1.0, 1, "v").digest());
        assert_ne!(base.digest(), CacheKey::new("a", &2.0, 1, "v").digest());
        assert_ne!(base.digest(), CacheKey::new("a", &1.0, 2, "v").digest());
        assert_ne!(base.digest(), CacheKey::new("a", &1.0, 1, "w").digest());
        assert_eq!(base.digest(), CacheKey::new("a", &1.0, 1, "v").digest());
    }
}
