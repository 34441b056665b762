//! The gradient of [`ln_hyp2f1_next`](super::special::ln_hyp2f1_next) in its three arguments,
//! summed beside its value in whichever form the value takes, so the Pareto/NBD likelihood
//! has an analytic gradient.

use super::special::{
    MAX_TERMS, NextForm, POLE_GAP, POLE_NODES, RESCALE_ABOVE, digamma, lagrange_weight,
    ln_gamma_ratio, ln_gamma_signed, next_form,
};

/// `ln 2F1(a, b; a + 1; z)` and its partial derivatives by `a` (with `c = a + 1` moving
/// along), `b` and `z`, for `a > 0`, `b > 0` and `0 <= z < 1`.
///
/// The value is [`ln_hyp2f1_next`](super::special::ln_hyp2f1_next)'s, summed in the same form (power series, Euler's or
/// Pfaff's transformation, or the connection formula, interpolated near its poles) and equal
/// to it up to rounding; each series carries the derivatives of its terms,
/// `t'(n+1) = t'(n) ratio(n) + t(n) ratio'(n)`, and the transformations' factors are
/// differentiated in closed form. NaN (value and gradient) wherever `ln_hyp2f1_next` is NaN
/// or the arguments are outside that domain.
///
/// # Examples
/// ```
/// use seglake_udfs::math::hyp2f1_gradient::ln_hyp2f1_next_gradient;
/// // 2F1(1, 1; 2; z) = -ln(1 - z) / z, whose logarithm has derivative
/// // 1 / ((1 - z) (-ln(1 - z))) - 1 / z by z.
/// let z: f64 = 0.5;
/// let (value, [_, _, by_z]) = ln_hyp2f1_next_gradient(1.0, 1.0, z);
/// assert!((value - (-(1.0 - z).ln() / z).ln()).abs() < 1e-14);
/// let expected = 1.0 / ((1.0 - z) * -(1.0 - z).ln()) - 1.0 / z;
/// assert!((by_z - expected).abs() < 1e-13);
/// ```
pub fn ln_hyp2f1_next_gradient(a: f64, b: f64, z: f64) -> (f64, [f64; 3]) {
    const NAN: (f64, [f64; 3]) = (f64::NAN, [f64::NAN; 3]);
    if !(a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite() && (0.0..1.0).contains(&z)) {
        return NAN;
    }
    if z == 0.0 {
        // 2F1 = 1 + a b z / (a + 1) + ...
        return (0.0, [0.0, 0.0, a * b / (a + 1.0)]);
    }
    let c = a + 1.0;
    let gradient = match next_form(a, b, z) {
        NextForm::Hopeless => return NAN,
        NextForm::Series => {
            let (ln, sign, [da, db, dz]) = series(0, |n| {
                let denominator = (c + n) * (n + 1.0);
                let ratio = (a + n) * (b + n) / denominator * z;
                let by_a = (b + n) * z / ((c + n) * (c + n) * (n + 1.0));
                let by_b = (a + n) / denominator * z;
                (ratio, [by_a, by_b, ratio / z])
            });
            (sign > 0.0).then_some((ln, [da, db, dz]))
        }
        NextForm::Euler => {
            // (1-z)^(1-b) 2F1(1, delta; c; z) with delta = a + 1 - b.
            let delta = c - b;
            let (ln, _, [da, db, dz]) = series(0, |n| {
                let ratio = (delta + n) / (c + n) * z;
                let by_a = (c - delta) / ((c + n) * (c + n)) * z;
                let by_b = -z / (c + n);
                (ratio, [by_a, by_b, ratio / z])
            });
            let y = 1.0 - z;
            Some((
                (1.0 - b) * y.ln() + ln,
                [da, db - y.ln(), dz - (1.0 - b) / y],
            ))
        }
        NextForm::Pfaff => {
            // (1-z)^-b 2F1(1, b; c; w) with w = z / (z - 1), dw/dz = -1 / (1 - z)^2.
            let y = 1.0 - z;
            let w = z / (z - 1.0);
            let dw = -1.0 / (y * y);
            let (ln, sign, [da, db, dz]) = series(0, |n| {
                let ratio = (b + n) / (c + n) * w;
                let by_a = -ratio / (c + n);
                let by_b = w / (c + n);
                (ratio, [by_a, by_b, ratio / w * dw])
            });
            (sign > 0.0).then_some((-b * (-z).ln_1p() + ln, [da, db - y.ln(), dz + b / y]))
        }
        NextForm::Connection => connection(a, b, z),
        NextForm::NearPole { pole, at } => near_pole(a, z, pole, at),
    };
    gradient.unwrap_or(NAN)
}

