//! A plan for a Slurm cluster: `DIR/tasks.jsonl` (one task a line) and `DIR/submit.sh`, which
//! submits an `sbatch --array` over the task indices (each array task runs one task into a cache
//! folder the nodes share) and one job that runs after all of them succeeded
//! (`--dependency=afterok:<array>`) to draw the figures or assemble the sweep from that cache.
//!
//! Resubmitting is safe: a task whose result is already cached returns at once. A failed array task
//! writes `DIR/failed/<index>.txt` naming the task and its error; the others' results stay in the
//! cache, and Slurm cancels the drawing job when the cluster runs with
//! `DependencyParameters=kill_invalid_depend` (else it stays pending: `scancel` it).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::LabError;
use crate::task::{Task, write_jsonl};

/// `sbatch` options of both jobs.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--partition` (the cluster's default when None).
    pub partition: Option<String>,
    /// `--time` of each array task, e.g. `02:00:00` (the partition's default when None).
    pub time: Option<String>,
    /// `--cpus-per-task` (threads per task: 1 is fastest per core for these tiny models).
    pub cpus_per_task: usize,
}

/// What to run: the commands, as argument lists (the first is the program), with absolute paths.
#[derive(Debug, Clone)]
pub struct Jobs {
    /// A name for the jobs (`attnlab-figures`, `attnlab-sweep`).
    pub name: String,
    /// The command that runs one task; ` --index $SLURM_ARRAY_TASK_ID` is appended.
    pub task_command: Vec<String>,
    /// The command of the job that runs after every task succeeded.
    pub final_command: Vec<String>,
}

/// Quotes one shell word (single quotes; a `'` inside becomes `'\''`).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn command_line(words: &[String]) -> String {
    words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
}

/// Writes `dir/tasks.jsonl` and `dir/submit.sh` (executable) for `tasks`; returns the script's path.
/// The array covers every task (cached ones return at once); `dir/logs/` receives one log per task.
pub fn write(dir: &Path, tasks: &[Task], jobs: &Jobs, opts: &SlurmOptions) -> Result<PathBuf, LabError> {
    if tasks.is_empty() {
        return Err(LabError::EmptyPlan);
    }
    if opts.cpus_per_task == 0 {
        return Err(attnlab_core::ConfigError::new("cpus_per_task", "0", "must be at least 1").into());
    }
    std::fs::create_dir_all(dir.join("logs")).map_err(|e| LabError::io(dir, e))?;
    let dir = dir.canonicalize().map_err(|e| LabError::io(dir, e))?;
    let tasks_file = dir.join("tasks.jsonl");
    write_jsonl(&tasks_file, tasks)?;
    let cached = tasks.iter().filter(|t| t.cached).count();
    let est: f64 = tasks.iter().filter(|t| !t.cached).map(|t| t.cost_s).sum();
    let mut common = format!("--job-name={} --cpus-per-task={}", shell_quote(&jobs.name), opts.cpus_per_task);
    if let Some(p) = &opts.partition {
        let _ = write!(common, " --partition={}", shell_quote(p));
    }
    let mut array_opts = common.clone();
    if let Some(t) = &opts.time {
        let _ = write!(array_opts, " --time={}", shell_quote(t));
    }
    let task_cmd = command_line(&jobs.task_command);
    let final_cmd = command_line(&jobs.final_command);
    let last = tasks.len() - 1;
    let mut s = String::new();
    let _ = writeln!(s, "#!/usr/bin/env bash");
    let _ = writeln!(
        s,
        "# Written by attnlab: {} task(s) ({cached} already cached; about {:.0} single-thread seconds to compute).",
        tasks.len(),
        est
    );
    let _ = writeln!(
        s,
        "# Run it on the cluster's login node: bash {}",
        shell_quote(&dir.join("submit.sh").display().to_string())
    );
    let _ = writeln!(s, "# Array task i runs line i (from 0) of tasks.jsonl; logs/task-<i>.out holds its output and");
    let _ = writeln!(s, "# failed/<i>.txt names it if it failed (the others' results stay in the cache: resubmit");
    let _ = writeln!(s, "# this script to redo only what is missing). The final job runs after every task succeeded.");
    let _ = writeln!(s, "# Extra arguments are passed to both sbatch calls (e.g. --account=…).");
    let _ = writeln!(s, "set -euo pipefail");
    let _ = writeln!(s, "here={}", shell_quote(&dir.display().to_string()));
    let _ = writeln!(s, "mkdir -p \"$here/logs\"");
    let _ = writeln!(s, "export RAYON_NUM_THREADS={}", opts.cpus_per_task);
    let _ = writeln!(
        s,
        "array=$(sbatch --parsable {array_opts} --array=0-{last} --output=\"$here/logs/task-%a.out\" \"$@\" --wrap={})",
        shell_quote(&format!("{task_cmd} --index $SLURM_ARRAY_TASK_ID"))
    );
    let _ = writeln!(s, "array=${{array%%;*}}");
    let _ = writeln!(
        s,
        "final=$(sbatch --parsable {common} --dependency=afterok:$array --output=\"$here/logs/final.out\" \"$@\" --wrap={})",
        shell_quote(&final_cmd)
    );
    let _ = writeln!(s, "final=${{final%%;*}}");
    let _ = writeln!(s, "echo \"$array $final\" > \"$here/jobs\"");
    let _ = writeln!(
        s,
        "echo \"submitted array job $array ({} task(s)) and final job $final (after all succeed); logs in $here/logs\"",
        tasks.len()
    );
    let script = dir.join("submit.sh");
    attnlab_core::io::write_atomic(&script, s.as_bytes()).map_err(|e| LabError::io(&script, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755));
    }
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted() {
        assert_eq!(shell_quote("a/b-c.json"), "a/b-c.json");
        assert_eq!(shell_quote("two words"), "'two words'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
