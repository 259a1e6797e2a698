//! A 2-D PCA projection of the clustering matrix for the scatter chart (linfa-reduction).

use linfa::prelude::*;
use linfa_reduction::Pca;
use ndarray::{ArrayView2, Axis};

use crate::cluster::dbscan::sample_indices;
use crate::error::{Error, Result};

pub struct Projection {
    /// Row index into the matrix and its (PC1, PC2) coordinates.
    pub points: Vec<(usize, f64, f64)>,
    /// Share of the total variance along PC1 and PC2.
    pub explained: (f64, f64),
}

pub fn project(x: ArrayView2<f64>, max_points: usize, seed: u64) -> Result<Projection> {
    if x.ncols() == 1 && x.nrows() > 0 {
        // One feature: it is its own first component (centred), with nothing along a second.
        let mean = x.column(0).mean().unwrap_or(0.0);
        let plot_rows = sample_indices(x.nrows(), max_points, seed ^ 0x51);
        return Ok(Projection {
            points: plot_rows
                .iter()
                .map(|&i| (i, x[[i, 0]] - mean, 0.0))
                .collect(),
            explained: (1.0, 0.0),
        });
    }
    if x.ncols() < 2 || x.nrows() < 3 {
        return Ok(Projection {
            points: Vec::new(),
            explained: (0.0, 0.0),
        });
    }
    let fit_rows = sample_indices(x.nrows(), 20_000, seed);
    let fit_data = x.select(Axis(0), &fit_rows);
    let pca = Pca::params(2)
        .fit(&DatasetBase::from(fit_data.clone()))
        .map_err(|e| Error::internal("PCA for the projection chart", e))?;
    let total_variance: f64 = fit_data.var_axis(Axis(0), 0.0).sum();
    let plot_rows = sample_indices(x.nrows(), max_points, seed ^ 0x51);
    let coordinates = pca.predict(&x.select(Axis(0), &plot_rows));
    let variance = coordinates.var_axis(Axis(0), 0.0);
    let explained = if total_variance > 0.0 {
        // Variance of the sample plotted, close to that of the fit sample.
        (variance[0] / total_variance, variance[1] / total_variance)
    } else {
        (0.0, 0.0)
    };
    let points = plot_rows
        .iter()
        .zip(coordinates.outer_iter())
        .map(|(&i, c)| (i, c[0], c[1]))
        .collect();
    Ok(Projection { points, explained })
}
