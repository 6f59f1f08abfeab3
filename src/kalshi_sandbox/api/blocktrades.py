"""Kalshi's block-trade proposal endpoints under ``/communications/block-trade-proposals``
(https://docs.kalshi.com/api-reference/communications/propose-block-trade).

Prices are integer centi-cents ($1 = 10,000) and sizes integer centi-counts (contracts x 100),
as the documented request has them; ``expiration_ts`` is an RFC 3339 date-time.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kalshi_sandbox.api import requests as wire
from kalshi_sandbox.api.http import Handler, empty_response, json_response, read_json
from kalshi_sandbox.api.routes import PREFIX, TradeApi
from kalshi_sandbox.domain.blocktrade import BlockTrade
from kalshi_sandbox.domain.clock import format_instant, in_range, parse_instant
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.domain.limits import READ, WRITE, Cost
from kalshi_sandbox.domain.queries import BlockTradeQuery
from kalshi_sandbox.exchange.blocktrades import BlockTrades, ProposeBlockTrade

INT64 = 2**63


def render_proposal(proposal: BlockTrade, viewer: str) -> dict[str, Any]:
    """Render a proposal for ``viewer`` (subtrader ids are blank: the sandbox has none)."""
    data: dict[str, Any] = {
        "id": proposal.id,
        "proposer_user_id": proposal.proposer_user_id,
        "buyer_user_id": proposal.buyer_user_id,
        "buyer_subtrader_id": "",
        "seller_user_id": proposal.seller_user_id,
        "seller_subtrader_id": "",
        "market_ticker": proposal.market_ticker,
        "price_centi_cents": proposal.price,
        "centicount": proposal.count,
        "maker_side": proposal.maker_side,
        "expiration_ts": format_instant(proposal.expiration_ts),
        "status": proposal.status.value,
        "created_ts": format_instant(proposal.created_ts),
        "updated_ts": format_instant(proposal.updated_ts),
        "buyer_accepted": proposal.buyer_accepted,
        "seller_accepted": proposal.seller_accepted,
    }
    for name in ("buyer_accepted_ts", "seller_accepted_ts", "executed_ts"):
        value = getattr(proposal, name)
        if value is not None:
            data[name] = format_instant(value)
    if viewer in (proposal.buyer_user_id, proposal.proposer_user_id) and proposal.buyer_order_id:
        data["buyer_order_id"] = proposal.buyer_order_id
    if viewer in (proposal.seller_user_id, proposal.proposer_user_id) and (
            proposal.seller_order_id):
        data["seller_order_id"] = proposal.seller_order_id
    return data


def _positive(body: wire.Body, name: str) -> int:
    value = body.integer(name)
    if value is None:
        raise InvalidParameters(f"{name} is required")
    if not 1 <= value < INT64:
        raise InvalidParameters(f"{name} must be at least 1")
    return value


def _subaccount(body: wire.Body, name: str) -> int:
    value = body.integer(name)
    return 0 if value is None else wire.check_subaccount_value(value)


def parse_propose(data: dict[str, Any]) -> ProposeBlockTrade:
    """Parse a ``ProposeBlockTradeRequest``."""
    body = wire.Body(data, "ProposeBlockTradeRequest")
    for party in ("buyer", "seller"):
        if body.string(f"{party}_subtrader_id"):
            raise InvalidParameters(f"{party}_subtrader_id: the sandbox has no subtraders; "
                                    f"use {party}_subaccount")
    text = body.required_string("expiration_ts")
    try:
        expiration = parse_instant(text)
    except (ValueError, OverflowError):
        raise InvalidParameters("expiration_ts must be an RFC 3339 date-time") from None
    if not in_range(expiration):
        raise InvalidParameters("expiration_ts is out of range")
    return ProposeBlockTrade(
        buyer_user_id=body.required_string("buyer_user_id"),
        seller_user_id=body.required_string("seller_user_id"),
        market_ticker=body.required_string("market_ticker"),
        price=_positive(body, "price_centi_cents"), count=_positive(body, "centicount"),
        maker_side=body.required_string("maker_side"), expiration_ts=expiration,
        buyer_subaccount=_subaccount(body, "buyer_subaccount"),
        seller_subaccount=_subaccount(body, "seller_subaccount"))


class BlockTradesApi:
    """Handlers of the block-trade proposal endpoints."""

    def __init__(self, trade: TradeApi, trades: BlockTrades) -> None:
        self.trade = trade
        self.trades = trades

    async def propose(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        cmd = parse_propose(await read_json(request, "ProposeBlockTradeRequest"))
        proposal = await self.trades.propose(actor, cmd)
        return json_response({"block_trade_proposal_id": proposal.id}, 201)

    async def list_proposals(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        params = request.query_params
        op = "GetBlockTradeProposals"
        page = await self.trades.list_proposals(actor, BlockTradeQuery(
            viewer_user_id=actor.user_id,
            limit=wire.query_int(params, "limit", op, default=100, low=1, high=100),
            after=wire.decode_cursor(params, op),
            market_ticker=params.get("market_ticker") or None,
            status=params.get("status") or None))
        return json_response({
            "block_trade_proposals": [render_proposal(p, actor.user_id) for p in page.items],
            "cursor": wire.next_cursor(page)})

    async def accept(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        data = await read_json(request, "AcceptBlockTradeProposalRequest", allow_empty=True)
        body = wire.Body(data, "AcceptBlockTradeProposalRequest")
        if body.string("subtrader_id"):
            raise InvalidParameters("subtrader_id: the sandbox has no subtraders; use "
                                    "subaccount")
        subaccount = body.integer("subaccount")
        await self.trades.accept(actor, request.path_params["block_trade_proposal_id"],
                                 None if subaccount is None
                                 else wire.check_subaccount_value(subaccount))
        return empty_response()

    def endpoints(self) -> list[tuple[str, str, Handler, Cost | None]]:
        """Return (method, full path, handler, cost) of every endpoint, in routing order."""
        base = PREFIX + "/communications/block-trade-proposals"
        return [
            ("GET", base, self.list_proposals, READ),
            ("POST", base, self.propose, WRITE),
            ("POST", base + "/{block_trade_proposal_id}/accept", self.accept, WRITE),
        ]


__all__ = ["BlockTradesApi", "parse_propose", "render_proposal"]
