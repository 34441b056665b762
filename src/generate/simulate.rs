//! Simulating customers: acquisition, a BG/NBD purchase process with seasonality, Gamma-Gamma
//! spend, refunds, engagement events, campaign responses and surveys. Plain Rust: no Arrow here.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Exp, Gamma, Normal};
use seglake_udfs::rfm::periods::{MICROS_PER_DAY, civil_from_days, days_from_civil};

use super::personas::*;

/// Days in microseconds as f64, for continuous times.
const DAY: f64 = MICROS_PER_DAY as f64;
/// Share of sign-ups who never buy.
const NEVER_BUY: f64 = 0.06;
/// Share of purchases refunded.
const REFUND_RATE: f64 = 0.02;
/// Most purchases a customer can make (keeps order ids unique: customer_id * 1000 + n).
const MAX_ORDERS: usize = 999;
/// Days after a campaign is sent during which a purchase of a responder is a conversion.
const CONVERSION_DAYS: f64 = 14.0;

/// The observation window in microseconds since the epoch, end exclusive.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

impl Window {
    fn span(&self) -> f64 {
        (self.end - self.start) as f64
    }
}

/// A marketing campaign.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub channel: &'static str,
    pub start: i64,
    pub end: i64,
    pub cost: f64,
    pub contact_rate: f64,
}

/// The rows one chunk of customers produces, column by column.
#[derive(Debug, Default)]
pub struct Rows {
    pub customers: CustomerRows,
    pub transactions: TransactionRows,
    pub events: EventRows,
    pub contacts: ContactRows,
    pub surveys: SurveyRows,
    pub truth: TruthRows,
}

#[derive(Debug, Default)]
pub struct CustomerRows {
    pub customer_id: Vec<i64>,
    pub signup_ts: Vec<i64>,
    pub birth_year: Vec<i32>,
    pub gender: Vec<&'static str>,
    pub income_band: Vec<&'static str>,
    pub education: Vec<&'static str>,
    pub region: Vec<&'static str>,
    pub city: Vec<&'static str>,
    pub acquisition_channel: Vec<&'static str>,
    pub referred_by: Vec<Option<i64>>,
}

#[derive(Debug, Default)]
pub struct TransactionRows {
    pub order_id: Vec<i64>,
    pub customer_id: Vec<i64>,
    pub order_ts: Vec<i64>,
    pub amount: Vec<f64>,
    pub cost: Vec<f64>,
    pub channel: Vec<&'static str>,
    pub category: Vec<&'static str>,
}

#[derive(Debug, Default)]
pub struct EventRows {
    pub customer_id: Vec<i64>,
    pub event_ts: Vec<i64>,
    pub event_type: Vec<&'static str>,
    pub channel: Vec<&'static str>,
}

#[derive(Debug, Default)]
pub struct ContactRows {
    pub campaign_id: Vec<i64>,
    pub customer_id: Vec<i64>,
    pub sent_ts: Vec<i64>,
    pub responded_ts: Vec<Option<i64>>,
    pub converted_ts: Vec<Option<i64>>,
    pub revenue: Vec<f64>,
}

#[derive(Debug, Default)]
pub struct SurveyRows {
    pub customer_id: Vec<i64>,
    pub survey_ts: Vec<i64>,
    pub nps: Vec<i32>,
    pub satisfaction: Vec<i32>,
    pub lifestyle: Vec<&'static str>,
    pub values: Vec<&'static str>,
    pub benefit_sought: Vec<&'static str>,
}

/// Each customer's latent truth, for tests that check models recover it.
#[derive(Debug, Default)]
pub struct TruthRows {
    pub customer_id: Vec<i64>,
    pub persona: Vec<&'static str>,
    pub purchase_rate: Vec<f64>,
    pub dropout_probability: Vec<f64>,
    pub spend_rate: Vec<f64>,
    pub mean_spend: Vec<f64>,
    pub first_purchase_ts: Vec<Option<i64>>,
    pub dropout_ts: Vec<Option<i64>>,
}

/// What every customer of a run shares.
pub struct Simulation<'a> {
    pub customers: u64,
    pub window: Window,
    pub personas: &'a [Persona],
    pub campaigns: &'a [Campaign],
}

