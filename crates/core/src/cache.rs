//! Content-hash cache of experiment results: key = SHA-256 of (id, config, seed, code version).
//!
//! Each entry is a `ResultRecord` stored at `<dir>/<key>.json`, with a checksum of its result; an
//! index file per experiment id remembers the last key so that a rebuild can say *why* (config,
//! seed or code version changed). An entry that does not parse or fails its checksum is damaged:
//! it counts as missing everywhere ([`Cache::entry`]). A read-only cache ([`Cache::reading`], what
//! draws the figures) never computes: a miss is an error naming the entry. All writes are atomic.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Deserialize;
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::io::write_json_atomic;
use crate::record::{Platform, ResultRecord, checksum};

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
    /// Put together from other cached results (a Markov training figure from its runs), not stored.
    Assembled,
}

impl std::fmt::Display for CacheStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheStatus::Reused { digest } => write!(f, "reused (cache hit {digest})"),
            CacheStatus::Rebuilt { reason } => write!(f, "rebuilt ({reason})"),
            CacheStatus::Assembled => write!(f, "assembled from cached runs"),
        }
    }
}

/// What a cache holds under one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A record that parses and matches its checksum.
    Sound,
    /// Nothing.
    Missing,
    /// A file that does not parse or fails its checksum (why): counted as missing.
    Damaged(String),
}

/// A read-only cache's miss: the entry it needed and why it is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{id} (key {}): {reason}", &.digest[..12.min(.digest.len())])]
pub struct Miss {
    /// Experiment id.
    pub id: String,
    /// Content hash of the key.
    pub digest: String,
    /// "no cached result", "damaged entry …".
    pub reason: String,
}

/// A folder of cached results.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    force: bool,
    read_only: bool,
    platform: Platform,
}

impl Cache {
    /// A cache in `dir`; with `force`, every lookup misses (and says so). Records it writes say
    /// their platform is unknown unless [`with_platform`](Self::with_platform) names it.
    pub fn new(dir: impl Into<PathBuf>, force: bool) -> Self {
        Self { dir: dir.into(), force, read_only: false, platform: Platform::default() }
    }

    /// The same cache, recording `platform` in every record it writes.
    pub fn with_platform(self, platform: Platform) -> Self {
        Self { platform, ..self }
    }

    /// The platform recorded in what this cache writes.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The same folder, read only (`--force` off): what draws the figures reads the results the
    /// tasks stored and never computes one ([`read`](Self::read) fails naming a missing entry).
    pub fn reading(&self) -> Self {
        Self { force: false, read_only: true, ..self.clone() }
    }

    /// Whether this cache only reads ([`reading`](Self::reading)).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// What is stored under the content hash `digest`: a sound record, nothing, or a damaged file
    /// (not JSON of a record, or a result that fails its checksum). `--force` is ignored: this asks
    /// what is there.
    pub fn entry(&self, digest: &str) -> Entry {
        let Ok(bytes) = std::fs::read(self.dir.join(format!("{digest}.json"))) else { return Entry::Missing };
        match serde_json::from_slice::<ResultRecord<serde_json::Value, serde_json::Value>>(&bytes) {
            Err(e) => Entry::Damaged(format!("damaged entry, not a record ({e})")),
            Ok(rec) => match rec.checksum {
                Some(sum) if sum != checksum(&rec.result) => {
                    Entry::Damaged("damaged entry, its result fails its checksum".into())
                }
                _ => Entry::Sound,
            },
        }
    }

    /// The file of entry `digest`.
    pub fn entry_path_of(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}.json"))
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

    /// Whether a sound result is stored under the content hash `digest` ([`CacheKey::digest`]) and
    /// would be reused (false under `--force`, and for a damaged entry).
    pub fn has_digest(&self, digest: &str) -> bool {
        !self.force && self.entry(digest) == Entry::Sound
    }

