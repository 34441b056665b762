"""Reference MBG/NBD fit and predictions, from lifetimes 0.11.3.

Writes mbgnbd_cdnow.csv next to this script: ModifiedBetaGeoFitter on lifetimes' CDNOW summary
in weeks (2,357 customers), without and with a penalizer of 0.01: r, alpha, a, b and
lifetimes' `summary` standard errors; and
mbgnbd_predictions_cdnow.csv: per customer, with the unpenalized fit, P(alive) and expected
purchases in 1, 10 and 39 weeks.

Run: .venv/bin/python tests/reference/make_mbgnbd_reference.py (versions in requirements.txt).
"""

import os

import pandas as pd
from lifetimes import ModifiedBetaGeoFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    data = load_cdnow_summary_data_with_monetary_value()
    f, r, t = data["frequency"], data["recency"], data["T"]
    fits = []
    for penalizer in (0.0, 0.01):
        m = ModifiedBetaGeoFitter(penalizer_coef=penalizer).fit(f, r, t)
        p = m._unload_params("r", "alpha", "a", "b")
        se = m.summary["se(coef)"].values
        fits.append([penalizer, *p, *se])
        if penalizer == 0.0:
            model = m
    pd.DataFrame(fits, columns=["penalizer", "r", "alpha", "a", "b", "se_r", "se_alpha", "se_a", "se_b"]).to_csv(
        os.path.join(HERE, "mbgnbd_cdnow.csv"), index=False, float_format="%.17g")
    out = pd.DataFrame({"customer_id": data.index, "frequency": f, "recency": r, "T": t})
    out["p_alive"] = model.conditional_probability_alive(f, r, t)
    for h in (1, 10, 39):
        out[f"expected_{h}"] = model.conditional_expected_number_of_purchases_up_to_time(h, f, r, t)
    out.to_csv(os.path.join(HERE, "mbgnbd_predictions_cdnow.csv"), index=False, float_format="%.17g")
    print(pd.DataFrame(fits).to_string())


if __name__ == "__main__":
    main()
