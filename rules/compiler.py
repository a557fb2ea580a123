"""Turns a reviewed :class:`~rules.model.Rule` plus bound parameters into runnable code.

Each rule is compiled, from checked expression trees, into:

* ``check_expr``: one expression giving the rule's verdict on a resource. The verdicts of all
  rules of a resource type go into one function (:func:`build_checker`) that reads each
  attribute and metric once and returns a tuple, so judging a resource costs one call.
  A verdict is ``False`` (not applicable, or the condition does not hold), ``True`` (fires)
  or ``-(i + 1)`` when requirement ``i`` is not met (skipped).
* ``build(a, m, t, now, r, ref, note)``: run only when the rule fires, it computes the
  ``let`` values and the savings, renders the explanation and formula and returns the
  Finding.

``a``, ``m`` and ``t`` are the resource's attrs, metrics and tags, ``now`` is epoch seconds,
``r`` the Resource and ``ref`` its ResourceRef.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from fintropy.domain import ACTIONS, Finding, Resource, ResourceRef
from fintropy.errors import ConfigError
from fintropy.inventory_schema import AWS_RESOURCE_TYPES
from rules import expressions as ex
from rules import findings as fb
from rules.functions import FamilyTable
from rules.model import Rule
from rules.prices import PriceTable
from rules.templates import RESOURCE_FIELDS, Template, TemplateError

SAVINGS = "savings"


def type_names(resource_type: str) -> tuple[frozenset[str], frozenset[str]]:
    """The attribute names and metric names of ``resource_type``."""
    spec = AWS_RESOURCE_TYPES[resource_type]
    return frozenset(spec["attrs"]), frozenset(spec["metrics"])


def list_attrs(resource_type: str) -> frozenset[str]:
    """Attributes of ``resource_type`` whose value may be a list (unhashable)."""
    found = set()
    for name, (kinds, _) in AWS_RESOURCE_TYPES[resource_type]["attrs"].items():
        options = kinds if isinstance(kinds, tuple) else (kinds,)
        if list in options:
            found.add(name)
    return frozenset(found)


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
        self._attrs, self._metrics = type_names(rule.resource_type)
        taken = self._attrs | self._metrics | set(self.params) | set(RESOURCE_FIELDS)
        for name in rule.lets:
            if name in taken or name in (SAVINGS, "HOURS_PER_MONTH"):
                raise self._fail(
                    f"let.{name}",
                    f"{name!r} is already the name of a field, param or the savings; rename it",
                )
        lets = {name: self._parse(f"let.{name}", text) for name, text in rule.lets.items()}
        self.ns = ex.Namespace(
            attrs=self._attrs,
            metrics=self._metrics,
            params=self.params,
            lets=lets,
            constants={"HOURS_PER_MONTH": prices.hours_per_month},
        )
        self._prices, self._families = prices, families
        self._runtime = ex.Lowering(self.ns, prices, families).runtime()
        self.kinds = self._name_kinds()
        self.reads: set[str] = set()
        self._compile_check()
        self._compile_build(self._let_statements(lets))
        self._check: Callable[..., Any] | None = None

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

    def _lowering(self, **mode: bool) -> ex.Lowering:
        return ex.Lowering(self.ns, self._prices, self._families, **mode)

    def _lower(self, lowering: ex.Lowering, field: str, tree: ast.expr) -> ast.expr:
        try:
            return lowering.lower(tree)
        except ex.ExpressionError as exc:
            raise self._fail(field, str(exc)) from None

    def _metrics_read(self, tree: ast.expr) -> set[str]:
        reads = self._lowering().reads(tree)
        self.reads |= reads
        return reads & self._metrics

    def _require_metrics(self, field: str, tree: ast.expr) -> None:
        unmet = self._metrics_read(tree) - self.required
        if unmet:
            raise self._fail(
                field,
                f"reads metric(s) {sorted(unmet)} that `requires` does not list; metrics can be "
                "absent, so list them and the rule is skipped when they are",
            )

    def _name_kinds(self) -> dict[str, str]:
        kinds: dict[str, str] = dict.fromkeys(self.ns.attrs, "attr")
        kinds.update(dict.fromkeys(self.ns.metrics, "metric"))
        kinds.update(dict.fromkeys(self.ns.params, "param"))
        kinds.update(dict.fromkeys(self.ns.lets, "let"))
        kinds.update(dict.fromkeys(RESOURCE_FIELDS, "resource"))
        kinds.update(dict.fromkeys(self.ns.constants, "constant"))
        kinds[SAVINGS] = "let"
        return kinds

    def _compile_check(self) -> None:
        """Build ``check_expr`` and ``hoisted`` (the attributes and metrics it reads)."""
        rule = self.rule
        lowering = self._lowering(hoist=True)
        required: set[str] = set()
        self.reasons: list[Template] = []
        reason_names = self._attrs | self._metrics | set(self.params) | set(RESOURCE_FIELDS)
        tests: list[ast.expr] = []
        for index, req in enumerate(rule.requires):
            field = f"requires[{index}]"
            if req.name is not None:
                if req.name not in self._metrics and req.name not in self._attrs:
                    raise self._fail(
                        field,
                        f"{req.name!r} is not an attribute or metric of {rule.resource_type}"
                        f"{ex.suggest(req.name, self._attrs | self._metrics)}",
                    )
                kind = "metric" if req.name in self._metrics else "attr"
                lowering.hoisted[req.name] = kind
                tests.append(ex.is_none(("mt_" if kind == "metric" else "at_") + req.name))
                required.add(req.name)
                self.reads.add(req.name)
            else:
                assert req.check is not None  # the schema allows a name or a check
                tree = self._parse(field, req.check)
                unmet = self._metrics_read(tree) - required
                if unmet:
                    raise self._fail(field, f"list metric(s) {sorted(unmet)} before this check")
                tests.append(ex.negate(self._lower(lowering, field, tree)))
            try:
                self.reasons.append(Template(req.reason, reason_names))
            except TemplateError as exc:
                raise self._fail(f"{field}.reason", str(exc)) from None
        self.required = frozenset(required)
        when = self._parse("when", rule.when)
        self._require_metrics("when", when)
        verdict: ast.expr = ex.truth(self._lower(lowering, "when", when))
        for index in range(len(tests) - 1, -1, -1):
            verdict = ast.IfExp(test=tests[index], body=ast.Constant(-(index + 1)), orelse=verdict)
        if rule.applies_when:
            tree = self._parse("applies_when", rule.applies_when)
            if self._metrics_read(tree):
                raise self._fail(
                    "applies_when",
                    "may read attributes only (metrics can be absent); test metrics in `when`",
                )
            verdict = ast.IfExp(
                test=ex.negate(self._lower(lowering, "applies_when", tree)),
                body=ast.Constant(False),
                orelse=verdict,
            )
        self.check_expr = verdict
        self.hoisted = dict(lowering.hoisted)

    def _let_statements(self, lets: Mapping[str, ast.expr]) -> list[ast.stmt]:
        """``let_x = ...`` for every let in dependency order, then ``s = <savings in cents>``."""
        lowering = self._lowering(let_locals=True)
        try:
            order = lowering.let_order()
        except ex.ExpressionError as exc:
            raise self._fail("let", str(exc)) from None
        body: list[ast.stmt] = []
        for name in order:
            self._require_metrics(f"let.{name}", lets[name])
            body.append(fb.assign(f"let_{name}", self._lower(lowering, f"let.{name}", lets[name])))
        savings = self._parse("savings.amount", self.rule.savings)
        self._require_metrics("savings.amount", savings)
        amount = self._lower(lowering, "savings.amount", savings)
        body.append(fb.assign("s", ast.Call(fb.load("_float"), [amount], [])))
        # s = _int(s * 100 + 0.5) / 100 if s > 0 else 0.0   (fb.money, inlined)
        cents = ast.BinOp(
            left=ast.Call(
                fb.load("_int"),
                [
                    ast.BinOp(
                        left=ast.BinOp(left=fb.load("s"), op=ast.Mult(), right=ast.Constant(100)),
                        op=ast.Add(),
                        right=ast.Constant(0.5),
                    )
                ],
                [],
            ),
            op=ast.Div(),
            right=ast.Constant(100),
        )
        positive = ast.Compare(left=fb.load("s"), ops=[ast.Gt()], comparators=[ast.Constant(0)])
        body.append(fb.assign("s", ast.IfExp(test=positive, body=cents, orelse=ast.Constant(0.0))))
        return body

    def _templates(self) -> tuple[Template, Template]:
        allowed = set(self.kinds)
        try:
            explanation = Template(self.rule.explanation, allowed)
        except TemplateError as exc:
            raise self._fail("explanation", str(exc)) from None
        try:
            formula = Template(self.rule.savings_formula, allowed)
        except TemplateError as exc:
            raise self._fail("savings.formula", str(exc)) from None
        for name in self.rule.evidence:
            if name not in self.kinds or self.kinds[name] == "resource":
                raise self._fail(
                    "evidence",
                    f"{name!r} is not an attribute, metric, param or let value of this rule"
                    f"{ex.suggest(name, allowed)}",
                )
        return explanation, formula

    def _compile_build(self, let_statements: list[ast.stmt]) -> None:
        """Generate ``build``: lets, savings, texts, evidence and the Finding, in one call."""
        self.explanation, self.formula = self._templates()
        rule = self.rule
        constants = {
            name: self.params[name] if kind == "param" else self.ns.constants[name]
            for name, kind in self.kinds.items()
            if kind in ("param", "constant")
        }
        used = (*self.explanation.fields, *self.formula.fields, *rule.evidence)
        fields = tuple(name for name in dict.fromkeys(used) if name not in constants)
        for name in fields:
            if self.kinds[name] in ("attr", "metric"):
                self.reads.add(name)
        self.data_used = tuple(sorted(self.reads))

        body = list(let_statements)
        for name in fields:
            read = self._read_node(name)
            if read is not None:
                body.append(fb.assign(f"g_{name}", read))
        value_of = self._value_node
        base = _func_name(rule.id, "")
        runtime: dict[str, Any] = {**self._runtime, **fb.RENDER_RUNTIME}

        # explanation: the fast f-string, or the safe renderer when a value does not fit
        expl_fields = tuple(f for f in self.explanation.fields if f not in constants)
        runtime["_explanation_safe"] = fb.tuple_renderer(
            base + "explanation", self.explanation, expl_fields, constants
        )
        fast = fb.template_node(self.explanation, value_of, constants, fast=True)
        safe = ast.Call(
            fb.load("_explanation_safe"), [ex.tuple_of([value_of(f) for f in expl_fields])], []
        )
        body.append(
            ast.Try(
                body=[fb.assign("expl", fast)],
                handlers=[
                    ast.ExceptHandler(
                        type=fb.load("_RenderErrors"), name=None, body=[fb.assign("expl", safe)]
                    )
                ],
                orelse=[],
                finalbody=[],
            )
        )
        body.extend(self._formula_statements(constants, runtime, base))
        finding = {
            "rule_id": ast.Constant(rule.id),
            "rule_version": ast.Constant(rule.version),
            "title": ast.Constant(rule.title),
            "severity": fb.load("_SEVERITY"),
            "resource": fb.load("ref"),
            "resource_name": ast.Attribute(value=fb.load("r"), attr="name", ctx=ast.Load()),
            "explanation": ast.BinOp(left=fb.load("expl"), op=ast.Add(), right=fb.load("note")),
            "evidence": self._evidence_node(constants),
            "savings_usd_month": fb.load("s"),
            "savings_formula": fb.load("formula"),
            "price_basis": ast.Constant(rule.price_basis),
            "action": ast.Constant(rule.action),
            "reversibility": fb.load("_REVERSIBILITY"),
            "risk": fb.load("_RISK"),
            "data_used": ast.Constant(self.data_used),
        }
        assert finding.keys() == fb.FINDING_FIELDS
        # copy a dict already holding the rule's fixed fields, then set the rest: copying
        # is one memcpy where building the dict inserts all 15 keys
        fixed: dict[str, Any] = dict.fromkeys(finding)
        body.append(
            fb.assign(
                "d",
                ast.Call(
                    func=ast.Attribute(value=fb.load("_BASE"), attr="copy", ctx=ast.Load()),
                    args=[],
                    keywords=[],
                ),
            )
        )
        for key, node in finding.items():
            if isinstance(node, ast.Constant) or key in ("severity", "reversibility", "risk"):
                continue
            target = ast.Subscript(value=fb.load("d"), slice=ast.Constant(key), ctx=ast.Store())
            body.append(ast.Assign(targets=[target], value=node))
        body.append(ex.returns(ast.Call(fb.load("_new_finding"), [fb.load("d")], [])))
        spec = ACTIONS.get(rule.action) if rule.action else None
        self.reversibility = spec.reversibility if spec else rule.reversibility
        self.risk = spec.risk if spec else rule.risk
        fixed.update(
            {k: node.value for k, node in finding.items() if isinstance(node, ast.Constant)}
        )
        fixed.update(severity=rule.severity, reversibility=self.reversibility, risk=self.risk)
        runtime.update(_BASE=fixed, _new_finding=fb.new_finding)
        self.build = ex.build_function(
            base + "build", body, runtime, args=("a", "m", "t", "now", "r", "ref", "note")
        )

    def _formula_statements(
        self, constants: Mapping[str, Any], runtime: dict[str, Any], base: str
    ) -> list[ast.stmt]:
        """``formula = ...``: memoised on its values when they are all hashable.

        Formulas hold prices, sizes and types, which repeat across an estate: most findings
        of a rule share a handful of formulas, and sharing the string also saves memory.
        """
        fields = tuple(f for f in self.formula.fields if f not in constants)
        render = fb.tuple_renderer(base + "formula", self.formula, fields, constants)
        runtime["_formula_render"] = render
        key = ex.tuple_of([self._value_node(f) for f in fields])
        rendered = ast.Call(fb.load("_formula_render"), [fb.load("fk")], [])
        if any(f in list_attrs(self.rule.resource_type) for f in fields):
            return [fb.assign("fk", key), fb.assign("formula", rendered)]
        memo: dict[tuple[Any, ...], str] = {}
        runtime.update(_fmemo=memo, _fmemo_get=memo.get, _FMEMO_LIMIT=fb.FORMULA_MEMO_LIMIT)
        get = ast.Call(fb.load("_fmemo_get"), [fb.load("fk")], [])
        room = ast.Compare(
            left=ast.Call(fb.load("_len"), [fb.load("_fmemo")], []),
            ops=[ast.Lt()],
            comparators=[fb.load("_FMEMO_LIMIT")],
        )
        store = ast.Assign(
            targets=[ast.Subscript(value=fb.load("_fmemo"), slice=fb.load("fk"), ctx=ast.Store())],
            value=fb.load("formula"),
        )
        missing = ast.Compare(
            left=fb.load("formula"), ops=[ast.Is()], comparators=[ast.Constant(None)]
        )
        return [
            fb.assign("fk", key),
            fb.assign("formula", get),
            ast.If(
                test=missing,
                body=[
                    fb.assign("formula", rendered),
                    ast.If(test=room, body=[store], orelse=[]),
                ],
                orelse=[],
            ),
        ]

    def _evidence_node(self, constants: Mapping[str, Any]) -> ast.expr:
        """``{"name": value, ...}``; let values rounded to 4 decimals (they are derived)."""
        values: list[ast.expr] = []
        for name in self.rule.evidence:
            if name in constants:
                value = constants[name]
                values.append(ast.Constant(tuple(value) if isinstance(value, list) else value))
                continue
            item = self._value_node(name)
            if self.kinds[name] == "let" and name != SAVINGS:
                item = ast.Call(fb.load("_round4"), [item], [])
            values.append(item)
        return ast.Dict(keys=[ast.Constant(n) for n in self.rule.evidence], values=values)

    def _read_node(self, name: str) -> ast.expr | None:
        """How ``build`` reads a field into ``g_<name>`` (None: it is already a local)."""
        kind = self.kinds[name]
        if kind in ("attr", "metric"):
            source = "a" if kind == "attr" else "m"
            return ast.Call(
                func=ast.Attribute(value=fb.load(source), attr="get", ctx=ast.Load()),
                args=[ast.Constant(name)],
                keywords=[],
            )
        if kind == "resource":
            resource = fb.load("r")
            if name == "resource_name":
                return ast.BoolOp(
                    op=ast.Or(),
                    values=[
                        ast.Attribute(value=resource, attr="name", ctx=ast.Load()),
                        ast.Attribute(value=resource, attr="resource_id", ctx=ast.Load()),
                    ],
                )
            return ast.Attribute(value=resource, attr=name, ctx=ast.Load())
        return None

    def _value_node(self, name: str) -> ast.expr:
        """The local holding a field's value inside ``build``."""
        if name == SAVINGS:
            return fb.load("s")
        if self.kinds[name] == "let":
            return fb.load(f"let_{name}")
        return fb.load(f"g_{name}")

    # -- evaluation --------------------------------------------------------------------------

    @property
    def check(self) -> Callable[..., Any]:
        """``check(a, m, t, now)``: this rule's verdict alone (compiled on first use).

        The engine judges resources with the combined checker of their type; this one serves
        the slow path that finds which rule raised, and tests.
        """
        if self._check is None:
            self._check = build_checker(_func_name(self.rule.id, "check"), [self], single=True)
        return self._check

    def lookup(self, resource: Resource) -> Callable[[str], Any]:
        """A name -> value function over one resource's data (for skip reasons)."""
        attrs, metrics, kinds, params = resource.attrs, resource.metrics, self.kinds, self.params
        constants = self.ns.constants

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

    def skip_reason(self, verdict: int, resource: Resource) -> str:
        """The rendered reason for a skip verdict (``-(i + 1)`` for requirement ``i``)."""
        return self.reasons[-verdict - 1].render(self.lookup(resource))

    def make_finding(
        self, resource: Resource, ref: ResourceRef, now: float, note: str = ""
    ) -> Finding:
        """The finding for a resource the rule fired on; ``note`` ends the explanation."""
        return self.build(  # type: ignore[no-any-return]
            resource.attrs, resource.metrics, resource.tags, now, resource, ref, note
        )


