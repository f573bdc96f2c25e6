"""Stream-map expressions, evaluated safely: a whitelist of Python's expression syntax.

An expression sees the record's properties by name, the whole record as ``record`` (or
``_``), and the current property's value as ``self``. It may use constants, arithmetic
(no ``**``), comparisons, ``and``/``or``/``not``, ``x if c else y``, indexing and slicing,
list and tuple literals, the functions in ``FUNCTIONS`` and the methods in ``METHODS``.

``Generator`` turns an expression's parsed tree, node by whitelisted node, into Python source
over the record ``r`` and the current value ``s``: names become ``r['name']`` (decoded there
when the record's values are ``msgspec.Raw``; an attribute when the record is a struct),
constants and functions are referenced from the namespace the source is compiled in (whose
builtins are empty), so no text of the expression is ever run as written. Anything else is
refused.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
from collections.abc import Callable
from typing import Any

import msgspec

Evaluate = Callable[[dict[str, Any], Any], Any]  # (record, self) -> value


class ExpressionError(ValueError):
    """An expression outside the whitelist, or one that does not parse."""


class EvaluationError(ValueError):
    """An expression failed on a record (a missing property, a wrong type, ...)."""


def _fastest_md5() -> Callable[[bytes], Any]:
    """CPython's own MD5 (on short values about twice as fast as OpenSSL's through
    ``hashlib``, same digest), or ``hashlib``'s in a Python built without it."""
    try:
        builtin: Callable[[bytes], Any] = importlib.import_module("_md5").md5
    except ImportError:
        return hashlib.md5
    return builtin


_new_md5 = _fastest_md5()


def md5(value: Any) -> str:
    """The hex MD5 of ``str(value)``, as the Singer SDK's stream maps compute it."""
    digest: str = _new_md5(str(value).encode()).hexdigest()
    return digest


_INLINED = {"md5": "_new_md5(_str({}).encode()).hexdigest()"}
"""Bodies of one-argument functions, written in place of their calls (no Python call per
value): the same result as calling them."""
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
_BINARY = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
}
_UNARY = {ast.Not: "not ", ast.USub: "-", ast.UAdd: "+"}
_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
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
    generator = Generator(checked=True)
    body = generator.source(text)
    return generator.function(f"def evaluate(r, s):\n    return {body}\n", "evaluate")


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


def _property(record: dict[str, Any], name: str) -> Any:
    try:
        return record[name]
    except KeyError:
        raise EvaluationError(f"the record has no property {name!r}") from None


