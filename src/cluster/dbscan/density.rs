//! DBSCAN's clustering step in linfa's shape (`DbscanParams::new(min_points).tolerance(eps)` →
//! `transform`), exact and parallel.
//!
//! linfa's DBSCAN asks a k-d tree for every customer's neighbourhood one customer at a time;
//! with eps at the knee of the k-distance curve a neighbourhood holds hundreds of customers, and
//! 20,000 customers took 8–9 s on one core. Here the distances come from matrix products in
//! blocks of customers, several blocks at once, in three passes:
//! 1. count every customer's neighbours within eps (itself included, as linfa and
//!    scikit-learn count): customers with at least `min_points` are core customers;
//! 2. join core customers within eps of each other (union–find): each joined group is a cluster,
//!    numbered in the order of its first customer;
//! 3. a customer that is not core joins the cluster of its nearest core customer within eps
//!    (a border customer), or is noise.
//!
//! The clusters are DBSCAN's: core customers and noise are the same as linfa's; a border customer
//! within eps of two clusters goes to the nearer one here, where linfa gives it to whichever
//! cluster reached it first. Distances near eps are recomputed coordinate by coordinate, so the
//! rounding of the matrix products never decides whether two customers are neighbours.

use linfa::traits::Transformer;
use ndarray::{s, Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix2};
use rayon::prelude::*;

/// Customers per block of distance rows: 128 × 20,000 distances is 20 MB per thread.
const BLOCK: usize = 128;

#[derive(Debug, Clone)]
pub struct DbscanParams {
    min_points: usize,
    tolerance: f64,
}

impl DbscanParams {
    pub fn new(min_points: usize) -> DbscanParams {
        DbscanParams {
            min_points,
            tolerance: 1e-4,
        }
    }

    /// eps: the neighbourhood radius (linfa's name).
    pub fn tolerance(mut self, eps: f64) -> DbscanParams {
        self.tolerance = eps;
        self
    }

    /// The cluster of every row (0, 1, … in the order of each cluster's first row), None = noise.
    pub fn cluster(&self, x: ArrayView2<f64>) -> Vec<Option<usize>> {
        let x = x.as_standard_layout().into_owned();
        let n = x.nrows();
        if n == 0 || x.ncols() == 0 {
            return vec![None; n];
        }
        let space = Space::new(&x, self.tolerance);
        let all: Vec<usize> = (0..n).collect();
        let counts = space.map_neighbours(&all, &all, |_, neighbours| neighbours.len());
        let core: Vec<usize> = (0..n).filter(|&i| counts[i] >= self.min_points).collect();
        let mut groups = UnionFind::new(n);
        let edges = space.map_neighbours(&core, &core, |i, neighbours| {
            neighbours
                .iter()
                .map(|&(j, _)| j)
                .filter(|&j| j > i)
                .collect::<Vec<usize>>()
        });
        for (&i, joined) in core.iter().zip(&edges) {
            for &j in joined {
                groups.union(i, j);
            }
        }
        let mut labels = vec![None; n];
        let mut cluster_of_root = vec![None; n];
        let mut clusters = 0;
        for &i in &core {
            let root = groups.find(i);
            let id = *cluster_of_root[root].get_or_insert_with(|| {
                clusters += 1;
                clusters - 1
            });
            labels[i] = Some(id);
        }
        let is_core = {
            let mut flags = vec![false; n];
            core.iter().for_each(|&i| flags[i] = true);
            flags
        };
        let rest: Vec<usize> = (0..n).filter(|&i| !is_core[i]).collect();
        let nearest_core = space.map_neighbours(&rest, &core, |_, neighbours| {
            neighbours
                .iter()
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
                .map(|&(j, _)| j)
        });
        for (&i, nearest) in rest.iter().zip(nearest_core) {
            labels[i] = nearest.and_then(|j| labels[j]);
        }
        labels
    }
}

impl<D: Data<Elem = f64>> Transformer<&ArrayBase<D, Ix2>, Array1<Option<usize>>> for DbscanParams {
    fn transform(&self, x: &ArrayBase<D, Ix2>) -> Array1<Option<usize>> {
        Array1::from(self.cluster(x.view()))
    }
}

/// The rows with their squared norms, for neighbourhoods of radius `eps`.
struct Space<'a> {
    x: &'a Array2<f64>,
    norms: Vec<f64>,
    eps_squared: f64,
}

