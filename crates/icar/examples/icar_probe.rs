//! Times the ICAR trained models (spec icar §2a, §2b) at given settings:
//! `icar_probe aug EPOCHS` or `icar_probe na HEADS BATCH EPOCHS`.
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let num = |i: usize, def: usize| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(def);
    let t0 = std::time::Instant::now();
    if a.get(1).map(String::as_str) == Some("na") {
        let mut cfg = attnlab_icar::nonaugmented::NonAugConfig::reference(0);
        cfg.heads = num(2, 64);
        cfg.batch = num(3, 1024);
        cfg.epochs = num(4, 200);
        let o = attnlab_icar::nonaugmented::train_nonaug(&cfg);
        for c in o.curve.iter().step_by(5) {
            println!(
                "epoch {} train {} test {:.4}",
                c.epoch,
                c.train.map_or("-".into(), |t| format!("{t:.4}")),
                c.test
            );
        }
        println!(
            "final test {:.4}, PE mass on offsets 0-1 {:.3}, {} steps in {:.1} s",
            o.test_mse,
            o.pe_mass_offsets01,
            cfg.epochs * cfg.steps_per_epoch(),
            o.wall_s
        );
    } else {
        let mut cfg = attnlab_icar::augmented::AugConfig::reference(0);
        cfg.epochs = num(2, 200);
        let o = attnlab_icar::augmented::train_augmented(&cfg);
        println!("final test {:.4}, {} steps in {:.1} s", o.test_mse, cfg.epochs * cfg.steps_per_epoch(), o.wall_s);
    }
    eprintln!("wall {:.1} s", t0.elapsed().as_secs_f64());
}
