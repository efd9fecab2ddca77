"""The command-line subcommands: grad, hessian, jacobian, graph and eval."""

from __future__ import annotations

from .. import (Graph, SymgradError, evaluate, explain, gradients, hessian, jacobian, parse,
                render, to_dot, to_sympy)
from .display import derivative_name, format_results, simplified, value_text
from .options import parse_dtypes, parse_shapes, parse_values, read_expression


def load(args) -> Graph:
    """The graph G of the command's expression, with its --shape and --dtype options."""
    text = read_expression(args.expr, args.file)
    return parse(text, shapes=parse_shapes(args.shape), dtypes=parse_dtypes(args.dtype))


def wrt_names(args, graph: Graph) -> list:
    """--wrt, or every float input of the graph when it is not given."""
    if args.wrt:
        return list(args.wrt)
    names = [v.name for v in graph.inputs if v.dtype.startswith("float")]
    if not names:
        raise SymgradError("the expression has no float inputs to differentiate; give --wrt")
    return names


def values_for(args, graph: Graph) -> dict | None:
    """--at values restricted to the graph's inputs (None without --at)."""
    if not args.at:
        return None
    values = parse_values(args.at)
    inputs = {v.name for v in graph.inputs}
    unknown = sorted(set(values) - inputs)
    if unknown:
        raise SymgradError(f"--at names {', '.join(unknown)}, which the expression does not "
                           f"use (its inputs: {', '.join(sorted(inputs)) or 'none'})")
    return values


def nested_derivatives(graph: Graph, names: list, order: int) -> list:
    """[(wrt tuple, graph of that derivative)] for every sorted tuple of ``order`` names, built
    by nesting ``gradients`` one order at a time (d/dy of df/dx is d2f/dxdy)."""
    level = [((), graph)]
    for _ in range(order):
        following = []
        for done, g in level:
            start = names.index(done[-1]) if done else 0
            rest = names[start:]
            B = gradients(g, rest)
            following += [(done + (w,), B[k]) for k, w in enumerate(rest)]
        level = following
    return level


def run_grad(args, sp) -> str:
    graph = load(args)
    names = wrt_names(args, graph)
    if args.order < 1:
        raise SymgradError(f"--order must be at least 1, got {args.order}")
    values = values_for(args, graph)
    if args.explain:
        if args.order != 1:
            raise SymgradError("--explain narrates first derivatives; drop --order")
        return str(explain(graph, names, at=values))
    results = []
    for wrt, derivative in nested_derivatives(graph, names, args.order):
        results.append(result(derivative, derivative_name(wrt), derivative_name(wrt, True),
                              wrt, values, args, sp))
    return format_results(results, args.format, sp)


def result(derivative: Graph, label: str, latex_label: str, wrt, values, args, sp) -> dict:
    """One shown derivative: its sympy form (simplified for display) and value at --at."""
    expr = simplified(to_sympy(derivative)[0], sp, enabled=not args.no_simplify)
    item = {"label": label, "latex_label": latex_label, "wrt": wrt, "expr": expr}
    if values is not None:
        item["value"] = evaluate(derivative, values)[0]
    return item


def run_matrix(args, sp, kind: str) -> str:
    graph = load(args)
    names = wrt_names(args, graph)
    values = values_for(args, graph)
    built = hessian(graph, names) if kind == "hessian" else jacobian(graph, names)
    item = result(built, kind, r"\nabla^2 f" if kind == "hessian" else "J", tuple(names),
                  values, args, sp)
    return format_results([item], args.format, sp)


def run_graph(args, sp) -> str:
    graph = load(args)
    shown = graph
    lines = [f"G: {len(graph)} nodes", str(graph)]
    if args.wrt:
        shown = gradients(graph, list(args.wrt))
        added = len(shown) - len(graph)
        lines += ["", f"B = gradients(G, {list(args.wrt)}): {len(shown)} nodes ({added} "
                      f"appended)", str(shown)]
    written = []
    if args.dot:
        text = to_dot(shown)
        if args.dot == "-":
            return text.rstrip("\n")
        with open(args.dot, "w", encoding="utf-8") as handle:
            handle.write(text)
        written.append(f"wrote {args.dot} (DOT)")
    for path in (args.png, args.svg):
        if path:
            engine = render(shown, path)
            written.append(f"wrote {path} ({engine})")
    return "\n".join(written) if written else "\n".join(lines)


def run_eval(args, sp) -> str:
    graph = load(args)
    values = parse_values(args.at)
    outputs = evaluate(graph, values)
    return "\n".join(value_text(v) for v in outputs)


COMMANDS = {
    "grad": run_grad,
    "hessian": lambda args, sp: run_matrix(args, sp, "hessian"),
    "jacobian": lambda args, sp: run_matrix(args, sp, "jacobian"),
    "graph": run_graph,
    "eval": run_eval,
}
