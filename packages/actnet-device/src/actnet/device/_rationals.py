"""The rational functions of the compiled exact gelu (`_compiled_activations.py`).

Each pair of tuples holds a numerator P and a denominator Q (Q(0) = 1), their
coefficients highest power first (Horner's order), in y = x**2 on [0, 16] (|x|
<= 4). A rational function reaches a polynomial's accuracy with fewer
multiply-adds (here 17 against 23), and the division runs beside them:

- CDF (8, 9): (Phi(x) - 1/2) / x, Phi the standard normal CDF; Phi(x) = 1/2 + x
  P(y) / Q(y), every coefficient positive (nothing cancels).
- SLOPE (8, 9): (Phi(x) - 1/2) / x + phi(x), phi the normal density; gelu'(x) =
  Phi(x) + x phi(x) = 1/2 + x P(y) / Q(y).

The recipe (mpmath, 60 digits): 300 Chebyshev points of [0, 16]; a linear least
squares fit of P(y) - f(y) Q(y) = 0 with rows weighted by sqrt(y) + 0.1 (the
error of 1/2 + x P/Q is x times that of P/Q) and by 1 / |Q(y)| of the previous
fit (Loeb's iteration, 8 times from Q = 1), rounded once to float64. With these
coefficients 1/2 + x P/Q is within 3e-17 of Phi(x) and gelu'(x) on |x| <= 4 in
exact arithmetic, and within 3.5e-16 evaluated in float64 (as the polynomials
of `_polynomials.py` were); tests/test_rationals.py checks both against mpmath.
"""

from __future__ import annotations

from typing import Final

CDF_P: Final = (
    5.556168906052892e-13,
    7.239271494094752e-11,
    7.116379550546809e-09,
    2.6562596671807203e-07,
    1.1970010450554104e-05,
    0.00020300390025108748,
    0.005069557251748373,
    0.033063439559137375,
    0.39894228040143265,
)
CDF_Q: Final = (
    3.743085420750232e-14,
    1.4593990431508235e-11,
    1.5447234277881951e-09,
    9.275539709242512e-08,
    3.7276590790310224e-06,
    0.00010580076873644651,
    0.002129473992270049,
    0.029298232067453772,
    0.24954441912215328,
    1.0,
)
SLOPE_P: Final = (
    6.107443291698164e-12,
    4.021304461213749e-11,
    3.467803288560292e-08,
    -2.0861210537265453e-07,
    4.5284536653191546e-05,
    -0.00028078055460854003,
    0.01552777287783367,
    -0.04787590363926566,
    0.7978845608028653,
)
SLOPE_Q: Final = (
    5.640125288313166e-13,
    7.107264848289594e-11,
    4.7515037763043194e-09,
    2.1327797447204526e-07,
    6.926006141813105e-06,
    0.00016614191158578892,
    0.0029101570448039683,
    0.03557110609064942,
    0.2733297864654859,
    1.0,
)
