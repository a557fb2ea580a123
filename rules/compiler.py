"""Turns a reviewed :class:`~rules.model.Rule` plus bound parameters into runnable functions.

Each rule becomes two functions compiled from checked expression trees:

* ``check(a, m, t, now)`` returns ``False`` (the rule does not apply or does not fire),
  ``True`` (it fires) or an ``int``: the index of the requirement that was not met (skipped).
  It runs for every resource of the rule's type, so it holds nothing but the conditions.
* ``detail(a, m, t, now)`` returns the ``let`` values and the savings, and runs only when the
  rule fires.

``a``, ``m`` and ``t`` are the resource's attrs, metrics and tags; ``now`` is epoch seconds.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from fintropy.domain import ACTIONS, Finding, Resource, ResourceRef
from fintropy.errors import ConfigError
from fintropy.inventory_schema import AWS_RESOURCE_TYPES
from rules import expressions as ex
from rules.functions import FamilyTable
from rules.model import Rule
from rules.prices import PriceTable
from rules.templates import RESOURCE_FIELDS, Template, TemplateError, plain

SAVINGS = "savings"


def type_names(resource_type: str) -> tuple[frozenset[str], frozenset[str]]:
    """The attribute names and metric names of ``resource_type``."""
    spec = AWS_RESOURCE_TYPES[resource_type]
    return frozenset(spec["attrs"]), frozenset(spec["metrics"])


def default_reason(name: str, is_metric: bool) -> str:
    """The skip reason for a missing attribute or metric, when the rule states none."""
    if is_metric:
        return f"metric {name} is missing: no datapoints were read for this resource"
    return f"attribute {name} is unknown for this resource"


class CompiledRule:
    """A rule bound to parameter values, ready to evaluate resources."""

    def __init__(
        self,
        rule: Rule,
        params: Mapping[str, Any],
        prices: PriceTable,
        families: FamilyTable,
    ) -> None:
        self.rule = rule
        self.params = dict(params)
        attrs, metrics = type_names(rule.resource_type)
        self._attrs, self._metrics = attrs, metrics
        lets = {name: self._parse(f"let.{name}", text) for name, text in rule.lets.items()}
        namespace = ex.Namespace(
            attrs=attrs,
            metrics=metrics,
            params=self.params,
            lets=lets,
            constants={"HOURS_PER_MONTH": prices.hours_per_month},
        )
        self._lowering = ex.Lowering(namespace, prices, families)
        self._runtime = self._lowering.runtime()
        self.let_names = tuple(lets)
        self.kinds = self._name_kinds(namespace)
        self.reads: set[str] = set()
        self.check = self._compile_check()
        self.detail = self._compile_detail(lets)
        self._templates()
        spec = ACTIONS.get(rule.action) if rule.action else None
        self.reversibility = spec.reversibility if spec else rule.reversibility
        self.risk = spec.risk if spec else rule.risk

    # -- compilation -------------------------------------------------------------------------

    def _fail(self, field: str, problem: str) -> ConfigError:
        return ConfigError(
            f"{self.rule.source}: rule {self.rule.id}: field '{field}': {problem}.",
            "Fix the rule file; `fintropy rules show ID` lists the names a rule may use.",
        )

    def _parse(self, field: str, text: str) -> ast.expr:
        try:
            return ex.parse(text)
        except ex.ExpressionError as exc:
            raise self._fail(field, str(exc)) from None

    def _lower(self, field: str, tree: ast.expr) -> ast.expr:
        try:
            return self._lowering.lower(tree)
        except ex.ExpressionError as exc:
            raise self._fail(field, str(exc)) from None

    def _metrics_read(self, tree: ast.expr) -> set[str]:
        reads = self._lowering.reads(tree)
        self.reads |= reads
        return reads & self._metrics

    def _compile_check(self) -> Callable[..., Any]:
        rule = self.rule
        body: list[ast.stmt] = []
        if rule.applies_when:
            tree = self._parse("applies_when", rule.applies_when)
            if self._metrics_read(tree):
                raise self._fail(
                    "applies_when",
                    "may read attributes only (metrics can be absent); test metrics in `when`",
                )
            body.append(ex.if_return(ex.negate(self._lower("applies_when", tree)), False))
        required: set[str] = set()
        self.reasons: list[Template] = []
        reason_names = self._attrs | self._metrics | set(self.params) | set(RESOURCE_FIELDS)
        for index, req in enumerate(rule.requires):
            field = f"requires[{index}]"
            if req.name is not None:
                if req.name in self._metrics:
                    test = ex.metric_missing(req.name)
                elif req.name in self._attrs:
                    test = ex.attr_unknown(req.name)
                else:
                    raise self._fail(
                        field,
                        f"{req.name!r} is not an attribute or metric of {rule.resource_type}"
                        f"{ex.suggest(req.name, self._attrs | self._metrics)}",
                    )
                required.add(req.name)
                self.reads.add(req.name)
            else:
                assert req.check is not None
                tree = self._parse(field, req.check)
                unmet = self._metrics_read(tree) - required
                if unmet:
                    raise self._fail(field, f"list metric(s) {sorted(unmet)} before this check")
                test = ex.negate(self._lower(field, tree))
            body.append(ex.if_return(test, index))
            try:
                self.reasons.append(Template(req.reason, reason_names))
            except TemplateError as exc:
                raise self._fail(f"{field}.reason", str(exc)) from None
        self.required = frozenset(required)
        when = self._parse("when", rule.when)
        self._require_metrics("when", when)
        body.append(ex.returns(ex.truth(self._lower("when", when))))
        return ex.build_function(_func_name(rule.id, "check"), body, self._runtime)

    def _require_metrics(self, field: str, tree: ast.expr) -> None:
        unmet = self._metrics_read(tree) - self.required
        if unmet:
            raise self._fail(
                field,
                f"reads metric(s) {sorted(unmet)} that `requires` does not list; metrics can be "
                "absent, so list them and the rule is skipped when they are",
            )

    def _compile_detail(self, lets: Mapping[str, ast.expr]) -> Callable[..., Any]:
        """``let_x = ...`` for every let in dependency order, then return them and the savings."""
        lowering = ex.Lowering(
            self._lowering.ns, self._lowering.prices, self._lowering.families, let_locals=True
        )
        try:
            order = lowering.let_order()
        except ex.ExpressionError as exc:
            raise self._fail("let", str(exc)) from None
        body: list[ast.stmt] = []
        for name in order:
            self._require_metrics(f"let.{name}", lets[name])
            try:
                value = lowering.lower(lets[name])
            except ex.ExpressionError as exc:
                raise self._fail(f"let.{name}", str(exc)) from None
            body.append(ast.Assign(targets=[ast.Name(f"let_{name}", ast.Store())], value=value))
        savings = self._parse("savings.amount", self.rule.savings)
        self._require_metrics("savings.amount", savings)
        try:
            amount = lowering.lower(savings)
        except ex.ExpressionError as exc:
            raise self._fail("savings.amount", str(exc)) from None
        results = [ast.Name(f"let_{name}", ast.Load()) for name in self.let_names]
        body.append(ex.returns(ex.tuple_of([*results, amount])))
        return ex.build_function(_func_name(self.rule.id, "detail"), body, self._runtime)

    def _name_kinds(self, namespace: ex.Namespace) -> dict[str, str]:
        kinds: dict[str, str] = dict.fromkeys(namespace.attrs, "attr")
        kinds.update(dict.fromkeys(namespace.metrics, "metric"))
        kinds.update(dict.fromkeys(namespace.params, "param"))
        kinds.update(dict.fromkeys(namespace.lets, "let"))
        kinds.update(dict.fromkeys(RESOURCE_FIELDS, "resource"))
        kinds.update(dict.fromkeys(namespace.constants, "constant"))
        kinds[SAVINGS] = "let"
        return kinds

    def _templates(self) -> None:
        allowed = set(self.kinds)
        try:
            self.explanation = Template(self.rule.explanation, allowed)
        except TemplateError as exc:
            raise self._fail("explanation", str(exc)) from None
        try:
            self.formula = Template(self.rule.savings_formula, allowed)
        except TemplateError as exc:
            raise self._fail("savings.formula", str(exc)) from None
        for name in self.rule.evidence:
            if name not in self.kinds or self.kinds[name] == "resource":
                raise self._fail(
                    "evidence",
                    f"{name!r} is not an attribute, metric, param or let value of this rule"
                    f"{ex.suggest(name, allowed)}",
                )
        fields = tuple(
            dict.fromkeys((*self.explanation.fields, *self.formula.fields, *self.rule.evidence))
        )
        for name in fields:
            if self.kinds[name] in ("attr", "metric"):
                self.reads.add(name)
        self.data_used = tuple(sorted(self.reads))
        index = {name: i for i, name in enumerate(fields)}
        base = _func_name(self.rule.id, "")
        self._gather = ex.build_function(
            base + "gather",
            [ex.returns(ex.tuple_of([self._field_node(name) for name in fields]))],
            self._runtime,
            args=("a", "m", "r", "L", "s"),
        )
        self._render_explanation = _renderer(base + "explanation", self.explanation, index)
        self._render_formula = _renderer(base + "formula", self.formula, index)
        self._evidence = tuple(
            (name, index[name], self.kinds[name] == "let") for name in self.rule.evidence
        )

    def _field_node(self, name: str) -> ast.expr:
        """The code that reads one template or evidence value inside the gather function."""
        kind = self.kinds[name]
        if kind in ("attr", "metric"):
            return ast.Call(
                func=ast.Attribute(
                    value=ast.Name("a" if kind == "attr" else "m", ast.Load()),
                    attr="get",
                    ctx=ast.Load(),
                ),
                args=[ast.Constant(name)],
                keywords=[],
            )
        if kind in ("param", "constant"):
            value = self.params[name] if kind == "param" else self._lowering.ns.constants[name]
            return ast.Constant(tuple(value) if isinstance(value, list) else value)
        if name == SAVINGS:
            return ast.Name("s", ast.Load())
        if kind == "let":
            return ast.Subscript(
                value=ast.Name("L", ast.Load()),
                slice=ast.Constant(self.let_names.index(name)),
                ctx=ast.Load(),
            )
        resource = ast.Name("r", ast.Load())
        if name == "resource_name":
            return ast.BoolOp(
                op=ast.Or(),
                values=[
                    ast.Attribute(value=resource, attr="name", ctx=ast.Load()),
                    ast.Attribute(value=resource, attr="resource_id", ctx=ast.Load()),
                ],
            )
        return ast.Attribute(value=resource, attr=name, ctx=ast.Load())

    # -- evaluation --------------------------------------------------------------------------

    def lookup(self, resource: Resource) -> Callable[[str], Any]:
        """A name -> value function over one resource's data (for skip reasons)."""
        attrs, metrics, kinds, params = resource.attrs, resource.metrics, self.kinds, self.params
        constants = self._lowering.ns.constants

        def value(name: str) -> Any:
            kind = kinds.get(name)
            if kind == "attr":
                return attrs.get(name)
            if kind == "metric":
                return metrics.get(name)
            if kind == "param":
                return params[name]
            if kind == "constant":
                return constants[name]
            if kind == "resource":
                return _resource_field(resource, name)
            return None

        return value

    def skip_reason(self, index: int, resource: Resource) -> str:
        """The rendered reason the rule was skipped for ``resource``."""
        return self.reasons[index].render(self.lookup(resource))

    def make_finding(
        self, resource: Resource, ref: ResourceRef, now: float, note: str = ""
    ) -> Finding:
        """Build the finding for a resource the rule fired on; ``note`` ends the explanation."""
        lets = self.detail(resource.attrs, resource.metrics, resource.tags, now)
        savings = round(max(0.0, float(lets[-1])), 2) + 0.0
        values = self._gather(resource.attrs, resource.metrics, resource, lets, savings)
        evidence = {}
        for name, i, is_let in self._evidence:
            item = values[i]
            if is_let and type(item) is float:
                item = round(item, 4)
            evidence[name] = item
        rule = self.rule
        return Finding(
            rule_id=rule.id,
            rule_version=rule.version,
            title=rule.title,
            severity=rule.severity,
            resource=ref,
            resource_name=resource.name,
            explanation=self._render_explanation(values) + note,
            evidence=evidence,
            savings_usd_month=savings,
            savings_formula=self._render_formula(values),
            price_basis=rule.price_basis,
            action=rule.action,
            reversibility=self.reversibility,
            risk=self.risk,
            data_used=self.data_used,
        )


