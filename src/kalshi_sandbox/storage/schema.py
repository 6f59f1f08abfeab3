"""The relational schema, written once for every SQL backend.

``{id}`` stands for the backend's auto-incrementing integer primary key. Migrations are
append-only: the position of a script in ``MIGRATIONS`` is its schema version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMA_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE accounts (
    user_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    communications_id TEXT NOT NULL UNIQUE,
    created_ts BIGINT NOT NULL
);
CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    created_ts BIGINT NOT NULL
);
CREATE INDEX api_keys_user ON api_keys (user_id);
CREATE TABLE balances (
    user_id TEXT NOT NULL,
    subaccount INTEGER NOT NULL,
    micros BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    PRIMARY KEY (user_id, subaccount)
);
CREATE TABLE markets (
    ticker TEXT PRIMARY KEY,
    event_ticker TEXT NOT NULL,
    series_ticker TEXT NOT NULL,
    title TEXT NOT NULL,
    subtitle TEXT NOT NULL,
    status TEXT NOT NULL,
    hvm BOOLEAN NOT NULL,
    price_level_structure TEXT NOT NULL,
    price_ranges TEXT NOT NULL,
    open_time BIGINT NOT NULL,
    close_time BIGINT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    mve_collection_ticker TEXT,
    last_price BIGINT NOT NULL,
    volume BIGINT NOT NULL,
    open_interest BIGINT NOT NULL,
    result TEXT NOT NULL
);
CREATE TABLE rfqs (
    id TEXT PRIMARY KEY,
    creator_user_id TEXT NOT NULL,
    creator_id TEXT NOT NULL,
    creator_subaccount INTEGER NOT NULL,
    market_ticker TEXT NOT NULL,
    event_ticker TEXT NOT NULL,
    contracts BIGINT NOT NULL,
    target_cost BIGINT,
    target_cost_excludes_fees BOOLEAN NOT NULL,
    rest_remainder BOOLEAN NOT NULL,
    obscure_creator_id BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    cancelled_ts BIGINT,
    cancellation_reason TEXT,
    mve_collection_ticker TEXT
);
CREATE INDEX rfqs_created ON rfqs (created_ts, id);
CREATE INDEX rfqs_creator_status ON rfqs (creator_user_id, status);
CREATE INDEX rfqs_market_status ON rfqs (market_ticker, status);
CREATE TABLE quotes (
    id TEXT PRIMARY KEY,
    rfq_id TEXT NOT NULL,
    creator_user_id TEXT NOT NULL,
    creator_id TEXT NOT NULL,
    creator_subaccount INTEGER NOT NULL,
    rfq_creator_user_id TEXT NOT NULL,
    rfq_creator_id TEXT NOT NULL,
    rfq_creator_subaccount INTEGER NOT NULL,
    rfq_obscure_creator_id BOOLEAN NOT NULL,
    market_ticker TEXT NOT NULL,
    event_ticker TEXT NOT NULL,
    contracts BIGINT NOT NULL,
    yes_bid BIGINT NOT NULL,
    no_bid BIGINT NOT NULL,
    yes_contracts BIGINT NOT NULL,
    no_contracts BIGINT NOT NULL,
    rfq_target_cost BIGINT,
    target_cost_excludes_fees BOOLEAN NOT NULL,
    rest_remainder BOOLEAN NOT NULL,
    post_only BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    accepted_side TEXT,
    accepted_ts BIGINT,
    confirm_deadline BIGINT,
    confirmed_ts BIGINT,
    execute_at BIGINT,
    executed_ts BIGINT,
    cancelled_ts BIGINT,
    cancellation_reason TEXT,
    creator_order_id TEXT,
    rfq_creator_order_id TEXT
);
CREATE INDEX quotes_rfq ON quotes (rfq_id, status);
CREATE INDEX quotes_creator ON quotes (creator_user_id, created_ts, id);
CREATE INDEX quotes_rfq_creator ON quotes (rfq_creator_user_id, created_ts, id);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    subaccount INTEGER NOT NULL,
    client_order_id TEXT NOT NULL,
    ticker TEXT NOT NULL,
    side TEXT NOT NULL,
    yes_price BIGINT NOT NULL,
    initial_count BIGINT NOT NULL,
    fill_count BIGINT NOT NULL,
    status TEXT NOT NULL,
    taker_fill_cost BIGINT NOT NULL,
    maker_fill_cost BIGINT NOT NULL,
    taker_fees BIGINT NOT NULL,
    maker_fees BIGINT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    post_only BOOLEAN NOT NULL
);
CREATE INDEX orders_user ON orders (user_id, created_ts, order_id);
CREATE TABLE fills (
    fill_id TEXT PRIMARY KEY,
    trade_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    subaccount INTEGER NOT NULL,
    ticker TEXT NOT NULL,
    side TEXT NOT NULL,
    yes_price BIGINT NOT NULL,
    count BIGINT NOT NULL,
    is_taker BOOLEAN NOT NULL,
    fee BIGINT NOT NULL,
    created_ts BIGINT NOT NULL,
    is_block_trade BOOLEAN NOT NULL
);
CREATE INDEX fills_user ON fills (user_id, created_ts, fill_id);
CREATE INDEX fills_order ON fills (order_id);
CREATE TABLE positions (
    user_id TEXT NOT NULL,
    subaccount INTEGER NOT NULL,
    ticker TEXT NOT NULL,
    position BIGINT NOT NULL,
    exposure BIGINT NOT NULL,
    total_traded BIGINT NOT NULL,
    realized_pnl BIGINT NOT NULL,
    fees_paid BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    PRIMARY KEY (user_id, subaccount, ticker)
);
CREATE TABLE timers (
    id {id},
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    due BIGINT NOT NULL
);
CREATE INDEX timers_subject ON timers (subject);
CREATE INDEX timers_due ON timers (due, id);
"""

