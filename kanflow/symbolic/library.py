"""The library of univariate functions an edge can be snapped to.

An edge becomes ``c * f(a x + b) + d`` for ``f`` from this library (pykan's
``SYMBOLIC_LIB``, arXiv 2404.19756 §2.5.1), each with a complexity that
:func:`kanflow.symbolic.suggest_symbolic` trades against the fit.

Every entry has three forms of ``f``:

* ``fn``: the exact function in ``jax.numpy``. Outside its domain it is not
  finite (``log`` of a negative, ``1/x`` at 0), and the parameter search
  rejects any ``(a, b)`` that sends the edge's data there, so a chosen
  formula is defined on the data it was fitted to.
* ``safe``: finite everywhere, equal to ``fn`` wherever ``|fn| <= y_th``
  (pykan's singularity avoidance): the symbolic layer trains through it, so a
  step that moves ``a x + b`` towards a pole never produces a NaN.
* ``sympy``: the same function on sympy expressions, for formulas.

``canonical`` maps ``(a, b, c, d)`` to an equal function with the redundant
parameters fixed (``c (a x + b)^2 + d = c a^2 (x + b/a)^2 + d``: ``a = 1``),
so formulas read simply and training is well conditioned.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax.numpy as jnp
import numpy as np
from jax import Array

__all__ = ["SymbolicFunction", "canonical", "get", "names", "simplest"]


@dataclasses.dataclass(frozen=True)
class SymbolicFunction:
    """One library entry.

    Attributes:
      name: the library key (``"sin"``, ``"x^2"``, ``"1/sqrt(x)"``, ...).
      fn: exact ``f``, elementwise ``jnp`` (``[...] -> [...]``).
      safe: ``safe(x, y_th)``, finite everywhere, ``fn`` where ``|fn| <= y_th``.
      sympy: ``f`` on a sympy expression.
      complexity: pykan's complexity (bits) of ``f``.
      canonical: ``(a, b, c, d) -> (a, b, c, d)`` describing the same edge
        function with redundant parameters fixed (NumPy scalars in and out).
    """

    name: str
    fn: Callable[[Array], Array]
    safe: Callable[[Array, float], Array]
    sympy: Callable
    complexity: float
    canonical: Callable[[float, float, float, float], tuple[float, float, float, float]]


def _same(a, b, c, d):
    return a, b, c, d


def _shift_power(p: float, signed: bool):
    """``c (a x + b)^p + d = c |a|^p (s x + b/|a|)^p + d`` with ``s = sign(a)``
    (``s = 1`` when ``p`` is an integer and ``signed`` is false: ``(-u)^p = +-u^p``)."""

    def canon(a, b, c, d):
        if a == 0:
            return a, b, c, d
        if signed:
            return math.copysign(1.0, a), b / abs(a), c * abs(a) ** p, d
        return 1.0, b / a, c * a**p, d

    return canon


def _canon_linear(a, b, c, d):
    return 1.0, 0.0, c * a, c * b + d


def _canon_exp(a, b, c, d):
    return a, 0.0, c * math.exp(b), d


def _canon_log(a, b, c, d):
    if a == 0:
        return a, b, c, d
    return math.copysign(1.0, a), b / abs(a), c, d + c * math.log(abs(a))


def _canon_sign(a, b, c, d):
    if a == 0:
        return a, b, c, d
    return math.copysign(1.0, a), b / abs(a), c, d


def _canon_even(a, b, c, d):  # f(-u) = f(u): make a >= 0
    return (-a, -b, c, d) if a < 0 else (a, b, c, d)


def _canon_zero(a, b, c, d):
    return 0.0, 0.0, 0.0, d


def _inverse_power(n: int):
    """``1 / x^n``; the safe form continues it inside ``|x| < y_th^(-1/n)`` by
    the constant ``y_th`` (n even) or the line through 0 (n odd)."""

    def fn(x):
        return 1.0 / x**n

    def safe(x, y_th):
        x_th = y_th ** (-1.0 / n)
        small = jnp.abs(x) < x_th
        inner = y_th * x / x_th if n % 2 else jnp.full_like(x, y_th)
        return jnp.where(small, inner, 1.0 / jnp.where(small, x_th, x) ** n)

    return fn, safe


def _safe_root(p: float):
    """``|x|^p`` continued oddly (sign(x) |x|^p for p = 1/2, pykan's ``f_sqrt``);
    ``p < 0`` is capped at ``y_th`` near 0."""

    def safe(x, y_th):
        ax = jnp.abs(x)
        if p > 0:  # a floor keeps the derivative at 0 finite
            root = jnp.maximum(ax, 1e-30) ** p
            return jnp.sign(x) * root if p < 1 else root
        x_th = y_th ** (1.0 / p)
        small = ax < x_th
        return jnp.where(small, y_th, jnp.where(small, x_th, ax) ** p)

    return safe


def _safe_log(x, y_th):
    x_th = math.exp(-y_th)  # 0.0 for y_th > 745: then only x = 0 is capped
    ax = jnp.abs(x)
    return jnp.where(ax <= x_th, -y_th, jnp.log(jnp.where(ax <= x_th, 1.0, ax)))


def _safe_exp(x, y_th):
    x_th = math.log(y_th)
    return jnp.where(x > x_th, y_th, jnp.exp(jnp.minimum(x, x_th)))


def _safe_tan(x, y_th):
    u = jnp.mod(x, jnp.pi)  # tan has period pi
    delta = jnp.pi / 2 - math.atan(y_th)
    near = jnp.abs(u - jnp.pi / 2) < delta
    return jnp.where(near, -y_th / delta * (u - jnp.pi / 2), jnp.tan(jnp.where(near, 0.0, u)))


def _clip_unit(f, edge_value):
    def safe(x, y_th):
        del y_th
        inside = jnp.abs(x) < 1  # f at +-1 is edge_value; its slope there is infinite
        return jnp.where(inside, f(jnp.where(inside, x, 0.0)), edge_value(x))

    return safe


def _safe_arctanh(x, y_th):
    x_th = min(math.tanh(y_th), 1.0 - 1e-12)  # tanh(y_th) rounds to 1 for y_th > 19
    inside = jnp.abs(x) < x_th
    cap = math.atanh(x_th) * jnp.sign(x)  # continuous at +-x_th
    return jnp.where(inside, jnp.arctanh(jnp.where(inside, x, 0.0)), cap)


def _exact(fn):
    return lambda x, y_th: fn(x)


def _entries() -> dict[str, SymbolicFunction]:
    import sympy  # noqa: PLC0415  (kept out of `import kanflow`)

    def entry(name, fn, safe, sym, complexity, canonical=_same):
        return name, SymbolicFunction(name, fn, safe, sym, float(complexity), canonical)

    rows = [
        entry("x", lambda x: x, _exact(lambda x: x), lambda x: x, 1, _canon_linear),
        entry(
            "x^2", lambda x: x**2, _exact(lambda x: x**2), lambda x: x**2, 2, _shift_power(2, False)
        ),
        entry(
            "x^3", lambda x: x**3, _exact(lambda x: x**3), lambda x: x**3, 3, _shift_power(3, False)
        ),
        entry(
            "x^4", lambda x: x**4, _exact(lambda x: x**4), lambda x: x**4, 3, _shift_power(4, False)
        ),
        entry(
            "x^5", lambda x: x**5, _exact(lambda x: x**5), lambda x: x**5, 3, _shift_power(5, False)
        ),
    ]
    for n, complexity in zip(range(1, 6), (2, 2, 3, 4, 5), strict=True):
        fn, safe = _inverse_power(n)
        name = "1/x" if n == 1 else f"1/x^{n}"
        rows.append(
            entry(name, fn, safe, lambda x, n=n: 1 / x**n, complexity, _shift_power(-n, False))
        )
    rows += [
        entry("sqrt", jnp.sqrt, _safe_root(0.5), sympy.sqrt, 2, _shift_power(0.5, True)),
        entry(
            "x^1.5",
            lambda x: jnp.sqrt(x) ** 3,
            _safe_root(1.5),
            lambda x: sympy.sqrt(x) ** 3,
            4,
            _shift_power(1.5, True),
        ),
        entry(
            "1/sqrt(x)",
            lambda x: 1 / jnp.sqrt(x),
            _safe_root(-0.5),
            lambda x: 1 / sympy.sqrt(x),
            2,
            _shift_power(-0.5, True),
        ),
        entry("exp", jnp.exp, _safe_exp, sympy.exp, 2, _canon_exp),
        entry("log", jnp.log, _safe_log, sympy.log, 2, _canon_log),
        entry("abs", jnp.abs, _exact(jnp.abs), sympy.Abs, 3, _shift_power(1, True)),
        entry("sin", jnp.sin, _exact(jnp.sin), sympy.sin, 2),
        entry("cos", jnp.cos, _exact(jnp.cos), sympy.cos, 2),
        entry("tan", jnp.tan, _safe_tan, sympy.tan, 3),
        entry("tanh", jnp.tanh, _exact(jnp.tanh), sympy.tanh, 3),
        entry("sgn", jnp.sign, _exact(jnp.sign), sympy.sign, 3, _canon_sign),
        entry(
            "arcsin",
            jnp.arcsin,
            _clip_unit(jnp.arcsin, lambda x: jnp.pi / 2 * jnp.sign(x)),
            sympy.asin,
            4,
        ),
        entry(
            "arccos",
            jnp.arccos,
            _clip_unit(jnp.arccos, lambda x: jnp.pi / 2 * (1 - jnp.sign(x))),
            sympy.acos,
            4,
        ),
        entry("arctan", jnp.arctan, _exact(jnp.arctan), sympy.atan, 4),
        entry("arctanh", jnp.arctanh, _safe_arctanh, sympy.atanh, 4),
        entry(
            "gaussian",
            lambda x: jnp.exp(-(x**2)),
            _exact(lambda x: jnp.exp(-(x**2))),
            lambda x: sympy.exp(-(x**2)),
            3,
            _canon_even,
        ),
        entry(
            "0", jnp.zeros_like, _exact(jnp.zeros_like), lambda x: sympy.Integer(0), 0, _canon_zero
        ),
    ]
    return dict(rows)


_LIBRARY: dict[str, SymbolicFunction] = {}


def _library() -> dict[str, SymbolicFunction]:
    if not _LIBRARY:  # built on first use: sympy loads only when symbolic fitting does
        _LIBRARY.update(_entries())
    return _LIBRARY


def names() -> tuple[str, ...]:
    """Every library name, in pykan's order."""
    return tuple(_library())


def get(name: str) -> SymbolicFunction:
    """The entry called ``name``; a clear error for unknown names."""
    lib = _library()
    if name not in lib:
        raise ValueError(f"unknown symbolic function {name!r}; the library has {', '.join(lib)}")
    return lib[name]


def canonical(name: str, params) -> np.ndarray:
    """``(a, b, c, d)`` of ``c f(a x + b) + d`` with redundant parameters fixed. ``[4] -> [4]``."""
    a, b, c, d = (float(p) for p in np.asarray(params, dtype=np.float64))
    return np.array(get(name).canonical(a, b, c, d), dtype=np.float64)


# sin(w + k pi/2) and cos(w + k pi/2) as (name, sign) of a function of w, for k mod 4
_QUARTER_TURNS = {
    "sin": (("sin", 1.0), ("cos", 1.0), ("sin", -1.0), ("cos", -1.0)),
    "cos": (("cos", 1.0), ("sin", -1.0), ("cos", -1.0), ("sin", 1.0)),
}


def simplest(name: str, params) -> tuple[str, np.ndarray]:
    """The simplest equal edge function: :func:`canonical` parameters, and for ``sin`` /
    ``cos`` the form with ``a >= 0`` and the smallest phase ``|b|`` among
    ``+-sin`` and ``+-cos`` (``cos(a x - pi/2)`` is ``sin(a x)``)."""
    a, b, c, d = canonical(name, params)
    if name not in _QUARTER_TURNS:
        return name, np.array([a, b, c, d])
    if a < 0:  # sin(-w) = -sin(w), cos(-w) = cos(w)
        a, b, c = -a, -b, (-c if name == "sin" else c)
    k = int(np.round(b / (np.pi / 2)))
    new_name, sign = _QUARTER_TURNS[name][k % 4]
    return new_name, np.array([a, b - k * np.pi / 2, sign * c, d])
