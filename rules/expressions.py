"""The rule expression language: Python syntax, checked against a whitelist, compiled once.

A rule's ``applies_when``, ``when``, ``let`` values, ``savings.amount`` and ``requires`` checks
are expressions such as ``state == "available" and age_days(create_time) >= min_age_days``.
Each is parsed with :mod:`ast` and every node is checked against a short whitelist
(comparisons, boolean operators, arithmetic, conditional expressions, literals, names, calls to
the functions in :data:`FUNCTIONS`). Names resolve, per rule, to the resource type's attributes
or metrics, the rule's parameters (bound as constants) or its ``let`` values (inlined). The
checked tree is then rewritten into ordinary Python and compiled into a function, so evaluating
a rule costs what the same hand-written Python would. Text that fails the whitelist is never
compiled.
"""

from __future__ import annotations

import ast
import copy
import difflib
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rules import functions
from rules.prices import PriceTable

MAX_EXPRESSION_CHARS = 2000


class ExpressionError(ValueError):
    """An expression broke a rule of the language; the message says which and how to fix it."""


@dataclass(frozen=True)
class FunctionSpec:
    """One function rule authors may call."""

    name: str
    min_args: int
    max_args: int
    signature: str  # as shown in docs and error messages
    doc: str
    needs_tags: bool = False  # the runtime function takes the resource's tags first
    needs_now: bool = False  # the runtime function takes ``now`` (epoch seconds) last
    foldable: bool = True  # constant arguments give a constant result, computed at load


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec(
            "age_days",
            1,
            1,
            "age_days(time)",
            "days from an ISO time to now",
            needs_now=True,
            foldable=False,
        ),
        FunctionSpec(
            "age_hours",
            1,
            1,
            "age_hours(time)",
            "hours from an ISO time to now",
            needs_now=True,
            foldable=False,
        ),
        FunctionSpec(
            "tag",
            1,
            2,
            "tag(name[, default])",
            "value of a resource tag",
            needs_tags=True,
            foldable=False,
        ),
        FunctionSpec(
            "has_tag",
            1,
            1,
            "has_tag(name)",
            "the resource carries the tag",
            needs_tags=True,
            foldable=False,
        ),
        FunctionSpec(
            "first_tag",
            1,
            1,
            "first_tag(names)",
            "value of the first of these tags present",
            needs_tags=True,
            foldable=False,
        ),
        FunctionSpec("lower", 1, 1, "lower(text)", "text in lower case"),
        FunctionSpec("startswith", 2, 2, "startswith(text, prefix or list)", "prefix test"),
        FunctionSpec("endswith", 2, 2, "endswith(text, suffix or list)", "suffix test"),
        FunctionSpec("count", 1, 1, "count(list)", "number of items (0 when unknown)"),
        FunctionSpec("all_in", 2, 2, "all_in(list, choices)", "non-empty and every item a choice"),
        FunctionSpec("any_in", 2, 2, "any_in(list, choices)", "at least one item is a choice"),
        FunctionSpec("coalesce", 2, 2, "coalesce(value, default)", "value, or default if unknown"),
        FunctionSpec("family", 1, 1, "family(type)", "instance family: m5 for db.m5.large"),
        FunctionSpec("size", 1, 1, "size(type)", "instance size: large for db.m5.large"),
        FunctionSpec("min", 2, 8, "min(a, b, ...)", "smallest value"),
        FunctionSpec("max", 2, 8, "max(a, b, ...)", "largest value"),
        FunctionSpec("abs", 1, 1, "abs(x)", "absolute value"),
        FunctionSpec("round", 1, 2, "round(x[, digits])", "rounded value"),
        FunctionSpec(
            "price",
            1,
            4,
            "price(key, part, ...)",
            "list price from the price table; parts are joined with '.'",
        ),
        FunctionSpec(
            "equivalent",
            2,
            2,
            "equivalent(kind, type)",
            "same size in the mapped family (kinds: previous_generation, graviton, amd)",
        ),
        FunctionSpec("vcpus", 1, 1, "vcpus(type)", "vCPU count of a standard-family size"),
    )
}

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
)
_ALLOWED_CONSTANTS = (str, int, float, bool, type(None))
_NODE_WORDS = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "indexing (a[b])",
    ast.Lambda: "lambda",
    ast.Pow: "the ** operator",
    ast.NamedExpr: "the := operator",
    ast.ListComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.Dict: "dict literals",
    ast.Set: "set literals (use a list)",
    ast.JoinedStr: "f-strings",
    ast.Starred: "*args",
    ast.Await: "await",
}


