//! The `attnlab` binary: parses the command line, runs it, prints JSON or a table.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Training keeps freed memory for reuse (process-wide, so the binary's choice).
    attnlab_kernels::alloc::keep_freed_memory();
    let cli = attnlab_cli::parse_from(std::env::args_os());
    if let attnlab_cli::Paper::Markov(attnlab_cli::markov::MarkovCmd::Sweep(a)) = &cli.paper {
        // Still single-threaded here: parsing starts no thread.
        attnlab_lab::task::candle_inline_for_jobs(a.jobs.unwrap_or_else(attnlab_lab::task::available_cores));
    }
    if let attnlab_cli::Paper::Check(args) = &cli.paper {
        // 0: as the baseline; 1: some claim changed (each named); 2: unreadable input.
        return match attnlab_cli::check::run(args, cli.format) {
            Ok(diffs) if diffs.is_empty() => ExitCode::SUCCESS,
            Ok(diffs) => {
                for d in &diffs {
                    eprintln!("changed: {d}");
                }
                eprintln!("{} claim(s) differ from the baseline {}", diffs.len(), args.baseline.display());
                ExitCode::from(1)
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    match attnlab_cli::execute(&cli) {
        Ok((mut value, json)) => {
            // Every result describes the build that made it.
            if let (serde_json::Value::Object(m), serde_json::Value::Object(p)) =
                (&mut value, attnlab_cli::provenance())
            {
                m.extend(p);
            }
            let format = cli.format.unwrap_or(if json {
                attnlab_cli::format::Format::Json
            } else {
                attnlab_cli::format::Format::Table
            });
            let outside = attnlab_cli::outside_assumptions(&value);
            match attnlab_cli::format::render(&value, format) {
                Ok(s) => {
                    if let Err(e) = attnlab_lab::progress::print_stdout(&s) {
                        eprintln!("error: writing the result: {e}");
                        return ExitCode::FAILURE;
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
            match outside {
                Some(why) => {
                    eprintln!(
                        "warning: {why} — outside the theorem's assumptions (exit status {})",
                        attnlab_cli::EXIT_OUTSIDE_ASSUMPTIONS
                    );
                    ExitCode::from(attnlab_cli::EXIT_OUTSIDE_ASSUMPTIONS)
                }
                None => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
