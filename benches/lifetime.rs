//! The lifetime models' fit on a large summary table, against `lifetimes` on the same table
//! (`benches/lifetime.sh` runs both and BENCHMARKS.md records them).
//!
//! Reads the table `benches/reference/lifetimes_fit.py` writes (`x,t_x,T,m`, weeks; m blank
//! without repeat purchases) from `SEGMENTA_LIFETIME_SUMMARY`, and times: BG/NBD and Gamma-Gamma
//! fitted together, the distinct histories counted first (`fit`); and every customer's P(alive),
//! expected purchases over 90 days and expected order value with the fitted models (`score`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use segmenta::lifetime::{fit_models, Spend, Summary};

/// (x, tₓ, T) of every customer and the repeat spend of those with repeat purchases.
fn read_summary(path: &str) -> (Vec<(f64, f64, f64)>, Vec<Spend>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut triples = Vec::new();
    let mut spend = Vec::new();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let number = |i: usize| cells[i].parse::<f64>().expect("a number");
        let (x, t_x, t) = (number(0), number(1), number(2));
        triples.push((x, t_x, t));
        if x > 0.0 {
            let mean = number(3);
            if mean > 0.0 {
                spend.push(Spend { x, mean });
            }
        }
    }
    (triples, spend)
}

fn lifetime(c: &mut Criterion) {
    let Ok(path) = std::env::var("SEGMENTA_LIFETIME_SUMMARY") else {
        eprintln!("SKIPPED: set SEGMENTA_LIFETIME_SUMMARY to a summary table written by benches/reference/lifetimes_fit.py (benches/lifetime.sh does)");
        return;
    };
    let (triples, spend) = read_summary(&path);
    let models = fit_models(&Summary::of(&triples), &spend).expect("the models fit");
    eprintln!(
        "{} customers: BG/NBD r {:.4} α {:.4} a {:.4} b {:.4} ({} iterations); Gamma-Gamma {:?}",
        triples.len(),
        models.bgnbd.r,
        models.bgnbd.alpha,
        models.bgnbd.a,
        models.bgnbd.b,
        models.bgnbd_fit.iterations,
        models.gamma_gamma
    );
    let mut group = c.benchmark_group(format!("lifetime_{}", triples.len()));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("fit", |b| {
        b.iter(|| {
            let summary = Summary::of(black_box(&triples));
            black_box(fit_models(&summary, black_box(&spend)).unwrap())
        })
    });
    let (bgnbd, gamma_gamma) = (models.bgnbd, models.gamma_gamma.expect("Gamma-Gamma"));
    group.bench_function("score", |b| {
        b.iter(|| {
            use rayon::prelude::*;
            let scored: Vec<(f64, Option<f64>)> = triples
                .par_iter()
                .map(|&(x, t_x, t)| {
                    let p = bgnbd.p_alive(x, t_x, t);
                    (p, bgnbd.expected_purchases(90.0 / 7.0, x, t_x, t))
                })
                .collect();
            let values: Vec<f64> = spend
                .par_iter()
                .map(|s| gamma_gamma.expected_value(Some(*s)))
                .collect();
            black_box((scored, values))
        })
    });
    group.finish();
}

criterion_group!(benches, lifetime);
criterion_main!(benches);