def parse(text: str) -> ast.expr:
    """Parse ``text`` and check every node against the whitelist; return the expression tree."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the expression is empty; write a condition such as `size_gb > 100`")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error at column {exc.offset}: {exc.msg}") from None
    for node in ast.walk(tree):
        _check_node(node)
    return tree.body


def _check_node(node: ast.AST) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        word = _NODE_WORDS.get(type(node), type(node).__name__)
        raise ExpressionError(
            f"{word} is not allowed; use comparisons, and/or/not, + - * / // %, "
            "`x if c else y`, literals, names and the functions "
            f"{', '.join(sorted(FUNCTIONS))}"
        )
    if isinstance(node, ast.Constant) and not isinstance(node.value, _ALLOWED_CONSTANTS):
        raise ExpressionError(f"literal {node.value!r} is not allowed (strings and numbers only)")
    if isinstance(node, ast.Call):
        _check_call(node)
    if isinstance(node, ast.Compare):
        lefts = [node.left, *node.comparators[:-1]]
        for op, left, right in zip(node.ops, lefts, node.comparators, strict=True):
            if isinstance(op, ast.Is | ast.IsNot) and not (_is_none(left) or _is_none(right)):
                raise ExpressionError("`is` and `is not` may only compare with None")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for side in (node.left, node.right):
            if isinstance(side, ast.Constant) and isinstance(side.value, str):
                raise ExpressionError("multiplying text is not allowed")


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _check_call(node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name):
        raise ExpressionError("only the listed functions may be called, by plain name")
    spec = FUNCTIONS.get(node.func.id)
    if spec is None:
        raise ExpressionError(
            f"function {node.func.id!r} is not allowed{suggest(node.func.id, FUNCTIONS)}; "
            f"allowed: {', '.join(sorted(FUNCTIONS))}"
        )
    if node.keywords:
        raise ExpressionError(f"{spec.signature} takes positional arguments only")
    if not spec.min_args <= len(node.args) <= spec.max_args:
        raise ExpressionError(f"{spec.signature} called with {len(node.args)} argument(s)")


def suggest(name: str, choices: Mapping[str, Any] | set[str] | frozenset[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def names_in(tree: ast.AST) -> set[str]:
    """Every plain name the expression reads (not the function names it calls)."""
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


@dataclass(frozen=True)
class Namespace:
    """What names mean inside one rule's expressions."""

    attrs: frozenset[str]
    metrics: frozenset[str]
    params: Mapping[str, Any]
    lets: Mapping[str, ast.expr]  # checked, not yet lowered
    constants: Mapping[str, Any]

    def kind(self, name: str) -> str | None:
        """Which kind of name ``name`` is: let, param, constant, attr, metric or None."""
        if name in self.lets:
            return "let"
        if name in self.params:
            return "param"
        if name in self.constants:
            return "constant"
        if name in self.attrs:
            return "attr"
        if name in self.metrics:
            return "metric"
        return None

    def all_names(self) -> set[str]:
        """Every name an expression may use."""
        return set(self.lets) | set(self.params) | set(self.constants) | self.attrs | self.metrics