impl Simulation<'_> {
    /// Simulates customer `id` (1-based) and appends their rows.
    pub fn customer(&self, id: i64, rng: &mut ChaCha8Rng, rows: &mut Rows) {
        // Customer ids follow sign-up order: the i-th customer signs up at the i-th quantile
        // of an acquisition curve growing over the window (density proportional to 1 + x).
        let v = ((id - 1) as f64 + rng.random::<f64>()) / self.customers as f64;
        let x = -1.0 + (1.0 + 3.0 * v).sqrt();
        let signup = self.window.start as f64 + x * (self.window.span() - 7.0 * DAY);
        let persona_index = pick_persona(self.personas, x, rng);
        let persona = &self.personas[persona_index];

        self.demographics(id, signup as i64, x, persona, rng, rows);

        let purchase_rate = gamma(persona.r, 1.0 / persona.alpha, rng);
        let dropout_p = Beta::new(persona.a, persona.b).map_or(0.1, |d| d.sample(rng));
        let spend_rate = gamma(persona.q, 1.0 / persona.gamma, rng);

        let first = if rng.random_bool(NEVER_BUY) {
            None
        } else {
            let delay = exp(1.0 / 3.0, rng) * DAY;
            Some(signup + delay).filter(|&t| t < self.window.end as f64)
        };
        let mut purchases: Vec<f64> = Vec::new();
        let mut dropout = None;
        if let Some(first) = first {
            purchases.push(first);
            dropout = self.repeat_purchases(
                first,
                purchase_rate,
                dropout_p,
                persona,
                rng,
                &mut purchases,
            );
        }

        let mut order = 0;
        let mut bought: Vec<(f64, f64)> = Vec::with_capacity(purchases.len());
        for &t in &purchases {
            order += 1;
            let amount = cents(gamma(persona.p, 1.0 / spend_rate, rng).max(0.01));
            let category = pick(&CATEGORIES, &persona.categories, rng);
            let channel = pick(&CHANNELS, &persona.channels, rng);
            let margin =
                CATEGORY_MARGINS[category_index(category)] * (0.8 + 0.4 * rng.random::<f64>());
            let cost = cents(amount * (1.0 - margin));
            bought.push((t, amount));
            let tx = &mut rows.transactions;
            tx.order_id.push(id * 1000 + order);
            tx.customer_id.push(id);
            tx.order_ts.push(t as i64);
            tx.amount.push(amount);
            tx.cost.push(cost);
            tx.channel.push(channel);
            tx.category.push(category);
            if rng.random_bool(REFUND_RATE) {
                let refund_at = t + exp(1.0 / 5.0, rng) * DAY;
                if refund_at < self.window.end as f64 && (order as usize) < MAX_ORDERS {
                    order += 1;
                    tx.order_id.push(id * 1000 + order);
                    tx.customer_id.push(id);
                    tx.order_ts.push(refund_at as i64);
                    tx.amount.push(-amount);
                    tx.cost.push(-cost);
                    tx.channel.push(channel);
                    tx.category.push(category);
                }
            }
        }

        self.events(
            id,
            signup,
            &purchases,
            purchase_rate,
            dropout,
            persona,
            rng,
            rows,
        );
        self.contacts(id, signup, &bought, dropout, persona, rng, rows);
        self.survey(id, first, purchases.len(), dropout, persona, rng, rows);

        let truth = &mut rows.truth;
        truth.customer_id.push(id);
        truth.persona.push(persona.name);
        truth.purchase_rate.push(purchase_rate);
        truth.dropout_probability.push(dropout_p);
        truth.spend_rate.push(spend_rate);
        truth.mean_spend.push(persona.p / spend_rate);
        truth.first_purchase_ts.push(first.map(|t| t as i64));
        truth.dropout_ts.push(dropout.map(|t| t as i64));
    }

    /// Repeat purchases of a BG/NBD customer: Poisson at `rate` per day (thinned by the
    /// season), dropping out with probability `dropout_p` after each repeat purchase.
    /// Returns when the customer dropped out, if they did before the window's end.
    fn repeat_purchases(
        &self,
        first: f64,
        rate: f64,
        dropout_p: f64,
        persona: &Persona,
        rng: &mut ChaCha8Rng,
        purchases: &mut Vec<f64>,
    ) -> Option<f64> {
        let peak = 1.0 + persona.season_peak;
        let mut t = first;
        while purchases.len() < MAX_ORDERS / 2 {
            t += exp(rate * peak, rng) * DAY;
            if t >= self.window.end as f64 {
                return None;
            }
            if rng.random::<f64>() * peak > season(t, persona.season_peak) {
                continue;
            }
            purchases.push(t);
            if rng.random_bool(dropout_p) {
                return Some(t);
            }
        }
        None
    }

    fn demographics(
        &self,
        id: i64,
        signup: i64,
        x: f64,
        persona: &Persona,
        rng: &mut ChaCha8Rng,
        rows: &mut Rows,
    ) {
        let (start_year, _, _) = civil_from_days(self.window.start.div_euclid(MICROS_PER_DAY));
        let age = Normal::new(persona.mean_age, persona.age_sd)
            .map_or(persona.mean_age, |d| d.sample(rng))
            .clamp(18.0, 90.0);
        let (region, cities) = REGIONS[rng.random_range(0..REGIONS.len())];
        let acquisition = pick(&ACQUISITION_CHANNELS, &persona.acquisition, rng);
        let referred_by = (acquisition == "referral" && id > 1).then(|| rng.random_range(1..id));
        let c = &mut rows.customers;
        c.customer_id.push(id);
        c.signup_ts.push(signup);
        c.birth_year
            .push((start_year as f64 + x * 2.0 - age).round() as i32);
        c.gender.push(pick(&GENDERS, &[0.50, 0.47, 0.03], rng));
        c.income_band
            .push(pick(&INCOME_BANDS, &persona.income, rng));
        c.education.push(pick(&EDUCATION, &persona.education, rng));
        c.region.push(region);
        c.city.push(cities[rng.random_range(0..cities.len())]);
        c.acquisition_channel.push(acquisition);
        c.referred_by.push(referred_by);
    }

    #[allow(clippy::too_many_arguments)]
    fn events(
        &self,
        id: i64,
        signup: f64,
        purchases: &[f64],
        purchase_rate: f64,
        dropout: Option<f64>,
        persona: &Persona,
        rng: &mut ChaCha8Rng,
        rows: &mut Rows,
    ) {
        let end = self.window.end as f64;
        let engaged_until = dropout.map_or(end, |d| (d + 30.0 * DAY).min(end));
        let mut push = |t: f64, kind: &'static str, channel: &'static str| {
            if t >= self.window.start as f64 && t < end {
                rows.events.customer_id.push(id);
                rows.events.event_ts.push(t as i64);
                rows.events.event_type.push(kind);
                rows.events.channel.push(channel);
            }
        };
        let web_or_app = |rng: &mut ChaCha8Rng| {
            if rng.random_bool(persona.channels[1]) {
                "app"
            } else {
                "web"
            }
        };
        for &t in purchases {
            if rng.random_bool(0.6) {
                let channel = web_or_app(rng);
                push(t - rng.random::<f64>() * 0.05 * DAY, "visit", channel);
            }
            if rng.random_bool(0.4) {
                let channel = web_or_app(rng);
                push(t - rng.random::<f64>() * 0.02 * DAY, "add_to_cart", channel);
            }
        }
        for t in poisson_times(
            signup,
            engaged_until,
            persona.visit_rate * purchase_rate,
            rng,
        ) {
            let channel = web_or_app(rng);
            push(t, "visit", channel);
        }
        for t in poisson_times(signup, end, persona.email_open_rate, rng) {
            push(t, "email_open", "email");
            if rng.random_bool(0.3) {
                push(t + rng.random::<f64>() * DAY / 24.0, "click", "email");
            }
        }
        for t in poisson_times(signup, end, persona.support_rate, rng) {
            let channel = if rng.random_bool(0.5) { "phone" } else { "web" };
            push(t, "support_ticket", channel);
        }
        if persona.nps_mean >= 8.5 {
            for t in poisson_times(signup, engaged_until, 0.002, rng) {
                push(t, "referral", "web");
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn contacts(
        &self,
        id: i64,
        signup: f64,
        bought: &[(f64, f64)],
        dropout: Option<f64>,
        persona: &Persona,
        rng: &mut ChaCha8Rng,
        rows: &mut Rows,
    ) {
        for campaign in self.campaigns {
            if (campaign.start as f64) < signup || !rng.random_bool(campaign.contact_rate) {
                continue;
            }
            let sent = campaign.start as f64 + rng.random::<f64>() * 2.0 * DAY;
            let active = dropout.is_none_or(|d| d > sent);
            let response = persona.campaign_response * if active { 1.0 } else { 0.2 };
            let responded = rng
                .random_bool(response)
                .then(|| sent + exp(1.0 / 1.5, rng) * DAY)
                .filter(|&t| t < self.window.end as f64);
            // A conversion is the responder's first purchase within 14 days of the send.
            let conversion = responded.and_then(|r| {
                bought
                    .iter()
                    .find(|(t, _)| *t > r && *t <= sent + CONVERSION_DAYS * DAY)
            });
            let converted = conversion.map(|(t, _)| *t);
            let revenue = conversion.map_or(0.0, |(_, amount)| *amount);
            let c = &mut rows.contacts;
            c.campaign_id.push(campaign.id);
            c.customer_id.push(id);
            c.sent_ts.push(sent as i64);
            c.responded_ts.push(responded.map(|t| t as i64));
            c.converted_ts.push(converted.map(|t| t as i64));
            c.revenue.push(revenue);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn survey(
        &self,
        id: i64,
        first: Option<f64>,
        purchases: usize,
        dropout: Option<f64>,
        persona: &Persona,
        rng: &mut ChaCha8Rng,
        rows: &mut Rows,
    ) {
        let Some(first) = first else { return };
        if !rng.random_bool(persona.survey_rate) {
            return;
        }
        let end = self.window.end as f64;
        let at = first + rng.random::<f64>() * (end - first);
        // Happier customers buy more; those who have left are less happy.
        let mut mean = persona.nps_mean;
        if purchases >= 10 {
            mean += 0.7;
        }
        if dropout.is_some_and(|d| d < at) {
            mean -= 1.5;
        }
        let nps = Normal::new(mean, 1.3)
            .map_or(mean, |d| d.sample(rng))
            .round()
            .clamp(0.0, 10.0);
        let satisfaction = (1.0 + 0.4 * nps + Normal::new(0.0, 0.6).map_or(0.0, |d| d.sample(rng)))
            .round()
            .clamp(1.0, 5.0);
        let s = &mut rows.surveys;
        s.customer_id.push(id);
        s.survey_ts.push(at as i64);
        s.nps.push(nps as i32);
        s.satisfaction.push(satisfaction as i32);
        s.lifestyle.push(pick(&LIFESTYLES, &persona.lifestyle, rng));
        s.values.push(pick(&VALUES, &persona.values, rng));
        s.benefit_sought
            .push(pick(&BENEFITS, &persona.benefits, rng));
    }
}

/// The persona of a customer who signs up at position `x` (0..1) of the window.
fn pick_persona(personas: &[Persona], x: f64, rng: &mut ChaCha8Rng) -> usize {
    let weight = |p: &Persona| {
        if p.late_bias {
            p.weight * 3.0 * x * x
        } else {
            p.weight
        }
    };
    let total: f64 = personas.iter().map(weight).sum();
    let mut u = rng.random::<f64>() * total;
    for (i, persona) in personas.iter().enumerate() {
        u -= weight(persona);
        if u < 0.0 {
            return i;
        }
    }
    personas.len() - 1
}

/// Picks one of `items` with the given probabilities.
fn pick<const N: usize>(
    items: &[&'static str; N],
    weights: &[f64; N],
    rng: &mut ChaCha8Rng,
) -> &'static str {
    let mut u = rng.random::<f64>();
    for (item, w) in items.iter().zip(weights) {
        u -= w;
        if u < 0.0 {
            return item;
        }
    }
    items[N - 1]
}

fn category_index(category: &str) -> usize {
    CATEGORIES.iter().position(|c| *c == category).unwrap_or(0)
}

/// Purchase intensity multiplier: 1 plus a peak around 15 December.
fn season(t: f64, peak: f64) -> f64 {
    let day = (t / DAY).floor() as i64;
    let (year, _, _) = civil_from_days(day);
    let mid_december = days_from_civil(year, 12, 15);
    let distance = (day - mid_december)
        .abs()
        .min((day - (mid_december - 365)).abs()) as f64;
    1.0 + peak * (-(distance * distance) / (2.0 * 20.0 * 20.0)).exp()
}

fn gamma(shape: f64, scale: f64, rng: &mut ChaCha8Rng) -> f64 {
    Gamma::new(shape, scale).map_or(shape * scale, |d| d.sample(rng))
}

/// An exponential waiting time in days at `rate` per day.
fn exp(rate: f64, rng: &mut ChaCha8Rng) -> f64 {
    Exp::new(rate).map_or(f64::INFINITY, |d| d.sample(rng))
}

/// Event times of a Poisson process at `rate` per day over [from, to).
fn poisson_times(from: f64, to: f64, rate: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut times = Vec::new();
    if rate <= 0.0 {
        return times;
    }
    let mut t = from;
    loop {
        t += exp(rate, rng) * DAY;
        if t >= to {
            return times;
        }
        times.push(t);
    }
}

fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn season_peaks_in_december() {
        let dec = days_from_civil(2023, 12, 15) as f64 * DAY;
        let jun = days_from_civil(2023, 6, 15) as f64 * DAY;
        assert!((season(dec, 2.0) - 3.0).abs() < 1e-9);
        assert!((season(jun, 2.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn picks_follow_weights() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 20_000;
        let fashion = (0..n)
            .filter(|_| pick(&CATEGORIES, &[0.1, 0.6, 0.1, 0.1, 0.05, 0.05], &mut rng) == "fashion")
            .count();
        assert!((fashion as f64 / n as f64 - 0.6).abs() < 0.02);
    }
}
