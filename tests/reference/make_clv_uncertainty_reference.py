"""Reference standard errors for the CLV fits, from lifetimes 0.11.3.

Writes clv_uncertainty_cdnow.csv next to this script: for each model, penalizer and parameter
of the fits on lifetimes' CDNOW summary in weeks (2,357 customers; Gamma-Gamma on the 946 with
frequency > 0), the estimate and lifetimes' `summary`: `se(coef)`, `lower 95% bound`,
`upper 95% bound` (BetaGeoFitter and GammaGammaFitter: the delta method on the inverse Hessian
of the mean negative log-likelihood in log-parameters, over the total weight).

lifetimes' ParetoNBDFitter has no summary (its Hessian is not kept), so its rows come from the
same definition worked out here on lifetimes' own Pareto/NBD log-likelihood: the estimate
polished from lifetimes' Nelder-Mead result by BFGS (the total log-likelihood only, so the
unpenalized fit), and the inverse of minus the Hessian of the total log-likelihood in the
natural parameters, by central differences of central-difference gradients (Richardson
extrapolated), with 1.96 standard errors either side.

Run: .venv/bin/python tests/reference/make_clv_uncertainty_reference.py (versions in
requirements.txt).
"""

import os

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value
from scipy.optimize import minimize

HERE = os.path.dirname(os.path.abspath(__file__))


def summary_rows(model, penalizer, fitter):
    s = fitter.summary
    return [
        (model, penalizer, name, row["coef"], row["se(coef)"], row["lower 95% bound"], row["upper 95% bound"])
        for name, row in s.iterrows()
    ]


def pareto_rows(data):
    f, r, t = (data[c].values.astype(float) for c in ("frequency", "recency", "T"))

    def ll(params):
        return ParetoNBDFitter._conditional_log_likelihood(params, f, r, t).sum()

    np.random.seed(0)
    fitter = ParetoNBDFitter().fit(f, r, t)
    start = np.log(fitter._unload_params("r", "alpha", "s", "beta"))
    polished = minimize(lambda x: -ll(np.exp(x)), start, method="BFGS", options={"gtol": 1e-10, "maxiter": 10000})
    p = np.exp(polished.x)

    def gradient(x):
        g = np.zeros(4)
        for i in range(4):
            h = 1e-5 * x[i]
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            g[i] = (ll(up) - ll(down)) / (2 * h)
        return g

    def hessian(step):
        h = np.zeros((4, 4))
        for j in range(4):
            d = step * p[j]
            up, down = p.copy(), p.copy()
            up[j] += d
            down[j] -= d
            h[:, j] = (gradient(up) - gradient(down)) / (2 * d)
        return (h + h.T) / 2

    # Richardson: the central difference's error is O(step^2).
    coarse, fine = hessian(2e-4), hessian(1e-4)
    information = -(4 * fine - coarse) / 3
    se = np.sqrt(np.diag(np.linalg.inv(information)))
    return [
        ("paretonbd", 0.0, name, p[i], se[i], p[i] - 1.96 * se[i], p[i] + 1.96 * se[i])
        for i, name in enumerate(["r", "alpha", "s", "beta"])
    ]


def main():
    data = load_cdnow_summary_data_with_monetary_value()
    f, r, t = data["frequency"], data["recency"], data["T"]
    spenders = data[data["frequency"] > 0]
    rows = []
    for penalizer in (0.0, 0.01):
        rows += summary_rows("bgnbd", penalizer, BetaGeoFitter(penalizer_coef=penalizer).fit(f, r, t))
        gg = GammaGammaFitter(penalizer_coef=penalizer).fit(spenders["frequency"], spenders["monetary_value"])
        rows += summary_rows("gammagamma", penalizer, gg)
    rows += pareto_rows(data)
    out = pd.DataFrame(rows, columns=["model", "penalizer", "parameter", "coef", "se", "lower", "upper"])
    out.to_csv(os.path.join(HERE, "clv_uncertainty_cdnow.csv"), index=False, float_format="%.17g")
    print(out.to_string())


if __name__ == "__main__":
    main()