    /// The last key stored for experiment `id` (its index), if any.
    pub fn last_key(&self, id: &str) -> Option<CacheKey> {
        std::fs::read(self.index_path(id)).ok().and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// The last key stored for experiment `key.id` with `key`'s config and seed, under whichever
    /// code version (the run index; an experiment's runs at other seeds, such as a confirmation
    /// run, do not overwrite it). Caches written before the run index fall back to the per-id one
    /// when it names the same config and seed.
    pub fn last_key_of_run(&self, key: &CacheKey) -> Option<CacheKey> {
        let read =
            |p: PathBuf| -> Option<CacheKey> { std::fs::read(p).ok().and_then(|b| serde_json::from_slice(&b).ok()) };
        read(self.run_index_path(key)).or_else(|| {
            read(self.index_path(&key.id)).filter(|k| k.config_hash == key.config_hash && k.seed == key.seed)
        })
    }

    fn entry_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.digest()))
    }

    /// The stored record of (`id`, `config`, `seed`, `code_version`), never computing: a missing,
    /// damaged or unreadable entry is a [`Miss`] naming it.
    pub fn read<C, R>(&self, id: &str, config: &C, seed: u64, code_version: &str) -> Result<ResultRecord<C, R>, Miss>
    where
        C: Serialize + DeserializeOwned,
        R: DeserializeOwned,
    {
        let key = CacheKey::new(id, config, seed, code_version);
        let digest = key.digest();
        let miss = |reason: String| Miss { id: id.to_string(), digest: digest.clone(), reason };
        match self.entry(&digest) {
            Entry::Missing => Err(miss("no cached result".into())),
            Entry::Damaged(why) => Err(miss(why)),
            Entry::Sound => {
                let bytes = std::fs::read(self.entry_path(&key)).map_err(|e| miss(e.to_string()))?;
                serde_json::from_slice(&bytes).map_err(|e| miss(format!("unreadable entry ({e})")))
            }
        }
    }

    /// Stores `record` under its own key (atomically; the checksum is computed here).
    pub fn store<C: Serialize, R: Serialize>(&self, record: &ResultRecord<C, R>) -> std::io::Result<()> {
        let key = CacheKey::new(&record.id, &record.config, record.seed, &record.code_version);
        let mut value = serde_json::to_value(record).map_err(std::io::Error::other)?;
        value["checksum"] = serde_json::Value::String(checksum(&record.result));
        write_json_atomic(&self.entry_path(&key), &value)
    }

    fn index_path(&self, id: &str) -> PathBuf {
        self.dir.join("index").join(format!("{}.json", safe_name(id)))
    }

    /// The run index of (experiment, config, seed): `index/<id>/<config hash prefix>-<seed>.json`.
    fn run_index_path(&self, key: &CacheKey) -> PathBuf {
        let prefix = &key.config_hash[..key.config_hash.len().min(16)];
        self.dir.join("index").join(safe_name(&key.id)).join(format!("{prefix}-{}.json", key.seed))
    }

    /// Returns the cached record for (`id`, `config`, `seed`, `code_version`) or computes it with
    /// `compute`, timing it and storing it. The status says which, and why. A read-only cache
    /// ([`reading`](Self::reading)) never computes: a miss is the error [`Miss`].
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
        E: From<Miss>,
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
        E: From<Miss>,
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
        E: From<Miss>,
    {
        let key = CacheKey::new(id, config, seed, code_version);
        let path = self.entry_path(&key);
        if self.read_only {
            return self
                .read(id, config, seed, code_version)
                .map(|rec| (rec, CacheStatus::Reused { digest: key.digest()[..12].to_string() }))
                .map_err(E::from);
        }
        let reason = if self.force {
            "--force".to_string()
        } else {
            match std::fs::read(&path) {
                Ok(bytes) => match serde_json::from_slice::<ResultRecord<C, R>>(&bytes) {
                    Ok(rec) if rec.checksum.as_ref().is_some_and(|sum| *sum != checksum(&rec.result)) => {
                        "damaged entry, its result fails its checksum".to_string()
                    }
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
            platform: self.platform.clone(),
            checksum: Some(checksum(&result)),
            rekeyed: None,
            result,
        };
        // A cache that cannot be written is not fatal: the result is still correct.
        let written = self.store(&record).and_then(|()| {
            if indexed {
                let run_index = self.run_index_path(&key);
                if let Some(dir) = run_index.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                write_json_atomic(&run_index, &key)?;
                write_json_atomic(&self.index_path(id), &key)
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            eprintln!("warning: could not write cache entry {}: {e}", path.display());
        } else if let Err(e) = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<ResultRecord<C, R>>(&b).map(|_| ()).map_err(|e| e.to_string()))
        {
            // JSON has no NaN or ∞: such a value is stored as null and the record can never be
            // read back. It is removed, so that every plan counts it as still to compute.
            let _ = std::fs::remove_file(&path);
            eprintln!(
                "warning: the result of {id} does not read back ({e}); not cached, it will be recomputed every run (a NaN or ∞ stored as null?)"
            );
        }
        Ok((record, CacheStatus::Rebuilt { reason }))
    }

    /// Why (experiment, config, seed, code version) has no result: the same run stored under
    /// another code version, or the experiment's last run at this seed with another config, or
    /// nothing at this config and seed (another seed's run, e.g. a confirmation run, is no reason).
    fn miss_reason(&self, key: &CacheKey) -> String {
        if let Some(prev) = self.last_key_of_run(key) {
            return if prev.code_version != key.code_version {
                format!("code version changed {} → {}", prev.code_version, key.code_version)
            } else {
                "cached file missing".into()
            };
        }
        match self.last_key(&key.id) {
            Some(prev) if prev.seed == key.seed && prev.config_hash != key.config_hash => "config changed".into(),
            Some(_) => "no cached result for this config and seed".into(),
            None => "no cached result".into(),
        }
    }
}

/// A file-name-safe form of an experiment id: ASCII letters, digits, `.` and `-`; anything else `_`.
fn safe_name(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect()
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
            cache.get_or_compute("t.x", &cfg, seed, ver, || Ok::<_, Miss>(cfg * 2.0)).unwrap()
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
        assert_eq!(s4.to_string(), "rebuilt (no cached result for this config and seed)");
        // The run at seed 1 under a new code version: its own run index says why, although the
        // experiment's last stored run (seed 2) has another seed.
        let (_, s4b) = run(2.5, 1, "v2");
        assert_eq!(s4b.to_string(), "rebuilt (code version changed v1 → v2)");
        let forced = Cache::new(&dir, true);
        let (_, s5) = forced.get_or_compute("t.x", &2.5, 2, "v2", || Ok::<_, Miss>(5.0)).unwrap();
        assert_eq!(s5.to_string(), "rebuilt (--force)");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_nan_result_is_never_reusable_and_says_why() {
        // JSON stores NaN as null: the record cannot be read back, so it is rebuilt, with the reason.
        let dir = tmp("nan");
        let cache = Cache::new(&dir, false);
        let run = || cache.get_or_compute("t.nan", &1.0, 1, "v", || Ok::<_, Miss>(vec![1.0, f64::NAN])).unwrap().1;
        assert_eq!(run().to_string(), "rebuilt (no cached result)");
        assert_eq!(run().to_string(), "rebuilt (cached file missing)", "removed, not kept unreadable");
        let ok = || cache.get_or_compute("t.some", &1.0, 1, "v", || Ok::<_, Miss>(vec![Some(1.0), None])).unwrap().1;
        ok();
        assert!(matches!(ok(), CacheStatus::Reused { .. }), "Option<f64> round-trips");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_entry_is_missing_everywhere() {
        let dir = tmp("damaged");
        let cache = Cache::new(&dir, false);
        let key = CacheKey::new("t.d", &1.0, 1, "v");
        cache.get_or_compute("t.d", &1.0, 1, "v", || Ok::<_, Miss>(vec![1.0, 2.0])).unwrap();
        assert_eq!(cache.entry(&key.digest()), Entry::Sound);
        let path = cache.entry_path(&key);
        let text = std::fs::read_to_string(&path).unwrap();
        // Truncated: not a record.
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        assert!(matches!(cache.entry(&key.digest()), Entry::Damaged(why) if why.contains("not a record")));
        assert!(!cache.has_digest(&key.digest()));
        let miss = cache.reading().read::<f64, Vec<f64>>("t.d", &1.0, 1, "v").unwrap_err();
        assert!(miss.to_string().starts_with(&format!("t.d (key {}): damaged entry", &key.digest()[..12])), "{miss}");
        // A changed number: parses, fails its checksum.
        std::fs::write(&path, text.replace("2.0", "2.5")).unwrap();
        assert_eq!(cache.entry(&key.digest()), Entry::Damaged("damaged entry, its result fails its checksum".into()));
        // Recomputed, and sound again.
        let (_, status) = cache.get_or_compute("t.d", &1.0, 1, "v", || Ok::<_, Miss>(vec![1.0, 2.0])).unwrap();
        assert!(matches!(status, CacheStatus::Rebuilt { .. }));
        assert_eq!(cache.entry(&key.digest()), Entry::Sound);
        assert_eq!(cache.reading().read::<f64, Vec<f64>>("t.d", &1.0, 1, "v").unwrap().result, vec![1.0, 2.0]);
        assert_eq!(cache.reading().read::<f64, Vec<f64>>("t.d", &2.0, 1, "v").unwrap_err().reason, "no cached result");
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
