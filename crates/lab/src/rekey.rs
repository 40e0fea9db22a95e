//! Early cutoff after a refactor (`cargo xtask rekey`): when a code version changes, the tasks
//! cached under the old one are not thrown away blindly. A sample of them is rerun under the new
//! code and compared with the old records bit for bit (wall times aside); if every one is
//! identical, every other cached task of that unit is carried over to its new key (an alias,
//! recorded in `<cache>/aliases.jsonl` and in each carried record's `rekeyed`, naming the commit
//! that verified it); if any differs, nothing is carried over and everything reruns.
//!
//! The sample covers every code path a unit's tasks take. For Markov training runs a path is
//! one value of: architecture × tying, data kind (binary, lagged, multi-state), memory window or
//! none, depth 1 or more, attention probe or not; the cheapest tasks are taken first until every
//! value that occurs among the cached tasks is covered by a rerun task (at paper scale this is 10
//! of 1,147 runs, about 9 minutes single-thread). Any other experiment is its own path: each of its
//! tasks is rerun (they are one task per figure).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use attnlab_core::{CacheKey, Rekeyed, ResultRecord};
use serde::Serialize;
use serde_json::Value;

use crate::registry;
use crate::task::{self, TRAIN_RUN, Task};
use crate::{Lab, LabError};

/// A cached record found under an older code version for a task of the plan.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index of the task in the plan.
    pub task: usize,
    /// Content hash of the old entry.
    pub old_digest: String,
}

/// The tasks of one unit (a paper's experiments, or the Markov training runs) cached under one old
/// code version and planned under a new one.
#[derive(Debug, Clone)]
pub struct Group {
    /// The unit: `markov.train.run`, or a paper's name.
    pub unit: String,
    /// The old code version.
    pub from: String,
    /// The new code version.
    pub to: String,
    /// Every such task.
    pub candidates: Vec<Candidate>,
    /// Indices into `candidates` of the sample to rerun.
    pub sample: Vec<usize>,
}

/// What [`rekey`] did with a group.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The unit.
    pub unit: String,
    /// Old code version.
    pub from: String,
    /// New code version.
    pub to: String,
    /// Tasks rerun and compared (their names).
    pub sampled: Vec<String>,
    /// Tasks carried over to their new key without a rerun (0 when anything differed).
    pub aliased: usize,
    /// Fields the old records have and the new code no longer writes (dropped from the carried
    /// records), as JSON paths with `[]` for any index.
    pub dropped: Vec<String>,
    /// Of those, the ones the claims now derive from the record (a run's ending and plateau): for
    /// every sampled task, derived from the new record and compared with the old record's value.
    pub rederived: Vec<String>,
    /// Differences found (empty: identical). Nothing is aliased when any is found.
    pub differences: Vec<String>,
    /// Sampled tasks that failed to run.
    pub failures: Vec<String>,
}

/// The features of a task whose values each need a rerun task (see the module's doc).
fn code_paths(t: &Task) -> BTreeSet<String> {
    if t.experiment != TRAIN_RUN {
        return BTreeSet::from([format!("experiment {} {}", t.experiment, t.key)]);
    }
    let c = &t.config;
    let get = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
    let layers = get("layers").as_u64().unwrap_or(1);
    BTreeSet::from([
        format!("arch {} tying {}", get("arch"), get("tying")),
        format!("data {}", c.get("data").and_then(|d| d.get("kind")).cloned().unwrap_or(Value::Null)),
        format!("memory {}", !get("memory").is_null()),
        format!("deep {}", layers > 1),
        format!("probe {}", get("probe")),
    ])
}

/// The cheapest tasks first until every code-path value among `tasks` is covered.
pub fn sample(tasks: &[&Task]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by(|&a, &b| tasks[a].cost_s.total_cmp(&tasks[b].cost_s).then(tasks[a].key.cmp(&tasks[b].key)));
    let mut covered = BTreeSet::new();
    let mut picked = Vec::new();
    for i in order {
        let paths = code_paths(tasks[i]);
        if !paths.is_subset(&covered) {
            covered.extend(paths);
            picked.push(i);
        }
    }
    picked.sort_unstable();
    picked
}

/// (id, config hash, seed) → (digest, code version) of every sound entry in the cache folder.
fn index(lab: &Lab) -> HashMap<(String, String, u64), Vec<(String, String)>> {
    let mut out: HashMap<(String, String, u64), Vec<(String, String)>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir(lab.cache.dir()) else { return out };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(digest) = name.strip_suffix(".json") else { continue };
        if lab.cache.entry(digest) != attnlab_core::Entry::Sound {
            continue;
        }
        let Ok(rec) = std::fs::read(e.path())
            .map_err(|_| ())
            .and_then(|b| serde_json::from_slice::<ResultRecord<Value, Value>>(&b).map_err(|_| ()))
        else {
            continue;
        };
        let key = CacheKey::new(&rec.id, &rec.config, rec.seed, &rec.code_version);
        // Only an entry stored under its own key (a config that serialises as it did).
        if key.digest() == digest {
            out.entry((rec.id, key.config_hash, rec.seed)).or_default().push((digest.to_string(), rec.code_version));
        }
    }
    out
}

