//! The lifetime-value math on any customer summaries the SQL admits (whole frequencies,
//! 0 <= recency <= T, recency 0 without repeat purchases) and any penalizer it accepts: BG/NBD,
//! Pareto/NBD and Gamma-Gamma fits end (in bounded time) with positive parameters or none,
//! predictions are probabilities and counts, and the hypergeometric function stays finite
//! where it is defined.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use seglake_udfs::math::bgnbd::BgNbd;
use seglake_udfs::math::customers::Customers;
use seglake_udfs::math::gammagamma::{GammaGamma, Spenders};
use seglake_udfs::math::paretonbd::ParetoNbd;
use seglake_udfs::math::special::{ln_hyp2f1, ln_hyp2f1_next};

#[derive(Debug, Arbitrary)]
struct Input {
    model: u8,
    /// Typical summaries: counts and periods in small whole numbers.
    whole: Vec<(u8, u16, u16)>,
    /// Any numbers; rows the SQL would refuse are dropped.
    any: Vec<(f64, f64, f64)>,
    monetary: Vec<f64>,
    penalizer: u8,
    probes: Vec<(f64, f64, f64, f64)>,
    hyp: Vec<(f64, f64, f64, f64)>,
}

/// The rule of `bgnbd_fit` and `paretonbd_fit` (and the predictions) for one customer.
fn admitted(x: f64, t_x: f64, age: f64) -> bool {
    x >= 0.0
        && x.fract() == 0.0
        && t_x >= 0.0
        && t_x <= age
        && !(x == 0.0 && t_x != 0.0)
        && !(x.is_nan() || t_x.is_nan() || age.is_nan())
}

fuzz_target!(|input: Input| {
    let mut rows: Vec<[f64; 3]> = input
        .whole
        .iter()
        .take(48)
        .map(|&(x, t_x, age)| {
            let age = f64::from(age % 400);
            let x = f64::from(x % 40);
            let t_x = if x == 0.0 {
                0.0
            } else {
                f64::from(t_x) % (age + 1.0)
            };
            [x, t_x.min(age), age]
        })
        .collect();
    rows.extend(
        input
            .any
            .iter()
            .take(16)
            .map(|&(x, t, a)| [x, t, a])
            .filter(|r| admitted(r[0], r[1], r[2])),
    );
    let penalizer = [0.0, 0.001, 0.1, 1.0, 10.0][usize::from(input.penalizer % 5)];
    match input.model % 3 {
        0 => purchases(&rows, penalizer, &input.probes, "bgnbd"),
        1 => purchases(&rows, penalizer, &input.probes, "paretonbd"),
        _ => spend(&rows, &input.monetary, penalizer),
    }
    for &(a, b, c, z) in input.hyp.iter().take(8) {
        let v = ln_hyp2f1(a, b, c, z);
        let next = ln_hyp2f1_next(a.abs(), b, z);
        let defined = |z: f64| (0.0..1.0).contains(&z);
        if !defined(z) {
            assert!(v.is_nan() && next.is_nan(), "2F1 at z = {z}");
        }
        // Terms of a convergent series with positive a, b, c are positive: finite or +inf.
        if defined(z) && a > 0.0 && b > 0.0 && c > 0.0 && a.max(b).max(c) < 1e6 && z < 0.99 {
            assert!(!v.is_nan() && v >= 0.0, "ln 2F1({a}, {b}; {c}; {z}) = {v}");
        }
    }
});

fn purchases(rows: &[[f64; 3]], penalizer: f64, probes: &[(f64, f64, f64, f64)], model: &str) {
    // The fit functions need 5 usable rows.
    if rows.len() < 5 {
        return;
    }
    let customers = Customers::from_rows(rows.to_vec());
    let predictions: Vec<(f64, f64)> = match model {
        "bgnbd" => {
            let Some(fitted) = BgNbd::fit(&customers, penalizer) else {
                return;
            };
            let m = fitted.params;
            check_params(model, &[m.r, m.alpha, m.a, m.b], fitted.log_likelihood);
            predict(probes, |x, t_x, age, t| {
                (m.p_alive(x, t_x, age), m.expected_purchases(t, x, t_x, age))
            })
        }
        _ => {
            let Some(fitted) = ParetoNbd::fit(&customers, penalizer) else {
                return;
            };
            let m = fitted.params;
            check_params(model, &[m.r, m.alpha, m.s, m.beta], fitted.log_likelihood);
            predict(probes, |x, t_x, age, t| {
                (m.p_alive(x, t_x, age), m.expected_purchases(t, x, t_x, age))
            })
        }
    };
    for (p, e) in predictions {
        assert!(
            p.is_nan() || (0.0..=1.0).contains(&p),
            "{model}: P(alive) {p}"
        );
        assert!(e.is_nan() || e >= 0.0, "{model}: expected purchases {e}");
    }
}

fn predict(
    probes: &[(f64, f64, f64, f64)],
    f: impl Fn(f64, f64, f64, f64) -> (f64, f64),
) -> Vec<(f64, f64)> {
    probes
        .iter()
        .take(16)
        .filter(|&&(x, t_x, age, t)| admitted(x, t_x, age) && t >= 0.0 && t.is_finite())
        .map(|&(x, t_x, age, t)| f(x, t_x, age, t))
        .collect()
}

fn check_params(model: &str, params: &[f64], log_likelihood: f64) {
    for p in params {
        assert!(
            !p.is_nan() && *p >= 0.0,
            "{model}: parameter {p} in {params:?}"
        );
    }
    // A density of purchase times, so it may exceed 1 (customers with many purchases in a
    // short time): finite is what a fit promises.
    assert!(
        log_likelihood.is_finite(),
        "{model}: log-likelihood {log_likelihood} of {params:?}"
    );
}

fn spend(rows: &[[f64; 3]], monetary: &[f64], penalizer: f64) {
    // gammagamma_fit uses customers with repeat purchases and positive spend, 4 at least.
    let (frequency, monetary): (Vec<f64>, Vec<f64>) = rows
        .iter()
        .zip(monetary)
        .filter(|(r, m)| r[0] > 0.0 && **m > 0.0)
        .map(|(r, m)| (r[0], *m))
        .unzip();
    if frequency.len() < 4 {
        return;
    }
    let spenders = Spenders {
        frequency,
        monetary,
    };
    let Some(fitted) = GammaGamma::fit(&spenders, penalizer) else {
        return;
    };
    let m = fitted.params;
    for p in [m.p, m.q, m.v] {
        assert!(
            !p.is_nan() && p >= 0.0,
            "gammagamma: parameter {p} in {m:?}"
        );
    }
    for (x, spend) in spenders.frequency.iter().zip(&spenders.monetary) {
        let e = m.expected_spend(*x, *spend);
        assert!(
            e.is_nan() || e >= 0.0,
            "gammagamma: expected spend {e} of ({x}, {spend})"
        );
    }
}
