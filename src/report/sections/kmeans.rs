//! k-means: the clusters' profile ("snake plot") and the elbow curve.

use super::{Figure, checked, drawn};
use crate::report::charts::{self, Line, Lines};
use crate::report::format::{fixed, int, number, percent};
use crate::report::runner::Runner;

const TOO_FEW: &str = "No customer has a purchase before as_of";

pub async fn figures(runner: &mut Runner<'_>) -> Vec<Figure> {
    vec![profile(runner).await, elbow(runner).await]
}

async fn profile(runner: &mut Runner<'_>) -> Figure {
    let (id, title) = ("kmeans-profile", "Cluster profiles (snake plot)");
    let data = match checked(id, title, runner.run("kmeans_segments", &[]).await, TOO_FEW) {
        Ok(data) => data,
        Err(figure) => return *figure,
    };
    let guide = "Each line is a cluster's mean of the standardised log recency, frequency and \
                 monetary value the model clustered on (0 is the average customer; low recency \
                 is a recent purchase).";
    drawn(id, title, guide, data, |data| {
        let t = &data.table;
        let clusters = t.texts("cluster")?;
        let customers = t.numbers("customers")?;
        let share = t.numbers("customer_share")?;
        let features = [
            ("recency", "z_recency", "mean_recency_days", " days"),
            ("frequency", "z_frequency", "mean_frequency", " purchases"),
            ("monetary", "z_monetary", "mean_monetary", ""),
        ];
        let mut z = Vec::new();
        let mut means = Vec::new();
        for (_, z_column, mean_column, _) in features {
            z.push(t.numbers(z_column)?);
            means.push(t.numbers(mean_column)?);
        }
        let lines = clusters
            .iter()
            .enumerate()
            .map(|(i, cluster)| Line {
                name: format!("cluster {cluster}"),
                points: (0..3)
                    .map(|f| (f as f64, z[f][i].unwrap_or(f64::NAN)))
                    .collect(),
                tooltips: features
                    .iter()
                    .enumerate()
                    .map(|(f, (name, _, _, unit))| {
                        format!(
                            "cluster {cluster} ({} customers, {}): {name} z = {} (mean {}{unit})",
                            int(customers[i].unwrap_or(0.0) as i64),
                            share[i].map_or("–".into(), percent),
                            z[f][i].map_or("–".into(), |v| fixed(v, 3)),
                            means[f][i].map_or("–".into(), number)
                        )
                    })
                    .collect(),
            })
            .collect();
        let names: Vec<String> = features.iter().map(|f| f.0.to_string()).collect();
        Ok(charts::lines(&Lines {
            lines,
            x_title: "feature (ln(1 + x), standardised)",
            y_title: "cluster mean (standard deviations)",
            x_label: &|v| number(v),
            y_label: &|v| number(v),
            x_categories: Some(&names),
            y_from_zero: false,
            diagonal: false,
            guides: vec![],
        }))
    })
}

async fn elbow(runner: &mut Runner<'_>) -> Figure {
    let (id, title) = ("kmeans-elbow", "Choosing k: inertia and silhouette per k");
    let data = match checked(id, title, runner.run("kmeans_elbow", &[]).await, TOO_FEW) {
        Ok(data) => data,
        Err(figure) => return *figure,
    };
    let guide = "Inertia always falls as k grows: pick the k after which it falls slowly (the \
                 elbow), preferring a high silhouette (-1..1, higher is better separated).";
    drawn(id, title, guide, data, |data| {
        let t = &data.table;
        let k = t.numbers("k")?;
        let mut body = String::new();
        for (column, name) in [("inertia", "inertia"), ("silhouette", "silhouette")] {
            let values = t.numbers(column)?;
            let line = Line {
                name: name.into(),
                points: k
                    .iter()
                    .zip(&values)
                    .map(|(k, v)| (k.unwrap_or(f64::NAN), v.unwrap_or(f64::NAN)))
                    .collect(),
                tooltips: k
                    .iter()
                    .zip(&values)
                    .map(|(k, v)| {
                        format!(
                            "k = {}: {name} {}",
                            k.map_or("–".into(), number),
                            v.map_or("–".into(), |v| fixed(v, 4))
                        )
                    })
                    .collect(),
            };
            body.push_str(&charts::lines(&Lines {
                lines: vec![line],
                x_title: "k (clusters)",
                y_title: name,
                x_label: &|v| number(v),
                y_label: &|v| number(v),
                x_categories: None,
                y_from_zero: column == "inertia",
                diagonal: false,
                guides: vec![],
            }));
        }
        Ok(body)
    })
}
