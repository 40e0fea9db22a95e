//! Calibrates the difficulty of the paths Fig 3 stand-in (spec paths §5) *before* any theory or
//! GP number is computed: trains the gradient-descent network at each noise σ given and prints its
//! accuracy on held-out validation episodes (seeded apart from the experiment's test set) and the
//! time per step (slower than inside `cargo xtask figures`, which keeps freed memory for reuse):
//! `cargo run --release -p attnlab-icl --example icl_noise -- STEPS LR σ1 σ2 …`
use std::time::Instant;

use attnlab_icl::{GdConfig, IclTask, outputs, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let steps: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(200);
    let lr: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3e-4);
    let noises: Vec<f64> = args.iter().skip(2).filter_map(|s| s.parse().ok()).collect();
    for noise in noises {
        let task = IclTask { features: 192, patches: 16, noise, embed_seed: 5 };
        let cfg = GdConfig { width: 512, g: 128, heads: 4, layers: 2, steps, batch: 128, lr };
        let t0 = Instant::now();
        let w = train(&task, &cfg, 101)?;
        let per_step = t0.elapsed().as_secs_f64() / steps as f64;
        let (x, y) = task.dataset(1000, 202);
        let f = outputs(&w, &task, &cfg, &x, &[])?;
        let acc = f.iter().zip(&y).filter(|(f, y)| f.signum() == y.signum()).count() as f64 / y.len() as f64;
        let last = w.loss_curve.last().map_or(f64::NAN, |c| c.1);
        let curve: Vec<String> = w.loss_curve.iter().map(|c| format!("{}:{:.3}", c.0, c.1)).collect();
        println!("σ {noise}: loss every 50 steps {}", curve.join(" "));
        println!(
            "σ {noise}: validation accuracy {:.1}% (1000 episodes), final train loss {last:.3}, {per_step:.3} s/step",
            100.0 * acc
        );
    }
    Ok(())
}