SCHEMA_V2_BOOK = """
ALTER TABLE orders ADD COLUMN reduced BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN time_in_force TEXT;
ALTER TABLE orders ADD COLUMN expiration_ts BIGINT;
ALTER TABLE orders ADD COLUMN self_trade_prevention TEXT;
ALTER TABLE orders ADD COLUMN order_group_id TEXT;
ALTER TABLE orders ADD COLUMN cancel_order_on_pause BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE orders ADD COLUMN reduce_only BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE orders ADD COLUMN priority BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN wire_side TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN wire_action TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN last_update_reason TEXT;
CREATE INDEX orders_resting ON orders (status, ticker, priority);
CREATE INDEX orders_client ON orders (user_id, client_order_id);
CREATE INDEX orders_group ON orders (order_group_id);
CREATE INDEX fills_ticker ON fills (ticker, created_ts, fill_id);
CREATE TABLE order_groups (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    subaccount INTEGER NOT NULL,
    contracts_limit BIGINT NOT NULL,
    triggered BOOLEAN NOT NULL,
    matches TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL
);
CREATE INDEX order_groups_user ON order_groups (user_id, created_ts, id);
"""
"""The order book: book fields of orders, order groups, and the indexes the book reads."""

SCHEMA_V3_LIFECYCLE = """
ALTER TABLE markets ADD COLUMN settlement_value BIGINT;
ALTER TABLE markets ADD COLUMN determination_ts BIGINT;
ALTER TABLE markets ADD COLUMN settlement_ts BIGINT;
ALTER TABLE markets ADD COLUMN settlement_timer BIGINT NOT NULL DEFAULT 0;
ALTER TABLE markets ADD COLUMN mve_selected_legs TEXT NOT NULL DEFAULT '';
ALTER TABLE rfqs ADD COLUMN mve_selected_legs TEXT NOT NULL DEFAULT '';
CREATE INDEX markets_event ON markets (event_ticker, ticker);
CREATE INDEX positions_ticker ON positions (ticker, user_id, subaccount);
CREATE TABLE series (
    ticker TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    frequency TEXT NOT NULL,
    tags TEXT NOT NULL,
    fee_type TEXT NOT NULL,
    fee_multiplier TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL
);
CREATE TABLE events (
    event_ticker TEXT PRIMARY KEY,
    series_ticker TEXT NOT NULL,
    title TEXT NOT NULL,
    sub_title TEXT NOT NULL,
    mutually_exclusive BOOLEAN NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    mve_collection_ticker TEXT,
    strike_date BIGINT
);
CREATE INDEX events_series ON events (series_ticker, event_ticker);
CREATE TABLE settlements (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    subaccount INTEGER NOT NULL,
    ticker TEXT NOT NULL,
    event_ticker TEXT NOT NULL,
    market_result TEXT NOT NULL,
    yes_count BIGINT NOT NULL,
    yes_total_cost BIGINT NOT NULL,
    no_count BIGINT NOT NULL,
    no_total_cost BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    fee_cost BIGINT NOT NULL,
    rounding_fee BIGINT NOT NULL,
    value BIGINT,
    settled_ts BIGINT NOT NULL
);
CREATE INDEX settlements_user ON settlements (user_id, settled_ts, id);
CREATE TABLE collections (
    collection_ticker TEXT PRIMARY KEY,
    series_ticker TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    associated_events TEXT NOT NULL,
    open_date BIGINT NOT NULL,
    close_date BIGINT NOT NULL,
    is_single_market_per_event BOOLEAN NOT NULL,
    is_all_yes BOOLEAN NOT NULL,
    size_min INTEGER NOT NULL,
    size_max INTEGER NOT NULL,
    created_ts BIGINT NOT NULL
);
CREATE TABLE block_trades (
    id TEXT PRIMARY KEY,
    proposer_user_id TEXT NOT NULL,
    buyer_user_id TEXT NOT NULL,
    buyer_subaccount INTEGER NOT NULL,
    seller_user_id TEXT NOT NULL,
    seller_subaccount INTEGER NOT NULL,
    market_ticker TEXT NOT NULL,
    price BIGINT NOT NULL,
    count BIGINT NOT NULL,
    maker_side TEXT NOT NULL,
    expiration_ts BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    updated_ts BIGINT NOT NULL,
    buyer_accepted BOOLEAN NOT NULL,
    seller_accepted BOOLEAN NOT NULL,
    buyer_accepted_ts BIGINT,
    seller_accepted_ts BIGINT,
    executed_ts BIGINT,
    buyer_order_id TEXT,
    seller_order_id TEXT
);
CREATE INDEX block_trades_created ON block_trades (created_ts, id);
"""
"""A market's life: series, events, settlements, combo collections, block-trade proposals."""