/// The unit a task's code version belongs to.
fn unit_of(t: &Task) -> String {
    if task::version_of(&t.paper, &t.experiment) == crate::code_version(&t.paper) {
        t.paper.clone()
    } else {
        t.experiment.clone()
    }
}

/// The groups of `plan`: its tasks not cached under their key but cached under an older code
/// version, by unit and old version, each with its sample.
pub fn groups(lab: &Lab, plan: &[Task]) -> Vec<Group> {
    let idx = index(lab);
    let mut by: BTreeMap<(String, String, String), Vec<Candidate>> = BTreeMap::new();
    for (i, t) in plan.iter().enumerate().filter(|(_, t)| !t.cached) {
        let key = CacheKey::new(&t.experiment, &t.config, t.seed, &t.code_version);
        let Some(old) = idx.get(&(t.experiment.clone(), key.config_hash, t.seed)) else { continue };
        // The newest old version when several are cached (by name: any one is a valid candidate).
        let Some((digest, version)) = old.iter().filter(|(_, v)| *v != t.code_version).max_by(|a, b| a.1.cmp(&b.1))
        else {
            continue;
        };
        by.entry((unit_of(t), version.clone(), t.code_version.clone()))
            .or_default()
            .push(Candidate { task: i, old_digest: digest.clone() });
    }
    by.into_iter()
        .map(|((unit, from, to), candidates)| {
            let tasks: Vec<&Task> = candidates.iter().map(|c| &plan[c.task]).collect();
            let sample = sample(&tasks);
            Group { unit, from, to, candidates, sample }
        })
        .collect()
}

/// Whether a field is a time, which no rerun repeats (never compared): by the project's naming,
/// seconds are `…_s` (`wall_s`, `wall_time_s`, `solve_s`) or `seconds_…`.
fn is_wall_time(key: &str) -> bool {
    key.ends_with("_s") || key.starts_with("seconds")
}

/// Compares an old and a new result: differences and the paths the new one no longer has.
fn compare(old: &Value, new: &Value, path: &str, dropped: &mut BTreeSet<String>, differences: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                if is_wall_time(k) {
                    continue;
                }
                match b.get(k) {
                    Some(w) => compare(v, w, &format!("{path}.{k}"), dropped, differences),
                    None => {
                        dropped.insert(format!("{path}.{k}"));
                    }
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k) && !is_wall_time(k)) {
                differences.push(format!("{path}.{k}: new field, not in the old record"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            let p = format!("{path}[]");
            for (v, w) in a.iter().zip(b) {
                compare(v, w, &p, dropped, differences);
            }
        }
        _ if old == new => {}
        _ => {
            let show = |v: &Value| {
                let s = v.to_string();
                if s.len() > 60 { format!("{}…", &s[..60]) } else { s }
            };
            differences.push(format!("{path}: {} → {}", show(old), show(new)));
        }
    }
}

/// What the claims derive from a record that older records stored in it: a training run's
/// ending and plateau at U (moved out of the trainer), by top-level field name.
fn derived(experiment: &str, result: &Value) -> serde_json::Map<String, Value> {
    use crate::markov::claims::train::ending::{Ending, Plateau};
    let mut out = serde_json::Map::new();
    if experiment == TRAIN_RUN
        && let Ok(o) = serde_json::from_value::<attnlab_trainer::TrainOutcome>(result.clone())
    {
        out.insert("ending".into(), serde_json::to_value(Ending::of(&o)).unwrap_or(Value::Null));
        out.insert("plateau".into(), serde_json::to_value(Plateau::of_run(&o)).unwrap_or(Value::Null));
    }
    out
}

/// Removes `paths` (as [`compare`] names them) from `v`.
fn drop_paths(v: &mut Value, path: &str, paths: &BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !paths.contains(&format!("{path}.{k}")));
            for (k, w) in m.iter_mut() {
                drop_paths(w, &format!("{path}.{k}"), paths);
            }
        }
        Value::Array(a) => {
            for w in a {
                drop_paths(w, &format!("{path}[]"), paths);
            }
        }
        _ => {}
    }
}

fn read_record(lab: &Lab, digest: &str) -> Result<ResultRecord<Value, Value>, LabError> {
    let path = lab.cache.entry_path_of(digest);
    let bytes = std::fs::read(&path).map_err(|e| LabError::io(&path, e))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// One line of `<cache>/aliases.jsonl`.
#[derive(Serialize)]
struct AliasLine<'a> {
    unit: &'a str,
    from: &'a str,
    to: &'a str,
    verified_by: &'a str,
    sample: &'a [String],
    aliased: usize,
    dropped: &'a [String],
}

