"""Reference values for the RFM family, from the libraries people trust.

Writes, next to this script:
- cdnow_sample_transactions.csv: the CDNOW 2,357-customer sample shipped in lifetimes' wheel
  (customer_id, date, amount), the input of the tests;
- btyd_summary_cdnow.csv: lifetimes 0.11.3 summary_data_from_transaction_data on it, by day and
  by week, for two observation ends;
- rfm_cdnow.csv: rfm values, scores and value tiers computed independently in DuckDB SQL, with
  the documented rules (purchases are amounts >= 0; score = CEIL(5 * CUME_DIST()); tiers by the
  revenue share of the customers ranked above).

Run: .venv/bin/python tests/reference/make_rfm_reference.py (versions in requirements.txt).
"""

import os

import duckdb
import lifetimes
import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data

HERE = os.path.dirname(os.path.abspath(__file__))
ENDS = ["1997-09-30", "1998-06-30"]
AS_OF = "1997-10-01"


def cdnow_transactions():
    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_sample.txt")
    raw = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["customer_id", "customer_index", "date", "cds", "amount"],
        dtype={"customer_id": int, "date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    return raw[["customer_id", "date", "amount"]]


def btyd_reference(transactions):
    frames = []
    for period, freq in [("day", "D"), ("week", "W")]:
        for end in ENDS:
            summary = summary_data_from_transaction_data(
                transactions, "customer_id", "date", "amount",
                observation_period_end=end, freq=freq,
            ).reset_index()
            summary.insert(0, "end", end)
            summary.insert(0, "period", period)
            frames.append(summary)
    return pd.concat(frames)


RFM_SQL = f"""
WITH purchases AS (
  SELECT customer_id, CAST(date AS DATE) AS day, amount FROM t WHERE CAST(date AS DATE) < DATE '{AS_OF}'
), per_customer AS (
  SELECT customer_id,
         DATE '{AS_OF}' - max(day) FILTER (WHERE amount >= 0) AS recency_days,
         count(*) FILTER (WHERE amount >= 0) AS frequency,
         count(DISTINCT day) FILTER (WHERE amount >= 0) AS purchase_days,
         sum(amount) AS monetary,
         DATE '{AS_OF}' - min(day) FILTER (WHERE amount >= 0) AS tenure_days
  FROM purchases GROUP BY customer_id
)
SELECT customer_id, recency_days, frequency, purchase_days, monetary, tenure_days,
       CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY recency_days DESC)) AS INT) AS r,
       CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY frequency)) AS INT) AS f,
       CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY monetary)) AS INT) AS m,
       CASE WHEN monetary <= 0 THEN 'zero'
            WHEN (sum(monetary) FILTER (WHERE monetary > 0) OVER (ORDER BY monetary DESC
                    RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                  - monetary * count(*) OVER (PARTITION BY monetary))
                 / sum(monetary) FILTER (WHERE monetary > 0) OVER () < 0.5 THEN 'high'
            WHEN (sum(monetary) FILTER (WHERE monetary > 0) OVER (ORDER BY monetary DESC
                    RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                  - monetary * count(*) OVER (PARTITION BY monetary))
                 / sum(monetary) FILTER (WHERE monetary > 0) OVER () < 0.8 THEN 'medium'
            ELSE 'low' END AS tier
FROM per_customer ORDER BY customer_id
"""


def main():
    transactions = cdnow_transactions()
    transactions.to_csv(os.path.join(HERE, "cdnow_sample_transactions.csv"), index=False)
    btyd_reference(transactions).to_csv(
        os.path.join(HERE, "btyd_summary_cdnow.csv"), index=False, float_format="%.17g"
    )
    con = duckdb.connect()
    con.register("t", transactions)
    con.execute(RFM_SQL).df().to_csv(
        os.path.join(HERE, "rfm_cdnow.csv"), index=False, float_format="%.17g"
    )


if __name__ == "__main__":
    main()
