"""Reference tracking of repeat transactions, from lifetimes 0.11.3.

Writes clv_tracking_cdnow.csv next to this script: BetaGeoFitter fitted on the calibration
summary of the CDNOW sample transactions (cdnow_sample_transactions.csv; `calibration_and_holdout_data`
by week, calibration to 1997-09-30, holdout to 1998-06-30), then lifetimes'
`expected_cumulative_transactions` over the whole span, by week, from the first transaction's
week for t = 78 weeks (to the week holding 1998-06-30): per week index, actual and predicted
cumulative repeat transactions, and their increments (`incremental_transactions`).

Run: .venv/bin/python tests/reference/make_clv_tracking_reference.py (versions in
requirements.txt).
"""

import os

import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import calibration_and_holdout_data, expected_cumulative_transactions

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    transactions = pd.read_csv(os.path.join(HERE, "cdnow_sample_transactions.csv"))
    data = calibration_and_holdout_data(
        transactions, "customer_id", "date", calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30", freq="W",
    )
    bgf = BetaGeoFitter().fit(data["frequency_cal"], data["recency_cal"], data["T_cal"])
    start = pd.to_datetime(transactions["date"]).min().to_period("W")
    t = (pd.Period("1998-06-30", "W") - start).n
    tracking = expected_cumulative_transactions(
        bgf, transactions, "date", "customer_id", t, freq="W", set_index_date=True
    )
    tracking["actual_incremental"] = tracking["actual"].diff().fillna(tracking["actual"])
    tracking["predicted_incremental"] = tracking["predicted"].diff().fillna(tracking["predicted"])
    tracking.index = [p.start_time.date().isoformat() for p in tracking.index]
    tracking.index.name = "period_start"
    tracking = tracking.reset_index()
    tracking.insert(0, "period", range(1, len(tracking) + 1))
    tracking.to_csv(os.path.join(HERE, "clv_tracking_cdnow.csv"), index=False, float_format="%.17g")
    print(t, tracking.head(4).to_string(), tracking.tail(3).to_string())


if __name__ == "__main__":
    main()
