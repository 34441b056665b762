"""Reference values for the CLV family, from lifetimes 0.11.3.

Writes, next to this script:
- cdnow_summary_weeks.csv: the CDNOW 2,357-customer summary in weeks shipped in lifetimes' wheel
  (customer_id, frequency, recency, T, monetary_value), followed by a few extreme customers
  (customer_id >= 100000) such as 21 repeat purchases early on and months of silence since;
- ../data/lake/cdnow_summary.csv: the same CDNOW customers (without the extreme ones) as a table
  of the sample lake (customer_id, frequency, recency, t, monetary_value), used by the
  functions' documented examples;
- clv_fits_cdnow.csv: BetaGeoFitter, ParetoNBDFitter and GammaGammaFitter fits on the CDNOW
  customers (Gamma-Gamma on those with frequency > 0), with and without a penalizer, and the
  total log-likelihood of the data under the fitted parameters (lifetimes' ParetoNBDFitter
  minimises the total negative log-likelihood plus the penalty by Nelder-Mead from random
  starting values, seeded here; the other two minimise the mean plus the penalty by BFGS);
- clv_predictions_cdnow.csv: per customer, with the unpenalized fitted parameters written in
  clv_fits_cdnow.csv: P(alive) and expected purchases in 1, 10 and 39 weeks for both models,
  Gamma-Gamma expected spend, and 12-month CLV (monthly discount 0.01, weeks) for both models.

- model_fit_cdnow.csv and cltv_by_customer_cdnow.csv: the saved queries' pipeline done in
  lifetimes on the CDNOW transactions (cdnow_sample_transactions.csv): summary by week up to
  1997-09-30, the three fits, and per customer P(alive), expected purchases in 90 days (90/7
  weeks), expected spend and 12-month CLV (monthly discount 0.01).

Run: .venv/bin/python tests/reference/make_clv_reference.py (versions in requirements.txt).
"""

import os

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

HERE = os.path.dirname(os.path.abspath(__file__))
HORIZONS = [1, 10, 39]
PENALIZED = 0.01

EXTREME = pd.DataFrame(
    {
        "frequency": [21, 21, 60, 1, 0, 35],
        "recency": [3.0, 3.0, 10.0, 77.0, 0.0, 77.0],
        "T": [77.0, 38.0, 150.0, 77.0, 77.0, 77.0],
        "monetary_value": [25.0, 25.0, 12.5, 300.0, 0.0, 80.0],
    },
    index=pd.Index(range(100000, 100006), name="customer_id"),
)


def fits(summary, returning):
    rows = []
    models = {}
    for penalizer in [0.0, PENALIZED]:
        for name, fitter, columns in [
            ("bgnbd", BetaGeoFitter, ["r", "alpha", "a", "b"]),
            ("paretonbd", ParetoNBDFitter, ["r", "alpha", "s", "beta"]),
        ]:
            model = fitter(penalizer_coef=penalizer)
            model.fit(summary["frequency"], summary["recency"], summary["T"])
            params = model.params_[columns]
            ll = log_likelihood(name, params.values, summary)
            rows.append(row(name, penalizer, params, ll, len(summary)))
            models[(name, penalizer)] = model
        gg = GammaGammaFitter(penalizer_coef=penalizer)
        gg.fit(returning["frequency"], returning["monetary_value"])
        params = gg.params_[["p", "q", "v"]]
        ll = -gg._negative_log_likelihood(
            np.log(params.values),
            returning["frequency"].values,
            returning["monetary_value"].values,
            np.ones(len(returning)),
            0.0,
        ) * len(returning)
        rows.append(row("gammagamma", penalizer, params, ll, len(returning)))
        models[("gammagamma", penalizer)] = gg
    return pd.DataFrame(rows), models


