//! The registry of papers: the one list of them ([`PAPERS`]), and what needs it — planning the
//! tasks of figures ([`plan`]), running a task by its paper ([`run`], [`execute`]) and running one
//! task of a tasks file on a cluster ([`run_from_file`]). Adding a paper adds one line here.

use std::path::Path;

use attnlab_core::CacheStatus;

use crate::task::{Executed, Paper, Task, execute_with, read_task, version_of};
use crate::{Lab, LabError};

/// Every paper with experiments, in report order of their figures.
pub static PAPERS: &[&dyn Paper] = &[
    &crate::markov::experiments::Experiments,
    &crate::exchangeable::experiments::Experiments,
    &crate::icar::experiments::Experiments,
    &crate::paths::experiments::Experiments,
];

/// The paper named `name`.
pub fn paper(name: &str) -> Result<&'static dyn Paper, LabError> {
    PAPERS.iter().copied().find(|p| p.name() == name).ok_or_else(|| LabError::UnknownExperiment(name.into()))
}

/// Every task of the figures `figure_ids` at the lab's size, each once (a task two figures share
/// lists both), in figure order.
pub fn plan<'a>(lab: &Lab, figure_ids: impl IntoIterator<Item = &'a str>) -> Result<Vec<Task>, LabError> {
    let mut out: Vec<Task> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for figure in figure_ids {
        for t in figure_tasks(lab, figure)? {
            match index.get(&t.key) {
                Some(&i) => {
                    let seen: &mut Task = &mut out[i];
                    if !seen.figures.iter().any(|f| f == figure) {
                        seen.figures.push(figure.to_string());
                    }
                }
                None => {
                    index.insert(t.key.clone(), out.len());
                    out.push(t);
                }
            }
        }
    }
    Ok(out)
}

/// The tasks of one figure: its paper's, then its confirmation run's (`crate::confirm`), if any.
pub fn figure_tasks(lab: &Lab, figure: &str) -> Result<Vec<Task>, LabError> {
    let name = figure.split('.').next().unwrap_or_default();
    let mut tasks = paper(name).map_err(|_| LabError::UnknownExperiment(figure.into()))?.tasks(lab, figure)?;
    tasks.extend(crate::confirm::tasks(lab, figure)?);
    Ok(tasks)
}

/// Runs one task into the lab's cache (a cache hit returns at once) and checks that what ran is
/// what was planned: a task planned by another build of attnlab (another code version, so another
/// key) is refused rather than run under a name it does not have.
pub fn run(lab: &Lab, task: &Task) -> Result<CacheStatus, LabError> {
    let here = version_of(&task.paper, &task.experiment);
    if here != task.code_version {
        return Err(LabError::OtherBuild { task: task.name(), planned: task.code_version.clone(), here });
    }
    let lab = Lab { mode: task.mode, ..lab.clone() };
    let status = if crate::confirm::is_confirmation(task) {
        crate::confirm::run_task(&lab, task)?
    } else {
        paper(&task.paper)?.run_task(&lab, task)?
    };
    // What ran must be stored under the planned key, else the plan and the experiment disagree.
    if !lab.cache.reading().has_digest(&task.key) {
        return Err(LabError::NotStored { task: task.name() });
    }
    Ok(status)
}

/// Runs every task not yet cached, `jobs` at a time, longest estimate first (see
/// [`execute_with`]), each by its paper ([`run`]).
pub fn execute(lab: &Lab, tasks: &[Task], jobs: usize) -> Executed {
    execute_with(lab, tasks, jobs, &run)
}

/// Runs task `index` of the tasks file `path` into the cache folder `cache` (an `sbatch --array`
/// task's work). On failure, also writes `<tasks file's folder>/failed/<index>.txt` naming the task
/// and the error, so a cluster run reports it by id; its siblings' results stay in the cache.
pub fn run_from_file(path: &Path, index: usize, cache: &Path) -> Result<(Task, CacheStatus), LabError> {
    let task = read_task(path, index)?;
    let lab = Lab::new(cache, false, task.mode);
    let failed = path.parent().unwrap_or(Path::new(".")).join("failed").join(format!("{index}.txt"));
    match run(&lab, &task) {
        Ok(status) => {
            let _ = std::fs::remove_file(&failed);
            Ok((task, status))
        }
        Err(e) => {
            let _ = attnlab_core::io::write_atomic(
                &failed,
                format!("task {index}: {}\nerror: {e}\n", task.name()).as_bytes(),
            );
            Err(LabError::TaskFailed { index, task: task.name(), source: Box::new(e) })
        }
    }
}
