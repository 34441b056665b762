//! Special functions: ln-gamma and digamma (from statrs) and the logarithm of the Gauss
//! hypergeometric function 2F1 on `0 <= z < 1`.

pub use statrs::function::gamma::{digamma, ln_gamma};

/// The largest magnitude a partial sum may reach before it is rescaled.
const RESCALE_ABOVE: f64 = 1e250;
/// Terms to add at most; with `z < 1` the series always gets there unless `z` is within about
/// 1e-7 of 1, where no model in this crate evaluates it.
const MAX_TERMS: usize = 50_000_000;

/// `ln 2F1(a, b; c; z)` for `0 <= z < 1`, summed as its power series in scaled form, so terms
/// far beyond `f64`'s range (large `a` and `b`, as for customers with many purchases) are fine.
///
/// Returns NaN when `z` is outside `[0, 1)`, when `c` is zero or a negative integer, or when the
/// sum is not positive (the models only take logarithms of positive values).
///
/// # Examples
/// ```
/// use seglake_udfs::math::special::ln_hyp2f1;
/// // 2F1(1, 1; 2; z) = -ln(1 - z) / z
/// let z: f64 = 0.5;
/// assert!((ln_hyp2f1(1.0, 1.0, 2.0, z) - (-(1.0 - z).ln() / z).ln()).abs() < 1e-14);
/// ```
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if !(0.0..1.0).contains(&z) || (c <= 0.0 && c.fract() == 0.0) {
        return f64::NAN;
    }
    if z == 0.0 {
        return 0.0;
    }
    let mut term = 1.0_f64;
    let mut sum = 1.0_f64;
    let mut ln_scale = 0.0_f64;
    for n in 0..MAX_TERMS {
        let n = n as f64;
        let ratio = (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        term *= ratio;
        sum += term;
        if term == 0.0 || (term.abs() <= f64::EPSILON * 0.25 * sum.abs() && ratio.abs() < 1.0) {
            break;
        }
        if sum.abs() > RESCALE_ABOVE {
            sum /= RESCALE_ABOVE;
            term /= RESCALE_ABOVE;
            ln_scale += RESCALE_ABOVE.ln();
        }
    }
    if sum > 0.0 {
        sum.ln() + ln_scale
    } else {
        f64::NAN
    }
}

/// `ln(e^x - e^y)` for `x >= y`; negative infinity when they are equal.
pub fn ln_sub_exp(x: f64, y: f64) -> f64 {
    if y >= x {
        return f64::NEG_INFINITY;
    }
    x + (-(y - x).exp_m1()).ln()
}

/// `ln(e^x + e^y)` without overflow.
pub fn ln_add_exp(x: f64, y: f64) -> f64 {
    let high = x.max(y);
    if high == f64::NEG_INFINITY {
        return high;
    }
    high + ((x - high).exp() + (y - high).exp()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            ((actual - expected) / expected).abs() < tolerance,
            "{actual} vs {expected}"
        );
    }

    #[test]
    fn hyp2f1_matches_scipy() {
        // scipy.special.hyp2f1 1.11.4
        close(
            ln_hyp2f1(0.5, 1.5, 2.5, 0.3).exp(),
            1.108_062_551_056_932_4,
            1e-14,
        );
        close(
            ln_hyp2f1(2.0, 3.0, 4.0, 0.9).exp(),
            21.789_423_102_929_68,
            1e-13,
        );
        close(
            ln_hyp2f1(21.24, 23.4, 43.6, 0.8).exp(),
            3_282_547.485_491_371,
            1e-12,
        );
    }

    #[test]
    fn hyp2f1_of_huge_values_stays_finite_in_logs() {
        let ln = ln_hyp2f1(500.0, 500.0, 20.0, 0.99);
        assert!(ln.is_finite() && ln > 700.0, "{ln}");
    }

    #[test]
    fn hyp2f1_outside_its_domain_is_nan() {
        assert!(ln_hyp2f1(1.0, 1.0, 2.0, 1.0).is_nan());
        assert!(ln_hyp2f1(1.0, 1.0, -2.0, 0.5).is_nan());
    }

    #[test]
    fn log_sums() {
        close(ln_add_exp(1000.0, 1000.0), 1000.0 + 2f64.ln(), 1e-15);
        close(ln_sub_exp(2.0, 1.0), (2f64.exp() - 1f64.exp()).ln(), 1e-14);
        assert_eq!(ln_sub_exp(1.0, 1.0), f64::NEG_INFINITY);
    }
}
