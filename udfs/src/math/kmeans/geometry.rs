//! Distances between a point and the centres.

/// The squared Euclidean distance between two points.
#[inline]
pub fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

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
}