/// Reruns each group's sample (`jobs` at a time) and compares; carries every other task of a group
/// over to its new key when the whole sample is identical. `commit` names the build that verified
/// (recorded in the carried records and `aliases.jsonl`).
pub fn rekey(lab: &Lab, plan: &[Task], groups: &[Group], commit: &str, jobs: usize) -> Result<Vec<Outcome>, LabError> {
    let mut outcomes = Vec::new();
    for g in groups {
        let sampled: Vec<Task> = g.sample.iter().map(|&k| plan[g.candidates[k].task].clone()).collect();
        let done = registry::execute(lab, &sampled, jobs);
        let failures: Vec<String> = done.failures.iter().map(|f| format!("{}: {}", f.task, f.error)).collect();
        let mut dropped = BTreeSet::new();
        let mut rederived = BTreeSet::new();
        let mut differences = Vec::new();
        for (&k, t) in g.sample.iter().zip(&sampled) {
            if done.failures.iter().any(|f| f.task == t.name()) {
                continue;
            }
            let old = read_record(lab, &g.candidates[k].old_digest)?;
            let new = read_record(lab, &t.key)?;
            let mut diffs = Vec::new();
            compare(&old.result, &new.result, "result", &mut dropped, &mut diffs);
            // A field moved into the claims: what the claims derive now must be what was stored.
            for (field, now) in derived(&t.experiment, &new.result) {
                if let Some(before) = old.result.get(&field).filter(|_| new.result.get(&field).is_none()) {
                    rederived.insert(format!("result.{field}"));
                    if *before != now {
                        diffs.push(format!("result.{field} (now derived by the claims): {before} → {now}"));
                    }
                }
            }
            differences.extend(diffs.into_iter().map(|d| format!("{}: {d}", t.name())));
        }
        let sample_keys: Vec<String> = sampled.iter().map(|t| t.key.clone()).collect();
        let dropped: Vec<String> = dropped.into_iter().collect();
        let mut aliased = 0;
        if differences.is_empty() && failures.is_empty() {
            let paths: BTreeSet<String> = dropped.iter().cloned().collect();
            for (k, c) in g.candidates.iter().enumerate() {
                if g.sample.contains(&k) || lab.cache.has_digest(&plan[c.task].key) {
                    continue;
                }
                let mut rec = read_record(lab, &c.old_digest)?;
                drop_paths(&mut rec.result, "result", &paths);
                rec.rekeyed = Some(Rekeyed {
                    from_code_version: rec.code_version.clone(),
                    verified_by: commit.to_string(),
                    sample: sample_keys.clone(),
                });
                rec.code_version = g.to.clone();
                let key = CacheKey::new(&rec.id, &rec.config, rec.seed, &rec.code_version);
                if key.digest() != plan[c.task].key {
                    return Err(LabError::RekeyMismatch { task: plan[c.task].name() });
                }
                lab.cache.store(&rec).map_err(|e| LabError::io(&lab.cache.entry_path_of(&plan[c.task].key), e))?;
                aliased += 1;
            }
            let line = AliasLine {
                unit: &g.unit,
                from: &g.from,
                to: &g.to,
                verified_by: commit,
                sample: &sample_keys,
                aliased,
                dropped: &dropped,
            };
            append_line(&lab.cache.dir().join("aliases.jsonl"), &serde_json::to_string(&line)?)?;
        }
        outcomes.push(Outcome {
            unit: g.unit.clone(),
            from: g.from.clone(),
            to: g.to.clone(),
            sampled: sampled.iter().map(Task::name).collect(),
            aliased,
            dropped,
            rederived: rederived.into_iter().collect(),
            differences,
            failures,
        });
    }
    Ok(outcomes)
}

/// Appends one line to a log file (read, append, write atomically: concurrent rekeys are not
/// expected; a lost line loses only the log, the carried records name their origin themselves).
fn append_line(path: &std::path::Path, line: &str) -> Result<(), LabError> {
    let mut text = std::fs::read_to_string(path).unwrap_or_default();
    text.push_str(line);
    text.push('\n');
    attnlab_core::io::write_atomic(path, text.as_bytes()).map_err(|e| LabError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compare_ignores_wall_times_and_names_dropped_fields() {
        let old = json!({"a": 1.0, "wall_s": 3.0, "ending": "global", "curve": [{"x": 1, "gone": 2, "solve_s": 1.0}]});
        let new = json!({"a": 1.0, "wall_s": 4.0, "curve": [{"x": 1, "solve_s": 2.0}]});
        let (mut dropped, mut diffs) = (BTreeSet::new(), Vec::new());
        compare(&old, &new, "result", &mut dropped, &mut diffs);
        assert!(diffs.is_empty(), "{diffs:?}");
        assert_eq!(dropped.iter().cloned().collect::<Vec<_>>(), ["result.curve[].gone", "result.ending"]);
        let mut carried = old.clone();
        drop_paths(&mut carried, "result", &dropped);
        assert_eq!(carried, json!({"a": 1.0, "wall_s": 3.0, "curve": [{"x": 1, "solve_s": 1.0}]}));
        let changed = json!({"a": 1.0000000000000002, "wall_s": 3.0, "curve": [{"x": 1, "solve_s": 1.0}], "extra": 1});
        compare(&old, &changed, "result", &mut dropped, &mut diffs);
        assert_eq!(diffs, ["result.a: 1.0 → 1.0000000000000002", "result.extra: new field, not in the old record"]);
    }
}
