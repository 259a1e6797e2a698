//! What `run`, `demo`, `report` and `compare` print when they finish.

use std::path::Path;

use segmenta::compare::Comparison;
use segmenta::format::{label_with_share, percent};
use segmenta::RunResult;

/// The segments found, who moved and the drift, then where the report is.
pub fn run(result: &RunResult, folder: &Path) {
    let outliers = result
        .dbscan
        .as_ref()
        .map_or(String::new(), |d| format!(", {} DBSCAN outliers", d.noise));
    println!(
        "{} customers → {} k-means segments (silhouette {}){outliers}",
        result.features.len(),
        result.kmeans.k,
        result
            .kmeans
            .chosen
            .silhouette
            .map_or("–".into(), |s| format!("{s:.3}")),
    );
    for c in &result.kmeans_labels.clusters {
        let revenue = if result.features.gives("monetary") {
            format!("  {:>6} of revenue", percent(c.revenue_share))
        } else {
            String::new()
        };
        let label = match (&c.label, c.label_share) {
            (Some(label), Some(share)) => format!(" · {}", label_with_share(label, share)),
            _ => String::new(),
        };
        println!(
            "  {:<11} {:>7} customers{revenue}  {}{label}",
            c.name, c.size, c.title
        );
    }
    if let Some(c) = &result.migrations {
        moves(c);
    }
    if let Some(d) = &result.drift {
        println!(
            "drift since the model of {}: {}",
            d.model_as_of,
            if d.drift.warnings.is_empty() {
                "none worth a warning".to_string()
            } else {
                d.drift.warnings.join("; ")
            }
        );
    }
    report(folder);
}

pub fn moves(c: &Comparison) {
    println!(
        "since {}: {} customers in both runs, {} stayed in their segment, {} moved; {} new, {} lost",
        c.previous.as_of,
        c.customers_in_both,
        c.clusters.stayed,
        c.clusters.moved,
        c.new_customers,
        c.lost_customers
    );
}

pub fn report(folder: &Path) {
    println!("report: {}", folder.join("index.html").display());
}