SCHEMA_V4_SEEK = """
CREATE INDEX ix_perf_quotes_status_maker ON quotes (status, creator_user_id, created_ts, id);
CREATE INDEX ix_perf_quotes_status_requester
    ON quotes (status, rfq_creator_user_id, created_ts, id);
DROP INDEX quotes_rfq;
CREATE INDEX ix_perf_quotes_rfq ON quotes (rfq_id, created_ts, id);
DROP INDEX rfqs_creator_status;
DROP INDEX rfqs_market_status;
CREATE INDEX ix_perf_rfqs_creator ON rfqs (creator_user_id, created_ts, id);
CREATE INDEX ix_perf_rfqs_creator_status ON rfqs (creator_user_id, status, created_ts, id);
CREATE INDEX ix_perf_rfqs_market ON rfqs (market_ticker, created_ts, id);
CREATE INDEX ix_perf_rfqs_market_status ON rfqs (market_ticker, status, created_ts, id);
CREATE INDEX ix_perf_rfqs_status ON rfqs (status, created_ts, id);
DROP INDEX fills_order;
CREATE INDEX ix_perf_fills_order ON fills (order_id, created_ts, fill_id);
CREATE INDEX ix_perf_fills_trades ON fills (is_taker, created_ts, fill_id);
DROP INDEX fills_ticker;
CREATE INDEX ix_perf_fills_ticker_trades ON fills (ticker, is_taker, created_ts, fill_id);
CREATE INDEX ix_perf_orders_status ON orders (user_id, status, created_ts, order_id);
CREATE INDEX ix_perf_positions_ticker ON positions (user_id, ticker, subaccount);
DROP INDEX api_keys_user;
CREATE INDEX ix_perf_api_keys_user ON api_keys (user_id, created_ts, key_id);
CREATE INDEX ix_perf_accounts_created ON accounts (created_ts, user_id);
"""
"""Lists that seek: an index in each list's order behind each of its filters, so a page
reads through an index range instead of sorting every row it could show; the open-quote
flush at start-up finds open quotes through either status index."""

MIGRATIONS: tuple[str, ...] = (
    SCHEMA_V1, SCHEMA_V2_BOOK, SCHEMA_V3_LIFECYCLE, SCHEMA_V4_SEEK
)

TABLES: tuple[str, ...] = (
    "accounts", "api_keys", "balances", "markets", "rfqs", "quotes", "orders", "fills",
    "positions", "timers", "order_groups", "series", "events", "settlements", "collections",
    "block_trades", "meta",
)
"""Every table, for wiping state on reset."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column as the schema declares it."""

    name: str
    kind: str
    """``int``, ``bool`` or ``str``: the JSON type of its values in a dump."""
    nullable: bool


@dataclass(frozen=True, slots=True)
class Table:
    """One table: its columns in declaration order and its primary key."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]


_KINDS = {"TEXT": "str", "BIGINT": "int", "INTEGER": "int", "BOOLEAN": "bool", "{id}": "int"}
_CREATE = re.compile(r"CREATE TABLE (\w+) \((.*?)\n\);", re.S)
_ADD = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+) (\w+)(.*?);")


def _tables(script: str) -> dict[str, Table]:
    """Read the tables a schema script creates (its own, deliberately plain, dialect)."""
    tables = {}
    for name, body in _CREATE.findall(script):
        columns: list[Column] = []
        key: tuple[str, ...] = ()
        for line in body.strip().splitlines():
            line = line.strip().rstrip(",")
            if line.startswith("PRIMARY KEY"):
                key = tuple(c.strip() for c in line[line.index("(") + 1:-1].split(","))
                continue
            column, kind, *rest = line.split()
            constraints = " ".join(rest)
            columns.append(Column(column, _KINDS[kind], "NOT NULL" not in constraints
                                  and "PRIMARY KEY" not in constraints and kind != "{id}"))
            if "PRIMARY KEY" in constraints or kind == "{id}":
                key = (column,)
        tables[name] = Table(name, tuple(columns), key)
    for name, column, kind, constraints in _ADD.findall(script):
        table = tables[name]
        added = Column(column, _KINDS[kind], "NOT NULL" not in constraints)
        tables[name] = Table(name, (*table.columns, added), table.key)
    return tables


_DECLARED = _tables("".join(MIGRATIONS))
SCHEMA: dict[str, Table] = {name: _DECLARED[name] for name in TABLES}
"""Every table of the current schema, by name, in ``TABLES`` order."""