def log_likelihood(name, params, summary):
    f, r, t = (summary[c].values for c in ["frequency", "recency", "T"])
    if name == "paretonbd":
        return ParetoNBDFitter._conditional_log_likelihood(params, f, r, t).sum()
    # BetaGeoFitter's objective is the mean negative log-likelihood of the log-parameters.
    return -BetaGeoFitter._negative_log_likelihood(np.log(params), f, r, t, np.ones(len(f)), 0.0) * len(f)


def row(model, penalizer, params, ll, rows_used):
    values = dict(zip(["p1", "p2", "p3", "p4"], params.values))
    return {
        "model": model,
        "penalizer": penalizer,
        **values,
        "log_likelihood": ll,
        "rows_used": rows_used,
    }


def predictions(customers, models):
    bg, pareto, gg = (models[(m, 0.0)] for m in ["bgnbd", "paretonbd", "gammagamma"])
    f, r, t, m = (customers[c] for c in ["frequency", "recency", "T", "monetary_value"])
    out = pd.DataFrame(index=customers.index)
    out["p_alive_bgnbd"] = bg.conditional_probability_alive(f, r, t)
    out["p_alive_paretonbd"] = pareto.conditional_probability_alive(f, r, t)
    for h in HORIZONS:
        out[f"expected_bgnbd_{h}"] = bg.conditional_expected_number_of_purchases_up_to_time(h, f, r, t)
        out[f"expected_paretonbd_{h}"] = pareto.conditional_expected_number_of_purchases_up_to_time(
            h, f, r, t
        )
    out["expected_spend"] = gg.conditional_expected_average_profit(f, m)
    for name, model in [("bgnbd", bg), ("paretonbd", pareto)]:
        out[f"cltv_{name}"] = gg.customer_lifetime_value(
            model, f, r, t, m, time=12, discount_rate=0.01, freq="W"
        )
    return out


def pipeline():
    from lifetimes.utils import summary_data_from_transaction_data

    transactions = pd.read_csv(os.path.join(HERE, "cdnow_sample_transactions.csv"))
    summary = summary_data_from_transaction_data(
        transactions, "customer_id", "date", monetary_value_col="amount",
        observation_period_end="1997-09-30", freq="W",
    )
    returning = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    fitted, models = fits(summary, returning)
    fitted[fitted["penalizer"] == 0].to_csv(os.path.join(HERE, "model_fit_cdnow.csv"), index=False)
    bg, gg = models[("bgnbd", 0.0)], models[("gammagamma", 0.0)]
    f, r, t, m = (summary[c] for c in ["frequency", "recency", "T", "monetary_value"])
    out = pd.DataFrame(index=summary.index)
    out["p_alive"] = bg.conditional_probability_alive(f, r, t)
    out["expected_purchases"] = bg.conditional_expected_number_of_purchases_up_to_time(90 / 7, f, r, t)
    out["expected_spend"] = gg.conditional_expected_average_profit(f, m)
    out["cltv"] = gg.customer_lifetime_value(bg, f, r, t, m, time=12, discount_rate=0.01, freq="W")
    out.to_csv(os.path.join(HERE, "cltv_by_customer_cdnow.csv"))


def main():
    # ParetoNBDFitter starts Nelder-Mead from random parameters.
    np.random.seed(0)
    summary = load_cdnow_summary_data_with_monetary_value()
    summary.index.name = "customer_id"
    returning = summary[summary["frequency"] > 0]
    fitted, models = fits(summary, returning)
    customers = pd.concat([summary, EXTREME])
    customers.index.name = "customer_id"
    customers.to_csv(os.path.join(HERE, "cdnow_summary_weeks.csv"))
    lake = summary.rename(columns={"T": "t"})
    lake.to_csv(os.path.join(HERE, "..", "data", "lake", "cdnow_summary.csv"))
    fitted.to_csv(os.path.join(HERE, "clv_fits_cdnow.csv"), index=False)
    predictions(customers, models).to_csv(
        os.path.join(HERE, "clv_predictions_cdnow.csv")
    )
    pipeline()


if __name__ == "__main__":
    main()
