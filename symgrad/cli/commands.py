"""The command-line subcommands: grad, hessian, jacobian, graph and eval."""

from __future__ import annotations

import os
import warnings

from .. import (Graph, SymgradError, evaluate, explain, gradients, hessian, jacobian, load,
                parse, render, save, to_dot, to_sympy, var)
from .display import derivative_name, flat, format_results, note, simplified, value_text
from .options import check_input_name, parse_dtypes, parse_shapes, parse_values, read_expression

FORMULA_ELEMENTS = 400  # a derivative with more elements is shown by its value only


def graph_file(args) -> str | None:
    """The path of a saved graph (``*.json``) given as EXPR or with -f, else None."""
    path = args.file if args.file is not None else args.expr
    if path and path.endswith(".json") and os.path.isfile(path):
        return path
    return None


def load_graph(args) -> Graph:
    """The graph of the command: a saved graph file, or G parsed from the expression with its
    --shape and --dtype options."""
    path = graph_file(args)
    if path is not None:
        return load(path)
    text = read_expression(args.expr, args.file)
    return parse(text, shapes=parse_shapes(args.shape), dtypes=parse_dtypes(args.dtype))


def wrt_names(args, graph: Graph) -> list:
    """--wrt, or every float input of the graph when it is not given."""
    if args.wrt:
        for name in args.wrt:
            check_input_name(name, "--wrt")
        return list(args.wrt)
    names = [v.name for v in graph.inputs if v.dtype.startswith("float")]
    if not names:
        raise SymgradError("the expression has no float inputs to differentiate; give --wrt")
    return names


def scalar_output(graph: Graph, command: str) -> None:
    """Refuse a non-scalar expression for a command that differentiates scalars."""
    if len(graph.outputs) != 1:
        raise SymgradError(f"`symgrad {command}` needs one output; the graph has "
                           f"{len(graph.outputs)}")
    if graph.output.shape != ():
        raise SymgradError(f"`symgrad {command}` differentiates a scalar, but the expression "
                           f"has shape {graph.output.shape}; wrap it in sum(...), or use "
                           f"`symgrad jacobian`")


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
    graph = load_graph(args)
    names = wrt_names(args, graph)
    if args.order < 1:
        raise SymgradError(f"--order must be at least 1, got {args.order}")
    scalar_output(graph, "grad")
    values = values_for(args, graph)
    if args.explain:
        if args.order != 1:
            raise SymgradError("--explain narrates first derivatives; drop --order")
        return str(explain(graph, names, at=values))
    derivatives = nested_derivatives(graph, names, args.order)
    if args.save:
        saved = (gradients(graph, names) if args.order == 1 else
                 Graph([d.output for _, d in derivatives], graph.inputs))
        save(saved, args.save)
        note(f"wrote {args.save} ({len(saved)} nodes)")
    items = [{"label": derivative_name(wrt), "latex_label": derivative_name(wrt, True),
              "wrt": wrt} for wrt, _ in derivatives]
    return show(items, [d for _, d in derivatives], values, args, sp)


def run_matrix(args, sp, kind: str) -> str:
    graph = load_graph(args)
    names = wrt_names(args, graph)
    values = values_for(args, graph)
    if kind == "hessian":
        scalar_output(graph, "hessian")
    built = hessian(graph, names) if kind == "hessian" else jacobian(graph, names)
    if args.save:
        save(built, args.save)
        note(f"wrote {args.save} ({len(built)} nodes)")
    item = {"label": kind, "latex_label": r"\nabla^2 f" if kind == "hessian" else "J",
            "wrt": tuple(names)}
    return show([item], [built], values, args, sp)


def show(items: list, derivatives: list, values, args, sp) -> str:
    """The results' text: values at --at, and unless --values-only the formulas (the cse form
    with --cse), within the display budgets; each fallback is said in a note."""
    if values is not None:
        for item, derivative in zip(items, derivatives):
            item["value"] = evaluate(derivative, values)[0]
    replacements = None
    if not args.values_only:
        try:
            replacements = formulas(items, derivatives, args, sp)
            return format_results(items, args.format, sp, replacements)
        except RecursionError:
            reason = "sympy recursed too deeply on it"
        except SymgradError as exc:
            reason = str(exc).split(";")[0]
        note(f"formulas not shown ({reason}); values only (try --cse, or --values-only)")
        replacements = None
        for item in items:
            item.pop("expr", None)
    return format_results(items, args.format, sp, replacements)


def formulas(items: list, derivatives: list, args, sp):
    """Put each derivative's sympy form in its item (flat for a vector); returns the shared
    replacements with --cse, else None."""
    big = [(item["label"], d.output.size) for item, d in zip(items, derivatives)
           if d.output.size > FORMULA_ELEMENTS]
    if big:
        label, size = big[0]
        raise SymgradError(f"{label} has {size:,} elements, more than {FORMULA_ELEMENTS} are "
                           f"shown as formulas")
    replacements = None
    if args.cse:
        replacements, exprs = to_sympy(Graph([d.output for d in derivatives]), cse=True)
    else:
        exprs = [to_sympy(d)[0] for d in derivatives]
        if not args.no_simplify:
            exprs, finished = simplified(exprs, sp, args.simplify_timeout)
            if not finished:
                note(f"simplification stopped after {args.simplify_timeout:g} s of CPU time "
                     f"(--simplify-timeout); some formulas are shown unsimplified")
    for item, expr, d in zip(items, exprs, derivatives):
        item["expr"] = flat(expr, d.output.shape)
    return replacements


def run_graph(args, sp) -> str:
    graph = load_graph(args)
    shown, output_names = graph, None
    lines = [f"{'B' if graph.forward is not None else 'G'}: {len(graph)} nodes", str(graph)]
    if args.wrt:
        names = wrt_names(args, graph)
        seed = None
        if len(graph.outputs) == 1 and graph.output.shape != ():
            seed = var(unused_name("g", graph), graph.output.shape, graph.output.dtype)
            note(f"G's output has shape {graph.output.shape}: B is the vector-Jacobian product "
                 f"with a new input {seed.name!r} of that shape (the gradient of sum({seed.name}"
                 f" * G))")
        shown = gradients(graph, names, grad_output=seed)
        output_names = [derivative_name((w,)) for w in names]
        added = len(shown) - len(graph)
        lines += ["", f"B = gradients(G, {names}): {len(shown)} nodes ({added} "
                      f"appended)", str(shown)]
    if args.save:
        save(shown, args.save)
        lines.append(f"wrote {args.save}")
    written = []
    if args.dot:
        text = to_dot(shown, output_names=output_names)
        if args.dot == "-":
            return text.rstrip("\n")
        with open(args.dot, "w", encoding="utf-8") as handle:
            handle.write(text)
        written.append(f"wrote {args.dot} (DOT)")
    for path in (args.png, args.svg):
        if path:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                engine = render(shown, path, output_names=output_names)
            for warning in caught:
                note(str(warning.message))
            written.append(f"wrote {path} ({engine})")
    return "\n".join(written) if written else "\n".join(lines)


def unused_name(stem: str, graph: Graph) -> str:
    taken = {v.name for v in graph.inputs}
    name = stem
    while name in taken:
        name += "_"
    return name


def run_eval(args, sp) -> str:
    graph = load_graph(args)
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
