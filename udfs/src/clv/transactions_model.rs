//! What the purchase models (BG/NBD, Pareto/NBD) share at the SQL boundary: the signature of
//! their fits and the rules for a customer's (frequency, recency, T).

use datafusion::common::exec_err;
use datafusion::error::Result;

/// frequency, recency, T.
pub const BTYD_INPUTS: usize = 3;

/// The arguments of their fits.
pub const FIT_ARGS: [&str; 4] = ["frequency", "recency", "T", "penalizer"];

/// Checks one customer's summary.
///
/// # Errors
/// Naming the rule the values break: frequency a whole number, 0 or more; recency 0 or more
/// and at most T; recency 0 when frequency is 0.
pub fn check_customer(syntax: &str, frequency: f64, recency: f64, age: f64) -> Result<()> {
    if frequency < 0.0 || frequency.fract() != 0.0 {
        return exec_err!("{syntax}: frequency must be a whole number, 0 or more, got {frequency}");
    }
    if recency < 0.0 {
        return exec_err!("{syntax}: recency must be 0 or more, got {recency}");
    }
    if recency > age {
        return exec_err!(
            "{syntax}: recency ({recency}) is after T ({age}); both must be measured to the \
             same end of observation"
        );
    }
    if frequency == 0.0 && recency != 0.0 {
        return exec_err!(
            "{syntax}: recency must be 0 when frequency is 0 (no repeat purchase), got {recency}"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_rules() {
        assert!(check_customer("f", 2.0, 10.0, 30.0).is_ok());
        assert!(check_customer("f", 0.0, 0.0, 0.0).is_ok());
        for (x, t_x, age, message) in [
            (-1.0, 0.0, 1.0, "frequency must be a whole number"),
            (1.5, 0.0, 1.0, "frequency must be a whole number"),
            (1.0, -1.0, 1.0, "recency must be 0 or more"),
            (1.0, 5.0, 4.0, "recency (5) is after T (4)"),
            (0.0, 2.0, 4.0, "recency must be 0 when frequency is 0"),
        ] {
            let err = check_customer("f", x, t_x, age).unwrap_err().to_string();
            assert!(err.contains(message), "{err}");
        }
    }
}
