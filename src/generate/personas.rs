//! The latent customer personas of the synthetic lake and what each one shifts.

use serde::Serialize;

/// One persona: its share, its BG/NBD and Gamma-Gamma parameters, and its tastes.
#[derive(Debug, Clone, Serialize)]
pub struct Persona {
    pub name: &'static str,
    /// Relative weight at acquisition; `late_bias` moves weight to recent sign-ups.
    pub weight: f64,
    pub late_bias: bool,
    /// Purchase rate per day ~ Gamma(shape r, rate alpha).
    pub r: f64,
    pub alpha: f64,
    /// Dropout probability after each repeat purchase ~ Beta(a, b).
    pub a: f64,
    pub b: f64,
    /// Spend per order ~ Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate gamma).
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
    /// Amplitude of the December peak in purchase intensity.
    pub season_peak: f64,
    pub mean_age: f64,
    pub age_sd: f64,
    pub income: [f64; 3],
    pub education: [f64; 4],
    pub acquisition: [f64; 5],
    pub channels: [f64; 4],
    pub categories: [f64; 6],
    pub campaign_response: f64,
    pub survey_rate: f64,
    pub nps_mean: f64,
    pub lifestyle: [f64; 5],
    pub values: [f64; 4],
    pub benefits: [f64; 5],
    /// Background events per day while a customer, relative to purchases.
    pub visit_rate: f64,
    pub email_open_rate: f64,
    pub support_rate: f64,
}

pub const INCOME_BANDS: [&str; 3] = ["low", "mid", "high"];
pub const EDUCATION: [&str; 4] = ["secondary", "bachelor", "master", "doctorate"];
pub const ACQUISITION_CHANNELS: [&str; 5] = ["search", "social", "email", "referral", "affiliate"];
pub const CHANNELS: [&str; 4] = ["web", "app", "store", "phone"];
pub const CATEGORIES: [&str; 6] = [
    "groceries",
    "fashion",
    "electronics",
    "home",
    "books",
    "gifts",
];
/// Gross margin of each category (cost = amount * (1 - margin), with noise).
pub const CATEGORY_MARGINS: [f64; 6] = [0.18, 0.45, 0.15, 0.35, 0.30, 0.40];
pub const LIFESTYLES: [&str; 5] = ["frugal", "premium", "family", "digital", "casual"];
pub const VALUES: [&str; 4] = ["price", "quality", "convenience", "sustainability"];
pub const BENEFITS: [&str; 5] = [
    "low_price",
    "quality",
    "gift_ideas",
    "fast_delivery",
    "exclusivity",
];
pub const REGIONS: [(&str, [&str; 3]); 4] = [
    ("north", ["Oslo", "Bergen", "Trondheim"]),
    ("south", ["Rome", "Naples", "Seville"]),
    ("east", ["Warsaw", "Prague", "Vienna"]),
    ("west", ["Lisbon", "Porto", "Dublin"]),
];
pub const GENDERS: [&str; 3] = ["f", "m", "x"];

