//! Minimising a smooth objective whose Hessian is known: Newton's method with Levenberg-Marquardt
//! damping.
//!
//! Where the Hessian is cheap beside the value (the BG/NBD family's costs one more
//! multiply-add per customer and parameter pair, and no further logarithm), Newton's steps
//! reach a fit's minimum in about half the evaluations L-BFGS takes from the same start, and
//! the last evaluation's Hessian gives the standard errors for free.

use super::optimize::{GRADIENT_TOLERANCE, Minimum};

/// A function to minimise that returns its value, gradient and Hessian (row after row)
/// together.
pub trait SecondOrder: Sync {
    fn value_gradient_hessian(&self, theta: &[f64]) -> (f64, Vec<f64>, Vec<f64>);
}

/// Where Newton's method stopped, with the Hessian there. The value and Hessian are those of
/// the last evaluated point, which a final step shorter than [`FINAL_STEP`] may have left.
#[derive(Debug, Clone, PartialEq)]
pub struct NewtonMinimum {
    pub minimum: Minimum,
    pub hessian: Vec<f64>,
}

/// The gradient norm at which the minimum is reached (a mean objective's rounding noise is
/// around 1e-16 per unit; L-BFGS in [`super::optimize`] stops at the same norm).
const VANISHED_GRADIENT: f64 = 1e-10;

/// The longest step, in the (logarithmic) parameters: a factor of e³ per step keeps a step
/// from a poor start out of overflow.
const MAX_STEP: f64 = 3.0;

/// Relative decrease below which a step made no progress (see `NO_PROGRESS` in
/// [`super::optimize`]), and steps in a row without progress after which the method stops.
const NO_PROGRESS: f64 = 1e-14;
const STALLED_AFTER: u32 = 3;

/// A Newton step shorter than this (1e-5 relative in the parameters) is the last one: taken,
/// and not evaluated, since the error after it is of the order of its square (BG/NBD over 50k
/// customers: steps of 0.096, 0.003 and 2.8e-6, then 1e-11 would follow). A point whose
/// Newton step is longer is no minimum yet.
const FINAL_STEP: f64 = 1e-5;

/// Damping steps tried at one point before the method gives up there.
const MAX_DAMPING: usize = 40;

