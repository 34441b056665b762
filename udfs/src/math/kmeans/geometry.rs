//! Distances between a point and the centres.

/// The squared Euclidean distance between two points.
#[inline]
pub fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// [`squared_distance`] for points of `D` features, with the loop unrolled; `D = 0` takes any
/// number. The terms are added in the same order, so the result is the same to the bit.
#[inline(always)]
pub fn squared_distance_n<const D: usize>(a: &[f64], b: &[f64]) -> f64 {
    if D == 0 {
        return squared_distance(a, b);
    }
    let (a, b) = (&a[..D], &b[..D]);
    let mut sum = -0.0;
    for d in 0..D {
        let x = a[d] - b[d];
        sum += x * x;
    }
    sum
}

/// Calls `$f::<D>(args)` with `D` the feature count `$dim` when it is 1 to 8 (unrolled
/// distance loops), else with `D = 0` (any count).
macro_rules! by_dim {
    ($dim:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $dim {
            1 => $f::<1>($($arg),*),
            2 => $f::<2>($($arg),*),
            3 => $f::<3>($($arg),*),
            4 => $f::<4>($($arg),*),
            5 => $f::<5>($($arg),*),
            6 => $f::<6>($($arg),*),
            7 => $f::<7>($($arg),*),
            8 => $f::<8>($($arg),*),
            _ => $f::<0>($($arg),*),
        }
    };
}
pub(crate) use by_dim;

/// The nearest of the centres (`dim` coordinates each, one after another) and its squared
/// distance; ties go to the lower index.
#[inline]
pub fn nearest(point: &[f64], centers: &[f64]) -> (u32, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, center) in centers.chunks_exact(point.len()).enumerate() {
        let d = squared_distance(point, center);
        if d < best.1 {
            best = (j as u32, d);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_first_centre() {
        let centers = [0.0, 0.0, 2.0, 0.0, 1.0, 5.0];
        assert_eq!(nearest(&[1.0, 0.0], &centers), (0, 1.0));
        assert_eq!(nearest(&[1.9, 0.0], &centers).0, 1);
        assert_eq!(squared_distance(&[1.0, 2.0], &[4.0, 6.0]), 25.0);
    }

    #[test]
    fn unrolled_distances_equal_the_loop_to_the_bit() {
        let a = [0.1, -2.5, 3.25, 1e-300, 7.0, -0.3, 1e10, 2.0, 9.5];
        let b = [0.7, 1.5, -3.0, 0.0, 7.0, 0.2, -1e10, 2.5, 0.5];
        assert_eq!(
            squared_distance_n::<3>(&a[..3], &b[..3]).to_bits(),
            squared_distance(&a[..3], &b[..3]).to_bits()
        );
        assert_eq!(
            squared_distance_n::<8>(&a[..8], &b[..8]).to_bits(),
            squared_distance(&a[..8], &b[..8]).to_bits()
        );
        assert_eq!(squared_distance_n::<0>(&a, &b), squared_distance(&a, &b));
        assert_eq!(squared_distance_n::<2>(&[0.0, 0.0], &[0.0, 0.0]), 0.0);
    }
}