/// The five personas.
pub fn personas() -> Vec<Persona> {
    vec![
        Persona {
            name: "bargain_hunter",
            weight: 0.30,
            late_bias: false,
            r: 2.0,
            alpha: 22.0,
            a: 1.0,
            b: 35.0,
            p: 4.0,
            q: 5.0,
            gamma: 25.0,
            season_peak: 0.3,
            mean_age: 34.0,
            age_sd: 10.0,
            income: [0.55, 0.40, 0.05],
            education: [0.45, 0.40, 0.13, 0.02],
            acquisition: [0.25, 0.20, 0.15, 0.10, 0.30],
            channels: [0.25, 0.55, 0.15, 0.05],
            categories: [0.45, 0.30, 0.05, 0.10, 0.05, 0.05],
            campaign_response: 0.25,
            survey_rate: 0.30,
            nps_mean: 7.0,
            lifestyle: [0.60, 0.02, 0.25, 0.05, 0.08],
            values: [0.70, 0.05, 0.20, 0.05],
            benefits: [0.70, 0.05, 0.05, 0.15, 0.05],
            visit_rate: 0.2,
            email_open_rate: 0.008,
            support_rate: 0.0008,
        },
        Persona {
            name: "loyal_high_spender",
            weight: 0.15,
            late_bias: false,
            r: 3.0,
            alpha: 28.0,
            a: 1.0,
            b: 70.0,
            p: 8.0,
            q: 6.0,
            gamma: 100.0,
            season_peak: 0.2,
            mean_age: 49.0,
            age_sd: 10.0,
            income: [0.05, 0.35, 0.60],
            education: [0.10, 0.35, 0.40, 0.15],
            acquisition: [0.35, 0.05, 0.15, 0.35, 0.10],
            channels: [0.45, 0.15, 0.35, 0.05],
            categories: [0.05, 0.20, 0.35, 0.30, 0.05, 0.05],
            campaign_response: 0.10,
            survey_rate: 0.50,
            nps_mean: 9.0,
            lifestyle: [0.02, 0.60, 0.20, 0.08, 0.10],
            values: [0.05, 0.70, 0.15, 0.10],
            benefits: [0.02, 0.55, 0.03, 0.10, 0.30],
            visit_rate: 0.15,
            email_open_rate: 0.01,
            support_rate: 0.0005,
        },
        Persona {
            name: "occasional_gift_buyer",
            weight: 0.25,
            late_bias: false,
            r: 1.5,
            alpha: 100.0,
            a: 1.0,
            b: 10.0,
            p: 6.0,
            q: 4.0,
            gamma: 40.0,
            season_peak: 2.5,
            mean_age: 44.0,
            age_sd: 12.0,
            income: [0.25, 0.50, 0.25],
            education: [0.25, 0.45, 0.25, 0.05],
            acquisition: [0.40, 0.15, 0.20, 0.10, 0.15],
            channels: [0.65, 0.15, 0.15, 0.05],
            categories: [0.02, 0.10, 0.10, 0.08, 0.25, 0.45],
            campaign_response: 0.12,
            survey_rate: 0.25,
            nps_mean: 7.5,
            lifestyle: [0.10, 0.15, 0.35, 0.05, 0.35],
            values: [0.20, 0.35, 0.35, 0.10],
            benefits: [0.10, 0.15, 0.60, 0.10, 0.05],
            visit_rate: 0.3,
            email_open_rate: 0.005,
            support_rate: 0.0005,
        },
        Persona {
            name: "digital_native",
            weight: 0.20,
            late_bias: true,
            r: 2.0,
            alpha: 22.0,
            a: 1.0,
            b: 25.0,
            p: 5.0,
            q: 4.0,
            gamma: 27.0,
            season_peak: 0.2,
            mean_age: 25.0,
            age_sd: 5.0,
            income: [0.40, 0.50, 0.10],
            education: [0.30, 0.55, 0.13, 0.02],
            acquisition: [0.15, 0.60, 0.05, 0.10, 0.10],
            channels: [0.15, 0.80, 0.03, 0.02],
            categories: [0.15, 0.35, 0.30, 0.05, 0.10, 0.05],
            campaign_response: 0.18,
            survey_rate: 0.20,
            nps_mean: 8.0,
            lifestyle: [0.10, 0.10, 0.05, 0.65, 0.10],
            values: [0.20, 0.15, 0.45, 0.20],
            benefits: [0.15, 0.10, 0.05, 0.65, 0.05],
            visit_rate: 0.5,
            email_open_rate: 0.003,
            support_rate: 0.0006,
        },
        Persona {
            name: "at_risk_churner",
            weight: 0.10,
            late_bias: false,
            r: 1.0,
            alpha: 35.0,
            a: 2.0,
            b: 3.0,
            p: 4.0,
            q: 3.0,
            gamma: 30.0,
            season_peak: 0.1,
            mean_age: 38.0,
            age_sd: 12.0,
            income: [0.40, 0.45, 0.15],
            education: [0.35, 0.40, 0.20, 0.05],
            acquisition: [0.20, 0.20, 0.10, 0.05, 0.45],
            channels: [0.40, 0.30, 0.10, 0.20],
            categories: [0.20, 0.20, 0.20, 0.20, 0.10, 0.10],
            campaign_response: 0.05,
            survey_rate: 0.20,
            nps_mean: 4.0,
            lifestyle: [0.30, 0.05, 0.25, 0.10, 0.30],
            values: [0.45, 0.15, 0.30, 0.10],
            benefits: [0.45, 0.10, 0.10, 0.30, 0.05],
            visit_rate: 0.2,
            email_open_rate: 0.003,
            support_rate: 0.004,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums_to_one(weights: &[f64]) -> bool {
        (weights.iter().sum::<f64>() - 1.0).abs() < 1e-9
    }

    #[test]
    fn every_distribution_sums_to_one() {
        for p in personas() {
            for (name, w) in [
                ("income", &p.income[..]),
                ("education", &p.education[..]),
                ("acquisition", &p.acquisition[..]),
                ("channels", &p.channels[..]),
                ("categories", &p.categories[..]),
                ("lifestyle", &p.lifestyle[..]),
                ("values", &p.values[..]),
                ("benefits", &p.benefits[..]),
            ] {
                assert!(sums_to_one(w), "{}: {name}", p.name);
            }
        }
        let total: f64 = personas().iter().map(|p| p.weight).sum();
        assert!((total - 1.0).abs() < 1e-9);
    }
}
