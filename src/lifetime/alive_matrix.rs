//! P(alive) over frequency × recency: the mean probability and the customers in each cell, so
//! the report shows how the model reads "bought often, but long ago".

use serde::{Deserialize, Serialize};

/// Repeat purchases: the lower end of each row's range.
const FREQUENCY_FROM: [u32; 8] = [0, 1, 2, 3, 4, 5, 7, 10];
/// Days since the last purchase: the lower end of each column's range.
const RECENCY_FROM: [i32; 7] = [0, 31, 61, 91, 181, 366, 731];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AliveMatrix {
    pub frequency_labels: Vec<String>,
    pub recency_labels: Vec<String>,
    /// [frequency row][recency column]: mean P(alive), None for an empty cell.
    pub mean_p_alive: Vec<Vec<Option<f64>>>,
    pub customers: Vec<Vec<usize>>,
}

fn labels<T: Copy + PartialEq + std::fmt::Display + std::ops::Sub<Output = T> + From<u8>>(
    from: &[T],
) -> Vec<String> {
    from.iter()
        .enumerate()
        .map(|(i, &lo)| match from.get(i + 1) {
            Some(&next) if next - lo == T::from(1) => lo.to_string(),
            Some(&next) => format!("{lo}–{}", next - T::from(1)),
            None => format!("{lo}+"),
        })
        .collect()
}

fn bucket<T: PartialOrd + Copy>(from: &[T], value: T) -> usize {
    from.iter().rposition(|&lo| value >= lo).unwrap_or(0)
}

impl AliveMatrix {
    /// From (repeat purchases, days since the last purchase, P(alive)) of every modelled
    /// customer; rows and columns past the last filled one are left out.
    pub fn of(cells: impl Iterator<Item = (u32, i32, f64)>) -> AliveMatrix {
        let (rows, cols) = (FREQUENCY_FROM.len(), RECENCY_FROM.len());
        let mut sum = vec![vec![0.0; cols]; rows];
        let mut customers = vec![vec![0usize; cols]; rows];
        for (x, recency, p) in cells {
            let (r, c) = (bucket(&FREQUENCY_FROM, x), bucket(&RECENCY_FROM, recency));
            sum[r][c] += p;
            customers[r][c] += 1;
        }
        let used_rows = (0..rows)
            .rposition(|r| customers[r].iter().any(|&n| n > 0))
            .map_or(0, |r| r + 1);
        let used_cols = (0..cols)
            .rposition(|c| customers.iter().any(|row| row[c] > 0))
            .map_or(0, |c| c + 1);
        let mean_p_alive = (0..used_rows)
            .map(|r| {
                (0..used_cols)
                    .map(|c| (customers[r][c] > 0).then(|| sum[r][c] / customers[r][c] as f64))
                    .collect()
            })
            .collect();
        AliveMatrix {
            frequency_labels: labels(&FREQUENCY_FROM)[..used_rows].to_vec(),
            recency_labels: labels(&RECENCY_FROM)[..used_cols].to_vec(),
            mean_p_alive,
            customers: customers[..used_rows]
                .iter()
                .map(|row| row[..used_cols].to_vec())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_average_their_customers_and_empty_edges_are_cut() {
        let m =
            AliveMatrix::of([(0, 10, 1.0), (2, 40, 0.5), (2, 45, 0.3), (8, 100, 0.2)].into_iter());
        assert_eq!(m.frequency_labels, ["0", "1", "2", "3", "4", "5–6", "7–9"]);
        assert_eq!(m.recency_labels, ["0–30", "31–60", "61–90", "91–180"]);
        assert_eq!(m.mean_p_alive[2][1], Some(0.4));
        assert_eq!(m.customers[2][1], 2);
        assert_eq!(m.mean_p_alive[1][0], None);
    }
}
