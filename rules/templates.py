"""Text templates for explanations, savings formulas and skip reasons.

A template is plain text with ``{name}`` or ``{name:spec}`` fields, where ``name`` is one of the
rule's names (attributes, metrics, params, let values, ``savings``, or the resource fields in
:data:`RESOURCE_FIELDS`) and ``spec`` a number format such as ``.2f`` or ``,.0f``. Field names
are checked at load time: no attribute access, no indexing, no conversions, so a template
cannot reach anything but the values it names. An unknown value renders as "unknown".
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

RESOURCE_FIELDS = ("resource_id", "resource_name", "region", "account_id")
_SPEC = re.compile(r"^[<>=^]?[+\- ]?[0-9]*,?(\.[0-9]+)?[dfg%]?$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TemplateError(ValueError):
    """A template names something it may not, or uses an unsupported format."""


_FLOATS: dict[float, str] = {}  # prices and other repeated values, already worded


def _plain_float(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    text = f"{value:.6f}".rstrip("0")
    if text.endswith("."):
        return "0" if text in ("0.", "-0.") else text[:-1]
    return text + "0" if text[-2] == "." else text


def plain(value: Any) -> str:
    """A value as a person reads it: floats without float noise, lists joined."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind is float:
        text = _FLOATS.get(value)
        if text is None:
            text = _plain_float(value)
            if len(_FLOATS) < 8192:
                _FLOATS[value] = text
        return text
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind is float:
        text = repr(round(value, 6))
        if text.endswith(".0"):
            return text[:-2]
        if "e" in text:
            text = f"{value:.6f}".rstrip("0").rstrip(".")
        dot = text.find(".")
        return text + "0" if dot != -1 and dot == len(text) - 2 else text
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) if value else "none"
    return str(value)


class Template:
    """A checked template, rendered by concatenation."""

    def __init__(self, text: str, allowed: Iterable[str]) -> None:
        self.text = text
        allowed_set = set(allowed)
        parts: list[tuple[str, str | None, str]] = []
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise TemplateError(f"template {text!r}: {exc}") from None
        for literal, field, spec, conversion in parsed:
            if field is None:
                parts.append((literal, None, ""))
                continue
            if conversion or not _IDENT.match(field):
                raise TemplateError(
                    f"template field {{{field}}} must be a plain name (no '.', '[' or '!')"
                )
            if field not in allowed_set:
                raise TemplateError(
                    f"template field {{{field}}} is not a name of this rule; allowed: "
                    + ", ".join(sorted(allowed_set))
                )
            if spec and not _SPEC.match(spec):
                raise TemplateError(f"template field {{{field}:{spec}}}: unsupported format")
            parts.append((literal, field, spec))
        self.parts = tuple(parts)
        self.fields = tuple(dict.fromkeys(f for _, f, _ in parts if f is not None))

    def render(self, lookup: Callable[[str], Any] | Mapping[str, Any]) -> str:
        """Fill the template; ``lookup`` maps a field name to its value."""
        get = lookup.get if isinstance(lookup, Mapping) else lookup
        out: list[str] = []
        for literal, field, spec in self.parts:
            out.append(literal)
            if field is None:
                continue
            value = get(field)
            if value is None or not spec or isinstance(value, bool):
                out.append(plain(value))
            else:
                try:
                    out.append(format(value, spec))
                except (TypeError, ValueError):
                    out.append(plain(value))
        return "".join(out)
