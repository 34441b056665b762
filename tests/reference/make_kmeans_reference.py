"""Reference values for the k-means family, from scikit-learn 1.9.1.

Inputs, next to this script:
- cdnow_summary_weeks.csv (written by make_clv_reference.py): the CDNOW customers; the features
  are frequency, recency and monetary_value of the first 2,357 rows (the CDNOW sample).
- kmeans_generated_features.csv: per customer of a generated lake, its true persona and RFM-style
  features. Made once with seglake (debug build is fine):
    seglake gen --customers 3000 --seed 11 --out /tmp/glake
    seglake --lake /tmp/glake sql "COPY (SELECT c.customer_id, 2025 - c.birth_year AS age,
      coalesce(r['frequency'], 0) AS frequency, coalesce(r['recency_days'], 1096) AS recency_days,
      coalesce(r['avg_order_value'], 0) AS avg_order_value, coalesce(r['monetary'], 0) AS monetary
      FROM customers c LEFT JOIN (SELECT customer_id, rfm(order_ts, amount, DATE '2025-01-01') AS r
      FROM transactions GROUP BY customer_id) t ON c.customer_id = t.customer_id
      ORDER BY c.customer_id) TO '/tmp/gfeat.csv'"
  joined with the persona column of /tmp/glake/_truth/customers.parquet. The features used are
  age, ln(1 + frequency) and ln(1 + avg_order_value).

- rfm_cdnow.csv (written by make_rfm_reference.py with DuckDB): RFM per CDNOW customer as of
  1997-10-01; the saved queries kmeans_elbow and kmeans_segments use ln(1 + recency_days),
  ln(1 + frequency) and ln(1 + max(monetary, 0)).

Writes:
- kmeans_inertia.csv: dataset, k, inertia of KMeans(n_clusters=k, n_init=10, random_state=0)
  on the StandardScaler-standardized features, and the adjusted Rand index of its labels
  against the personas (generated lake only).
- kmeans_lloyd_summary.csv and kmeans_lloyd_labels.csv: Lloyd from fixed initial centres
  (the standardized rows listed in init_rows, 0-based), KMeans(init=..., n_init=1, tol=0,
  algorithm='lloyd', max_iter=300): inertia, iterations, the silhouette_score and
  davies_bouldin_score of the final labels, and every row's label.
- kmeans_segments_cdnow.csv: the kmeans_segments profile done in pandas with scikit-learn's
  KMeans(n_clusters=4, n_init=10, random_state=0) on the RFM features: clusters numbered by
  size (largest first), customers, mean recency_days, frequency and monetary, revenue share,
  and the inertia.

Run: .venv/bin/python tests/reference/make_kmeans_reference.py (versions in requirements.txt).
"""

import os

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))


def datasets():
    cdnow = pd.read_csv(os.path.join(HERE, "cdnow_summary_weeks.csv")).head(2357)
    generated = pd.read_csv(os.path.join(HERE, "kmeans_generated_features.csv"))
    gen_features = np.column_stack(
        [
            generated["age"].astype(float),
            np.log1p(generated["frequency"].astype(float)),
            np.log1p(generated["avg_order_value"].astype(float)),
        ]
    )
    rfm = rfm_features()[1]
    yield "cdnow_rfm", rfm, None
    yield "cdnow", cdnow[["frequency", "recency", "monetary_value"]].values.astype(float), None
    yield "generated", gen_features, generated["persona"].values


def rfm_features():
    rfm = pd.read_csv(os.path.join(HERE, "rfm_cdnow.csv"))
    features = np.column_stack(
        [
            np.log1p(rfm["recency_days"].astype(float)),
            np.log1p(rfm["frequency"].astype(float)),
            np.log1p(rfm["monetary"].clip(lower=0).astype(float)),
        ]
    )
    return rfm, features


def segments_profile():
    rfm, raw = rfm_features()
    x = StandardScaler().fit_transform(raw)
    km = KMeans(n_clusters=4, n_init=10, random_state=0).fit(x)
    rfm = rfm.assign(label=km.labels_)
    profile = rfm.groupby("label").agg(
        customers=("customer_id", "count"),
        mean_recency_days=("recency_days", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary=("monetary", "mean"),
        revenue=("monetary", "sum"),
    )
    profile["revenue_share"] = profile["revenue"] / profile["revenue"].sum()
    profile = profile.sort_values("customers", ascending=False, kind="stable").reset_index(drop=True)
    profile.insert(0, "cluster", range(1, len(profile) + 1))
    profile["inertia"] = km.inertia_
    return profile.drop(columns="revenue")


def main():
    inertia_rows, summary_rows, label_rows = [], [], []
    for name, raw, truth in datasets():
        x = StandardScaler().fit_transform(raw)
        for k in range(2, 9):
            km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
            ari = adjusted_rand_score(truth, km.labels_) if truth is not None else np.nan
            inertia_rows.append({"dataset": name, "k": k, "inertia": km.inertia_, "ari": ari})
        for k in (4, 5):
            rows = np.sort(np.random.RandomState(k).choice(len(x), k, replace=False))
            km = KMeans(n_clusters=k, init=x[rows], n_init=1, tol=0.0, algorithm="lloyd",
                        max_iter=300).fit(x)
            summary_rows.append({
                "dataset": name,
                "k": k,
                "init_rows": ";".join(str(r) for r in rows),
                "inertia": km.inertia_,
                "iterations": km.n_iter_,
                "silhouette": silhouette_score(x, km.labels_),
                "davies_bouldin": davies_bouldin_score(x, km.labels_),
            })
            label_rows += [{"dataset": name, "k": k, "row": i, "label": int(label)}
                           for i, label in enumerate(km.labels_)]
    pd.DataFrame(inertia_rows).to_csv(os.path.join(HERE, "kmeans_inertia.csv"), index=False,
                                      float_format="%.17g")
    pd.DataFrame(summary_rows).to_csv(os.path.join(HERE, "kmeans_lloyd_summary.csv"),
                                      index=False, float_format="%.17g")
    pd.DataFrame(label_rows).to_csv(os.path.join(HERE, "kmeans_lloyd_labels.csv"), index=False)
    segments_profile().to_csv(os.path.join(HERE, "kmeans_segments_cdnow.csv"), index=False,
                              float_format="%.17g")


if __name__ == "__main__":
    main()
