"""Reference values of ln 2F1(a, b; a + 1; z) for udfs/src/math/special.rs's tests.

mpmath at 60 digits (80 for the largest arguments), at the f64 arguments the tests pass, so
the printed value is what a correctly rounded ln_hyp2f1_next would return. scipy's hyp2f1
(1.11.4) gives NaN for several of these (e.g. a = 35154, b = 1.95, z = 1 - 2e-5), so it cannot
be the reference there.

    .venv/bin/python tests/reference/make_hyp2f1_reference.py
"""

import mpmath as mp

CASES = [
    (35154.0, 1.95, 0.99998),
    (3000.0, 0.05, 0.99999),
    (3000.0, 2.0, 0.99999),
    (3000.0, 2.00001, 0.99999),
    (50.0, 1.0, 0.999),
    (12.5, 40.5, 0.99999),
    (10000.0, 3.0001, 0.9999),
    (8.0, 0.5, 0.95),
    (3000.0, 2.00019, 0.99999),
    (3000.0, 2.0019, 0.99999),
    (3000.0, 2.0021, 0.99999),
    (500.0, 1.0003, 0.9995),
    (200.0, 4.9999, 0.99),
    (5e16 + 3400.0, 5e16, 6e-4),
    (2000.0, 1500.5, 0.3),
    (40.0, 39.0, 0.5),
    (495054029825.42566, 495054029826.42566, 0.9779427806507184),
    (5000.0, 3000.5, 0.97),
    (1e6, 999999.7, 0.999999),
]

for a, b, z in CASES:
    mp.mp.dps = 80 if a > 1e9 else 60
    a_, b_, z_ = mp.mpf(a), mp.mpf(b), mp.mpf(z)
    value = mp.log(mp.hyp2f1(a_, b_, a_ + 1, z_))
    print(f"({a!r}, {b!r}, {z!r}, {mp.nstr(value, 20)})")

# ln Γ(x + d) - ln Γ(x) for ln_gamma_ratio.
mp.mp.dps = 50
for x, d in [(35154.0 - 0.95, 1.95), (40.0, 2.5)]:
    value = mp.loggamma(mp.mpf(x) + mp.mpf(d)) - mp.loggamma(mp.mpf(x))
    print(f"ln_gamma_ratio({x!r}, {d!r}) = {mp.nstr(value, 20)}")

# The gradient of ln 2F1(a, b; a + 1; z) by a (c = a + 1 moving along), b and z, for
# udfs/src/math/hyp2f1_gradient.rs: mpmath's numerical differentiation at 60 digits.
GRADIENT_CASES = [
    (0.5, 1.5, 0.3),
    (2.0, 3.3, 0.9),
    (2.001, 3.0, 0.9),
    (35154.0, 1.95, 0.99998),
    (3000.0, 0.05, 0.99999),
    (3000.0, 2.00001, 0.99999),
    (3000.0, 2.0019, 0.99999),
    (500.0, 1.0003, 0.9995),
    (200.0, 4.9999, 0.99),
    (12.5, 40.5, 0.99999),
    (2000.0, 1500.5, 0.3),
    (5000.0, 3000.5, 0.97),
    (8.0, 0.5, 0.95),
    (4.6, 3.7, 0.905),
    (2.6, 1.86, 0.6),
    (199.0, 199.0, 0.45),
]
mp.mp.dps = 60
for a, b, z in GRADIENT_CASES:
    f = lambda a_, b_, z_: mp.log(mp.hyp2f1(a_, b_, a_ + 1, z_))
    point = (mp.mpf(a), mp.mpf(b), mp.mpf(z))
    grad = [mp.diff(f, point, tuple(int(i == j) for j in range(3))) for i in range(3)]
    print(f"({a!r}, {b!r}, {z!r}, [{', '.join(mp.nstr(g, 17) for g in grad)}]),")
