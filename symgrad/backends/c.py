"""The C backend: a graph becomes one C file (only ``math.h``), compiled by the system C
compiler into a shared library cached on disk, and called through ctypes.

float64, float32 and bool values are C ``double`` (bools 0.0 / 1.0; float32 values rounded to
``float`` after each op, which is IEEE single's result for arithmetic and sqrt), int64 values
``long long`` (numpy's wrap-around and floor modulus). Ops are spelled by their scalar form in
C: arithmetic, comparisons, ``where``, the math.h functions numpy's ufuncs name (also ``erf``
and ``erfc``), numpy's own definitions of maximum, minimum, sign, heaviside, logaddexp, mod and
round, and ``cast`` as numpy's ``astype``. Small dense tensor graphs are first scalarized, one
scalar node per element (``scalarize``). An op without a C form (a user op whose forward cannot
run on nodes) raises ``BackendError`` naming it: no silent fallback, use ``backend="python"``.
Compiled with ``FLAGS`` (``-O2``, no ``-ffast-math``, no contraction into FMA, ``-fwrapv``), so
arithmetic is IEEE exactly as numpy's. Large graphs are split into functions of at most
``PART`` statements, so the compiler's time and memory grow linearly. ``batched=True`` loops
over the points inside C.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np

from ..errors import BackendError
from ..evaluate import BatchedProgram, Program, Schedule
from ..evaluate.batched import batch_shape
from ..evaluate import program
from ..evaluate.program import Runnable, check_result
from ..ir import REGISTRY, Graph, Node
from .cache import cache_dir, staged
from .scalar import Spellings, float_literal
from .scalarize import scalarize

CAST = REGISTRY.ops["cast"]

PART = 200
FLAGS = ("-O2", "-std=c99", "-ffp-contract=off", "-fwrapv", "-fPIC", "-shared")

_HELPERS = """\
#if defined(__GNUC__)
#define SG_PART static __attribute__((noinline))   /* keep parts apart: linear compile time */
#else
#define SG_PART static
#endif
typedef long long sg_int;                          /* numpy's int64 */
typedef union { double f; sg_int i; } sg_slot;     /* an input, output or work value */
static double sg_maximum(double a, double b) { return (a > b || a != a) ? a : b; }
static double sg_minimum(double a, double b) { return (a < b || a != a) ? a : b; }
static double sg_sign(double a) { return a > 0 ? 1.0 : a < 0 ? -1.0 : a == 0 ? 0.0 : a; }
static double sg_heaviside(double a, double at0) {
    return a != a ? a : a == 0 ? at0 : a < 0 ? 0.0 : 1.0;
}
static double sg_where(double c, double a, double b) { return c != 0.0 ? a : b; }
static double sg_logical_and(double a, double b) { return a != 0 && b != 0; }
static double sg_logical_or(double a, double b) { return a != 0 || b != 0; }
static double sg_logical_xor(double a, double b) { return (a != 0) != (b != 0); }
static double sg_logical_not(double a) { return a == 0; }
static double sg_remainder(double a, double b) {   /* numpy's npy_divmod, the modulus */
    double mod = fmod(a, b);
    if (!b) return mod;
    if (mod) { if ((b < 0) != (mod < 0)) mod += b; }
    else mod = copysign(0.0, b);
    return mod;
}
static double sg_logaddexp(double a, double b) {   /* numpy's npy_logaddexp */
    if (a == b) return a + 0.693147180559945309417232121458176568;
    double d = a - b;
    if (d > 0) return a + log1p(exp(-d));
    if (d <= 0) return b + log1p(exp(d));
    return d;
}
static double sg_logaddexp_f(double a, double b) { /* numpy's npy_logaddexpf, in float */
    float x = (float)a, y = (float)b, d = x - y;
    if (x == y) return x + 0.693147180559945309417232121458176568f;
    if (d > 0) return x + log1pf(expf(-d));
    if (d <= 0) return y + log1pf(expf(d));
    return d;
}
static double sg_pow10(long n) {                   /* numpy's power_of_ten */
    static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    double r = 1e9;
    if (n < 9) return p10[n];
    while (n-- > 9) r *= 10.0;
    return r;
}
static double sg_round(double x, long d) {         /* numpy's round: halves to even */
    if (d >= 0) { double f = sg_pow10(d); return nearbyint(x * f) / f; }
    double f = sg_pow10(-d);
    return nearbyint(x / f) * f;
}
static double sg_round_f(double x, long d) {       /* the same in float32 arithmetic */
    float y = (float)x;
    if (d >= 0) { float f = (float)sg_pow10(d); return nearbyintf(y * f) / f; }
    float f = (float)sg_pow10(-d);
    return nearbyintf(y / f) * f;
}
static sg_int sg_to_int(double a) {   /* numpy's astype(int64) on x86-64: NaN, overflow: min */
    return a >= -9223372036854775808.0 && a < 9223372036854775808.0 ? (sg_int)a
        : -9223372036854775807LL - 1;
}
static sg_int sg_maximum_i(sg_int a, sg_int b) { return a > b ? a : b; }
static sg_int sg_minimum_i(sg_int a, sg_int b) { return a < b ? a : b; }
static sg_int sg_sign_i(sg_int a) { return (a > 0) - (a < 0); }
static sg_int sg_abs_i(sg_int a) { return a < 0 ? -a : a; }           /* wraps, as numpy */
static sg_int sg_where_i(double c, sg_int a, sg_int b) { return c != 0.0 ? a : b; }
static sg_int sg_remainder_i(sg_int a, sg_int b) { /* numpy: floor modulus; 0 for b = 0 */
    sg_int mod;
    if (b == 0 || b == -1) return 0;
    mod = a % b;
    if (mod && (b < 0) != (mod < 0)) mod += b;
    return mod;
}
static sg_int sg_round_i(sg_int x, long d) {       /* numpy's round of int64 */
    return d >= 0 ? x : sg_to_int(sg_round((double)x, d));
}
"""
# numpy function name -> C spelling (math.h or a helper above), for float64 and bool values;
# float32 values are computed in double and rounded to float once per op, which gives
# IEEE single's result for arithmetic and sqrt (double has more than 2 * 24 + 2 bits)
_C_FUNCTIONS = {
    **{name: name for name in ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh",
                               "log1p", "expm1", "log2", "log10", "exp2", "hypot", "floor",
                               "ceil", "cbrt", "trunc", "erf", "erfc")},
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
    "arccosh": "acosh", "arctanh": "atanh", "arctan2": "atan2", "power": "pow",
    "absolute": "fabs", "fabs": "fabs",
    **{name: f"sg_{name}" for name in ("maximum", "minimum", "sign", "heaviside", "where",
                                        "logaddexp", "logical_and", "logical_or",
                                        "logical_xor", "logical_not", "remainder", "round")},
}
# ops of several roundings, in float arithmetic as numpy's float32 loops
_C_FLOAT32_FUNCTIONS = {**_C_FUNCTIONS, "round": "sg_round_f", "logaddexp": "sg_logaddexp_f"}
# int64 values: numpy's integer loops (wrapping, floor modulus); "" spells the identity
_C_INT_FUNCTIONS = {"floor": "", "ceil": "", "trunc": "",
                    **{name: f"sg_{name}_i" for name in ("maximum", "minimum", "sign", "where",
                                                          "remainder", "round")},
                    "absolute": "sg_abs_i"}
_INT64_MIN = -(1 << 63)


def _literal(value) -> str:
    """A C literal: a float (a bool as 0.0 / 1.0) exactly, an int parameter as an int."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    return float_literal(value, "NAN", "INFINITY")


