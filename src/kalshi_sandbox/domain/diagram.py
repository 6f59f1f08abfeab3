"""State diagrams drawn from the transition tables, as Mermaid (docs/states.md).

``document()`` renders the whole page; a test keeps docs/states.md equal to it, so the
diagram cannot drift from the tables the exchange runs on. Regenerate the page with
``python -m kalshi_sandbox.domain.diagram > docs/states.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from kalshi_sandbox.domain import lifecycle, quote, rfq
from kalshi_sandbox.domain.market import MarketStatus

State = TypeVar("State", bound=StrEnum)
Trigger = TypeVar("Trigger", bound=StrEnum)


def mermaid(table: Mapping[tuple[State, Trigger], State], initial: State) -> str:
    """Return a Mermaid state diagram of ``table``: one edge per (state, trigger) pair.

    States with no way out are final.
    """
    lines = ["stateDiagram-v2", f"    [*] --> {initial.value}"]
    for (state, trigger), target in table.items():
        lines.append(f"    {state.value} --> {target.value}: {trigger.value}")
    sources = {state for state, _ in table}
    targets = sorted({t.value for t in table.values()} - {s.value for s in sources})
    lines.extend(f"    {state} --> [*]" for state in targets)
    return "\n".join(lines) + "\n"


def document() -> str:
    """Return docs/states.md: the RFQ, quote and market state diagrams and what each trigger
    means."""
    triggers = "\n".join(f"| `{t.value}` | {_TRIGGERS[t]} |" for t in quote.QuoteTrigger)
    market_triggers = "\n".join(f"| `{t.value}` | {_MARKET_TRIGGERS[t]} |"
                                 for t in lifecycle.Trigger)
    return f"""# States of RFQs, quotes and markets

Drawn from the transition tables the exchange runs on (`TRANSITIONS` in
`src/kalshi_sandbox/domain/rfq.py`, `src/kalshi_sandbox/domain/quote.py` and
`src/kalshi_sandbox/domain/lifecycle.py`); a test fails
when this page and the tables disagree. Regenerate it with
`python -m kalshi_sandbox.domain.diagram > docs/states.md`.

A request that asks for a pair the table does not have is refused with Kalshi's error for it
(`REFUSALS` beside each table), `invalid_parameters` by default.

## RFQ

```mermaid
{mermaid(rfq.TRANSITIONS, rfq.RfqStatus.OPEN)}```

An RFQ closes once, for one reason: `{"`, `".join(r.value for r in rfq.RfqCloseReason)}`.

## Quote

```mermaid
{mermaid(quote.TRANSITIONS, quote.QuoteStatus.OPEN)}```

| Trigger | What causes it |
| --- | --- |
{triggers}

## Market

```mermaid
{mermaid(lifecycle.TRANSITIONS, MarketStatus.INITIALIZED)}```

A market created with its open time already past starts `active`. A transition the table does
not have is a 409 naming the market's status.

| Trigger | What causes it |
| --- | --- |
{market_triggers}
"""


_TRIGGERS = {
    quote.QuoteTrigger.ACCEPT: "the requester accepts one side",
    quote.QuoteTrigger.CONFIRM: "the maker confirms inside the confirmation window",
    quote.QuoteTrigger.EXECUTE: "the execution timer fires and both parties can pay",
    quote.QuoteTrigger.CANCEL: "the maker deletes it, a new quote replaces it, or its RFQ "
                               "closes",
    quote.QuoteTrigger.LAPSE: "the confirmation window ends unconfirmed",
    quote.QuoteTrigger.FAIL: "the execution fails: a party cannot pay, or the market closed",
}


_MARKET_TRIGGERS = {
    lifecycle.Trigger.OPEN: "its open time comes, or the operator opens it again",
    lifecycle.Trigger.PAUSE: "the operator pauses it",
    lifecycle.Trigger.CLOSE: "its close time comes, or the operator closes it early",
    lifecycle.Trigger.DETERMINE: "the operator records its result (again: `amended`)",
    lifecycle.Trigger.SETTLE: "its settlement timer runs out, or the operator settles it",
}


if __name__ == "__main__":
    print(document(), end="")