/// The connection formula of `ln_hyp2f1_next` and its gradient, for `b` off the integers >= 1.
fn connection(a: f64, b: f64, z: f64) -> Option<(f64, [f64; 3])> {
    let y = 1.0 - z;
    let eps = 1.0 - b;
    // First: Γ(a+1) Γ(1-b) / Γ(a+1-b) z^-a.
    let (ln_gamma_eps, gamma_sign) = ln_gamma_signed(eps);
    let first = ln_gamma_ratio(a + eps, 1.0 - eps) + ln_gamma_eps - a * (-y).ln_1p();
    let first_gradient = [
        digamma(a + 1.0) - digamma(a + eps) - z.ln(),
        digamma(a + eps) - digamma(eps),
        -a / z,
    ];
    // Second: a / (1-b) (1-z)^(1-b) 2F1(1, a+1-b; 2-b; 1-z), subtracted.
    let past_pole = (-(1.0 + eps)).max(0.0) as usize + 1;
    let (ln_series, series_sign, [sa, sb, sz]) = series(past_pole, |n| {
        let top = a + eps + n;
        let bottom = 1.0 + eps + n;
        let ratio = top / bottom * y;
        (
            ratio,
            [y / bottom, y * (a - 1.0) / (bottom * bottom), -top / bottom],
        )
    });
    let second = a.ln() - eps.abs().ln() + eps * y.ln() + ln_series;
    let second_gradient = [1.0 / a + sa, 1.0 / eps - y.ln() + sb, -eps / y + sz];
    let second_sign = -eps.signum() * series_sign;
    let (high, low, sign) = if first >= second {
        (first, second, gamma_sign)
    } else {
        (second, first, second_sign)
    };
    if sign <= 0.0 || high.is_nan() || low.is_nan() {
        return None;
    }
    // value = ln(s1 e^first + s2 e^second); its gradient is the mean of the two gradients
    // weighted by s e^(term - value).
    let same = gamma_sign == second_sign;
    let ratio = (low - high).exp();
    let value = high
        + if same {
            ratio.ln_1p()
        } else {
            (-ratio).ln_1p()
        };
    let (w_first, w_second) = {
        let f = gamma_sign * (first - value).exp();
        let s = second_sign * (second - value).exp();
        (f, s)
    };
    let gradient = [0, 1, 2].map(|i| w_first * first_gradient[i] + w_second * second_gradient[i]);
    Some((value, gradient))
}

/// The connection formula interpolated in `b` near its pole `1 - b = pole`, `at` gaps away.
fn near_pole(a: f64, z: f64, pole: f64, at: f64) -> Option<(f64, [f64; 3])> {
    let mut value = 0.0;
    let mut gradient = [0.0; 3];
    for (k, node) in POLE_NODES.iter().enumerate() {
        let (v, [da, _, dz]) = connection(a, 1.0 - (pole + node * POLE_GAP), z)?;
        let weight = lagrange_weight(k, at);
        value += weight * v;
        gradient[0] += weight * da;
        // at = (1 - b - pole) / gap.
        gradient[1] -= lagrange_slope(k, at) / POLE_GAP * v;
        gradient[2] += weight * dz;
    }
    Some((value, gradient))
}

/// The derivative of the Lagrange basis polynomial of node `k` of [`POLE_NODES`] at `at`.
fn lagrange_slope(k: usize, at: f64) -> f64 {
    let node = POLE_NODES[k];
    (0..POLE_NODES.len())
        .filter(|&m| m != k)
        .map(|m| {
            let others: f64 = (0..POLE_NODES.len())
                .filter(|&j| j != k && j != m)
                .map(|j| (at - POLE_NODES[j]) / (node - POLE_NODES[j]))
                .product();
            others / (node - POLE_NODES[m])
        })
        .sum()
}

