//! A sum that does not depend on the order of its terms.
//!
//! A plain `f64` sum rounds after every addition, so the same amounts added in another order
//! (other partitions, files, cluster executors merging partial states) can differ in the last
//! bit, and a model fitted on them then stops at another point within its tolerance.
//! [`ExactSum`] keeps the rounding error of every addition (Knuth's TwoSum) beside the sum,
//! and [`ExactSum::value`] rounds once at the end: for the amounts of a customer's orders
//! (thousands of terms of similar size) that is the correctly rounded sum whatever the order.

/// A running sum with its accumulated rounding error.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExactSum {
    pub hi: f64,
    pub lo: f64,
}

impl ExactSum {
    pub fn new(hi: f64, lo: f64) -> Self {
        Self { hi, lo }
    }

    /// Adds one term.
    #[inline]
    pub fn add(&mut self, x: f64) {
        let s = self.hi + x;
        let v = s - self.hi;
        let err = (self.hi - (s - v)) + (x - v);
        self.hi = s;
        self.lo += err;
    }

    /// Adds another sum.
    #[inline]
    pub fn add_sum(&mut self, other: ExactSum) {
        self.add(other.hi);
        self.lo += other.lo;
    }

    /// The sum, rounded once. A sum that overflowed is the infinity a plain sum gives (its
    /// error term is then NaN, from infinity minus infinity).
    #[inline]
    pub fn value(&self) -> f64 {
        if self.hi.is_finite() {
            self.hi + self.lo
        } else {
            self.hi
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_of_terms_does_not_matter() {
        let terms = [0.1, 1e16, 0.7, -1e16, 12.34, 99.99, 0.2, 3.3];
        let forward = terms.iter().fold(ExactSum::default(), |mut s, &x| {
            s.add(x);
            s
        });
        let mut backward = ExactSum::default();
        for &x in terms.iter().rev() {
            backward.add(x);
        }
        assert_eq!(forward.value(), backward.value());
        // A plain sum loses the small terms next to 1e16.
        let plain: f64 = terms.iter().sum();
        assert_ne!(plain, forward.value());
        assert!(
            (forward.value() - 116.63).abs() < 1e-12,
            "{}",
            forward.value()
        );

        // Partial sums merged in any grouping give the same value.
        let (a, b) = terms.split_at(3);
        let mut left = ExactSum::default();
        a.iter().for_each(|&x| left.add(x));
        let mut right = ExactSum::default();
        b.iter().for_each(|&x| right.add(x));
        let mut merged = right;
        merged.add_sum(left);
        assert_eq!(merged.value(), forward.value());
    }

    #[test]
    fn an_overflowing_sum_is_infinite_not_nan() {
        let mut sum = ExactSum::default();
        for x in [f64::MAX, f64::MAX, 1.0] {
            sum.add(x);
        }
        assert_eq!(sum.value(), f64::INFINITY);
        let mut negative = ExactSum::default();
        negative.add(f64::MIN);
        negative.add_sum(sum);
        negative.add(f64::MIN);
        assert!(negative.value().is_nan() || negative.value().is_infinite());
    }
}
