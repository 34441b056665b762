"""Reference calibration/holdout summaries, from lifetimes 0.11.3.

Writes btyd_holdout_cdnow_day.csv and btyd_holdout_cdnow_week.csv next to this script:
lifetimes' `calibration_and_holdout_data` on the CDNOW sample transactions
(cdnow_sample_transactions.csv: customer_id, date, amount), calibration end 1997-09-30,
observation end 1998-06-30, in days and in weeks, with monetary values: one row per customer
seen up to the calibration end (customer_id, frequency_cal, recency_cal, T_cal,
monetary_value_cal, frequency_holdout, monetary_value_holdout, duration_holdout).

Run: .venv/bin/python tests/reference/make_btyd_holdout_reference.py (versions in
requirements.txt).
"""

import os

import pandas as pd
from lifetimes.utils import calibration_and_holdout_data

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    transactions = pd.read_csv(os.path.join(HERE, "cdnow_sample_transactions.csv"))
    for freq, name in (("D", "day"), ("W", "week")):
        data = calibration_and_holdout_data(
            transactions,
            "customer_id",
            "date",
            calibration_period_end="1997-09-30",
            observation_period_end="1998-06-30",
            freq=freq,
            monetary_value_col="amount",
        )
        data = data.reset_index().sort_values("customer_id")
        data.to_csv(os.path.join(HERE, f"btyd_holdout_cdnow_{name}.csv"), index=False, float_format="%.17g")
        print(name, len(data), data.head(3).to_string())


if __name__ == "__main__":
    main()
