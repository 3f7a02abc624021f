#!/usr/bin/env python3
"""Fixed second-order cases computed with SymPy, independently of chainrule: each network is
written out here by hand as SymPy expressions, its `grad(S, v)` taken by sympy.diff, then the
loss differentiated again with respect to every weight and evaluated at the file's defaults.
tests/second_order.rs compares chainrule's numbers with the JSON this writes.

Regenerate (SymPy is in the bench venv, bench/setup-venv):
    bench/.venv/bin/python tests/sympy/second_order.py
which rewrites tests/sympy/second_order.json.
"""

import json
import os

import sympy as sp

HERE = os.path.dirname(os.path.abspath(__file__))


def matrix(name, rows, cols):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}_{j}"))


def vector(name, n):
    return sp.Matrix(n, 1, lambda i, _: sp.Symbol(f"{name}_{i}"))


def grad(s, v):
    return sp.Matrix([sp.diff(s, x) for x in v])


def sigmoid(z):
    return 1 / (1 + sp.exp(-z))


def case(name, file, loss, params, values, of=None):
    """The loss and its gradient for every parameter, at `values` (a symbol -> number map)."""
    subs = {s: sp.Rational(str(v)) if isinstance(v, float) else v for s, v in values.items()}
    out = {"name": name, "file": file, "loss": float(sp.N(loss.subs(subs), 30)), "gradient": {}}
    for pname, m in params.items():
        g = [[float(sp.N(sp.diff(loss, m[i, j]).subs(subs), 30)) for j in range(m.cols)]
             for i in range(m.rows)]
        out["gradient"][pname] = g  # row-major rows; the test flattens
    if of is not None:
        # `back` writes the fresh symbols a derivative was taken in back as network values.
        of_name, expr, wrt_name, wrt, back = of
        at = lambda e: float(sp.N(e.subs(back).subs(subs), 30))
        out["of"] = {
            "of": of_name, "wrt": wrt_name, "value": at(expr),
            "derivative": [at(sp.diff(expr, w)) for w in wrt],
        }
    return out


def values_of(pairs):
    values = {}
    for m, numbers in pairs:
        flat = [x for row in numbers for x in (row if isinstance(row, list) else [row])]
        for s, x in zip(list(m), flat):
            values[s] = x
    return values


def hamiltonian():
    q, p, dq, dp = (vector(n, 1) for n in ("q", "p", "dq", "dp"))
    Wq, Wp, V = matrix("Wq", 3, 1), matrix("Wp", 3, 1), matrix("V", 1, 3)
    b = vector("b", 3)
    h = (Wq * q + Wp * p + b).applyfunc(sp.tanh)
    H = V * h
    loss = (grad(H[0], p)[0] - dq[0]) ** 2 + (grad(H[0], q)[0] + dp[0]) ** 2
    values = values_of([
        (q, [0.5]), (p, [-0.3]), (dq, [-0.3]), (dp, [-0.5]),
        (Wq, [[0.5], [-0.4], [0.3]]), (Wp, [[0.2], [0.6], [-0.7]]),
        (b, [0.1, -0.2, 0.05]), (V, [[0.8, -0.5, 0.4]]),
    ])
    return case("hamiltonian", "examples/nets/hamiltonian.nn", loss,
                {"Wq": Wq, "Wp": Wp, "b": b, "V": V}, values,
                of=("H[0]", H[0], "q", list(q), {}))


def smooth():
    x, t = vector("x", 2), vector("t", 1)
    W1, W2, b1 = matrix("W1", 3, 2), matrix("W2", 1, 3), vector("b1", 3)
    h = (W1 * x + b1).applyfunc(sp.tanh)
    y = W2 * h
    gx = grad(sum(y), x)
    loss = sp.Rational(1, 2) * (y[0] - t[0]) ** 2 + sp.Rational(5, 100) * sum(g ** 2 for g in gx)
    values = values_of([
        (x, [0.5, -1.0]), (t, [0.25]),
        (W1, [[0.3, -0.6], [0.8, 0.1], [-0.4, 0.5]]), (b1, [0.0, 0.1, -0.1]),
        (W2, [[0.7, -0.2, 0.5]]),
    ])
    return case("smooth", "examples/nets/smooth.nn", loss, {"W1": W1, "b1": b1, "W2": W2},
                values, of=("y[0]", y[0], "x", list(x), {}))


def sigmoid_second():
    x, t = vector("x", 1), vector("t", 1)
    W, c, U = matrix("W", 2, 1), vector("c", 2), matrix("U", 1, 2)
    z = W * x + c
    a = z.applyfunc(sigmoid)
    y = U * a
    # grad(sum(a * (1 - a)), z): a_k depends on z_k only; fresh symbols stand for z.
    zs = sp.symbols("z0:2")
    inner = sum(sp.diff(sigmoid(zs[k]) * (1 - sigmoid(zs[k])), zs[k]) for k in range(2))
    inner = inner.subs({zs[k]: z[k] for k in range(2)})
    loss = (y[0] - t[0]) ** 2 + sp.Rational(1, 2) * sum(g ** 2 for g in grad(sum(y), x)) + inner
    values = values_of([
        (x, [0.7]), (t, [0.2]), (W, [[0.9], [-1.3]]), (c, [0.2, 0.4]), (U, [[1.1, -0.6]]),
    ])
    return case("sigmoid_second", "tests/sympy/sigmoid_second.nn", loss,
                {"W": W, "c": c, "U": U}, values,
                of=("a[1]", sigmoid(zs[1]), "z", list(zs), {zs[k]: z[k] for k in range(2)}))


def main():
    cases = [hamiltonian(), smooth(), sigmoid_second()]
    with open(os.path.join(HERE, "second_order.json"), "w") as f:
        json.dump(cases, f, indent=2)
        f.write("\n")
    for c in cases:
        print(c["name"], c["loss"])


if __name__ == "__main__":
    main()