class Lowering:
    """Rewrites checked expressions into plain Python over ``a`` (attrs), ``m`` (metrics),
    ``t`` (tags) and ``now`` (epoch seconds), folding constants and inlining ``let`` values."""

    def __init__(
        self,
        namespace: Namespace,
        prices: PriceTable,
        family_table: functions.FamilyTable,
        let_locals: bool = False,
        hoist: bool = False,
    ) -> None:
        self.ns = namespace
        self.prices = prices
        self.families = family_table
        # True: attributes and metrics read local variables ``at_<name>`` / ``mt_<name>``
        # that the enclosing function reads once (see ``hoisted``), so several rules of one
        # resource type share the dict look-ups.
        self.hoist = hoist
        self.hoisted: dict[str, str] = {}
        # False: a let name is replaced by its (lowered) expression, for conditions.
        # True: it reads the local variable ``let_<name>``, for functions that compute every
        # let value once, in dependency order (see ``let_order``).
        self.let_locals = let_locals

    def let_order(self) -> list[str]:
        """The let names ordered so each comes after the lets it uses; cycles are refused."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = being visited, 2 = done

        def visit(name: str, path: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise ExpressionError(f"let values refer to each other in a loop: {path}")
            state[name] = 1
            for used in sorted(names_in(self.ns.lets[name])):
                if used in self.ns.lets:
                    visit(used, (*path, used))
            state[name] = 2
            order.append(name)

        for name in self.ns.lets:
            visit(name, (name,))
        return order

    def lower(self, tree: ast.expr, _stack: tuple[str, ...] = ()) -> ast.expr:
        """Return the runnable form of ``tree`` (a new tree; the input is not changed)."""
        return self._lower(copy.deepcopy(tree), _stack)

    def reads(self, tree: ast.expr, _stack: tuple[str, ...] = ()) -> set[str]:
        """Attribute and metric names ``tree`` reads, through the ``let`` values it uses."""
        found: set[str] = set()
        for name in names_in(tree):
            kind = self.ns.kind(name)
            if kind in ("attr", "metric"):
                found.add(name)
            elif kind == "let" and name not in _stack:
                found |= self.reads(self.ns.lets[name], (*_stack, name))
        return found

    def _lower(self, node: ast.expr, stack: tuple[str, ...]) -> ast.expr:
        if isinstance(node, ast.Name):
            return self._lower_name(node, stack)
        if isinstance(node, ast.Call):
            return self._lower_call(node, stack)
        if isinstance(node, ast.List | ast.Tuple):
            elts = [self._lower(e, stack) for e in node.elts]
            if all(isinstance(e, ast.Constant) for e in elts):
                return ast.Constant(tuple(e.value for e in elts))  # type: ignore[attr-defined]
            return ast.Tuple(elts=elts, ctx=ast.Load())
        if isinstance(node, ast.Compare):
            node.left = self._lower(node.left, stack)
            node.comparators = [
                self._membership(op, self._lower(c, stack))
                for op, c in zip(node.ops, node.comparators, strict=True)
            ]
            return node
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.expr):
                setattr(node, field, self._lower(value, stack))
            elif isinstance(value, list):
                setattr(
                    node,
                    field,
                    [self._lower(v, stack) if isinstance(v, ast.expr) else v for v in value],
                )
        return node

    @staticmethod
    def _membership(op: ast.cmpop, node: ast.expr) -> ast.expr:
        """``x in ("a", "b")`` tests against a frozenset, which is faster for longer lists."""
        if (
            isinstance(op, ast.In | ast.NotIn)
            and isinstance(node, ast.Constant)
            and isinstance(node.value, tuple)
            and all(isinstance(v, str | int | float | bool) for v in node.value)
        ):
            return ast.Constant(frozenset(node.value))
        return node

    def _lower_name(self, node: ast.Name, stack: tuple[str, ...]) -> ast.expr:
        name = node.id
        kind = self.ns.kind(name)
        if kind is None:
            raise ExpressionError(
                f"unknown name {name!r}{suggest(name, self.ns.all_names())}; names are the "
                "resource type's attributes and metrics, the rule's params and its let values"
            )
        if kind == "let":
            if self.let_locals:
                return ast.Name(f"let_{name}", ast.Load())
            if name in stack:
                raise ExpressionError(f"let value {name!r} refers to itself through {stack}")
            return self.lower(self.ns.lets[name], (*stack, name))
        if kind == "param":
            return _constant(self.ns.params[name])
        if kind == "constant":
            return _constant(self.ns.constants[name])
        if self.hoist:
            self.hoisted[name] = kind
            return ast.Name(("at_" if kind == "attr" else "mt_") + name, ast.Load())
        source = "a" if kind == "attr" else "m"
        return ast.Call(
            func=ast.Attribute(value=ast.Name(source, ast.Load()), attr="get", ctx=ast.Load()),
            args=[ast.Constant(name)],
            keywords=[],
        )

    def _lower_call(self, node: ast.Call, stack: tuple[str, ...]) -> ast.expr:
        assert isinstance(node.func, ast.Name)  # guaranteed by the whitelist check
        spec = FUNCTIONS[node.func.id]
        args = [self._lower(a, stack) for a in node.args]
        if spec.name == "equivalent":
            kind = args[0]
            if not isinstance(kind, ast.Constant) or kind.value not in self.families.maps:
                raise ExpressionError(
                    f"equivalent() needs a kind from {sorted(self.families.maps)} as a literal"
                )
        if spec.foldable and all(isinstance(a, ast.Constant) for a in args):
            values = [a.value for a in args]  # type: ignore[attr-defined]
            try:
                return _constant(self.runtime()[f"_{spec.name}"](*values))
            except functions.MissingPrice as exc:
                raise ExpressionError(f"price key {exc.key!r} is not in the price table") from None
        if spec.name == "price":
            return self._price_lookup(args)
        if spec.name == "equivalent":
            # equivalent("graviton", t) -> _EQ_graviton[t], a memoised look-up
            return _subscript(f"_EQ_{args[0].value}", args[1])  # type: ignore[attr-defined]
        if spec.name in ("size", "family"):
            return _subscript("_SIZES" if spec.name == "size" else "_FAMILIES", args[0])
        if spec.name == "first_tag" and isinstance(args[0], ast.Constant):
            return _first_tag_chain(list(args[0].value))
        if spec.name in ("age_days", "age_hours"):
            # (now - _EPOCHS[x]) / 86400.0 if x is not None else None
            seconds = 86400.0 if spec.name == "age_days" else 3600.0
            return _if_known(
                args[0],
                lambda x: ast.BinOp(
                    left=ast.BinOp(
                        left=ast.Name("now", ast.Load()),
                        op=ast.Sub(),
                        right=_subscript("_EPOCHS", x),
                    ),
                    op=ast.Div(),
                    right=ast.Constant(seconds),
                ),
            )
        if spec.name == "lower":
            return _if_known(
                args[0],
                lambda x: ast.Call(
                    func=ast.Attribute(value=x, attr="lower", ctx=ast.Load()), args=[], keywords=[]
                ),
            )
        if spec.name in ("all_in", "any_in"):
            args[1] = self._membership(ast.In(), args[1])
        if spec.needs_tags:
            args.insert(0, ast.Name("t", ast.Load()))
        if spec.needs_now:
            args.append(ast.Name("now", ast.Load()))
        return ast.Call(func=ast.Name(f"_{spec.name}", ast.Load()), args=args, keywords=[])

    def _price_lookup(self, args: list[ast.expr]) -> ast.expr:
        """One dictionary look-up; a missing key raises MissingPrice.

        ``price("ec2.hour", t)`` becomes ``_PG_ec2_hour[t]`` when ``ec2.hour`` is a price
        group, else ``_P[f"{part}.{part}"]``.
        """
        *head, last = args
        if head and all(isinstance(a, ast.Constant) for a in head):
            prefix = ".".join(str(a.value) for a in head)  # type: ignore[attr-defined]
            if prefix in self.prices.groups:
                return _subscript(_group_name(prefix), last)
        parts: list[ast.expr] = []
        for i, arg in enumerate(args):
            if i:
                parts.append(ast.Constant("."))
            if isinstance(arg, ast.Constant):
                parts.append(ast.Constant(str(arg.value)))
            else:
                parts.append(ast.FormattedValue(value=arg, conversion=-1, format_spec=None))
        key = ast.JoinedStr(values=parts)
        return ast.Subscript(value=ast.Name("_P", ast.Load()), slice=key, ctx=ast.Load())

    def runtime(self) -> dict[str, Any]:
        """The globals the compiled functions run with."""
        lookups: dict[str, Any] = {
            _group_name(key): group for key, group in self.prices.groups.items()
        }
        for kind in self.families.maps:
            lookups[f"_EQ_{kind}"] = self.families.equivalents(kind)
        lookups.update(
            {
                "_SIZES": functions.SIZES,
                "_FAMILIES": functions.FAMILIES,
                "_EPOCHS": functions.EPOCHS,
            }
        )
        return lookups | {
            "__builtins__": {},
            "_age_days": functions.age_days,
            "_age_hours": functions.age_hours,
            "_tag": functions.tag,
            "_has_tag": functions.has_tag,
            "_first_tag": functions.first_tag,
            "_lower": functions.lower,
            "_startswith": functions.startswith,
            "_endswith": functions.endswith,
            "_count": functions.count,
            "_all_in": functions.all_in,
            "_any_in": functions.any_in,
            "_coalesce": functions.coalesce,
            "_family": functions.family,
            "_size": functions.size,
            "_min": min,
            "_max": max,
            "_abs": abs,
            "_round": round,
            "_price": self.prices,
            "_P": self.prices.usd,
            "_equivalent": self.families.equivalent,
            "_vcpus": self.families.vcpus,
        }


def _group_name(prefix: str) -> str:
    return "_PG_" + "".join(c if c.isalnum() else "_" for c in prefix)


def _subscript(name: str, key: ast.expr) -> ast.expr:
    return ast.Subscript(value=ast.Name(name, ast.Load()), slice=key, ctx=ast.Load())


_TEMPS = itertools.count()


def _if_known(value: ast.expr, use: Callable[[ast.expr], ast.expr]) -> ast.expr:
    """``use(x) if x is not None else None``, evaluating ``value`` once."""
    if isinstance(value, ast.Name):
        first: ast.expr = value
        again: ast.expr = value
    else:
        temp = f"_tmp{next(_TEMPS)}"
        first = ast.NamedExpr(target=ast.Name(temp, ast.Store()), value=value)
        again = ast.Name(temp, ast.Load())
    known = ast.Compare(left=first, ops=[ast.IsNot()], comparators=[ast.Constant(None)])
    return ast.IfExp(test=known, body=use(again), orelse=ast.Constant(None))


def _first_tag_chain(names: list[Any]) -> ast.expr:
    """``t['a'] if 'a' in t else t['b'] if 'b' in t else None`` for constant tag names."""
    chain: ast.expr = ast.Constant(None)
    for name in reversed(names):
        present = ast.Compare(
            left=ast.Constant(name), ops=[ast.In()], comparators=[ast.Name("t", ast.Load())]
        )
        chain = ast.IfExp(test=present, body=_subscript("t", ast.Constant(name)), orelse=chain)
    return chain


def _constant(value: Any) -> ast.Constant:
    if isinstance(value, list):
        value = tuple(value)
    return ast.Constant(value)


def build_function(
    name: str,
    statements: list[ast.stmt],
    runtime: dict[str, Any],
    args: tuple[str, ...] = ("a", "m", "t", "now"),
) -> Callable[..., Any]:
    """Compile ``def name(<args>): <statements>`` from checked, lowered trees."""
    arguments = ast.arguments(
        posonlyargs=[],
        args=[ast.arg(arg=n) for n in args],
        kwonlyargs=[],
        kw_defaults=[],
        defaults=[],
    )
    func = ast.FunctionDef(
        name=name, args=arguments, body=statements, decorator_list=[], returns=None
    )
    module = ast.Module(body=[func], type_ignores=[])
    _locate(module)
    namespace = dict(runtime)
    exec(compile(module, f"<rule {name}>", "exec"), namespace)  # noqa: S102 - checked AST only
    return namespace[name]  # type: ignore[no-any-return]


def _locate(tree: ast.AST) -> None:
    """Give every node a (dummy) source position; compile() requires one.

    Like ``ast.fix_missing_locations`` but flat, which matters when loading hundreds of rules.
    """
    for node in ast.walk(tree):
        if "lineno" in node._attributes:
            node.lineno = node.end_lineno = 1  # type: ignore[attr-defined]
            node.col_offset = node.end_col_offset = 0  # type: ignore[attr-defined]


def returns(value: ast.expr) -> ast.Return:
    """``return <value>``."""
    return ast.Return(value=value)


def negate(test: ast.expr) -> ast.expr:
    """``not (<test>)``."""
    return ast.UnaryOp(op=ast.Not(), operand=test)


def truth(test: ast.expr) -> ast.expr:
    """``True if <test> else False``: a strict bool without calling ``bool``."""
    return ast.IfExp(test=test, body=ast.Constant(True), orelse=ast.Constant(False))


def is_none(local: str) -> ast.expr:
    """``<local> is None``."""
    return ast.Compare(
        left=ast.Name(local, ast.Load()), ops=[ast.Is()], comparators=[ast.Constant(None)]
    )


def hoisted_reads(names: Mapping[str, str]) -> list[ast.stmt]:
    """``at_x = a.get('x')`` / ``mt_y = m.get('y')`` for each hoisted name, in order."""
    statements: list[ast.stmt] = []
    for name, kind in names.items():
        source, prefix = ("a", "at_") if kind == "attr" else ("m", "mt_")
        read = ast.Call(
            func=ast.Attribute(value=ast.Name(source, ast.Load()), attr="get", ctx=ast.Load()),
            args=[ast.Constant(name)],
            keywords=[],
        )
        statements.append(ast.Assign(targets=[ast.Name(prefix + name, ast.Store())], value=read))
    return statements


def tuple_of(values: list[ast.expr]) -> ast.expr:
    """``(<v1>, <v2>, ...)``."""
    return ast.Tuple(elts=values, ctx=ast.Load())