def _value_literal(value, dtype: str) -> str:
    """A constant's C literal in its dtype's C type (int64: ``long long``)."""
    if dtype != "int64":
        return float_literal(value, "NAN", "INFINITY")
    value = int(value)
    return "(-9223372036854775807LL - 1)" if value == _INT64_MIN else f"({value}LL)"


def _cast(source: str, target: str) -> str:
    """numpy's ``astype`` from dtype ``source`` to ``target`` as a C template."""
    if target == "bool":
        return "({0} != 0)"
    if target == "int64":
        return "{0}" if source == "int64" else "(sg_int){0}" if source == "bool" else \
            "sg_to_int({0})"
    if target == "float32" or source == "int64":
        return f"(({'float' if target == 'float32' else 'double'}){{0}})"
    return "{0}"


class _Source:
    """The C source of a schedule of scalars; raises BackendError for what C cannot express.

    float64, float32 and bool values are C ``double`` (float32 ones rounded to ``float`` at
    each op, bools 0.0 / 1.0), int64 values ``long long``; inputs, outputs and values crossing
    parts are ``sg_slot``\\ s, read as ``.f`` or ``.i``.
    """

    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        nodes, slot = schedule.nodes, schedule.slot
        self.literals: dict = {}
        self.code: dict = {}
        input_slots = {k for _n, _v, k in schedule.inputs}
        spellings = {"int64": Spellings(_C_INT_FUNCTIONS, _literal),
                     "float32": Spellings(_C_FLOAT32_FUNCTIONS, _literal)}
        spell = Spellings(_C_FUNCTIONS, _literal)
        for k, node in enumerate(nodes):
            if node.shape != ():
                raise BackendError(
                    f"the C backend compiles scalar graphs; node %{k} ({node.op.name}) has "
                    f"shape {node.shape}. Use backend='python' or 'numpy' for this graph")
            if node.is_const:
                self.literals[k] = _value_literal(node.value.item(), node.dtype)
            elif node.is_input:
                if k not in input_slots:
                    raise BackendError(f"the C backend found input {node.name!r} that is not "
                                       f"one of the graph's inputs")
            else:
                if node.op is CAST:
                    code = _cast(node.inputs[0].dtype, node.dtype)
                else:
                    code = spellings.get(node.dtype, spell)(node)
                if code is None:
                    raise BackendError(f"the C backend has no form for op {node.op.name!r} "
                                       f"on {node.dtype} values (node %{k}); use "
                                       f"backend='python' or 'numpy', which run every op")
                if node.dtype == "float32":
                    code = f"(float)({code})"
                self.code[k] = (code, [slot[p] for p in node.inputs])

    def text(self) -> str:
        schedule, nodes = self.schedule, self.schedule.nodes
        order = sorted(self.code)
        parts = [order[i:i + PART] for i in range(0, len(order), PART)]
        part_of = {k: i for i, part in enumerate(parts) for k in part}
        for _name, _node, k in schedule.inputs:
            if k is not None:
                part_of[k] = -1                     # inputs live in in[]
        crossing: dict = {}
        for k in order:
            for p in nodes[k].inputs:
                q = schedule.slot[p]
                if q not in self.literals and part_of[q] not in (-1, part_of[k]):
                    crossing.setdefault(q, len(crossing))
        for k in schedule.output_slots:
            if k in self.code:
                crossing.setdefault(k, len(crossing))
        inputs = {k: i for i, (_n, _v, k) in enumerate(schedule.inputs) if k is not None}
        field = {k: ".i" if node.dtype == "int64" else ".f" for k, node in enumerate(nodes)}
        lines = [f"/* generated by symgrad: {len(nodes)} nodes, inputs "
                 f"{', '.join(v.name for v in schedule.graph.inputs) or '(none)'}, "
                 f"{len(schedule.output_slots)} outputs */", "#include <math.h>", "",
                 _HELPERS]

        def ref(q: int, index: int) -> str:      # values of other parts: loaded at each use
            if q in self.literals:
                return self.literals[q]
            if part_of[q] == index:
                return f"v{q}"
            return f"in[{inputs[q]}]{field[q]}" if q in inputs else f"w[{crossing[q]}]{field[q]}"
        for index, part in enumerate(parts):
            lines.append(f"SG_PART void sg_part{index}(const sg_slot *in, sg_slot *w) {{")
            for k in part:
                code, args = self.code[k]
                ctype = "sg_int" if nodes[k].dtype == "int64" else "double"
                lines.append(f"    const {ctype} v{k} = "
                             f"{code.format(*[ref(q, index) for q in args])};")
            lines += [f"    w[{crossing[k]}]{field[k]} = v{k};" for k in part if k in crossing]
            lines += ["}", ""]
        self.n_work = max(1, len(crossing))
        lines.append("void sg_eval(const sg_slot *in, sg_slot *out, sg_slot *w) {")
        lines += [f"    sg_part{index}(in, w);" for index in range(len(parts))]
        for i, k in enumerate(schedule.output_slots):
            value = (self.literals[k] if k in self.literals else f"in[{inputs[k]}]{field[k]}"
                     if k in inputs else f"w[{crossing[k]}]{field[k]}")
            lines.append(f"    out[{i}]{field[k]} = {value};")
        lines += ["}", "",
                  "void sg_eval_batch(long n, const sg_slot *in, sg_slot *out, sg_slot *w) {",
                  f"    for (long i = 0; i < n; i++) sg_eval(in + i * {len(schedule.inputs)}, "
                  f"out + i * {len(schedule.output_slots)}, w);",
                  "}", ""]
        return "\n".join(lines)


