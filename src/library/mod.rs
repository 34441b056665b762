//! The saved query library: `.sql` files with a header naming the query, describing it and
//! declaring typed parameters (shared/domain.md §5):
//!
//! ```sql
//! -- name: rfm_segments
//! -- description: RFM scores and named segment per customer as of a date
//! -- param: as_of DATE = '2024-01-01'
//! -- param: transactions TABLE = transactions
//! SELECT ... rfm(order_ts, amount, $as_of) ... FROM transactions ...
//! ```
//!
//! Value parameters are bound as typed values through DataFusion's placeholders (`$as_of`),
//! never pasted into the SQL text. A TABLE parameter is named in the SQL by the parameter's
//! name; the query's own session maps that name to the table given.

mod bind;
mod params;
mod query;
mod sql;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use bind::{bind, bind_in, copy_catalogs, inputs};
pub use params::parse_params_file;
pub use query::{Param, ParamType, SavedQuery};
pub use sql::{LIBRARY_SCHEMA, register_library};

use crate::error::{Result, SeglakeError};

/// The queries built into the binary, by path under `queries/`.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "cohort/retention.sql",
        include_str!("../../queries/cohort/retention.sql"),
    ),
    (
        "clv/model_fit.sql",
        include_str!("../../queries/clv/model_fit.sql"),
    ),
    (
        "clv/cltv_by_customer.sql",
        include_str!("../../queries/clv/cltv_by_customer.sql"),
    ),
    (
        "clv/cltv_by_segment.sql",
        include_str!("../../queries/clv/cltv_by_segment.sql"),
    ),
    (
        "clv/clv_backtest.sql",
        include_str!("../../queries/clv/clv_backtest.sql"),
    ),
    (
        "clv/clv_tracking.sql",
        include_str!("../../queries/clv/clv_tracking.sql"),
    ),
    (
        "clv/clv_model_comparison.sql",
        include_str!("../../queries/clv/clv_model_comparison.sql"),
    ),
    (
        "kpi/overview.sql",
        include_str!("../../queries/kpi/overview.sql"),
    ),
    (
        "segmentation/rfm_grid.sql",
        include_str!("../../queries/segmentation/rfm_grid.sql"),
    ),
    (
        "segmentation/revenue_concentration.sql",
        include_str!("../../queries/segmentation/revenue_concentration.sql"),
    ),
    (
        "clv/cltv_distribution.sql",
        include_str!("../../queries/clv/cltv_distribution.sql"),
    ),
    (
        "clv/alive_matrix.sql",
        include_str!("../../queries/clv/alive_matrix.sql"),
    ),
    (
        "kpi/average_order_value.sql",
        include_str!("../../queries/kpi/average_order_value.sql"),
    ),
    (
        "kpi/churn_rate.sql",
        include_str!("../../queries/kpi/churn_rate.sql"),
    ),
    (
        "kpi/gross_margin.sql",
        include_str!("../../queries/kpi/gross_margin.sql"),
    ),
    (
        "kpi/purchase_frequency.sql",
        include_str!("../../queries/kpi/purchase_frequency.sql"),
    ),
    (
        "kpi/response_and_conversion_rates.sql",
        include_str!("../../queries/kpi/response_and_conversion_rates.sql"),
    ),
    (
        "kpi/romi_by_campaign.sql",
        include_str!("../../queries/kpi/romi_by_campaign.sql"),
    ),
    (
        "kpi/engagement_by_segment.sql",
        include_str!("../../queries/kpi/engagement_by_segment.sql"),
    ),
    (
        "kpi/kpi_dashboard.sql",
        include_str!("../../queries/kpi/kpi_dashboard.sql"),
    ),
    (
        "kpi/nps_by_segment.sql",
        include_str!("../../queries/kpi/nps_by_segment.sql"),
    ),
    (
        "kpi/satisfaction_by_segment.sql",
        include_str!("../../queries/kpi/satisfaction_by_segment.sql"),
    ),
    (
        "kpi/segment_contribution.sql",
        include_str!("../../queries/kpi/segment_contribution.sql"),
    ),
    (
        "kpi/touchpoints.sql",
        include_str!("../../queries/kpi/touchpoints.sql"),
    ),
    (
        "segmentation/lifecycle_migration.sql",
        include_str!("../../queries/segmentation/lifecycle_migration.sql"),
    ),
    (
        "segmentation/segment_migration.sql",
        include_str!("../../queries/segmentation/segment_migration.sql"),
    ),
    (
        "segmentation/demographic_profile.sql",
        include_str!("../../queries/segmentation/demographic_profile.sql"),
    ),
    (
        "segmentation/geographic_profile.sql",
        include_str!("../../queries/segmentation/geographic_profile.sql"),
    ),
    (
        "segmentation/psychographic_profile.sql",
        include_str!("../../queries/segmentation/psychographic_profile.sql"),
    ),
    (
        "segmentation/segment_overlap.sql",
        include_str!("../../queries/segmentation/segment_overlap.sql"),
    ),
    (
        "segmentation/segment_trend.sql",
        include_str!("../../queries/segmentation/segment_trend.sql"),
    ),
    (
        "segmentation/kmeans_elbow.sql",
        include_str!("../../queries/segmentation/kmeans_elbow.sql"),
    ),
    (
        "segmentation/kmeans_segments.sql",
        include_str!("../../queries/segmentation/kmeans_segments.sql"),
    ),
    (
        "segmentation/rfm_segments.sql",
        include_str!("../../queries/segmentation/rfm_segments.sql"),
    ),
    (
        "segmentation/lifecycle_stages.sql",
        include_str!("../../queries/segmentation/lifecycle_stages.sql"),
    ),
    (
        "segmentation/rfm_segment_summary.sql",
        include_str!("../../queries/segmentation/rfm_segment_summary.sql"),
    ),
    (
        "segmentation/value_tiers.sql",
        include_str!("../../queries/segmentation/value_tiers.sql"),
    ),
];
/// The queries a run can use: the built-in ones, overridden by those in the given folders.
#[derive(Debug, Clone, Default)]
pub struct Library {
    queries: BTreeMap<String, SavedQuery>,
}

