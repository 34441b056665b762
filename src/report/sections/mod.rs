//! The report's sections: which saved queries each runs and how it draws them. A figure
//! whose data cannot be had (a table the lake lacks, too few customers for a model) says why.

mod clv;
mod cohorts;
mod kmeans;
mod kpis;
mod segments;
mod value;

use std::fmt;
use std::str::FromStr;

use super::runner::{QueryData, Runner};

/// One chart (or table) of the report, with the data behind it.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The anchor and CSV file name: `segments-share`.
    pub id: String,
    pub title: String,
    /// One line on how to read it.
    pub guide: String,
    /// The chart (inline SVG or an HTML table with inline bars); empty when unavailable.
    pub body: String,
    /// How many data marks `body` has.
    pub marks: usize,
    pub data: Option<QueryData>,
    /// Why the figure has no chart.
    pub unavailable: Option<String>,
}

impl Figure {
    /// A figure drawn from `data`.
    pub fn chart(id: &str, title: &str, guide: &str, body: String, data: QueryData) -> Self {
        let marks = body.matches("class=\"mark\"").count();
        Self {
            id: id.into(),
            title: title.into(),
            guide: guide.into(),
            body,
            marks,
            data: Some(data),
            unavailable: None,
        }
    }

    /// A figure that cannot be drawn, and why.
    pub fn unavailable(id: &str, title: &str, why: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            guide: String::new(),
            body: String::new(),
            marks: 0,
            data: None,
            unavailable: Some(why.into()),
        }
    }
}

/// The sections, in the order the report shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionId {
    Segments,
    Grid,
    Treemap,
    Concentration,
    Cohorts,
    Migration,
    Kmeans,
    Clv,
    Kpis,
}

impl SectionId {
    pub const ALL: [Self; 9] = [
        Self::Segments,
        Self::Grid,
        Self::Treemap,
        Self::Concentration,
        Self::Cohorts,
        Self::Migration,
        Self::Kmeans,
        Self::Clv,
        Self::Kpis,
    ];

    /// The name `--sections` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Segments => "segments",
            Self::Grid => "grid",
            Self::Treemap => "treemap",
            Self::Concentration => "concentration",
            Self::Cohorts => "cohorts",
            Self::Migration => "migration",
            Self::Kmeans => "kmeans",
            Self::Clv => "clv",
            Self::Kpis => "kpis",
        }
    }

    /// The section's heading.
    pub fn title(self) -> &'static str {
        match self {
            Self::Segments => "RFM segments: share of customers and of revenue",
            Self::Grid => "Recency x frequency grid",
            Self::Treemap => "Segment treemap",
            Self::Concentration => "Revenue concentration",
            Self::Cohorts => "Cohort retention",
            Self::Migration => "Segment migration and lifecycle stages",
            Self::Kmeans => "k-means clusters",
            Self::Clv => "Customer lifetime value",
            Self::Kpis => "KPIs per segment",
        }
    }

    /// The saved queries the section runs.
    pub fn queries(self) -> &'static [&'static str] {
        match self {
            Self::Segments | Self::Treemap => &["rfm_segment_summary"],
            Self::Grid => &["rfm_grid"],
            Self::Concentration => &["revenue_concentration"],
            Self::Cohorts => &["retention"],
            Self::Migration => &["segment_migration", "lifecycle_stages"],
            Self::Kmeans => &["kmeans_segments", "kmeans_elbow"],
            Self::Clv => &["cltv_distribution", "cltv_by_segment", "alive_matrix"],
            Self::Kpis => &["kpi_dashboard"],
        }
    }

    /// Runs the section's queries and draws its figures.
    pub async fn build(self, runner: &mut Runner<'_>, dates: &Dates) -> Vec<Figure> {
        match self {
            Self::Segments => vec![segments::share(runner).await],
            Self::Grid => segments::grid(runner).await,
            Self::Treemap => vec![segments::treemap(runner).await],
            Self::Concentration => vec![value::concentration(runner).await],
            Self::Cohorts => vec![cohorts::retention(runner).await],
            Self::Migration => cohorts::migration(runner, dates).await,
            Self::Kmeans => kmeans::figures(runner).await,
            Self::Clv => clv::figures(runner).await,
            Self::Kpis => vec![kpis::dashboard(runner).await],
        }
    }
}

impl fmt::Display for SectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SectionId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|id| id.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|id| id.name()).collect();
                format!("unknown section '{s}': expected {}", names.join(", "))
            })
    }
}

/// The dates the sections use.
#[derive(Debug, Clone)]
pub struct Dates {
    pub as_of: chrono::NaiveDate,
    /// The start of the migration: six months before as_of.
    pub from_date: chrono::NaiveDate,
}

/// The figure for `data`, or why there is none: the query failed, or returned no rows (`empty`
/// says what that means).
pub(super) fn checked(
    id: &str,
    title: &str,
    outcome: Result<QueryData, String>,
    empty: &str,
) -> Result<QueryData, Box<Figure>> {
    match outcome {
        Err(why) => Err(Box::new(Figure::unavailable(id, title, why))),
        Ok(data) if data.table.rows.is_empty() => Err(Box::new(Figure::unavailable(
            id,
            title,
            format!("{empty} (query {} returned no rows)", data.query),
        ))),
        Ok(data) => Ok(data),
    }
}

/// Figures drawn from a result with columns the chart does not find (a user's own saved query
/// of the same name) say so.
pub(super) fn drawn(
    id: &str,
    title: &str,
    guide: &str,
    data: QueryData,
    draw: impl FnOnce(&QueryData) -> Result<String, String>,
) -> Figure {
    match draw(&data) {
        Ok(body) => Figure::chart(id, title, guide, body, data),
        Err(why) => Figure::unavailable(id, title, format!("query {}: {why}", data.query)),
    }
}
