"""How the command line shows results: derivative names, sympy text, LaTeX, JSON, values."""

from __future__ import annotations

import numpy as np

SIMPLIFY_LIMIT = 60  # sympy.simplify only expressions with at most this many operations


def derivative_name(wrt: tuple, latex: bool = False) -> str:
    """``("x", "x", "y")`` -> ``d3f/dx2dy`` (or its LaTeX fraction)."""
    groups: list = []
    for name in wrt:
        if groups and groups[-1][0] == name:
            groups[-1][1] += 1
        else:
            groups.append([name, 1])
    order = len(wrt)
    if latex:
        top = r"\partial f" if order == 1 else rf"\partial^{{{order}}} f"
        bottom = " ".join(rf"\partial {n}" + (f"^{{{k}}}" if k > 1 else "") for n, k in groups)
        return rf"\frac{{{top}}}{{{bottom}}}"
    top = "df" if order == 1 else f"d{order}f"
    return top + "/" + "".join(f"d{n}" + (str(k) if k > 1 else "") for n, k in groups)


def simplified(expr, sp, enabled: bool = True):
    """``sympy.simplify`` of ``expr`` (elementwise for matrices), skipped for big expressions
    where it could take long; the result is what is shown, never what is computed."""
    if not enabled:
        return expr
    if hasattr(expr, "applyfunc"):
        return expr.applyfunc(lambda e: simplified(e, sp))
    try:
        if sp.count_ops(expr) > SIMPLIFY_LIMIT:
            return expr
        return sp.simplify(expr)
    except Exception:  # display only: an expression sympy cannot simplify is shown as is
        return expr


def value_text(value) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        number = array.item()
        return str(number) if isinstance(number, bool) else f"{number:.12g}"
    return np.array2string(array, precision=8, separator=", ", max_line_width=100)


def value_json(value):
    array = np.asarray(value)
    return array.item() if array.ndim == 0 else array.tolist()


def expr_json(expr, sp):
    if hasattr(expr, "tolist"):
        return [[str(e) for e in row] for row in expr.tolist()]
    return str(expr)


def format_results(results: list, fmt: str, sp) -> str:
    """Text for ``results``: dicts with ``name`` (tuple of wrt names, or a label), ``expr``
    (sympy) and optionally ``value`` (array)."""
    lines = []
    if fmt == "json":
        import json
        return json.dumps([{"name": r["label"], "wrt": list(r["wrt"]),
                            "expr": expr_json(r["expr"], sp), "latex": sp.latex(r["expr"]),
                            **({"value": value_json(r["value"])} if "value" in r else {})}
                           for r in results], indent=2)
    for r in results:
        if fmt == "sympy":
            lines.append(str(r["expr"]))
        elif fmt == "latex":
            lines.append(f"{r['latex_label']} = {sp.latex(r['expr'])}")
        else:
            text = str(r["expr"])
            sep = "\n  " if "\n" in text or len(text) > 60 and "value" in r else " "
            lines.append(f"{r['label']} = {text}")
            if "value" in r:
                shown = value_text(r["value"])
                lines[-1] += f"{sep}= {shown}" if "\n" not in shown else f"\n{shown}"
    return "\n".join(lines)