/// `(ln |S|, sign of S, [S'_i / S])` of `S = 1 + t1 + t2 + ...` with `t(n+1) = t(n) ratio(n)`,
/// where `ratio(n)` also gives the ratio's partial derivatives: the series of
/// `special::ln_signed_series` with the derivatives of its terms summed beside it, until both
/// the terms and their derivatives are below rounding. NaN when it does not converge within
/// `MAX_TERMS` terms.
fn series(min_terms: usize, ratio: impl Fn(f64) -> (f64, [f64; 3])) -> (f64, f64, [f64; 3]) {
    const SMALL: f64 = f64::EPSILON * 0.25;
    let mut term = 1.0_f64;
    let mut sum = 1.0_f64;
    let mut term_d = [0.0_f64; 3];
    let mut sum_d = [0.0_f64; 3];
    let mut ln_scale = 0.0_f64;
    for n in 0..MAX_TERMS {
        let (step, step_d) = ratio(n as f64);
        for i in 0..3 {
            term_d[i] = term_d[i] * step + term * step_d[i];
            sum_d[i] += term_d[i];
        }
        term *= step;
        sum += term;
        let settled = n >= min_terms
            && step.abs() < 1.0
            && (term == 0.0 || term.abs() <= SMALL * sum.abs())
            && (0..3).all(|i| term_d[i].abs() <= SMALL * sum_d[i].abs().max(sum.abs()));
        if settled {
            return (
                sum.abs().ln() + ln_scale,
                sum.signum(),
                sum_d.map(|d| d / sum),
            );
        }
        if sum.abs() > RESCALE_ABOVE {
            sum /= RESCALE_ABOVE;
            term /= RESCALE_ABOVE;
            for i in 0..3 {
                sum_d[i] /= RESCALE_ABOVE;
                term_d[i] /= RESCALE_ABOVE;
            }
            ln_scale += RESCALE_ABOVE.ln();
        }
    }
    (f64::NAN, f64::NAN, [f64::NAN; 3])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::special::ln_hyp2f1_next;

    /// tests/reference/make_hyp2f1_reference.py (mpmath 1.4.1 at 60 digits): the gradient by
    /// a, b and z at points of every form (the series, Euler, Pfaff, the connection formula and
    /// its poles).
    const CASES: [(f64, f64, f64, [f64; 3]); 16] = [
        (
            0.5,
            1.5,
            0.3,
            [
                0.22917134265251672,
                0.12750360128621564,
                0.71428571428571427,
            ],
        ),
        (
            2.0,
            3.3,
            0.9,
            [0.42920756969576758, 1.9250367619509314, 22.810059459949126],
        ),
        (
            2.001,
            3.0,
            0.9,
            [0.41708390909612015, 1.8853136299197729, 20.000726190929097],
        ),
        (
            35154.0,
            1.95,
            0.99998,
            [
                1.6427934332182288e-5,
                10.417269433673638,
                68623.745172875449,
            ],
        ),
        (
            3000.0,
            0.05,
            0.99999,
            [
                1.5034324097286985e-5,
                8.5235112437518989,
                488.88455656249486,
            ],
        ),
        (
            3000.0,
            2.00001,
            0.99999,
            [
                0.00030976842843997047,
                10.685872212226467,
                107067.65035742808,
            ],
        ),
        (
            3000.0,
            2.0019,
            0.99999,
            [
                0.00030982484884621162,
                10.686903686049069,
                107239.72757125903,
            ],
        ),
        (
            500.0,
            1.0003,
            0.9995,
            [
                0.0010078472328046653,
                6.7324219876945846,
                991.50858257036694,
            ],
        ),
        (
            200.0,
            4.9999,
            0.99,
            [
                0.0032503179748650563,
                4.4564636682060628,
                434.21801268993108,
            ],
        ),
        (
            12.5,
            40.5,
            0.99999,
            [0.079999740257890807, 11.487609086863897, 3949999.2987144687],
        ),
        (
            2000.0,
            1500.5,
            0.3,
            [
                0.00012155282843902045,
                0.3565128399308025,
                2142.413344491907,
            ],
        ),
        (
            5000.0,
            3000.5,
            0.97,
            [
                0.0001901915366870143,
                3.5062408606602967,
                99983.987387944566,
            ],
        ),
        (
            8.0,
            0.5,
            0.95,
            [0.029116952669819066, 2.1754262758432768, 4.753437824408339],
        ),
        (
            4.6,
            3.7,
            0.905,
            [0.1743433439336155, 2.0670701537206443, 29.234823225561528],
        ),
        (
            2.6,
            1.86,
            0.6,
            [0.11933838854357626, 0.66678135567056303, 3.0427782898426775],
        ),
        (
            199.0,
            199.0,
            0.45,
            [
                0.0022488025115651976,
                0.5955768723296147,
                360.00503385314436,
            ],
        ),
    ];

    #[test]
    fn the_cases_take_every_form() {
        let forms: Vec<NextForm> = CASES
            .iter()
            .map(|&(a, b, z, _)| next_form(a, b, z))
            .collect();
        let has = |f: fn(&NextForm) -> bool| forms.iter().any(f);
        assert!(has(|f| *f == NextForm::Series));
        assert!(has(|f| *f == NextForm::Euler));
        assert!(has(|f| *f == NextForm::Pfaff));
        assert!(has(|f| *f == NextForm::Connection));
        assert!(has(|f| matches!(f, NextForm::NearPole { .. })));
    }

    #[test]
    fn values_are_ln_hyp2f1_next() {
        for (a, b, z, _) in CASES {
            let (value, _) = ln_hyp2f1_next_gradient(a, b, z);
            let expected = ln_hyp2f1_next(a, b, z);
            assert!(
                (value - expected).abs() <= 1e-12 * expected.abs().max(1.0),
                "{a} {b} {z}: {value} vs {expected}"
            );
        }
    }

    #[test]
    fn gradients_match_mpmath_in_every_form() {
        for (a, b, z, expected) in CASES {
            let (_, gradient) = ln_hyp2f1_next_gradient(a, b, z);
            for i in 0..3 {
                // Near the poles the interpolated connection formula keeps about 8 digits.
                assert!(
                    (gradient[i] - expected[i]).abs() <= 1e-7 * expected[i].abs(),
                    "{a} {b} {z} [{i}]: {} vs {}",
                    gradient[i],
                    expected[i]
                );
            }
        }
    }

    #[test]
    fn outside_the_domain_is_nan() {
        assert!(ln_hyp2f1_next_gradient(1.0, 1.0, 1.0).0.is_nan());
        assert!(ln_hyp2f1_next_gradient(-1.0, 1.0, 0.5).1[0].is_nan());
        assert_eq!(
            ln_hyp2f1_next_gradient(2.0, 3.0, 0.0),
            (0.0, [0.0, 0.0, 2.0])
        );
    }
}
