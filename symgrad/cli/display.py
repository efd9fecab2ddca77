"""How the command line shows results: derivative names, formulas (simplified under a time
budget), the cse form, LaTeX, JSON and values."""

from __future__ import annotations

import math
import multiprocessing
import sys
import time

import numpy as np

SIMPLIFY_LIMIT = 60      # sympy.simplify only expressions with at most this many operations


def note(text: str) -> None:
    """A one-line remark on standard error (standard output stays the result)."""
    print(f"symgrad: note: {text}", file=sys.stderr)


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


# -- simplification under a time budget ---------------------------------------------------------
def _simplify_elements(elements: list, sp, seconds: int, connection) -> None:
    """Child process: send ``(i, simplified element i)`` as each one is done, then ``None``;
    the kernel stops it after ``seconds`` of CPU time (RLIMIT_CPU)."""
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    except (ImportError, ValueError, OSError):  # no CPU limit here: the wall limit remains
        pass
    for i, expr in enumerate(elements):
        try:
            if sp.count_ops(expr) <= SIMPLIFY_LIMIT:
                connection.send((i, sp.simplify(expr)))
        except Exception:  # display only: an element sympy cannot simplify (too deep for its
            pass           # recursive algorithms: RecursionError) stays as it is
    connection.send(None)
    connection.close()


def simplified(exprs: list, sp, timeout: float) -> tuple:
    """``(exprs simplified element by element, finished)``. ``sympy.simplify`` runs in a child
    process (CPU-bound sympy cannot be interrupted in a thread) that is stopped after
    ``timeout`` seconds of CPU time, rounded up to whole seconds, and at most
    ``3 * timeout + 2`` seconds of wall-clock time (so a busy machine shows the same formulas
    as an idle one, in bounded time); elements not done by then are shown as exported. What
    is shown is simplified, never what is computed."""
    elements: list = []
    for expr in exprs:
        if hasattr(expr, "applyfunc"):
            expr.applyfunc(lambda e: elements.append(e) or e)
        else:
            elements.append(expr)
    if timeout <= 0 or not elements:
        return exprs, True
    if "fork" not in multiprocessing.get_all_start_methods():
        return exprs, False  # no way to stop sympy here: show the formulas as exported
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_simplify_elements, daemon=True,
                            args=(elements, sp, max(1, math.ceil(timeout)), send))
    child.start()
    send.close()
    done: dict = {}
    finished = False
    deadline = time.monotonic() + 3 * timeout + 2
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not receive.poll(left):
                break
            with sp.evaluate(False):  # unpickled as simplify left it: (x + y)/2 stays
                message = receive.recv()
            if message is None:
                finished = True
                break
            done[elements[message[0]]] = message[1]
    except EOFError:  # the child was stopped at its CPU limit
        pass
    child.kill()
    child.join()
    receive.close()
    shown = [expr.applyfunc(lambda e: done.get(e, e)) if hasattr(expr, "applyfunc")
             else done.get(expr, expr) for expr in exprs]
    return shown, finished


# -- text of formulas and values ----------------------------------------------------------------
def flat(expr, shape: tuple):
    """A rank-1 derivative as a flat list (as its value prints), anything else as it is."""
    if len(shape) == 1 and hasattr(expr, "applyfunc"):
        return list(expr)
    return expr


def value_text(value) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        number = array.item()
        return str(number) if isinstance(number, bool) else f"{number:.12g}"
    return np.array2string(array, precision=8, separator=", ", max_line_width=100)


def json_number(number):
    """A JSON-safe number: NaN and infinities become the strings "NaN", "Infinity" and
    "-Infinity" (which ``float()`` reads back)."""
    if isinstance(number, float) and not math.isfinite(number):
        return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
    return number


def value_json(value):
    array = np.asarray(value)
    if array.ndim == 0:
        return json_number(array.item())
    return np.vectorize(json_number, otypes=[object])(array).tolist()


def expr_json(expr):
    if isinstance(expr, list):
        return [str(e) for e in expr]
    if hasattr(expr, "tolist"):
        return np.vectorize(str, otypes=[object])(np.array(expr.tolist(), dtype=object)).tolist()
    return str(expr)


def format_results(results: list, fmt: str, sp, replacements=None) -> str:
    """Text for ``results``: dicts with ``label``, ``latex_label``, ``wrt``, optionally
    ``expr`` (sympy; absent with --values-only) and ``value`` (array); ``replacements`` are
    the shared ``(symbol, expr)`` pairs of the cse form."""
    if fmt == "json":
        import json
        items = [{"name": r["label"], "wrt": list(r["wrt"]),
                  **({"expr": expr_json(r["expr"]), "latex": sp.latex(r["expr"])}
                     if "expr" in r else {}),
                  **({"value": value_json(r["value"])} if "value" in r else {})}
                 for r in results]
        if replacements is not None:
            items = {"replacements": [[str(s), str(e)] for s, e in replacements],
                     "results": items}
        return json.dumps(items, indent=2, allow_nan=False)
    lines = []
    if fmt == "sympy" and replacements is not None:
        return str((replacements, [r["expr"] for r in results]))
    for symbol, expr in replacements or ():
        lines.append(f"{sp.latex(symbol)} = {sp.latex(expr)}" if fmt == "latex"
                     else f"{symbol} = {expr}")
    for r in results:
        if fmt == "sympy":
            lines.append(str(r["expr"]) if "expr" in r else value_text(r.get("value")))
        elif fmt == "latex":
            shown = sp.latex(r["expr"]) if "expr" in r else value_text(r.get("value"))
            lines.append(f"{r['latex_label']} = {shown}")
        elif "expr" not in r:
            shown = value_text(r["value"]) if "value" in r else "(no formula, no --at value)"
            lines.append(f"{r['label']} =" + ("\n" if "\n" in shown else " ") + shown)
        else:
            text = str(r["expr"])
            sep = "\n  " if "\n" in text or len(text) > 60 and "value" in r else " "
            lines.append(f"{r['label']} = {text}")
            if "value" in r:
                shown = value_text(r["value"])
                lines[-1] += f"{sep}= {shown}" if "\n" not in shown else f"\n{shown}"
    return "\n".join(lines)
