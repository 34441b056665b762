"""Reference BG/BB fit and predictions, from lifetimes 0.11.3.

Writes bgbb_donations.csv next to this script: BetaGeoBetaBinomFitter on the donations data
lifetimes ships (22 purchase patterns of 11,104 donors over 6 yearly opportunities, with their
counts as weights): alpha, beta, gamma, delta and lifetimes' `summary` standard errors; and
bgbb_predictions_donations.csv: per pattern (frequency, recency, periods), P(alive) now and
expected transactions in the next 1, 5 and 10 periods.

Run: .venv/bin/python tests/reference/make_bgbb_reference.py (versions in requirements.txt).
"""

import os

import pandas as pd
from lifetimes import BetaGeoBetaBinomFitter
from lifetimes.datasets import load_donations

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    d = load_donations()
    m = BetaGeoBetaBinomFitter().fit(d["frequency"], d["recency"], d["periods"], weights=d["weights"])
    params = m._unload_params("alpha", "beta", "gamma", "delta")
    se = m.summary["se(coef)"].values
    pd.DataFrame([[*params, *se]], columns=["alpha", "beta", "gamma", "delta", "se_alpha", "se_beta", "se_gamma", "se_delta"]).to_csv(
        os.path.join(HERE, "bgbb_donations.csv"), index=False, float_format="%.17g")
    out = d.copy()
    f, r, n = d["frequency"], d["recency"], d["periods"]
    out["p_alive"] = m.conditional_probability_alive(0, f, r, n)
    for h in (1, 5, 10):
        out[f"expected_{h}"] = m.conditional_expected_number_of_purchases_up_to_time(h, f, r, n)
    out.to_csv(os.path.join(HERE, "bgbb_predictions_donations.csv"), index=False, float_format="%.17g")
    print(params, se)
    print(out.head().to_string())


if __name__ == "__main__":
    main()