class TypeRules(NamedTuple):
    """The compiled rules of one resource type and the function judging a resource by all."""

    rules: tuple[CompiledRule, ...]
    check: Callable[..., tuple[Any, ...]]


def type_rules(resource_type: str, rules: Sequence[CompiledRule]) -> TypeRules:
    """Bundle ``rules`` (sorted by id) with their combined checker."""
    ordered = tuple(sorted(rules, key=lambda r: r.rule.id))
    name = "check_" + resource_type.replace(".", "_")
    return TypeRules(ordered, build_checker(name, ordered))


def build_checker(
    name: str, rules: Sequence[CompiledRule], single: bool = False
) -> Callable[..., Any]:
    """One function judging a resource against ``rules`` (all of one resource type).

    It reads each attribute and metric the rules need once, then returns the tuple of the
    rules' verdicts (or, with ``single``, the one rule's verdict).
    """
    hoisted: dict[str, str] = {}
    for rule in rules:
        hoisted.update(rule.hoisted)
    verdicts = [copy.deepcopy(rule.check_expr) for rule in rules]
    result = verdicts[0] if single else ex.tuple_of(verdicts)
    body = [*ex.hoisted_reads(hoisted), ex.returns(result)]
    return ex.build_function(name, body, rules[0]._runtime)


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
