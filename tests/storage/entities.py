"""Domain objects for the storage suite, every field filled so round-trips compare all."""

from __future__ import annotations

import dataclasses

from kalshi_sandbox.domain.account import Account, ApiKey
from kalshi_sandbox.domain.market import PRICE_LEVEL_STRUCTURES, Market, MarketStatus
from kalshi_sandbox.domain.orders import OrderGroup
from kalshi_sandbox.domain.portfolio import Fill, Order, OrderStatus, Position, TimeInForce
from kalshi_sandbox.domain.quote import Quote, QuoteCancelReason, QuoteStatus, Side
from kalshi_sandbox.domain.rfq import Rfq, RfqCloseReason, RfqStatus


def account(user_id: str = "user-1", created_ts: int = 1) -> Account:
    return Account(user_id=user_id, name=f"name of {user_id}",
                   communications_id=f"comm-{user_id}", created_ts=created_ts)


def api_key(key_id: str = "key-1", user_id: str = "user-1", created_ts: int = 1) -> ApiKey:
    return ApiKey(key_id=key_id, user_id=user_id,
                  public_key_pem="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                  created_ts=created_ts)


def market(ticker: str = "KXA-26DEC31-T1", *, event: str = "KXA-26DEC31", series: str = "KXA",
           status: MarketStatus = MarketStatus.ACTIVE, mve: str | None = None,
           structure: str = "tapered_deci_cent") -> Market:
    return Market(
        ticker=ticker, event_ticker=event, series_ticker=series, title=f"title {ticker}",
        subtitle="sub", status=status, hvm=mve is not None, price_level_structure=structure,
        price_ranges=PRICE_LEVEL_STRUCTURES[structure], open_time=10, close_time=20,
        created_ts=3, updated_ts=4, mve_collection_ticker=mve, last_price=4_500,
        volume=1_200, open_interest=300, result="",
    )


def rfq(rfq_id: str = "rfq-1", *, creator: str = "user-1", ticker: str = "KXA-26DEC31-T1",
        event: str = "KXA-26DEC31", created_ts: int = 100, subaccount: int = 0,
        status: RfqStatus = RfqStatus.OPEN, target_cost: int | None = None) -> Rfq:
    closed = status is RfqStatus.CLOSED
    return Rfq(
        id=rfq_id, creator_user_id=creator, creator_id=f"comm-{creator}",
        creator_subaccount=subaccount, market_ticker=ticker, event_ticker=event,
        contracts=0 if target_cost else 1_050, target_cost=target_cost,
        target_cost_excludes_fees=target_cost is not None, rest_remainder=True,
        obscure_creator_id=True, status=status, created_ts=created_ts,
        updated_ts=created_ts + (5 if closed else 0),
        cancelled_ts=created_ts + 5 if closed else None,
        cancellation_reason=RfqCloseReason.DELETED_BY_USER if closed else None,
        mve_collection_ticker="KXMVECOLL" if target_cost else None,
    )


def quote(quote_id: str = "quote-1", *, rfq_id: str = "rfq-1", maker: str = "maker",
          requester: str = "user-1", created_ts: int = 200, updated_ts: int | None = None,
          status: QuoteStatus = QuoteStatus.OPEN) -> Quote:
    accepted = status in (QuoteStatus.ACCEPTED, QuoteStatus.CONFIRMED, QuoteStatus.EXECUTED)
    confirmed = status in (QuoteStatus.CONFIRMED, QuoteStatus.EXECUTED)
    executed = status is QuoteStatus.EXECUTED
    cancelled = status is QuoteStatus.CANCELLED
    return Quote(
        id=quote_id, rfq_id=rfq_id, creator_user_id=maker, creator_id=f"comm-{maker}",
        creator_subaccount=2, rfq_creator_user_id=requester,
        rfq_creator_id=f"comm-{requester}", rfq_creator_subaccount=1,
        rfq_obscure_creator_id=True, market_ticker="KXA-26DEC31-T1", event_ticker="KXA-26DEC31",
        contracts=1_050, yes_bid=4_510, no_bid=0, yes_contracts=0, no_contracts=1_050,
        rfq_target_cost=35_000_000, target_cost_excludes_fees=True, rest_remainder=True,
        post_only=True, status=status, created_ts=created_ts,
        updated_ts=updated_ts if updated_ts is not None else created_ts,
        accepted_side=Side.NO if accepted else None,
        accepted_ts=created_ts + 1 if accepted else None,
        confirm_deadline=created_ts + 31 if accepted else None,
        confirmed_ts=created_ts + 2 if confirmed else None,
        execute_at=created_ts + 17 if confirmed else None,
        executed_ts=created_ts + 17 if executed else None,
        cancelled_ts=created_ts + 3 if cancelled else None,
        cancellation_reason=QuoteCancelReason.REPLACED if cancelled else None,
        creator_order_id="order-m" if executed else None,
        rfq_creator_order_id="order-r" if executed else None,
    )


def order(order_id: str = "order-1", *, user: str = "user-1", ticker: str = "KXA-26DEC31-T1",
          created_ts: int = 300, subaccount: int = 0,
          status: OrderStatus = OrderStatus.EXECUTED) -> Order:
    return Order(
        order_id=order_id, user_id=user, subaccount=subaccount,
        client_order_id=f"rfq:abcdef12:{order_id}", ticker=ticker, side=Side.NO,
        yes_price=4_510, initial_count=1_050, fill_count=1_050, status=status,
        taker_fill_cost=5_765_250, maker_fill_cost=0, taker_fees=138_600, maker_fees=0,
        created_ts=created_ts, updated_ts=created_ts + 1, post_only=True,
    )


def fill(fill_id: str = "fill-1", *, order_id: str = "order-1", user: str = "user-1",
         ticker: str = "KXA-26DEC31-T1", created_ts: int = 300, subaccount: int = 0) -> Fill:
    return Fill(
        fill_id=fill_id, trade_id=f"trade-{fill_id}", order_id=order_id, user_id=user,
        subaccount=subaccount, ticker=ticker, side=Side.YES, yes_price=4_510, count=1_050,
        is_taker=True, fee=138_600, created_ts=created_ts, is_block_trade=False,
    )


def position(user: str = "user-1", ticker: str = "KXA-26DEC31-T1", *, subaccount: int = 0,
             size: int = -1_050, updated_ts: int = 300) -> Position:
    return Position(user_id=user, subaccount=subaccount, ticker=ticker, position=size,
                    exposure=5_765_250, total_traded=5_765_250, realized_pnl=-138_600,
                    fees_paid=138_600, updated_ts=updated_ts)


def book_order(order_id: str, *, ticker: str = "KXA-26DEC31-T1", priority: int = 1,
               user: str = "user-1", status: OrderStatus = OrderStatus.RESTING,
               group: str | None = None, client_order_id: str = "") -> Order:
    """A limit order placed through the order endpoints, with every book field set."""
    return dataclasses.replace(
        order(order_id, user=user, ticker=ticker, status=status), fill_count=250,
        client_order_id=client_order_id or f"client-{order_id}", reduced=100,
        time_in_force=TimeInForce.GOOD_TILL_CANCELED, expiration_ts=9_000,
        self_trade_prevention="maker", order_group_id=group, cancel_order_on_pause=True,
        reduce_only=True, priority=priority, wire_side="no", wire_action="buy",
        last_update_reason="Decrease",
    )


def order_group(group_id: str = "group-1", *, user: str = "user-1", subaccount: int = 0,
                created_ts: int = 100) -> OrderGroup:
    return OrderGroup(id=group_id, user_id=user, subaccount=subaccount,
                      contracts_limit=10_000, triggered=False, matches="100:500",
                      created_ts=created_ts, updated_ts=created_ts)
