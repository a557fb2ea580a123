"""Draw an Adaptive Card as Teams lays it out, to a PNG, for the README (matplotlib only).

Not a full Adaptive Cards renderer: it draws the elements Fintropy's builders emit (TextBlock,
FactSet, Container, actions, ShowCard titles) in Teams' default light theme, which is enough
to show what a card built by ``bot.views.adaptive`` looks like. Regenerate the README image:

    uv run python -m tests.bot.teams.card_png docs/images/teams-card.png
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

from bot.views.adaptive import finding_card
from fintropy.domain import FindingCard

WIDTH_IN, DPI = 6.6, 150
LINE_IN = 0.22
PAD_IN = 0.25
COLORS = {
    "default": "#242424",
    "subtle": "#616161",
    "Good": "#0E7A0B",
    "Attention": "#C4314B",
    "Warning": "#835C00",
    "Accent": "#5B5FC7",
}
CONTAINER_FILL = {"attention": "#FDF3F4", "warning": "#FFF9E6"}


def sample_card() -> FindingCard:
    """The finding shown in the README: an unattached volume awaiting approval."""
    return FindingCard(
        tenant_id="acme",
        finding_id="f-3f9c2a7b81d0",
        title="Unattached EBS volume for 41 days",
        severity="high",
        status="awaiting_approval",
        resource_label="vol-0a1b2c3d4e5f (data-archive), 123456789012 / eu-west-1",
        explanation=(
            "The 500 GiB gp2 volume has not been attached to an instance for 41 days; a "
            "snapshot keeps its data for a fraction of the price."
        ),
        savings_usd_month=40.0,
        savings_formula="500 GiB x $0.10/GiB-month - snapshot 500 GiB x $0.02 = $40.00",
        price_basis="list",
        action_verb="Snapshot, then delete the volume",
        reversibility="restorable",
        risk="medium",
        rule_id="aws_ebs_volume_unattached",
        rule_version="1.2.0",
        action_token="v1.example.token",
    )


def render(card: dict[str, Any], path: Path) -> Path:
    """Draw ``card`` (Adaptive Card JSON) to ``path`` as a PNG."""
    # The object API without pyplot: no GUI backend is loaded, and importing stays quick.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    rows = _layout(card)
    height = PAD_IN * 2 + sum(row["height"] for row in rows)
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH_IN)
    ax.set_ylim(height, 0)
    ax.axis("off")
    ax.add_patch(
        FancyBboxPatch(
            (0.05, 0.05),
            WIDTH_IN - 0.1,
            height - 0.1,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor="white",
            edgecolor="#D1D1D1",
        )
    )
    y = PAD_IN
    for row in rows:
        _draw(ax, row, y, FancyBboxPatch)
        y += row["height"]
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, facecolor="#F5F5F5")
    return path


def _layout(card: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for element in card.get("body", []):
        rows += _element_rows(element, fill=None)
    if card.get("actions"):
        rows.append({"kind": "actions", "titles": [a["title"] for a in card["actions"]]})
        rows[-1]["height"] = 0.55
    return rows


def _element_rows(element: dict[str, Any], fill: str | None) -> list[dict[str, Any]]:
    kind = element["type"]
    if kind == "Container":
        inner_fill = CONTAINER_FILL.get(element.get("style", ""), fill)
        rows = []
        for item in element.get("items", []):
            rows += _element_rows(item, inner_fill)
        return rows
    if kind == "FactSet":
        rows = []
        for fact in element["facts"]:
            lines = textwrap.wrap(fact["value"], 52) or [""]
            rows.append(
                {
                    "kind": "fact",
                    "title": fact["title"],
                    "lines": lines,
                    "fill": fill,
                    "height": LINE_IN * len(lines) + 0.04,
                }
            )
        rows[0]["separator"] = bool(element.get("separator"))
        return rows
    if kind == "TextBlock":
        size = {"Medium": 13, "Large": 15}.get(element.get("size", ""), 10)
        wrap = 58 if size > 10 else 84
        lines = textwrap.wrap(element["text"], wrap) or [""]
        color = COLORS.get(element.get("color", ""), COLORS["default"])
        if element.get("isSubtle"):
            color = COLORS["subtle"]
        line = LINE_IN * (1.45 if size > 10 else 1.0)
        return [
            {
                "kind": "text",
                "lines": lines,
                "size": size,
                "bold": element.get("weight") == "Bolder",
                "color": color,
                "fill": fill,
                "separator": bool(element.get("separator")),
                "height": line * len(lines) + 0.08,
            }
        ]
    return []


def _draw(ax: Any, row: dict[str, Any], y: float, patch: Any) -> None:
    left, right = PAD_IN, WIDTH_IN - PAD_IN
    if row.get("fill"):
        ax.add_patch(
            patch(
                (left - 0.08, y),
                right - left + 0.16,
                row["height"],
                boxstyle="square,pad=0",
                facecolor=row["fill"],
                lw=0,
            )
        )
    if row.get("separator"):
        ax.plot([left, right], [y, y], color="#E0E0E0", lw=0.8)
    if row["kind"] == "text":
        step = (row["height"] - 0.08) / len(row["lines"])
        for i, line in enumerate(row["lines"]):
            ax.text(
                left,
                y + 0.04 + step * (i + 0.75),
                line,
                fontsize=row["size"],
                fontweight="bold" if row["bold"] else "normal",
                color=row["color"],
                parse_math=False,
            )
    elif row["kind"] == "fact":
        ax.text(left, y + LINE_IN * 0.8, row["title"], fontsize=9.5, fontweight="bold")
        for i, line in enumerate(row["lines"]):
            ax.text(
                left + 1.35,
                y + LINE_IN * (i + 0.8),
                line,
                fontsize=9.5,
                color=COLORS["default"],
                parse_math=False,
            )
    else:
        width = (right - left - 0.12 * (len(row["titles"]) - 1)) / len(row["titles"])
        for i, title in enumerate(row["titles"]):
            x = left + i * (width + 0.12)
            ax.add_patch(
                patch(
                    (x, y + 0.12),
                    width,
                    0.34,
                    boxstyle="round,pad=0,rounding_size=0.05",
                    facecolor="white",
                    edgecolor=COLORS["Accent"],
                    lw=1.2,
                )
            )
            ax.text(
                x + width / 2,
                y + 0.34,
                title,
                ha="center",
                fontsize=10,
                color=COLORS["Accent"],
                fontweight="bold",
                parse_math=False,
            )


def main(argv: list[str]) -> int:
    """Write the README's card image to the path given (default docs/images/teams-card.png)."""
    target = Path(argv[1] if len(argv) > 1 else "docs/images/teams-card.png")
    render(finding_card(sample_card(), viewer_can_decide=True), target)
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