impl Library {
    /// The built-in queries plus those under `folders` (later ones win on equal names).
    ///
    /// # Errors
    /// A usage error when a folder cannot be read or a query file is malformed.
    pub fn load(folders: &[PathBuf]) -> Result<Self> {
        let mut library = Self::default();
        for (path, text) in BUILT_IN {
            let query = SavedQuery::parse(text, &format!("built-in {path}"))
                .map_err(SeglakeError::usage)?;
            library.queries.insert(query.name.clone(), query);
        }
        for folder in folders {
            let mut files = Vec::new();
            sql_files(folder, &mut files).map_err(|e| {
                SeglakeError::usage(format!(
                    "cannot read queries folder '{}': {e}",
                    folder.display()
                ))
            })?;
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    SeglakeError::usage(format!("cannot read '{}': {e}", file.display()))
                })?;
                let query = SavedQuery::parse(&text, &file.display().to_string())
                    .map_err(SeglakeError::usage)?;
                library.queries.insert(query.name.clone(), query);
            }
        }
        Ok(library)
    }

    /// The folders named by `$SEGLAKE_QUERIES` (separated like PATH).
    pub fn env_folders() -> Vec<PathBuf> {
        std::env::var_os("SEGLAKE_QUERIES")
            .map(|v| std::env::split_paths(&v).collect())
            .unwrap_or_default()
    }

    pub fn queries(&self) -> impl Iterator<Item = &SavedQuery> {
        self.queries.values()
    }

    /// The query called `name`.
    ///
    /// # Errors
    /// A usage error listing the known queries.
    pub fn get(&self, name: &str) -> Result<&SavedQuery> {
        self.queries.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.queries.keys().map(String::as_str).collect();
            SeglakeError::usage(format!(
                "no saved query named '{name}': known queries are {}",
                known.join(", ")
            ))
        })
    }
}

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sql_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_queries_are_every_file_in_queries() {
        let mut files = Vec::new();
        sql_files(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/queries")),
            &mut files,
        )
        .unwrap();
        let mut on_disk: Vec<String> = files
            .iter()
            .map(|f| {
                f.strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/queries/"))
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = BUILT_IN.iter().map(|(p, _)| p.to_string()).collect();
        built_in.sort();
        assert_eq!(built_in, on_disk, "add new query files to BUILT_IN");
        for (path, text) in BUILT_IN {
            let query = SavedQuery::parse(text, path).unwrap();
            assert!(
                path.ends_with(&format!("{}.sql", query.name)),
                "{path} is named {}",
                query.name
            );
        }
    }
}
