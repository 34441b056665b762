//! The per-customer input of the purchase models, with identical customers merged into weights.
//!
//! A million customers described in weeks take far fewer distinct (frequency, recency, T)
//! triples, and every likelihood evaluation walks the distinct ones only.

/// Customers' repeat purchases `x`, recency `t_x` and age `T`, sorted, with a weight per
/// distinct triple, and runs of equal frequency for the terms that depend on `x` alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Customers {
    pub frequency: Vec<f64>,
    pub recency: Vec<f64>,
    pub age: Vec<f64>,
    pub weight: Vec<f64>,
    /// `(frequency, total weight, first index, end index)` of each run of equal frequency.
    pub frequency_runs: Vec<(f64, f64, usize, usize)>,
}

impl Customers {
    /// Merges `(frequency, recency, T)` rows into weighted distinct customers.
    pub fn from_rows(mut rows: Vec<[f64; 3]>) -> Self {
        // Stable, so rows that arrive sorted (as the fits' rows do) cost one pass.
        rows.sort_by_key(|row| row.map(ordered_bits));
        let mut customers = Self {
            frequency: Vec::with_capacity(rows.len()),
            recency: Vec::with_capacity(rows.len()),
            age: Vec::with_capacity(rows.len()),
            weight: Vec::with_capacity(rows.len()),
            frequency_runs: Vec::new(),
        };
        for row in rows {
            let same = customers.frequency.last() == Some(&row[0])
                && customers.recency.last() == Some(&row[1])
                && customers.age.last() == Some(&row[2]);
            if same {
                if let Some(w) = customers.weight.last_mut() {
                    *w += 1.0;
                }
            } else {
                customers.frequency.push(row[0]);
                customers.recency.push(row[1]);
                customers.age.push(row[2]);
                customers.weight.push(1.0);
            }
        }
        customers.frequency_runs = frequency_runs(&customers.frequency, &customers.weight);
        customers
    }

    /// Distinct customers.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// Customers counted with their weights.
    pub fn total_weight(&self) -> f64 {
        self.weight.iter().sum()
    }

    /// The largest age, by which time is rescaled for the fits.
    pub fn max_age(&self) -> f64 {
        self.age.iter().copied().fold(0.0, f64::max)
    }

    /// Every `step`-th distinct customer, with its weight: a sample spread over the
    /// frequencies (customers are sorted by frequency first).
    pub fn every_nth(&self, step: usize) -> Self {
        let pick = |v: &[f64]| v.iter().step_by(step.max(1)).copied().collect::<Vec<f64>>();
        let (frequency, weight) = (pick(&self.frequency), pick(&self.weight));
        Self {
            frequency_runs: frequency_runs(&frequency, &weight),
            frequency,
            recency: pick(&self.recency),
            age: pick(&self.age),
            weight,
        }
    }

    /// The same customers with recency and age multiplied by `scale`.
    pub fn rescaled(&self, scale: f64) -> Self {
        Self {
            recency: self.recency.iter().map(|t| t * scale).collect(),
            age: self.age.iter().map(|t| t * scale).collect(),
            ..self.clone()
        }
    }
}

/// The bits of `v` as an integer that orders as `f64::total_cmp` orders the numbers (negative
/// numbers' bits inverted, the others' sign bit set): sorting by it is sorting by value, and
/// several times faster than comparing numbers.
pub fn ordered_bits(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

fn frequency_runs(frequency: &[f64], weight: &[f64]) -> Vec<(f64, f64, usize, usize)> {
    let mut runs: Vec<(f64, f64, usize, usize)> = Vec::new();
    for (i, (&x, &w)) in frequency.iter().zip(weight).enumerate() {
        match runs.last_mut() {
            Some(run) if run.0 == x => {
                run.1 += w;
                run.3 = i + 1;
            }
            _ => runs.push((x, w, i, i + 1)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_customers_become_weights() {
        let customers = Customers::from_rows(vec![
            [2.0, 5.0, 9.0],
            [0.0, 0.0, 9.0],
            [2.0, 5.0, 9.0],
            [2.0, 6.0, 9.0],
        ]);
        assert_eq!(customers.frequency, vec![0.0, 2.0, 2.0]);
        assert_eq!(customers.recency, vec![0.0, 5.0, 6.0]);
        assert_eq!(customers.weight, vec![1.0, 2.0, 1.0]);
        assert_eq!(
            customers.frequency_runs,
            vec![(0.0, 1.0, 0, 1), (2.0, 3.0, 1, 3)]
        );
        assert_eq!(customers.total_weight(), 4.0);
    }
}