def to_c(graph: Graph) -> str:
    """The generated C source of ``graph``: ``void sg_eval(const sg_slot *in, sg_slot *out,
    sg_slot *w)`` (the inputs' elements in ``graph.inputs`` order, the outputs' elements in
    order, ``w`` a work array; ``sg_slot`` is a union of ``double f`` and ``long long i``,
    the latter for int64 values) and ``sg_eval_batch(n, in, out, w)`` over n points; it needs
    only ``math.h``.

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> print(sg.to_c(sg.Graph(x * x + 1)).splitlines()[0])
    /* generated by symgrad: 4 nodes, inputs x, 1 outputs */
    """
    if isinstance(graph, Node):
        graph = Graph(graph)
    return _Source(_scalar_schedule(Schedule(graph))[0]).text()


def _scalar_schedule(schedule: Schedule) -> tuple:
    """(the schedule of scalar nodes to compile, [(output shape, dtype)])."""
    if schedule.scalar:
        return schedule, [((), o.dtype) for o in schedule.graph.outputs]
    graph, shapes = scalarize(schedule)
    return Schedule(graph), shapes


def compiler() -> str:
    """The system C compiler (``$CC``, else ``cc`` or ``gcc`` on PATH), or BackendError."""
    for name in (os.environ.get("CC"), "cc", "gcc"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise BackendError("the C backend needs a C compiler: none of $CC, cc, gcc is on PATH. "
                       "Install one (e.g. `apt-get install gcc`) or use backend='python'")


def build(source: str) -> Path:
    """The shared library of ``source``, compiled once and cached by a hash of source, compiler
    and flags."""
    cc = compiler()
    key = hashlib.sha256("\0".join((source, cc, *FLAGS)).encode()).hexdigest()[:32]
    library = cache_dir() / f"sg_{key}.so"
    if library.exists():
        return library
    with staged(library) as so_file:
        c_file = so_file.with_suffix(".c")
        c_file.write_text(source)
        done = subprocess.run([cc, *FLAGS, str(c_file), "-o", str(so_file), "-lm"],
                              capture_output=True, text=True)
        if done.returncode:
            raise BackendError(f"the C compiler {cc} failed on the generated source:\n"
                               f"{done.stderr[-2000:]}")
    return library


class CProgram(Runnable):
    """A graph compiled to C; calling it evaluates the graph (see ``sg.compile``)."""

    backend = "c"

    def __init__(self, schedule: Schedule, batched: bool = False):
        self.schedule, self.graph, self.batched = schedule, schedule.graph, batched
        scalar, self._shapes = _scalar_schedule(schedule)
        generated = _Source(scalar)
        self.source = generated.text()
        self.library = build(self.source)
        lib = ctypes.CDLL(str(self.library))
        self._eval, self._batch = lib.sg_eval, lib.sg_eval_batch
        self._eval.argtypes = [ctypes.c_void_p] * 3
        self._batch.argtypes = [ctypes.c_long] + [ctypes.c_void_p] * 3
        self._eval.restype = self._batch.restype = None
        self._lib = lib
        # ops scalarized from symgrad ops give NaN where the interpreter raises InputError on
        # values (index out of range, singular matrix): a NaN output is rechecked by it
        self._recheck = any("scalarize" in node.op.emit for node in schedule.nodes)
        self._interpreter = None
        self._sizes = [v.size for v in schedule.graph.inputs]
        self._int_inputs = [v.dtype == "int64" for v in schedule.graph.inputs]
        self._n_in, self._n_out = sum(self._sizes), len(scalar.output_slots)
        self._n_work = generated.n_work
        self._scalar_in = (all(v.shape == () for v in schedule.graph.inputs)
                           and not any(self._int_inputs))       # inputs copied as one list
        self._scalar = schedule.scalar and self._scalar_in
        self._dtypes = [np.dtype(dtype) for _shape, dtype in self._shapes]
        self._int_outputs = [d == np.int64 for d in self._dtypes]
        self._floats_out = self._scalar and not any(self._int_outputs)   # read as a list
        self._lock = threading.Lock()
        self._in, self._out = np.zeros(max(1, self._n_in)), np.zeros(max(1, self._n_out))
        self._work = np.zeros(self._n_work)
        self._addresses = tuple(a.ctypes.data for a in (self._in, self._out, self._work))

    def run(self, values: dict) -> list:
        arrays = self.schedule.load(values, batch=self.batched)
        outputs = self._run_batch(arrays) if self.batched else self._run(arrays)
        if self._recheck and any(o.dtype.kind == "f" and np.isnan(o).any() for o in outputs):
            if self._interpreter is None:
                self._interpreter = (BatchedProgram if self.batched else Program)(
                    self.graph, self.schedule)
            return self._interpreter.run(values)      # raises InputError where it would
        if program.CHECK:                       # the evaluator's checking mode, on the outputs
            batch = batch_shape(self.schedule.inputs, arrays) if self.batched else ()
            for node, value in zip(self.graph.outputs, outputs):
                check_result(node, value, batch)
        return outputs

    def _run(self, arrays: list) -> list:
        with self._lock:
            if self._scalar_in:
                self._in[:self._n_in] = arrays
            elif self._n_in:
                self._load(self._in[None], [np.reshape(a, (1, -1)) for a in arrays])
            self._eval(*self._addresses)
            out = self._out.tolist() if self._floats_out else self._out.copy()
        if self._floats_out:
            return [np.array(v, dtype=d) for v, d in zip(out, self._dtypes)]
        return self._split(out, ())

    def _load(self, points: np.ndarray, arrays: list) -> None:
        """Write each input's elements (``arrays``, each (points, size)) into its columns of
        the slot matrix ``points`` (int64 ones as int64 bits)."""
        start = 0
        for array, size, is_int in zip(arrays, self._sizes, self._int_inputs):
            (points.view(np.int64) if is_int else points)[:, start:start + size] = array
            start += size

    def _split(self, out: np.ndarray, batch: tuple) -> list:
        results, start = [], 0
        for (shape, dtype), is_int in zip(self._shapes, self._int_outputs):
            size = int(np.prod(shape, dtype=np.int64))
            part = (out.view(np.int64) if is_int else out)[..., start:start + size]
            results.append(np.array(part.reshape(batch + shape), dtype=dtype))
            start += size
        return results

    def _run_batch(self, arrays: list) -> list:
        batch = batch_shape(self.schedule.inputs, arrays)
        n = int(np.prod(batch, dtype=np.int64))
        points = np.empty((n, max(1, self._n_in)))
        self._load(points, [a.reshape(n, size) for a, size in zip(arrays, self._sizes)])
        out = np.empty((n, max(1, self._n_out)))
        work = np.empty(self._n_work)
        self._batch(n, points.ctypes.data, out.ctypes.data, work.ctypes.data)
        return self._split(out[:, :self._n_out], batch)
