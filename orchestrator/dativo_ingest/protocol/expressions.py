"""Stream-map expressions, evaluated safely: a whitelist of Python's expression syntax,
compiled once into closures (never ``eval``).

An expression sees the record's properties by name, the whole record as ``record`` (or
``_``), and the current property's value as ``self``. It may use constants, arithmetic
(no ``**``), comparisons, ``and``/``or``/``not``, ``x if c else y``, indexing and slicing,
list and tuple literals, the functions in ``FUNCTIONS`` and the methods in ``METHODS``.
"""

from __future__ import annotations

import ast
import hashlib
import operator
from collections.abc import Callable
from typing import Any

Evaluate = Callable[[dict[str, Any], Any], Any]  # (record, self) -> value


class ExpressionError(ValueError):
    """An expression outside the whitelist, or one that does not parse."""


class EvaluationError(ValueError):
    """An expression failed on a record (a missing property, a wrong type, ...)."""


def md5(value: Any) -> str:
    """The hex MD5 of ``str(value)``, as the Singer SDK's stream maps compute it."""
    return hashlib.md5(str(value).encode()).hexdigest()


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "md5": md5,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "len": len,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
}
METHODS = frozenset(
    [
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "rsplit",
        "replace",
        "startswith",
        "endswith",
        "title",
        "capitalize",
        "zfill",
        "isdigit",
        "join",
        "get",
        "keys",
        "values",
        "items",
        "count",
        "find",
    ]
)
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


FAILURES = (TypeError, ValueError, LookupError, AttributeError, ArithmeticError)
"""What an expression may raise on a record it does not fit (``EvaluationError`` included)."""


def compile_expression(text: str) -> Evaluate:
    """The evaluator of ``text``, raising ``EvaluationError`` on a record it does not fit;
    ``ExpressionError`` if ``text`` is not a whitelisted expression."""
    compiled = compile_unchecked(text)

    def evaluate(record: dict[str, Any], current: Any) -> Any:
        try:
            return compiled(record, current)
        except FAILURES as exc:
            raise failure(text, exc) from None

    return evaluate


def compile_unchecked(text: str) -> Evaluate:
    """As ``compile_expression``, one call layer less: its evaluator raises any of
    ``FAILURES``, for the caller to turn into an ``EvaluationError`` with ``failure``."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {text!r}: {exc.msg}") from None
    return _compile(tree.body)


def failure(text: str, exc: Exception) -> EvaluationError:
    """The ``EvaluationError`` for ``exc``, raised by ``text`` on a record."""
    if isinstance(exc, EvaluationError):
        return exc
    return EvaluationError(f"{text!r} failed: {type(exc).__name__}: {exc}")


def bare_name(text: str) -> str | None:
    """The property ``text`` names when it is nothing but a property name (a rename)."""
    name = text.strip()
    reserved = name in FUNCTIONS or name in ("record", "_", "self")
    return name if name.isidentifier() and not reserved else None


def _compile(node: ast.expr) -> Evaluate:
    match node:
        case ast.Constant(value=value):
            return lambda record, current: value
        case ast.Name(id="record" | "_"):
            return lambda record, current: record
        case ast.Name(id="self"):
            return lambda record, current: current
        case ast.Name(id=name) if name in FUNCTIONS:
            raise ExpressionError(f"{name} is a function: call it, {name}(...)")
        case ast.Name(id=name):
            return _property(name)
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            return _binary(_BINARY[type(op)], _compile(left), _compile(right))
        case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
            unary, inner = _UNARY[type(op)], _compile(operand)
            return lambda record, current: unary(inner(record, current))
        case ast.BoolOp(op=op, values=values):
            return _boolean(isinstance(op, ast.And), [_compile(v) for v in values])
        case ast.Compare(left=left, ops=ops, comparators=rights):
            return _comparison(_compile(left), ops, [_compile(r) for r in rights])
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return _conditional(_compile(test), _compile(body), _compile(orelse))
        case ast.Subscript(value=value, slice=index):
            return _subscript(_compile(value), index)
        case ast.List(elts=items) | ast.Tuple(elts=items):
            parts = [_compile(item) for item in items]
            return lambda record, current: [part(record, current) for part in parts]
        case ast.Call(func=func, args=args, keywords=[]):
            return _call(func, [_compile(arg) for arg in args])
    raise ExpressionError(f"not allowed in a stream map expression: {ast.unparse(node)!r}")


def _property(name: str) -> Evaluate:
    def value(record: dict[str, Any], current: Any) -> Any:
        try:
            return record[name]
        except KeyError:
            raise EvaluationError(f"the record has no property {name!r}") from None

    return value


def _binary(op: Callable[[Any, Any], Any], left: Evaluate, right: Evaluate) -> Evaluate:
    return lambda record, current: op(left(record, current), right(record, current))


def _boolean(conjunction: bool, values: list[Evaluate]) -> Evaluate:
    def evaluate(record: dict[str, Any], current: Any) -> Any:
        result: Any = None
        for value in values:
            result = value(record, current)
            if bool(result) is not conjunction:
                return result
        return result

    return evaluate


def _comparison(left: Evaluate, ops: list[ast.cmpop], rights: list[Evaluate]) -> Evaluate:
    if any(type(op) not in _COMPARE for op in ops):
        raise ExpressionError("unsupported comparison")
    steps = [(_COMPARE[type(op)], right) for op, right in zip(ops, rights, strict=True)]

    def evaluate(record: dict[str, Any], current: Any) -> bool:
        a = left(record, current)
        for compare, right in steps:
            b = right(record, current)
            if not compare(a, b):
                return False
            a = b
        return True

    return evaluate


def _conditional(test: Evaluate, body: Evaluate, orelse: Evaluate) -> Evaluate:
    return lambda r, c: body(r, c) if test(r, c) else orelse(r, c)


def _subscript(value: Evaluate, index: ast.expr) -> Evaluate:
    if isinstance(index, ast.Slice):
        bounds = [None if b is None else _compile(b) for b in (index.lower, index.upper)]
        step = None if index.step is None else _compile(index.step)

        def sliced(record: dict[str, Any], current: Any) -> Any:
            lower, upper = (None if b is None else b(record, current) for b in bounds)
            by = None if step is None else step(record, current)
            return value(record, current)[lower:upper:by]

        return sliced
    key = _compile(index)
    return lambda record, current: value(record, current)[key(record, current)]


def _call(func: ast.expr, args: list[Evaluate]) -> Evaluate:
    if isinstance(func, ast.Name) and func.id in FUNCTIONS:
        function = FUNCTIONS[func.id]
        if len(args) == 1:
            (only,) = args
            return lambda record, current: function(only(record, current))
        return lambda record, current: function(*(arg(record, current) for arg in args))
    if isinstance(func, ast.Attribute) and func.attr in METHODS:
        target, method = _compile(func.value), func.attr
        return lambda r, c: getattr(target(r, c), method)(*(arg(r, c) for arg in args))
    allowed = ", ".join(sorted(FUNCTIONS)) + "; methods " + ", ".join(sorted(METHODS))
    raise ExpressionError(f"cannot call {ast.unparse(func)!r} (allowed: {allowed})")
