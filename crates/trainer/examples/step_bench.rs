//! Median ms per training step of the reference GPT-style model (the model-only number of
//! `cargo xtask bench markov`), without building the figures crate, plus process CPU ms per step
//! (less sensitive to other load on a shared machine): `cargo run --example step_bench -- [steps]`.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<f64> = after.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // Fields 14, 15 (utime, stime) are at 11, 12 after the state field; clock ticks of 10 ms.
    f.get(10).zip(f.get(11)).map(|(u, s)| (u + s) / 100.0).unwrap_or(f64::NAN)
}

fn main() {
    let steps = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let cfg = attnlab_trainer::bench::reference_config();
    let (c0, t0) = (cpu_s(), std::time::Instant::now());
    match attnlab_trainer::bench::step(&cfg, steps, false) {
        Ok(b) => println!(
            "{:.2} ms/step median wall, {:.2} cpu-ms/step avg, {:.2} wall-ms/step avg ({} threads, kernel {})",
            b.ms_per_step,
            1e3 * (cpu_s() - c0) / (steps + 3) as f64,
            1e3 * t0.elapsed().as_secs_f64() / (steps + 3) as f64,
            rayon::current_num_threads(),
            attnlab_trainer::kernel::code_path()
        ),
        Err(e) => eprintln!("bench failed: {e}"),
    }
}