def _fmt(value: Any, spec: str) -> str:
    if value is None or type(value) is bool:
        return plain(value)
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return plain(value)


_RENDER_RUNTIME: dict[str, Any] = {"__builtins__": {}, "_plain": plain, "_fmt": _fmt}


def _renderer(name: str, template: Template, index: Mapping[str, int]) -> Callable[..., str]:
    """A function rendering ``template`` from the gathered values tuple.

    The fast form formats numbers in the f-string itself; a value that does not take its
    format (``None``, text) makes it fall back to the safe form, which renders such values
    as words ("unknown").
    """
    fast = ex.build_function(
        name + "_fast",
        [ex.returns(template_node(template, index, fast=True))],
        _RENDER_RUNTIME,
        args=("v",),
    )
    safe = ex.build_function(
        name,
        [ex.returns(template_node(template, index, fast=False))],
        _RENDER_RUNTIME,
        args=("v",),
    )

    def render(values: tuple[Any, ...]) -> str:
        try:
            return fast(values)  # type: ignore[no-any-return]
        except (TypeError, ValueError):
            return safe(values)  # type: ignore[no-any-return]

    return render


def template_node(template: Template, index: Mapping[str, int], fast: bool = False) -> ast.expr:
    """An f-string expression rendering ``template`` from the gathered values tuple ``v``."""
    values: list[ast.expr] = []
    for literal, field, spec in template.parts:
        if literal:
            values.append(ast.Constant(literal))
        if field is None:
            continue
        item = ast.Subscript(
            value=ast.Name("v", ast.Load()), slice=ast.Constant(index[field]), ctx=ast.Load()
        )
        if spec and fast:
            values.append(
                ast.FormattedValue(
                    value=item, conversion=-1, format_spec=ast.JoinedStr([ast.Constant(spec)])
                )
            )
            continue
        if spec:
            call = ast.Call(ast.Name("_fmt", ast.Load()), [item, ast.Constant(spec)], [])
        else:
            call = ast.Call(ast.Name("_plain", ast.Load()), [item], [])
        values.append(ast.FormattedValue(value=call, conversion=-1, format_spec=None))
    return ast.JoinedStr(values=values)


def _resource_field(resource: Resource, name: str) -> str:
    if name == "resource_id":
        return resource.resource_id
    if name == "resource_name":
        return resource.name or resource.resource_id
    if name == "region":
        return resource.region
    return resource.account_id


def _func_name(rule_id: str, part: str) -> str:
    return "rule_" + rule_id.replace("-", "_").lower() + "_" + part
