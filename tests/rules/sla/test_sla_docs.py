"""docs/sla.md lists exactly the shipped terms (its table is generated from the data)."""

from __future__ import annotations

from pathlib import Path

from rules.sla.catalogue import default_catalogue
from rules.sla.docs import BEGIN, DOC_PATH, END, main, render_terms_markdown

CATALOGUE = default_catalogue()


def generated_block(text: str) -> str:
    return text[text.index(BEGIN) : text.index(END) + len(END) + 1]


def test_docs_page_matches_the_shipped_terms() -> None:
    page = DOC_PATH.read_text(encoding="utf-8")

    assert generated_block(page) == render_terms_markdown(CATALOGUE), (
        "docs/sla.md is stale; run: python -m rules.sla.docs"
    )


def test_rendered_terms_name_every_term_and_unconfirmed_note() -> None:
    text = render_terms_markdown(CATALOGUE)

    for term in CATALOGUE.terms:
        assert f"| `{term.id}` |" in text
        for item in term.unconfirmed:
            assert item.note in text


def test_check_mode_flags_a_stale_page_and_rewrite_fixes_it(tmp_path: Path) -> None:
    page = tmp_path / "sla.md"
    page.write_text(f"# SLA\n\n{BEGIN}\nold table\n{END}\n\nafter\n", encoding="utf-8")

    stale = main(["--check", "--path", str(page)])
    rewritten = main(["--path", str(page)])
    fresh = main(["--check", "--path", str(page)])

    assert (stale, rewritten, fresh) == (1, 0, 0)
    text = page.read_text(encoding="utf-8")
    assert "old table" not in text
    assert text.startswith("# SLA\n\n")
    assert text.endswith("\nafter\n")
    assert f"{len(CATALOGUE.terms)} terms shipped." in text
