"""Reference backtest of the CLV models, from lifetimes 0.11.3.

Writes clv_backtest_cdnow.csv next to this script: the CDNOW sample transactions
(cdnow_sample_transactions.csv) split by lifetimes' `calibration_and_holdout_data` in weeks
(calibration to 1997-09-30, holdout to 1998-06-30); BetaGeoFitter fitted on the calibration
summary predicts each customer's holdout purchases
(`conditional_expected_number_of_purchases_up_to_time(duration_holdout, ...)`), and
GammaGammaFitter fitted on the calibration's returning customers predicts the mean spend
(`conditional_expected_average_profit`) of every customer with a holdout purchase. One row per
calibration frequency 0..6 and 7+ (the data of `plot_calibration_purchases_vs_holdout_purchases`,
whose n = 7 groups are 0..6), then `all`: customers, mean actual and predicted holdout purchases,
their totals and the mean absolute error; holdout buyers, their mean actual and predicted spend
and its mean absolute error.

Run: .venv/bin/python tests/reference/make_clv_backtest_reference.py (versions in
requirements.txt).
"""

import os

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import calibration_and_holdout_data

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    transactions = pd.read_csv(os.path.join(HERE, "cdnow_sample_transactions.csv"))
    data = calibration_and_holdout_data(
        transactions, "customer_id", "date", calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30", freq="W", monetary_value_col="amount",
    )
    bgf = BetaGeoFitter().fit(data["frequency_cal"], data["recency_cal"], data["T_cal"])
    duration = data["duration_holdout"].iloc[0]
    data["predicted"] = bgf.conditional_expected_number_of_purchases_up_to_time(
        duration, data["frequency_cal"], data["recency_cal"], data["T_cal"])
    returning = data[data["frequency_cal"] > 0]
    ggf = GammaGammaFitter().fit(returning["frequency_cal"], returning["monetary_value_cal"])
    data["predicted_spend"] = ggf.conditional_expected_average_profit(
        data["frequency_cal"], data["monetary_value_cal"])
    data["bucket"] = np.where(data["frequency_cal"] >= 7, "7+", data["frequency_cal"].astype(int).astype(str))

    def row(label, part):
        buyers = part[part["frequency_holdout"] > 0]
        return {
            "bucket": label,
            "customers": len(part),
            "actual_mean": part["frequency_holdout"].mean(),
            "predicted_mean": part["predicted"].mean(),
            "actual_total": part["frequency_holdout"].sum(),
            "predicted_total": part["predicted"].sum(),
            "mae": (part["frequency_holdout"] - part["predicted"]).abs().mean(),
            "buyers": len(buyers),
            "actual_spend_mean": buyers["monetary_value_holdout"].mean() if len(buyers) else np.nan,
            "predicted_spend_mean": buyers["predicted_spend"].mean() if len(buyers) else np.nan,
            "spend_mae": (buyers["monetary_value_holdout"] - buyers["predicted_spend"]).abs().mean() if len(buyers) else np.nan,
        }

    rows = [row(b, data[data["bucket"] == b]) for b in ["0", "1", "2", "3", "4", "5", "6", "7+"]]
    rows.append(row("all", data))
    out = pd.DataFrame(rows)
    # The plot's data: lifetimes' own grouping must agree with the buckets 0..6.
    plot = data.groupby("frequency_cal")[["frequency_holdout", "predicted"]].mean().iloc[:7]
    assert np.allclose(plot["predicted"].values, out["predicted_mean"].values[:7])
    out.to_csv(os.path.join(HERE, "clv_backtest_cdnow.csv"), index=False, float_format="%.17g")
    print(out.to_string())


if __name__ == "__main__":
    main()