impl<'a> Space<'a> {
    fn new(x: &'a Array2<f64>, eps: f64) -> Space<'a> {
        let norms = x.outer_iter().map(|r| r.dot(&r)).collect();
        Space {
            x,
            norms,
            eps_squared: eps * eps,
        }
    }

    /// `per_query(query, neighbours)` for every query row, with its neighbours among the
    /// reference rows as (row, squared distance) pairs; results in query order.
    fn map_neighbours<T: Send>(
        &self,
        queries: &[usize],
        references: &[usize],
        per_query: impl Fn(usize, &[(usize, f64)]) -> T + Sync,
    ) -> Vec<T> {
        if references.is_empty() {
            return queries.iter().map(|&q| per_query(q, &[])).collect();
        }
        let reference_rows = self.x.select(Axis(0), references);
        // Products within this margin of eps² are recomputed exactly.
        let margin = 1e-9 * (1.0 + self.eps_squared);
        let blocks: Vec<Vec<T>> = queries
            .par_chunks(BLOCK)
            .map(|block| {
                let rows = self.x.select(Axis(0), block);
                let products = rows.dot(&reference_rows.t());
                let mut neighbours = Vec::new();
                block
                    .iter()
                    .enumerate()
                    .map(|(b, &q)| {
                        neighbours.clear();
                        let products = products.slice(s![b, ..]);
                        for (&r, &p) in references.iter().zip(products.iter()) {
                            let approximate = self.norms[q] + self.norms[r] - 2.0 * p;
                            if approximate > self.eps_squared + margin {
                                continue;
                            }
                            let exact = if approximate >= self.eps_squared - margin {
                                self.squared_distance(q, r)
                            } else {
                                approximate.max(0.0)
                            };
                            if exact <= self.eps_squared {
                                neighbours.push((r, exact));
                            }
                        }
                        per_query(q, &neighbours)
                    })
                    .collect()
            })
            .collect();
        blocks.into_iter().flatten().collect()
    }

    fn squared_distance(&self, a: usize, b: usize) -> f64 {
        self.x
            .row(a)
            .iter()
            .zip(self.x.row(b).iter())
            .map(|(u, v)| (u - v) * (u - v))
            .sum()
    }
}

/// Disjoint sets with path halving; the smaller index becomes the root, so roots are stable.
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[high] = low;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::ParamGuard;
    use linfa_clustering::Dbscan;
    use ndarray::array;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256Plus;

    #[test]
    fn two_groups_and_a_stray() {
        let x = array![[0.0], [0.1], [0.2], [5.0], [5.1], [5.2], [20.0]];
        let labels = DbscanParams::new(3).tolerance(0.15).cluster(x.view());
        assert_eq!(
            labels,
            vec![Some(0), Some(0), Some(0), Some(1), Some(1), Some(1), None]
        );
    }

    #[test]
    fn a_point_exactly_eps_away_is_a_neighbour() {
        // 0.1 + 0.2 is not 0.3 in floating point: the exact recheck decides, as linfa's ≤ does.
        let x = array![[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]];
        let labels = DbscanParams::new(2).tolerance(5.0).cluster(x.view());
        assert_eq!(labels, vec![Some(0), Some(0), Some(0)]);
    }

    #[test]
    fn same_core_and_noise_as_linfa_on_blobs() {
        let mut rng = Xoshiro256Plus::seed_from_u64(5);
        let centres = [[0.0, 0.0, 0.0], [4.0, 4.0, 0.0], [0.0, 5.0, 5.0]];
        let x = Array2::from_shape_fn((900, 3), |(i, j)| {
            centres[i % 3][j] + 2.0 * (rng.gen::<f64>() - 0.5) * if i % 50 == 0 { 6.0 } else { 1.0 }
        });
        let ours = DbscanParams::new(8).tolerance(0.5).cluster(x.view());
        let theirs = Dbscan::params(8)
            .tolerance(0.5)
            .check()
            .expect("valid settings")
            .transform(&x);
        let noise = |l: &[Option<usize>]| l.iter().filter(|c| c.is_none()).count();
        assert_eq!(noise(&ours), noise(theirs.as_slice().expect("contiguous")));
        // Same partition of the clustered points (linfa numbers clusters in the same order).
        for i in 0..x.nrows() {
            for j in 0..x.nrows() {
                if ours[i].is_some() && ours[j].is_some() {
                    assert_eq!(ours[i] == ours[j], theirs[i] == theirs[j], "{i} {j}");
                }
            }
        }
    }
}
