"""docs/states.md draws the RFQ, quote and market tables the exchange runs on, and only those."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kalshi_sandbox.domain import lifecycle, quote, rfq
from kalshi_sandbox.domain.diagram import document, mermaid

PAGE = Path(__file__).resolve().parents[2] / "docs" / "states.md"
EDGE = re.compile(r"^    (\w+) --> (\w+): (\w+)$", re.M)


def edges(block: str) -> set[tuple[str, str, str]]:
    """Return the (state, trigger, target) edges of a Mermaid block."""
    return {(state, trigger, target) for state, target, trigger in EDGE.findall(block)}


def table_edges(table: Mapping[Any, Any]) -> set[tuple[str, str, str]]:
    return {(str(s), str(t), str(target)) for (s, t), target in table.items()}


def test_states_page_is_the_document_drawn_from_the_tables() -> None:
    assert PAGE.read_text() == document(), (
        "docs/states.md is stale: python -m kalshi_sandbox.domain.diagram > docs/states.md")


def test_each_diagram_has_exactly_the_edges_of_its_table() -> None:
    blocks = re.findall(r"```mermaid\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) == 3
    assert edges(blocks[0]) == table_edges(dict(rfq.TRANSITIONS))
    assert edges(blocks[1]) == table_edges(dict(quote.TRANSITIONS))
    assert edges(blocks[2]) == table_edges(dict(lifecycle.TRANSITIONS))


def test_a_changed_table_draws_a_different_diagram() -> None:
    changed = dict(quote.TRANSITIONS)
    del changed[(quote.QuoteStatus.ACCEPTED, quote.QuoteTrigger.LAPSE)]
    drawn = mermaid(changed, quote.QuoteStatus.OPEN)
    assert edges(drawn) == table_edges(changed) != table_edges(dict(quote.TRANSITIONS))


def test_final_states_are_those_without_a_way_out() -> None:
    drawn = mermaid(quote.TRANSITIONS, quote.QuoteStatus.OPEN)
    assert re.findall(r"^    (\w+) --> \[\*\]$", drawn, re.M) == ["cancelled", "executed"]
