"""Code generation for building findings: explanation and formula texts, evidence, the object.

A rule that fires runs one generated function (see ``CompiledRule``) that computes its ``let``
values and savings, renders its explanation and formula, and builds the Finding. The pieces
here produce that function's text parts as AST, plus the few runtime helpers it calls.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fintropy.domain import Finding, ResourceRef
from rules import expressions as ex
from rules.templates import Template, plain

T = TypeVar("T")
FORMULA_MEMO_LIMIT = 4096


def money(amount: Any) -> float:
    """USD rounded half up to cents, never negative (a change that costs more saves nothing)."""
    value = float(amount)
    return int(value * 100 + 0.5) / 100 if value > 0 else 0.0


def round4(value: Any) -> Any:
    """A derived value for the evidence, rounded half away from zero to 4 decimals."""
    if type(value) is not float:
        return value
    return int(value * 10000 + (0.5 if value >= 0 else -0.5)) / 10000


def fmt(value: Any, spec: str) -> str:
    """``format(value, spec)``, or the plain wording when the value does not take the format."""
    if value is None or type(value) is bool:
        return plain(value)
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return plain(value)


RENDER_RUNTIME: dict[str, Any] = {
    "__builtins__": {},
    "_plain": plain,
    "_fmt": fmt,
    "_type": type,
    "_str": str,
    "_float": float,
    "_int": int,
    "_len": len,
    "_round4": round4,
    "_RenderErrors": (TypeError, ValueError),
}


def template_node(
    template: Template,
    value_of: Callable[[str], ast.expr],
    constants: Mapping[str, Any],
    fast: bool,
) -> ast.expr:
    """An f-string expression rendering ``template``.

    ``value_of(name)`` gives the code reading a field; fields in ``constants`` (params and
    fixed numbers) are rendered now, once. The fast form formats numbers inside the f-string
    and takes text as it is; it raises on a value that does not fit its format (None where a
    number was expected), and the caller then falls back to the safe form, which words every
    value through ``plain``/``fmt`` ("unknown" for None).
    """
    parts: list[ast.expr] = []
    for literal, field, spec in template.parts:
        text = literal
        if field is not None and field in constants:
            value = constants[field]
            text += fmt(value, spec) if spec else plain(value)
            field = None
        if text:
            parts.append(ast.Constant(text))
        if field is None:
            continue
        item = value_of(field)
        if spec and fast:
            formatted = ast.FormattedValue(
                value=item, conversion=-1, format_spec=ast.JoinedStr([ast.Constant(spec)])
            )
            parts.append(formatted)
            continue
        if spec:
            call: ast.expr = ast.Call(ast.Name("_fmt", ast.Load()), [item, ast.Constant(spec)], [])
        elif fast:
            # text is by far the commonest value: take it as it is, word the rest
            is_text = ast.Compare(
                left=ast.Call(ast.Name("_type", ast.Load()), [item], []),
                ops=[ast.Is()],
                comparators=[ast.Name("_str", ast.Load())],
            )
            worded = ast.Call(ast.Name("_plain", ast.Load()), [item], [])
            call = ast.IfExp(test=is_text, body=item, orelse=worded)
        else:
            call = ast.Call(ast.Name("_plain", ast.Load()), [item], [])
        parts.append(ast.FormattedValue(value=call, conversion=-1, format_spec=None))
    return ast.JoinedStr(values=parts)


def tuple_renderer(
    name: str, template: Template, fields: tuple[str, ...], constants: Mapping[str, Any]
) -> Callable[[tuple[Any, ...]], str]:
    """``render(values)`` for ``template`` with ``values`` in ``fields`` order; never raises."""
    index = {field: i for i, field in enumerate(fields)}

    def value_of(field: str) -> ast.expr:
        return subscript("v", index[field])

    fast = ex.build_function(
        name + "_fast",
        [ex.returns(template_node(template, value_of, constants, fast=True))],
        RENDER_RUNTIME,
        args=("v",),
    )
    safe: list[Callable[[tuple[Any, ...]], str]] = []  # compiled on first need (rare)

    def render(values: tuple[Any, ...]) -> str:
        try:
            return fast(values)  # type: ignore[no-any-return]
        except (TypeError, ValueError):
            if not safe:
                node = template_node(template, value_of, constants, fast=False)
                safe.append(
                    ex.build_function(name, [ex.returns(node)], RENDER_RUNTIME, args=("v",))
                )
            return safe[0](values)

    return render


def subscript(name: str, index: int) -> ast.expr:
    """``name[index]``."""
    return ast.Subscript(
        value=ast.Name(name, ast.Load()), slice=ast.Constant(index), ctx=ast.Load()
    )


def assign(name: str, value: ast.expr) -> ast.stmt:
    """``name = value``."""
    return ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)


def load(name: str) -> ast.expr:
    """``name``."""
    return ast.Name(name, ast.Load())


def fast_constructor(cls: type[T], fields: frozenset[str]) -> Callable[[dict[str, Any]], T]:
    """``build(values)`` making an instance of a frozen dataclass from a dict of its fields.

    A frozen dataclass's ``__init__`` sets every field through ``object.__setattr__``; for
    Finding (15 fields) that costs more than the rest of building a finding. Adopting the
    dict as the new instance's ``__dict__`` gives an equal object (same fields, equality,
    hash, ``asdict``) at a fraction of the cost. ``fields`` are the keys every caller
    passes; if they are not exactly the class's fields (a field was added), or the class has
    ``__slots__`` or ``__post_init__``, the ordinary constructor is used instead.
    """
    declared = frozenset(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    if declared != fields or hasattr(cls, "__slots__") or hasattr(cls, "__post_init__"):
        return lambda values: cls(**values)
    create = object.__new__
    adopt = object.__setattr__

    def build(values: dict[str, Any]) -> T:
        instance = create(cls)
        adopt(instance, "__dict__", values)
        return instance

    return build


# The keys the generated finding builders and the engine pass.
FINDING_FIELDS = frozenset(
    {
        "rule_id",
        "rule_version",
        "title",
        "severity",
        "resource",
        "resource_name",
        "explanation",
        "evidence",
        "savings_usd_month",
        "savings_formula",
        "price_basis",
        "action",
        "reversibility",
        "risk",
        "data_used",
    }
)
REF_FIELDS = frozenset({"provider", "account_id", "region", "resource_type", "resource_id"})
new_finding = fast_constructor(Finding, FINDING_FIELDS)
new_ref = fast_constructor(ResourceRef, REF_FIELDS)
