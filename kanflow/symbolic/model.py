"""Symbolic KANs: edges fixed to ``c f(a x + b) + d``, the rest still splines.

:class:`SymbolicKAN` is a :class:`~kanflow.models.KAN` with one more branch
per layer (pykan's ``Symbolic_KANLayer``): edge ``i -> j`` of layer ``l`` is
either numeric (the KAN layer's ``phi_ij``) or the formula
``c f(a x_i + b) + d`` named by ``functions[l][i][j]``, whose parameters
``params["symbolic_l"]["affine"][i, j] = (a, b, c, d)`` keep training. Its
variables are a KAN's plus those affine parameters, so a trained KAN converts
without copying (:func:`to_symbolic`).

:func:`suggest_symbolic`, :func:`fix_symbolic` and :func:`auto_symbolic` fit
the library (:func:`kanflow.symbolic.fit_affine`) to each numeric edge on the
data; :func:`formula` reads a fully symbolic network as sympy expressions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
from jax import Array

from kanflow.checks import as_widths
from kanflow.layers.config import KANConfig
from kanflow.layers.kan import KANLayer
from kanflow.models.kan import KAN, edge_attribution, layer_edges
from kanflow.symbolic import library
from kanflow.symbolic.fit import fit_affine, selection_loss

__all__ = [
    "EdgeFit",
    "SymbolicKAN",
    "auto_symbolic",
    "edge_values_on",
    "equivalent",
    "fix_symbolic",
    "formula",
    "network_scores",
    "plot",
    "polynomial_swaps",
    "suggest_symbolic",
    "tidy",
    "to_symbolic",
]

Functions = tuple[tuple[tuple[str, ...], ...], ...]


def _numeric_functions(widths: Sequence[int]) -> Functions:
    return tuple(
        tuple(("",) * widths[l + 1] for _ in range(widths[l])) for l in range(len(widths) - 1)
    )


class SymbolicKAN(KANConfig):
    """A KAN whose edges can be formulas. ``[..., widths[0]] -> [..., widths[-1]]``.

    Attributes:
      widths: ``(in, hidden..., out)``.
      functions: per layer ``[in][out]`` library names; ``""`` keeps the edge
        numeric. ``None``: every edge numeric.
      y_th: the symbolic branch evaluates ``f`` through its singularity-safe
        form (equal to ``f`` wherever ``|f| <= y_th``), so training never meets
        a pole; formulas use the exact ``f``.
      keyword-only: the KAN edge settings (:class:`kanflow.layers.KANConfig`).
    """

    widths: Sequence[int]
    functions: Functions | None = None
    y_th: float = 1e4

    def __post_init__(self):
        object.__setattr__(self, "widths", as_widths(self.widths))
        if self.functions is None:
            object.__setattr__(self, "functions", _numeric_functions(self.widths))
        funcs = tuple(
            tuple(tuple(str(n) for n in row) for row in layer) for layer in self.functions
        )
        shapes = [(len(layer), *{len(row) for row in layer}) for layer in funcs]
        want = [(self.widths[l], self.widths[l + 1]) for l in range(len(self.widths) - 1)]
        if shapes != want:
            raise ValueError(f"functions must be per layer [in][out] = {want}, got shapes {shapes}")
        for layer in funcs:
            for row in layer:
                for name in row:
                    if name:
                        library.get(name)
        object.__setattr__(self, "functions", funcs)
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Array) -> Array:
        x = jnp.asarray(x)
        if x.ndim < 1 or x.shape[-1] != self.widths[0]:
            raise ValueError(
                f"SymbolicKAN expects inputs [..., {self.widths[0]}], got shape {x.shape}"
            )
        for l in range(len(self.widths) - 1):
            symbolic = self.symbolic_mask(l)
            numeric = jnp.asarray(~symbolic, jnp.float32)
            y = KANLayer(self.widths[l + 1], **self.kan_settings(), name=f"layer_{l}")(
                x, edge_mask=numeric if symbolic.any() else None
            )
            affine = self.param(
                f"symbolic_{l}",
                lambda _, shape: jnp.broadcast_to(
                    jnp.array([1.0, 0.0, 1.0, 0.0], self.param_dtype), shape
                ),
                (self.widths[l], self.widths[l + 1], 4),
            )
            if symbolic.any():
                live = self._stored_mask(l)
                y = y + jnp.sum(self._symbolic_edges(l, x, affine, live), axis=-2).astype(y.dtype)
            x = y
        return x

    def _stored_mask(self, l: int) -> Array | None:
        stored = self.variables.get("mask", {}).get(f"layer_{l}", {})
        return None if "edges" not in stored else jnp.asarray(stored["edges"])

    @nn.nowrap
    def _symbolic_edges(self, l: int, x: Array, affine: Array, live: Array | None) -> Array:
        """Values of layer ``l``'s symbolic edges, ``[..., in] -> [..., in, out]`` (0 elsewhere)."""
        names = np.array(self.functions[l], dtype=object)
        a, b, c, d = (affine[..., k] for k in range(4))
        u = a * x[..., :, None] + b
        out = jnp.zeros(u.shape, u.dtype)
        for name in sorted({n for n in names.ravel() if n}):
            sel = jnp.asarray(names == name)
            value = c * library.get(name).safe(u, self.y_th) + d
            out = jnp.where(sel, value, out)
        return out if live is None else out * live.astype(out.dtype)

    @nn.nowrap
    def symbolic_mask(self, l: int) -> np.ndarray:
        """``[in, out]`` booleans: which edges of layer ``l`` are formulas."""
        return np.array([[bool(n) for n in row] for row in self.functions[l]])

    @nn.nowrap
    def with_function(self, l: int, i: int, j: int, name: str) -> SymbolicKAN:
        """The same model with edge ``(l, i, j)`` set to ``name`` (``""``: numeric)."""
        funcs = [list(list(row) for row in layer) for layer in self.functions]
        funcs[l][i][j] = name
        return self.clone(functions=tuple(tuple(tuple(r) for r in layer) for layer in funcs))