class Generator:
    """Python source for whitelisted expressions, and the functions compiled from it.

    ``checked``: a missing property raises ``EvaluationError`` naming it (one call more per
    property read); otherwise it raises ``KeyError``. ``raw``: the record's values are
    ``msgspec.Raw`` (JSON text not yet decoded), and a property read decodes its value.
    ``fields``: the record is a struct holding exactly these properties, each under the
    attribute it maps to, the ``decoded`` ones already decoded. Several expressions may share
    one generator, and so one namespace, to be compiled into one function.
    """

    def __init__(
        self,
        checked: bool,
        raw: bool = False,
        fields: dict[str, str] | None = None,
        decoded: frozenset[str] = frozenset(),
    ) -> None:
        self.checked = checked
        self.raw = raw
        self.fields = fields
        self.decoded = decoded
        self.unknown = False  # whether a source made so far reads a property not in fields
        self.reads: set[str] = set()  # the properties whose values sources made so far read
        self.namespace: dict[str, Any] = {
            "__builtins__": {},
            "_property": _property,
            "_decode": msgspec.json.decode,
            "_NULL": msgspec.Raw(b"null"),
            "_new_md5": _new_md5,
            "_str": str,
        }
        self.reads_current = False  # whether a source made so far reads ``s`` (self)
        self.reads_record = False  # whether a source made so far reads the whole record

    def current(self, name: str) -> str:
        """Python source for ``s``: the value of property ``name``, None when it is absent."""
        if self.fields is not None:
            return self.value(name) if name in self.fields else "None"
        key = self.namespace_name(name)
        return f"_decode(r.get({key}, _NULL))" if self.raw else f"r.get({key})"

    def value(self, name: str) -> str:
        """Python source for the value of property ``name`` of ``r``, decoded."""
        self.reads.add(name)
        if self.raw and name not in self.decoded:
            return f"_decode({self.stored(name)})"
        return self.stored(name)

    def stored(self, name: str) -> str:
        """Python source for property ``name`` of ``r`` as stored (a raw value undecoded)."""
        if self.fields is None:
            return f"r[{self.namespace_name(name)}]"
        if name not in self.fields:
            self.unknown = True
            return "None"
        return f"r.{self.fields[name]}"

    def source(self, text: str) -> str:
        """``text`` as a Python expression over ``r`` (record) and ``s`` (self)."""
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"invalid expression {text!r}: {exc.msg}") from None
        return self._node(tree.body)

    def function(self, source: str, name: str) -> Callable[..., Any]:
        """Compile ``source`` (made of this generator's expressions) and return ``name``."""
        namespace = dict(self.namespace)
        exec(compile(source, "<stream map>", "exec"), namespace)  # source made by _node only
        function: Callable[..., Any] = namespace[name]
        return function

    def namespace_name(self, value: Any) -> str:
        """A name bound to ``value`` in the namespace."""
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def _node(self, node: ast.expr) -> str:
        match node:
            case ast.Constant(value=value):
                return self.namespace_name(value)
            case ast.Name(id="record" | "_"):
                self.reads_record = True
                return "r"
            case ast.Name(id="self"):
                self.reads_current = True
                return "s"
            case ast.Name(id=name) if name in FUNCTIONS:
                raise ExpressionError(f"{name} is a function: call it, {name}(...)")
            case ast.Name(id=name) if self.checked:
                return f"_property(r, {self.namespace_name(name)})"
            case ast.Name(id=name):
                return self.value(name)
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
                return f"({self._node(left)} {_BINARY[type(op)]} {self._node(right)})"
            case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
                return f"({_UNARY[type(op)]}{self._node(operand)})"
            case ast.BoolOp(op=op, values=values):
                joiner = " and " if isinstance(op, ast.And) else " or "
                return "(" + joiner.join(self._node(v) for v in values) + ")"
            case ast.Compare(left=left, ops=ops, comparators=rights):
                return self._comparison(left, ops, rights)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                parts = (self._node(body), self._node(test), self._node(orelse))
                return "({} if {} else {})".format(*parts)
            case ast.Subscript(value=value, slice=index):
                return f"{self._node(value)}[{self._index(index)}]"
            case ast.List(elts=items) | ast.Tuple(elts=items):
                return "[" + "".join(f"{self._node(item)}, " for item in items) + "]"
            case ast.Call(func=func, args=args, keywords=[]):
                return self._call(func, args)
        raise ExpressionError(f"not allowed in a stream map expression: {ast.unparse(node)!r}")

    def _comparison(self, left: ast.expr, ops: list[ast.cmpop], rights: list[ast.expr]) -> str:
        if any(type(op) not in _COMPARE for op in ops):
            raise ExpressionError("unsupported comparison")
        parts = [self._node(left)]
        for op, right in zip(ops, rights, strict=True):
            parts += [_COMPARE[type(op)], self._node(right)]
        return "(" + " ".join(parts) + ")"

    def _index(self, index: ast.expr) -> str:
        if not isinstance(index, ast.Slice):
            return self._node(index)
        bounds = (index.lower, index.upper, index.step)
        return ":".join("" if b is None else self._node(b) for b in bounds)

    def _call(self, func: ast.expr, args: list[ast.expr]) -> str:
        arguments = ", ".join(self._node(arg) for arg in args)
        if isinstance(func, ast.Name) and func.id in _INLINED and len(args) == 1:
            return _INLINED[func.id].format(arguments)
        if isinstance(func, ast.Name) and func.id in FUNCTIONS:
            return f"{self.namespace_name(FUNCTIONS[func.id])}({arguments})"
        if isinstance(func, ast.Attribute) and func.attr in METHODS:
            return f"{self._node(func.value)}.{func.attr}({arguments})"
        allowed = ", ".join(sorted(FUNCTIONS)) + "; methods " + ", ".join(sorted(METHODS))
        raise ExpressionError(f"cannot call {ast.unparse(func)!r} (allowed: {allowed})")
