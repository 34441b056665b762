//! Lifecycle stage rules (shared/domain.md §3), free of DataFusion types.

/// The thresholds of the stages; every one can be overridden.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// First purchase at most this many days before as_of: `new`.
    pub new_days: i64,
    /// Last purchase at most this many days before as_of: `active` (or `loyal`).
    pub active_days: i64,
    /// Last purchase at most this many days before as_of (and more than active_days): `at_risk`;
    /// longer ago: `churned`.
    pub at_risk_days: i64,
    /// An active customer with at least this many purchases in the last 365 days is `loyal`...
    pub loyal_purchases: i64,
    /// ...or with at least this much spend in the last 365 days.
    pub loyal_spend: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            new_days: 30,
            active_days: 90,
            at_risk_days: 180,
            loyal_purchases: 5,
            loyal_spend: 500.0,
        }
    }
}

/// The stage names, in the order the rules try them.
pub const STAGES: [&str; 6] = ["prospect", "new", "loyal", "active", "at_risk", "churned"];

/// The stage of one customer. Days are whole days before as_of; `None` for the first purchase
/// means no purchase before as_of.
pub fn stage(
    days_since_first: Option<i64>,
    days_since_last: i64,
    purchases_365d: i64,
    spend_365d: f64,
    t: &Thresholds,
) -> &'static str {
    let Some(since_first) = days_since_first else {
        return "prospect";
    };
    if since_first <= t.new_days {
        "new"
    } else if days_since_last <= t.active_days {
        if purchases_365d >= t.loyal_purchases || spend_365d >= t.loyal_spend {
            "loyal"
        } else {
            "active"
        }
    } else if days_since_last <= t.at_risk_days {
        "at_risk"
    } else {
        "churned"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_and_boundary() {
        let t = Thresholds::default();
        assert_eq!(stage(None, 0, 0, 0.0, &t), "prospect");
        assert_eq!(stage(Some(30), 30, 9, 900.0, &t), "new");
        assert_eq!(stage(Some(31), 90, 5, 0.0, &t), "loyal");
        assert_eq!(stage(Some(31), 90, 0, 500.0, &t), "loyal");
        assert_eq!(stage(Some(31), 90, 4, 499.99, &t), "active");
        assert_eq!(stage(Some(400), 91, 9, 900.0, &t), "at_risk");
        assert_eq!(stage(Some(400), 180, 0, 0.0, &t), "at_risk");
        assert_eq!(stage(Some(400), 181, 0, 0.0, &t), "churned");
    }

    #[test]
    fn thresholds_can_change() {
        let t = Thresholds {
            new_days: 7,
            active_days: 30,
            at_risk_days: 60,
            loyal_purchases: 2,
            loyal_spend: f64::INFINITY,
        };
        assert_eq!(stage(Some(8), 8, 2, 0.0, &t), "loyal");
        assert_eq!(stage(Some(100), 61, 0, 0.0, &t), "churned");
    }
}
