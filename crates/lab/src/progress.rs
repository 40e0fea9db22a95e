//! Live progress of a figures run on stderr: a spinner for the figure being computed (its place in
//! the run, elapsed time, and how long it took last time) and the bars of figures with long inner
//! loops drawn beneath it. Nothing is drawn when stderr is not a terminal. And the one way results
//! go to stdout ([`print_stdout`]).

use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

fn multi() -> &'static MultiProgress {
    static M: OnceLock<MultiProgress> = OnceLock::new();
    M.get_or_init(MultiProgress::new)
}

/// A bar of `len` steps under the run's spinner, drawn with `template` (indicatif syntax).
pub fn bar(len: u64, template: &str) -> ProgressBar {
    multi().add(
        ProgressBar::new(len)
            .with_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())),
    )
}

/// The spinner of figure `k` of `total`; `last_s` is its previous run's time, if known.
pub fn figure_spinner(id: &str, k: usize, total: usize, last_s: Option<f64>) -> ProgressBar {
    let sp = multi().add(ProgressBar::new_spinner());
    sp.set_style(
        ProgressStyle::with_template("{spinner} [{prefix}] {msg}, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    sp.set_prefix(format!("{k}/{total}"));
    sp.set_message(match last_s {
        Some(s) => format!("{id} (took {s:.0} s last time)"),
        None => id.to_string(),
    });
    sp.enable_steady_tick(Duration::from_millis(250));
    sp
}

/// Prints a line above the live bars (plain `eprintln!` when nothing is drawn).
pub fn println(line: &str) {
    multi().suspend(|| eprintln!("{line}"));
}

/// Writes `text` to stdout. A reader that went away (`… | head`) ends the output quietly: a closed
/// pipe is not an error, never a panic.
pub fn print_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
