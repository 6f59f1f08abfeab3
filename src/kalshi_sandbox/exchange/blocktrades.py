"""Block-trade proposals as use cases: propose, list, accept, and execute once both accept.

Anyone may propose a trade between two named accounts (a broker, say); each named party
accepts, and the second acceptance executes it off the book in the same transaction: one
executed order and one fill per party, at the proposed price, both fills marked
``is_block_trade``, the side named ``maker_side`` paying the maker fee. A proposal still open
at its expiration expires (a durable timer). A party that cannot pay makes its acceptance
fail with ``insufficient_balance``, changing nothing (docs/behaviour.md, "Block trades").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kalshi_sandbox.domain.account import check_subaccount
from kalshi_sandbox.domain.blocktrade import BlockTrade, BlockTradeStatus
from kalshi_sandbox.domain.errors import InsufficientBalance, InvalidParameters, NotFound
from kalshi_sandbox.domain.events import FillCreated, MarketUpdated, OrderUpdated, PositionChanged
from kalshi_sandbox.domain.money import ONE_DOLLAR
from kalshi_sandbox.domain.portfolio import Order, OrderStatus, empty_position
from kalshi_sandbox.domain.queries import BlockTradeQuery
from kalshi_sandbox.domain.quote import Side
from kalshi_sandbox.domain.rules import check_market_open
from kalshi_sandbox.domain.settlement import Leg, open_interest_change, settle, trade_fills
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.commands import Actor, Page
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.exchange.unit import UnitOfWork

PREFIX = "block:"


@dataclass(frozen=True, slots=True)
class ProposeBlockTrade:
    """A parsed ``ProposeBlockTradeRequest``; price in $0.0001, count in 0.01 contracts."""

    buyer_user_id: str
    seller_user_id: str
    market_ticker: str
    price: int
    count: int
    maker_side: str
    expiration_ts: int
    buyer_subaccount: int = 0
    seller_subaccount: int = 0


class BlockTrades:
    """Propose, list and accept block trades."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.store = exchange.store
        exchange.timer_handlers[TimerKind.BLOCK_TRADE_EXPIRY] = self.fire

    async def propose(self, actor: Actor, cmd: ProposeBlockTrade) -> BlockTrade:
        """Record a proposal; it stays open until both parties accept or it expires."""
        check_subaccount(cmd.buyer_subaccount)
        check_subaccount(cmd.seller_subaccount)
        if not 0 < cmd.price < ONE_DOLLAR:
            raise InvalidParameters("price_centi_cents must be between 1 and 9999")
        if cmd.count <= 0:
            raise InvalidParameters("centicount must be at least 1")
        if cmd.maker_side not in ("yes", "no"):
            raise InvalidParameters("maker_side must be yes or no")
        if cmd.buyer_user_id == cmd.seller_user_id:
            raise InvalidParameters("buyer and seller must be different users")
        async with self.exchange.work() as w:
            tx = w.tx
            check_market_open(await tx.get_market(cmd.market_ticker), cmd.market_ticker)
            if cmd.expiration_ts <= w.now:
                raise InvalidParameters("expiration_ts must be in the future")
            for user_id in (cmd.buyer_user_id, cmd.seller_user_id):
                if await tx.get_account(user_id) is None:
                    raise InvalidParameters(f"user {user_id} not found")
            proposal = BlockTrade(
                id=self.exchange.ids.new(), proposer_user_id=actor.user_id,
                buyer_user_id=cmd.buyer_user_id, buyer_subaccount=cmd.buyer_subaccount,
                seller_user_id=cmd.seller_user_id, seller_subaccount=cmd.seller_subaccount,
                market_ticker=cmd.market_ticker, price=cmd.price, count=cmd.count,
                maker_side=cmd.maker_side, expiration_ts=cmd.expiration_ts,
                status=BlockTradeStatus.OPEN, created_ts=w.now, updated_ts=w.now)
            await tx.insert_block_trade(proposal)
            await w.add_timer(TimerKind.BLOCK_TRADE_EXPIRY, PREFIX + proposal.id,
                              cmd.expiration_ts)
        return proposal

    async def list_proposals(self, actor: Actor, query: BlockTradeQuery) -> Page[BlockTrade]:
        """Return a page of the proposals the caller proposed or is named in, newest first."""
        async with self.store.transaction() as tx:
            rows = await tx.list_block_trades(replace(query, viewer_user_id=actor.user_id,
                                                      limit=query.limit + 1))
        return Page.of(rows, query.limit, lambda p: (p.created_ts, p.id))

    async def accept(self, actor: Actor, proposal_id: str,
                     subaccount: int | None = None) -> BlockTrade:
        """Accept as a named party (buyer, seller or both); execute once both have."""
        if subaccount is not None:
            check_subaccount(subaccount)
        async with self.exchange.work() as w:
            proposal = await w.tx.get_block_trade(proposal_id)
            if proposal is None or not proposal.visible_to(actor.user_id):
                raise NotFound("block trade proposal not found",
                               message="block trade proposal not found")
            accepted = proposal.accept(actor.user_id, w.now)
            if subaccount is not None:
                if actor.user_id == proposal.buyer_user_id:
                    accepted = replace(accepted, buyer_subaccount=subaccount)
                if actor.user_id == proposal.seller_user_id:
                    accepted = replace(accepted, seller_subaccount=subaccount)
            if accepted.agreed:
                accepted = await self._execute(w, accepted)
            await w.tx.update_block_trade(accepted)
        return accepted

    async def fire(self, w: UnitOfWork, timer: Timer) -> None:
        """Expire a proposal still open at its expiration."""
        proposal = await w.tx.get_block_trade(timer.subject.removeprefix(PREFIX))
        if proposal is not None and proposal.status is BlockTradeStatus.OPEN:
            await w.tx.update_block_trade(replace(proposal, status=BlockTradeStatus.EXPIRED,
                                                  updated_ts=w.now))

    async def _execute(self, w: UnitOfWork, proposal: BlockTrade) -> BlockTrade:
        tx = w.tx
        market = check_market_open(await tx.get_market(proposal.market_ticker),
                                   proposal.market_ticker)
        rules = self.exchange.rules
        buyer_maker = proposal.maker_side == "yes"
        legs = (
            Leg(proposal.buyer_user_id, proposal.buyer_subaccount, Side.YES,
                rules.maker_fee_bps if buyer_maker else rules.taker_fee_bps, not buyer_maker),
            Leg(proposal.seller_user_id, proposal.seller_subaccount, Side.NO,
                rules.taker_fee_bps if buyer_maker else rules.maker_fee_bps, buyer_maker),
        )
        ticker, price, count = market.ticker, proposal.price, proposal.count
        positions = [await tx.get_position(leg.user_id, leg.subaccount, ticker)
                     or empty_position(leg.user_id, leg.subaccount, ticker, w.now)
                     for leg in legs]
        balances = [await tx.get_balance(leg.user_id, leg.subaccount) for leg in legs]
        settled = settle(price, count, legs, positions, balances, w.now)
        if settled is None:
            raise InsufficientBalance("a party's balance does not cover this block trade")
        ids = self.exchange.ids
        orders = []
        for result in settled:
            leg = result.leg
            order = Order(
                order_id=ids.new(), user_id=leg.user_id, subaccount=leg.subaccount,
                client_order_id=f"block:{proposal.id}", ticker=ticker, side=leg.side,
                yes_price=price, initial_count=count, fill_count=0,
                status=OrderStatus.RESTING, taker_fill_cost=0, maker_fill_cost=0,
                taker_fees=0, maker_fees=0, created_ts=w.now, updated_ts=w.now,
            ).filled(count, price, result.fee, taker=leg.is_taker, now=w.now)
            await tx.insert_order(order)
            orders.append(order)
            await tx.upsert_position(result.after)
            await tx.set_balance(leg.user_id, leg.subaccount, result.balance, w.now)
        # The taker's fill first: public trades are the takers' fills.
        ordered = sorted(zip(settled, orders, strict=True), key=lambda p: not p[0].leg.is_taker)
        fills = trade_fills([s for s, _ in ordered], [o.order_id for _, o in ordered], ticker,
                            price, count, ids, w.now, block_trade=True)
        for (result, order), fill in zip(ordered, fills, strict=True):
            await tx.insert_fill(fill)
            w.events.append(OrderUpdated(order, created=True))
            w.events.append(FillCreated(fill, result.after.position))
            w.events.append(PositionChanged(result.after))
        updated = market.traded(price, count, open_interest_change(settled), w.now)
        await tx.update_market(updated)
        w.events.append(MarketUpdated(updated))
        await w.cancel_timers(PREFIX + proposal.id)
        return replace(proposal, status=BlockTradeStatus.EXECUTED, executed_ts=w.now,
                       updated_ts=w.now, buyer_order_id=orders[0].order_id,
                       seller_order_id=orders[1].order_id)


__all__ = ["BlockTrades", "ProposeBlockTrade"]
