"""Reference model comparison, from lifetimes 0.11.3.

Writes clv_comparison_cdnow.csv next to this script: the CDNOW sample transactions split by
`calibration_and_holdout_data` by week (calibration to 1997-09-30, holdout to 1998-06-30);
BetaGeoFitter, ModifiedBetaGeoFitter and ParetoNBDFitter (seeded: it starts Nelder-Mead from
random values) fitted on the calibration summary. Per model: customers, the log-likelihood of
the calibration data in its own units (lifetimes' own likelihood functions at the fitted
parameters), AIC = 8 - 2 ll, BIC = 4 ln n - 2 ll, and on the holdout the mean absolute error of
`conditional_expected_number_of_purchases_up_to_time(duration_holdout, ...)` against the
actual purchases, with the predicted and actual totals.

Run: .venv/bin/python tests/reference/make_clv_comparison_reference.py (versions in
requirements.txt).
"""

import os

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
from lifetimes.utils import calibration_and_holdout_data

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    transactions = pd.read_csv(os.path.join(HERE, "cdnow_sample_transactions.csv"))
    data = calibration_and_holdout_data(
        transactions, "customer_id", "date", calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30", freq="W",
    )
    f, r, t = (data[c].values.astype(float) for c in ("frequency_cal", "recency_cal", "T_cal"))
    n = len(data)
    duration = data["duration_holdout"].iloc[0]
    rows = []
    np.random.seed(0)
    for name, fitter in (("bgnbd", BetaGeoFitter()), ("mbgnbd", ModifiedBetaGeoFitter()), ("paretonbd", ParetoNBDFitter())):
        fitter.fit(f, r, t)
        if name == "paretonbd":
            params = fitter._unload_params("r", "alpha", "s", "beta")
            ll = ParetoNBDFitter._conditional_log_likelihood(params, f, r, t).sum()
        else:
            params = np.array(fitter._unload_params("r", "alpha", "a", "b"))
            ll = -type(fitter)._negative_log_likelihood(np.log(params), f, r, t, np.ones(n), 0.0) * n
        predicted = fitter.conditional_expected_number_of_purchases_up_to_time(duration, f, r, t)
        actual = data["frequency_holdout"].values
        rows.append({
            "model": name,
            "customers": n,
            "log_likelihood": ll,
            "aic": 8 - 2 * ll,
            "bic": 4 * np.log(n) - 2 * ll,
            "holdout_mae": np.abs(actual - predicted).mean(),
            "predicted_holdout": predicted.sum(),
            "actual_holdout": actual.sum(),
        })
    out = pd.DataFrame(rows)
    out.to_csv(os.path.join(HERE, "clv_comparison_cdnow.csv"), index=False, float_format="%.17g")
    print(out.to_string())


if __name__ == "__main__":
    main()