def to_symbolic(model: KAN | SymbolicKAN, variables: dict) -> tuple[SymbolicKAN, dict]:
    """A KAN as a :class:`SymbolicKAN` with every edge numeric (same function).

    The variables gain ``params["symbolic_l"]`` (``[in, out, 4]``, pykan's
    ``(1, 0, 1, 0)``); a :class:`SymbolicKAN` passes through unchanged.
    """
    if isinstance(model, SymbolicKAN):
        return model, variables
    if not isinstance(model, KAN):
        raise TypeError(f"to_symbolic expects a kanflow KAN or SymbolicKAN, got {type(model)}")
    sym = SymbolicKAN(model.widths, **model.kan_settings())
    params = dict(variables["params"])
    for l in range(len(model.widths) - 1):
        shape = (model.widths[l], model.widths[l + 1], 4)
        one = np.array([1.0, 0.0, 1.0, 0.0], jnp.dtype(model.param_dtype))
        params.setdefault(f"symbolic_{l}", np.broadcast_to(one, shape).copy())
    return sym, {**variables, "params": params}


def _edge_data(model: SymbolicKAN, variables: dict, x) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer, ``(h [N, in], phi [N, in, out])``: the layer's input and its numeric edges
    (pruned edges are 0)."""
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] != model.widths[0]:
        raise ValueError(
            f"x must be samples [N >= 1, {model.widths[0]}] of the model's input, got {x.shape}"
        )

    return layer_edges(model, variables, x)


def _live(variables: dict, l: int, shape) -> np.ndarray:
    stored = variables.get("mask", {}).get(f"layer_{l}", {}).get("edges")
    return np.ones(shape, bool) if stored is None else np.asarray(stored) > 0


@dataclasses.dataclass(frozen=True)
class EdgeFit:
    """A library function fitted to one edge.

    Attributes:
      layer, i, j: the edge (layer ``layer``, input ``i`` -> output ``j``).
      name: the function (``""`` if nothing was fixed).
      params: ``(a, b, c, d)``.
      r2: R² of the fit on the edge's data.
      complexity: the function's complexity.
      loss: pykan's ranking loss (:func:`kanflow.symbolic.selection_loss`).
    """

    layer: int
    i: int
    j: int
    name: str
    params: tuple[float, float, float, float]
    r2: float
    complexity: float
    loss: float


def _edge_columns(data, keep) -> tuple[list, list, list]:
    """For every ``True`` in ``keep[l] [in, out]``: the edge ``(l, i, j)``, its inputs
    ``h[:, i]`` and its values ``phi[:, i, j]``, from per-layer ``data = [(h, phi)]``."""
    edges, xs, ys = [], [], []
    for l, ((h, phi), k) in enumerate(zip(data, keep, strict=True)):
        for i, j in zip(*np.nonzero(k), strict=True):
            edges.append((l, int(i), int(j)))
            xs.append(h[:, i])
            ys.append(phi[:, i, j])
    return edges, xs, ys


def _check_edge(model: SymbolicKAN, variables: dict, l: int, i: int, j: int) -> None:
    n = len(model.widths) - 1
    if not (0 <= l < n and 0 <= i < model.widths[l] and 0 <= j < model.widths[l + 1]):
        raise ValueError(
            f"edge (layer={l}, i={i}, j={j}) does not exist in a network of widths {model.widths}"
        )
    if not _live(variables, l, (model.widths[l], model.widths[l + 1]))[i, j]:
        raise ValueError(f"edge (layer={l}, i={i}, j={j}) is pruned: nothing to fit")


def suggest_symbolic(
    model: KAN | SymbolicKAN,
    variables: dict,
    x,
    layer: int,
    i: int,
    j: int,
    *,
    lib: Sequence[str] | None = None,
    topk: int = 5,
    weight_simple: float = 0.8,
    **search,
) -> list[EdgeFit]:
    """The ``topk`` library functions for edge ``(layer, i, j)``, best first (pykan's
    ``suggest_symbolic``: ranked by :func:`~kanflow.symbolic.selection_loss`).

    Args:
      model, variables: a KAN or SymbolicKAN.
      x: model inputs ``[N, in]`` on which the edge is fitted.
      lib: library names (default all).
      weight_simple: complexity against fit (pykan's 0.8).
      **search: passed to :func:`~kanflow.symbolic.fit_affine` (``a_range``, ...).
    """
    model, variables = to_symbolic(model, variables)
    _check_edge(model, variables, layer, i, j)
    h, phi = _edge_data(model, variables, x)[layer]
    names = library.names() if lib is None else tuple(lib)
    fit = fit_affine(h[:, i], phi[:, i, j], names, **search)
    return _ranked(fit, names, layer, i, j, weight_simple, 0)[:topk]


def _ranked(fit, names, l, i, j, weight_simple, e) -> list[EdgeFit]:
    cx = np.array([library.get(n).complexity for n in names])
    loss = selection_loss(fit.r2[e], cx, weight_simple)
    order = np.argsort(loss, kind="stable")
    return [
        EdgeFit(
            l,
            i,
            j,
            names[k],
            tuple(map(float, fit.params[e, k])),
            float(fit.r2[e, k]),
            float(cx[k]),
            float(loss[k]),
        )
        for k in order
    ]


def _set_edge(model: SymbolicKAN, variables: dict, l, i, j, name, params) -> tuple:
    """Edge ``(l, i, j)`` set to the simplest form of ``name(params)``:
    ``(model, variables, name, params)`` as set."""
    name, params = library.simplest(name, params)
    affine = np.array(variables["params"][f"symbolic_{l}"])  # a host copy: no device op
    affine[i, j] = params
    new = {**variables, "params": {**variables["params"], f"symbolic_{l}": affine}}
    return model.with_function(l, i, j, name), new, name, params


def fix_symbolic(
    model: KAN | SymbolicKAN,
    variables: dict,
    x,
    layer: int,
    i: int,
    j: int,
    name: str,
    *,
    fit: bool = True,
    **search,
) -> tuple[SymbolicKAN, dict, float | None]:
    """Sets edge ``(layer, i, j)`` to ``c f(a x + b) + d``, ``f = name`` (pykan's ``fix_symbolic``).

    With ``fit``, ``(a, b, c, d)`` are fitted to the edge's numeric values on ``x``
    (model inputs ``[N, in]``); otherwise they are ``(1, 0, 1, 0)`` and ``x`` may be
    ``None``.

    Returns:
      ``(model, variables, r2)`` (``r2`` is ``None`` without ``fit``).

    Raises:
      ValueError: unknown name, a pruned or missing edge, no data, or no
        ``(a, b)`` keeping ``a x + b`` inside ``f``'s domain on the data.
    """
    library.get(name)
    model, variables = to_symbolic(model, variables)
    _check_edge(model, variables, layer, i, j)
    if not fit:
        return (*_set_edge(model, variables, layer, i, j, name, (1.0, 0.0, 1.0, 0.0))[:2], None)
    h, phi = _edge_data(model, variables, x)[layer]
    result = fit_affine(h[:, i], phi[:, i, j], [name], **search)
    r2 = float(result.r2[0, 0])
    if not r2 > -1:
        raise ValueError(
            f"cannot fit {name!r} to edge (layer={layer}, i={i}, j={j}): every candidate (a, b) "
            "sends a x + b outside its domain on the data"
        )
    return (*_set_edge(model, variables, layer, i, j, name, result.params[0, 0])[:2], r2)


def auto_symbolic(
    model: KAN | SymbolicKAN,
    variables: dict,
    x,
    *,
    lib: Sequence[str] | None = None,
    weight_simple: float = 0.8,
    r2_threshold: float = 0.0,
    **search,
) -> tuple[SymbolicKAN, dict, list[EdgeFit]]:
    """Fixes every live numeric edge to its best library function (pykan's ``auto_symbolic``).

    All edges and all functions are fitted in one call of
    :func:`~kanflow.symbolic.fit_affine`. An edge whose best function has
    R² below ``r2_threshold`` stays numeric and is reported with ``name=""``.

    Returns:
      ``(model, variables, report)``: one :class:`EdgeFit` per edge considered.
    """
    model, variables = to_symbolic(model, variables)
    names = library.names() if lib is None else tuple(lib)
    data = _edge_data(model, variables, x)
    keep = [
        _live(variables, l, p.shape[1:]) & ~model.symbolic_mask(l) for l, (_, p) in enumerate(data)
    ]
    edges, xs, ys = _edge_columns(data, keep)
    if not edges:
        return model, variables, []
    fit = fit_affine(np.stack(xs), np.stack(ys), names, **search)
    report = []
    for e, (l, i, j) in enumerate(edges):
        best = _ranked(fit, names, l, i, j, weight_simple, e)[0]
        if best.r2 >= r2_threshold and np.isfinite(best.loss):
            model, variables, name, params = _set_edge(
                model, variables, l, i, j, best.name, best.params
            )
            best = dataclasses.replace(best, name=name, params=tuple(map(float, params)))
        else:
            best = dataclasses.replace(best, name="")
        report.append(best)
    return model, variables, report


def _pull_constants(expr):
    """``(k u)^p -> k^p u^p`` for non-integer or negative ``p`` and ``log(k u) ->
    log k + log u``, with ``k > 0`` the magnitude most of the sum's coefficients
    share (else the largest): ``3.7164 sqrt(0.0724 a + 0.0724)`` becomes
    ``1.0000 sqrt(a + 1.0000)``, ``0.9572 / (0.9572 a + 1.9144)`` becomes
    ``1.0000 / (a + 2.0000)`` and ``log(1.6997 a + 1.6997) - 0.5304`` becomes
    ``log(a + 1.0000) + 0.0000`` (the edges of a node each carry their own
    scale, so rounding them one by one would keep the product of two roundings;
    positive integer powers are multiplied out by ``expand`` instead)."""
    import sympy  # noqa: PLC0415

    def of_sum(e):
        if isinstance(e, sympy.log):
            return e.args[0].is_Add
        return (
            e.is_Pow
            and e.base.is_Add
            and e.exp.is_number
            and (not e.exp.is_Integer or e.exp.is_negative)
        )

    def pulled(e):
        base = e.args[0] if isinstance(e, sympy.log) else e.base
        coefs = [abs(t.as_coeff_Mul()[0]) for t in base.args]
        # the coefficient most terms share (to 6 digits; ties: the largest)
        share = lambda c: sum(abs(float(o) - float(c)) <= 1e-6 * abs(float(c)) for o in coefs)
        k = max(coefs, key=lambda c: (share(c), c), default=1)
        if not (k.is_number and k > 0) or k == 1:
            return e
        if isinstance(e, sympy.log):
            return sympy.log(k) + sympy.log(sympy.expand(base / k))
        return k**e.exp * sympy.expand(base / k) ** e.exp

    return expr.replace(of_sum, pulled)


def _quarter_turns(expr, digits: int):
    """``sin`` / ``cos`` of ``u + b`` with ``b`` equal to a multiple of ``pi / 2`` at
    ``digits`` decimal places take that multiple exactly, so sympy rewrites them:
    ``cos(u - 1.5708)`` becomes ``sin(u)``, ``sin(u + 3.1416)`` becomes ``-sin(u)``
    (``sin`` and ``cos`` fit an edge equally well, and the search may pick either)."""
    import sympy  # noqa: PLC0415

    def shifted_trig(e):
        return isinstance(e, sympy.sin | sympy.cos) and e.args[0].is_Add

    def snapped(e):
        u = e.args[0]
        b, rest = u.as_coeff_Add()
        k = round(float(b) / (np.pi / 2)) if b.is_number else 0
        if k == 0 or round(float(b), digits) != round(k * np.pi / 2, digits):
            return e
        return e.func(rest + k * sympy.pi / 2)

    return expr.replace(shifted_trig, snapped)


def tidy(expr, digits: int = 4, at: Mapping[Any, Any] | None = None, rtol: float = 1e-3):
    """A readable, rounded form of a formula.

    Products of numbers are multiplied out first (``expand``, which also splits
    ``exp(k + u)`` into ``exp(k) exp(u)``, and :func:`_pull_constants` takes
    ``k`` out of ``(k u)^p``, so constant factors merge), then every number is
    rounded to ``digits`` decimal places (pykan's ``ex_round``; terms that round
    to 0 vanish), exponentials are recombined (``powsimp``), shifts of ``sin`` /
    ``cos`` that print as a multiple of ``pi / 2`` become exact
    (``cos(u - 1.5708) = sin(u)``) and whole numbers become integers (``1.0*x``
    reads ``x``). Where that rounding would take a variable away (sympy writes
    ``exp(0.6 (105.78 cos a - 96.89))`` as ``2.8e-26 exp(63.47 cos a)``, whose
    factor rounds to 0), or, given points ``at``, would move the formula by
    more than ``rtol`` there (``exp(-(x - 3)^2)`` splits into ``1.2341e-4
    exp(-x^2 + 6 x)``, whose factor rounds to ``0.0001``), numbers smaller than
    the last decimal keep ``digits`` significant digits instead; and if that
    still moves it, every number keeps ``digits`` significant digits without
    any expansion (failing that, ``expr`` is returned as it is).

    Args:
      expr: a sympy expression.
      digits: decimal places.
      at: ``{symbol: values}``, points (broadcastable arrays) where the tidied
        formula must agree with ``expr``: ``max |tidied - expr| <= rtol max |expr|``.
      rtol: see ``at``.
    """
    agrees = _agreement(expr, at, rtol)
    tidied = _tidy(expr, digits, keep_small=False)
    if tidied.free_symbols == expr.free_symbols and agrees(tidied):
        return tidied
    tidied = _tidy(expr, digits, keep_small=True)
    if at is None or agrees(tidied):
        return tidied
    import sympy  # noqa: PLC0415

    plain = expr.xreplace(
        {f: sympy.Float(f"{float(f):.{digits}g}") for f in expr.atoms(sympy.Float)}
    )
    plain = _integers(plain)
    return plain if agrees(plain) else expr


def _agreement(expr, at: Mapping[Any, Any] | None, rtol: float) -> Callable[[Any], bool]:
    """``candidate -> bool``: whether ``candidate`` is within ``rtol`` of ``expr`` at ``at``."""
    if at is None:
        return lambda candidate: True
    import sympy  # noqa: PLC0415

    names = [sympy.Symbol(k) if isinstance(k, str) else k for k in at]
    values = [np.asarray(v, np.float64) for v in at.values()]

    def evaluate(e) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = sympy.lambdify(names, e, "numpy")(*values)
        return np.broadcast_to(np.asarray(out, np.float64), np.broadcast(*values).shape)

    want = evaluate(expr)
    finite = np.isfinite(want)
    scale = float(np.max(np.abs(want[finite]), initial=0.0))

    def agrees(candidate) -> bool:
        got = evaluate(candidate)
        return bool(np.all(np.abs(got[finite] - want[finite]) <= rtol * scale))

    return agrees


def _tidy(expr, digits: int, keep_small: bool):
    import sympy  # noqa: PLC0415

    def round_one(f: float) -> float:
        if keep_small and 0 < abs(f) < 0.5 * 10.0**-digits:
            return float(f"{f:.{digits}g}")
        return round(f, digits)

    def rounded(e):
        return e.xreplace({f: sympy.Float(round_one(float(f))) for f in e.atoms(sympy.Float)})

    hints = dict(deep=True, power_base=False, log=False)
    expr = sympy.expand(expr, **hints)
    expr = rounded(sympy.expand(_pull_constants(expr), **hints))
    expr = rounded(sympy.powsimp(expr, combine="exp"))  # exp(log a - log b) = a/b: round again
    expr = _quarter_turns(expr, digits)
    return _integers(expr)


def _integers(expr):
    """``expr`` with its whole-valued floats as integers (``1.0*x`` reads ``x``)."""
    import sympy  # noqa: PLC0415

    whole = {f: sympy.Integer(int(f)) for f in expr.atoms(sympy.Float) if float(f) == int(f)}
    return expr.xreplace(whole)


def formula(
    model: SymbolicKAN,
    variables: dict,
    symbols: Sequence[Any] | None = None,
    digits: int | None = 4,
    simplify: bool = False,
    at: np.ndarray | None = None,
) -> list[Any]:
    """The network as sympy expressions, one per output (pykan's ``symbolic_formula``).

    Every live edge must be symbolic; pruned (masked) edges are absent, and each
    layer's bias is added.

    Args:
      model, variables: a :class:`SymbolicKAN` and its variables.
      symbols: the inputs (sympy symbols or names); default ``x_1 .. x_n``.
      digits: :func:`tidy` the expressions, rounding to this many decimal places
        as pykan does (``None``: the exact nested expression, the network's own
        function).
      simplify: apply ``sympy.simplify`` to each output.
      at: inputs ``[n, in]`` on which each tidied formula must stay within 1e-3
        (relative to its largest value) of the exact one (see :func:`tidy`);
        default: 256 points spread over the first layer's grid (the inner
        knots' span of each input, else ``grid_range``).

    Raises:
      ValueError: when some live edge is still numeric (listed).
    """
    import sympy  # noqa: PLC0415

    if not isinstance(model, SymbolicKAN):
        raise TypeError("formula needs a SymbolicKAN (see auto_symbolic)")
    n_in = model.widths[0]
    if symbols is None:
        symbols = sympy.symbols(f"x_1:{n_in + 1}")
    symbols = [sympy.Symbol(s) if isinstance(s, str) else s for s in symbols]
    if len(symbols) != n_in:
        raise ValueError(f"symbols must name {n_in} inputs, got {len(symbols)}")
    numeric = []
    for l in range(len(model.widths) - 1):
        live = _live(variables, l, (model.widths[l], model.widths[l + 1]))
        numeric += [
            (l, int(i), int(j))
            for i, j in zip(*np.nonzero(live & ~model.symbolic_mask(l)), strict=True)
        ]
    if numeric:
        raise ValueError(f"these live edges are still numeric (fix them first): {numeric}")
    h = list(symbols)
    for l in range(len(model.widths) - 1):
        affine = np.asarray(variables["params"][f"symbolic_{l}"], np.float64)
        live = _live(variables, l, affine.shape[:2])
        bias = variables["params"][f"layer_{l}"].get("bias")
        out = []
        for j in range(model.widths[l + 1]):
            yj = sympy.Float(float(bias[j])) if bias is not None else sympy.Integer(0)
            for i in range(model.widths[l]):
                if live[i, j]:
                    a, b, c, d = (sympy.Float(float(v)) for v in affine[i, j])
                    f = library.get(model.functions[l][i][j]).sympy
                    yj = yj + c * f(a * h[i] + b) + d
            out.append(yj)
        h = out
    if digits is not None:
        if at is None:
            knots = variables.get("grid", {}).get("layer_0", {}).get("knots")
            if knots is not None:
                knots = np.asarray(knots, np.float64).reshape(n_in, -1)
                lo, hi = knots[:, model.order], knots[:, -model.order - 1]
            else:
                lo, hi = model.grid_range
            at = np.random.default_rng(0).uniform(lo, hi, (256, n_in))
        at = np.asarray(at, np.float64)
        if at.ndim != 2 or at.shape[1] != n_in:
            raise ValueError(f"at must be inputs [n, {n_in}], got shape {at.shape}")
        points = dict(zip(symbols, at.T, strict=True))
        h = [tidy(e, digits, at=points) for e in h]
    return [sympy.simplify(e) for e in h] if simplify else h


def _with_formulas(model: SymbolicKAN, variables: dict, l: int, h, phi) -> np.ndarray:
    """Layer ``l``'s numeric edge values ``phi [N, in, out]`` at inputs ``h [N, in]``
    with each live symbolic edge replaced by its formula's value."""
    sym = model.symbolic_mask(l)
    if not sym.any():
        return phi
    affine = np.asarray(variables["params"][f"symbolic_{l}"], np.float64)
    formulas = model._symbolic_edges(l, jnp.asarray(h), jnp.asarray(affine), None)
    live = _live(variables, l, sym.shape)
    return np.where(sym & live, np.asarray(formulas, np.float64), phi)


def edge_values_on(
    model: KAN | SymbolicKAN, variables: dict, x
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer ``(h [N, in], phi [N, in, out])``: the layer's input on ``x`` and the
    value of every edge as the network uses it (formulas on symbolic edges, 0 on
    pruned ones). Float64 NumPy."""
    model, variables = to_symbolic(model, variables)
    data = _edge_data(model, variables, x)
    return [(h, _with_formulas(model, variables, l, h, phi)) for l, (h, phi) in enumerate(data)]


def outside_domain(model: SymbolicKAN, variables: dict, x) -> list[tuple[int, int, int, str]]:
    """The live symbolic edges whose formula is not defined at some of their inputs on ``x``.

    The network evaluates every formula in its library's safe form (finite
    everywhere, e.g. ``sqrt`` continued oddly below 0), so training may move
    ``a x + b`` outside ``f``'s domain; there the network and the printed formula
    disagree, and the formula is not finite. Returns ``(layer, i, j, name)`` for
    each such edge, checked on the edges' inputs for model inputs ``x [N, in]``.
    """
    if not isinstance(model, SymbolicKAN):
        raise TypeError("outside_domain needs a SymbolicKAN (see auto_symbolic)")
    found = []
    for l, (h, _) in enumerate(_edge_data(model, variables, x)):
        sym = model.symbolic_mask(l)
        sym &= _live(variables, l, sym.shape)
        if not sym.any():
            continue
        affine = np.asarray(variables["params"][f"symbolic_{l}"], np.float64)
        u = affine[..., 0] * np.asarray(h, np.float64)[:, :, None] + affine[..., 1]  # [N, in, out]
        for i, j in zip(*np.nonzero(sym), strict=True):
            name = model.functions[l][i][j]
            value = np.asarray(library.get(name).fn(jnp.asarray(u[:, i, j])), np.float64)
            if not np.all(np.isfinite(value)):
                found.append((l, int(i), int(j), name))
    return found


def polynomial_swaps(
    model: SymbolicKAN, variables: dict, x, weight_simple: float = 0.8, min_r2: float = 1 - 1e-5
) -> list[EdgeFit]:
    """The live symbolic edges whose function is no polynomial but whose values are one:
    for each, the lowest power ``p <= 4`` with ``c (a u + b)^p + d`` of R² >= ``min_r2``
    on the edge's inputs for model inputs ``x [N, in]``, as an :class:`EdgeFit`
    (to set with :func:`fix_symbolic` or by hand).

    A function fitted where its argument stays in a nearly polynomial stretch
    (``135 cos(0.12 u)`` on ``|u| <= 1`` is ``135 - 0.99 u^2`` to 1e-6) matches an
    edge's small wiggles better than the polynomial it stands for, wins the
    ranking, and hides the polynomial that was meant.
    """
    polys = ("x", "x^2", "x^3", "x^4")
    data = edge_values_on(model, variables, x)
    keep = []
    for l, (_, phi) in enumerate(data):
        named = np.isin(np.array(model.functions[l], dtype=object), (*polys, "0", ""))
        live = model.symbolic_mask(l) & _live(variables, l, phi.shape[1:])
        keep.append(live & ~named & (np.ptp(phi, axis=0) > 0))
    edges, xs, ys = _edge_columns(data, keep)
    if not edges:
        return []
    fit = fit_affine(np.stack(xs), np.stack(ys), polys)
    swaps = []
    for e, (l, i, j) in enumerate(edges):
        ranked = [f for f in _ranked(fit, polys, l, i, j, weight_simple, e) if f.r2 >= min_r2]
        if ranked:
            swaps.append(min(ranked, key=lambda f: polys.index(f.name)))
    return swaps


def network_scores(model: KAN | SymbolicKAN, variables: dict, x) -> list[np.ndarray]:
    """pykan's attribution score of every edge (:func:`kanflow.models.kan.attribution_scores`),
    formulas included: per layer ``[in, out]``."""
    return edge_attribution(edge_values_on(model, variables, x))[1]


def plot(
    model: KAN | SymbolicKAN,
    variables: dict,
    x,
    *,
    num: int = 100,
    path=None,
    **kwargs,
):
    """pykan-style diagram of a KAN or symbolic KAN (:func:`kanflow.plot.plot_network`).

    Each edge is drawn as its curve over the range its input takes on ``x``,
    with opacity from its attribution score; pruned edges are dashed, and
    formulas are red and labelled with their function's name.

    Returns:
      The matplotlib figure (shown inline in notebooks).
    """
    from kanflow.plot import edge_functions, plot_network  # noqa: PLC0415

    sym_model, sym_vars = to_symbolic(model, variables)
    curves = [
        (t, _with_formulas(sym_model, sym_vars, l, t, np.asarray(phi, np.float64)))
        for l, (t, phi) in enumerate(edge_functions(sym_model, sym_vars, x, num))
    ]
    layers = range(len(sym_model.widths) - 1)
    return plot_network(
        curves,
        scores=network_scores(sym_model, sym_vars, x),
        masks=[_live(sym_vars, l, curves[l][1].shape[1:]) for l in layers],
        labels=[[[n or None for n in row] for row in sym_model.functions[l]] for l in layers],
        path=path,
        **kwargs,
    )


def _round_significant(expr, digits: int):
    import sympy  # noqa: PLC0415

    expr = expr.xreplace({c: sympy.Float(c.evalf()) for c in expr.atoms(sympy.NumberSymbol)})
    return expr.xreplace(
        {f: sympy.Float(f"{float(f):.{digits}g}") for f in expr.atoms(sympy.Float)}
    )


def equivalent(found, truth, digits: int = 4, points: int = 200, seed: int = 0) -> bool:
    """Whether two formulas are the same after rounding every number to ``digits``
    significant digits (``pi`` in ``truth`` becomes 3.142 at 4 digits).

    Numbers are rounded, turned into exact rationals and the difference is
    simplified by sympy (also after rewriting through ``log`` and ``exp``, so
    ``tanh(atanh(a) + atanh(b))`` equals ``(a + b) / (1 + a b)``). A quick
    numeric check at ``points`` random points in [0.1, 0.9]^n comes first, so
    formulas that differ never reach the slow symbolic step.
    """
    import sympy  # noqa: PLC0415

    a = _round_significant(sympy.sympify(found), digits)
    b = _round_significant(sympy.sympify(truth), digits)
    diff = sympy.nsimplify(a - b, rational=True)
    symbols = sorted(diff.free_symbols, key=lambda s: s.name)
    if symbols:
        fn = sympy.lambdify(symbols, diff, "numpy")
        scale = sympy.lambdify(symbols, b, "numpy")
        z = np.random.default_rng(seed).uniform(0.1, 0.9, (len(symbols), points))
        with np.errstate(all="ignore"):
            d = np.asarray(fn(*z), dtype=complex)
            s = np.abs(np.asarray(scale(*z), dtype=complex)) + 1e-12
        if np.nanmax(np.abs(d) / s) > 1e-6:
            return False
    for form in (diff, diff.rewrite(sympy.log).rewrite(sympy.exp)):
        if sympy.simplify(form) == 0:
            return True
    return False