/// Minimises `objective` from `start` in at most `max_iterations` accepted steps.
///
/// `None` unless it ends at a minimum: a finite value, the largest gradient component below
/// [`GRADIENT_TOLERANCE`] and a positive definite Hessian. The caller then falls back to
/// L-BFGS, which reports where a fit without a minimum ran to.
pub fn minimize_newton(
    objective: &impl SecondOrder,
    start: Vec<f64>,
    max_iterations: u64,
) -> Option<NewtonMinimum> {
    let evaluate = |theta: &[f64]| {
        let (value, gradient, hessian) = objective.value_gradient_hessian(theta);
        let finite = value.is_finite()
            && gradient.iter().all(|g| g.is_finite())
            && hessian.iter().all(|h| h.is_finite());
        finite.then_some((value, gradient, hessian))
    };
    let n = start.len();
    let mut theta = start;
    let (mut value, mut gradient, mut hessian) = evaluate(&theta)?;
    // Damping added to the Hessian's diagonal: 0 takes the plain Newton step.
    let mut damping = 0.0_f64;
    let mut stalled = 0;
    let mut iterations = 0;
    let mut settled = false;
    while iterations < max_iterations && norm(&gradient) >= VANISHED_GRADIENT {
        // A Newton step this short lands within rounding of the minimum (the error after it is
        // of the order of its square): take it without evaluating there.
        if let Some(step) = damped_step(&hessian, &gradient, 0.0, n)
            && norm(&step) < FINAL_STEP
        {
            theta.iter_mut().zip(&step).for_each(|(t, s)| *t += s);
            iterations += 1;
            settled = true;
            break;
        }
        let mut accepted = None;
        for _ in 0..MAX_DAMPING {
            let Some(mut step) = damped_step(&hessian, &gradient, damping, n) else {
                damping = more(damping, &hessian, n);
                continue;
            };
            let length = norm(&step);
            if length > MAX_STEP {
                step.iter_mut().for_each(|s| *s *= MAX_STEP / length);
            }
            // Negative: the damped Hessian is positive definite.
            let slope: f64 = gradient.iter().zip(&step).map(|(g, s)| g * s).sum();
            let trial: Vec<f64> = theta.iter().zip(&step).map(|(t, s)| t + s).collect();
            match evaluate(&trial) {
                // Armijo's sufficient decrease.
                Some(next) if next.0 <= value + 1e-4 * slope => {
                    accepted = Some((trial, next));
                    break;
                }
                // Within rounding of the minimum the values cannot tell points apart; the
                // gradient can.
                Some(next)
                    if (next.0 - value).abs() <= NO_PROGRESS * value.abs()
                        && norm(&next.1) < norm(&gradient) =>
                {
                    accepted = Some((trial, next));
                    break;
                }
                _ => damping = more(damping, &hessian, n),
            }
        }
        let Some((trial, (next_value, next_gradient, next_hessian))) = accepted else {
            break;
        };
        iterations += 1;
        if value - next_value <= NO_PROGRESS * value.abs() {
            stalled += 1;
        } else {
            stalled = 0;
        }
        (theta, value, gradient, hessian) = (trial, next_value, next_gradient, next_hessian);
        damping = if damping < 1e-8 { 0.0 } else { damping / 10.0 };
        if stalled >= STALLED_AFTER {
            break;
        }
    }
    // At a minimum the next Newton step is negligible. Where the objective only flattens out
    // towards infinity (parameters the data do not identify run off), gradient and Hessian
    // shrink together and the step stays long.
    let settled =
        settled || damped_step(&hessian, &gradient, 0.0, n).is_some_and(|s| norm(&s) < FINAL_STEP);
    let at_minimum = gradient.iter().all(|g| g.abs() < GRADIENT_TOLERANCE) && settled;
    at_minimum.then_some(NewtonMinimum {
        minimum: Minimum {
            theta,
            value,
            iterations,
            converged: true,
        },
        hessian,
    })
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// The next damping: a small multiple of the Hessian's scale at first, then ten times more.
fn more(damping: f64, hessian: &[f64], n: usize) -> f64 {
    if damping > 0.0 {
        return damping * 10.0;
    }
    let scale = (0..n)
        .map(|i| hessian[i * n + i].abs())
        .fold(1e-3, f64::max);
    1e-3 * scale
}

/// The step `-(H + damping I)^-1 g`, or `None` when the damped Hessian is not positive
/// definite.
fn damped_step(hessian: &[f64], gradient: &[f64], damping: f64, n: usize) -> Option<Vec<f64>> {
    let factor = cholesky(hessian, damping, n)?;
    // Solve L y = -g, then L^T s = y.
    let mut y = vec![0.0; n];
    for i in 0..n {
        let sum: f64 = (0..i).map(|k| factor[i * n + k] * y[k]).sum();
        y[i] = (-gradient[i] - sum) / factor[i * n + i];
    }
    let mut step = vec![0.0; n];
    for i in (0..n).rev() {
        let sum: f64 = (i + 1..n).map(|k| factor[k * n + i] * step[k]).sum();
        step[i] = (y[i] - sum) / factor[i * n + i];
    }
    step.iter().all(|s| s.is_finite()).then_some(step)
}

/// The lower Cholesky factor of `H + damping I` (its symmetric part), `None` unless positive
/// definite.
fn cholesky(hessian: &[f64], damping: f64, n: usize) -> Option<Vec<f64>> {
    let mut factor = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let h = (hessian[i * n + j] + hessian[j * n + i]) / 2.0;
            let sum: f64 = (0..j).map(|k| factor[i * n + k] * factor[j * n + k]).sum();
            if i == j {
                let pivot = h + damping - sum;
                if pivot.is_nan() || pivot <= 0.0 || !pivot.is_finite() {
                    return None;
                }
                factor[i * n + i] = pivot.sqrt();
            } else {
                factor[i * n + j] = (h - sum) / factor[j * n + j];
            }
        }
    }
    Some(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rosenbrock;

    impl SecondOrder for Rosenbrock {
        fn value_gradient_hessian(&self, t: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
            let (x, y) = (t[0], t[1]);
            let value = (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
            let gradient = vec![
                -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
                200.0 * (y - x * x),
            ];
            let hessian = vec![
                2.0 - 400.0 * (y - 3.0 * x * x),
                -400.0 * x,
                -400.0 * x,
                200.0,
            ];
            (value, gradient, hessian)
        }
    }

    #[test]
    fn finds_the_rosenbrock_minimum_through_an_indefinite_start() {
        // At (-1.2, 1) the Hessian is positive definite, at (0.5, 2) it is not.
        for start in [vec![-1.2, 1.0], vec![0.5, 2.0]] {
            let found = minimize_newton(&Rosenbrock, start, 200).expect("a minimum");
            let theta = &found.minimum.theta;
            assert!((theta[0] - 1.0).abs() < 1e-9, "{found:?}");
            assert!((theta[1] - 1.0).abs() < 1e-9, "{found:?}");
            assert!(found.minimum.iterations < 60, "{found:?}");
        }
    }

    /// A function without a minimum: -x decreases forever, its slope never vanishing.
    struct Unbounded;

    impl SecondOrder for Unbounded {
        fn value_gradient_hessian(&self, t: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
            (-t[0], vec![-1.0], vec![0.0])
        }
    }

    /// A function without a minimum that flattens out: e^x, whose slope and curvature vanish
    /// together towards negative x.
    struct Flattening;

    impl SecondOrder for Flattening {
        fn value_gradient_hessian(&self, t: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
            let e = t[0].exp();
            (e, vec![e], vec![e])
        }
    }

    #[test]
    fn no_minimum_is_none() {
        assert_eq!(minimize_newton(&Unbounded, vec![0.0], 50), None);
        assert_eq!(minimize_newton(&Flattening, vec![0.0], 100), None);
    }

    #[test]
    fn too_few_iterations_is_none() {
        assert_eq!(minimize_newton(&Rosenbrock, vec![-1.2, 1.0], 2), None);
    }
}
