"""A Hypothesis state machine drives one market's book with settlement, as the exchange does.

Random orders (either side, any price on the cent grid, every time in force and both
self-trade prevention modes) and cancels from three users run through ``place``, ``Book``
and ``settle``. After every step: the book is never crossed, contracts are conserved
(positions net to zero), money is conserved (balances + fees + $1 per open contract pair
equal the deposits), each user's resting orders are exactly those the model left resting,
and every plan took price then time priority: better prices first, and at one price no
younger order filled while an older one was passed over.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kalshi_sandbox.domain.book import Book, Plan, SelfTradePrevention
from kalshi_sandbox.domain.errors import FillOrKillInsufficientVolume, InvalidOrder
from kalshi_sandbox.domain.money import ONE_DOLLAR
from kalshi_sandbox.domain.orders import OrderRequest, new_order, place, resting
from kalshi_sandbox.domain.portfolio import Order, Position, TimeInForce, empty_position
from kalshi_sandbox.domain.quote import Side
from kalshi_sandbox.domain.rules import Rules
from kalshi_sandbox.domain.settlement import match_legs, settle

USERS = ("alice", "bob", "carol")
DEPOSIT = 10_000 * 1_000_000
RULES = Rules()


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = Book("M")
        self.balances = dict.fromkeys(USERS, DEPOSIT)
        self.positions: dict[str, Position] = {u: empty_position(u, 0, "M", 0) for u in USERS}
        self.fees = 0
        self.orders: dict[str, Order] = {}
        self.next_id = 0
        self.now = 0

    def check_priority(self, plan: Plan, user: str) -> None:
        taken = {order.order_id: take for order, take in plan.matches}
        last_price: int | None = None
        for order, take in plan.matches:
            if last_price is not None:
                # A YES buyer walks the asks up; a NO buyer walks the bids down.
                assert (order.price >= last_price if plan.side is Side.YES
                        else order.price <= last_price)
            last_price = order.price
            assert 0 < take <= order.remaining
        # At each traded price, every older order of another user was taken whole.
        for order, _ in plan.matches:
            level = [o for o in self.book.orders() if o.side is order.side
                     and o.price == order.price and o.priority < order.priority
                     and o.user_id != user]
            for older in level:
                assert taken.get(older.order_id) == older.remaining

    @rule(user=st.sampled_from(USERS), side=st.sampled_from(Side),
          cents=st.integers(1, 99), contracts=st.integers(1, 20),
          tif=st.sampled_from(TimeInForce), stp=st.sampled_from(SelfTradePrevention),
          post_only=st.booleans())
    def order(self, user: str, side: Side, cents: int, contracts: int, tif: TimeInForce,
              stp: SelfTradePrevention, post_only: bool) -> None:
        self.now += 1
        request = OrderRequest("M", side, cents * 100, contracts * 100, tif, stp,
                               post_only=post_only and tif is TimeInForce.GOOD_TILL_CANCELED)
        crossed = self.book.crosses(side, request.yes_price)
        try:
            placement = place(self.book, request, user)
        except InvalidOrder:
            assert request.post_only
            assert crossed
            return
        except FillOrKillInsufficientVolume:
            assert tif is TimeInForce.FILL_OR_KILL
            return
        plan = placement.plan
        self.check_priority(plan, user)
        self.next_id += 1
        order = new_order(f"o{self.next_id}", user, request, request.count,
                          self.book.next_priority(), self.now)
        for maker, take in plan.matches:
            legs = match_legs(order, maker.user_id, 0, RULES)
            parties = [legs[0].user_id, legs[1].user_id]
            settled = settle(maker.price, take, legs, [self.positions[p] for p in parties],
                             [self.balances[p] for p in parties], self.now)
            assert settled is not None
            for result in settled:
                self.positions[result.leg.user_id] = result.after
                self.balances[result.leg.user_id] = result.balance
                self.fees += result.fee
            order = order.filled(take, maker.price, settled[0].fee, taker=True, now=self.now)
            made = self.orders[maker.order_id]
            self.orders[maker.order_id] = made.filled(take, maker.price, settled[1].fee,
                                                      taker=False, now=self.now)
        for cancelled in plan.cancelled:
            self.orders[cancelled.order_id] = self.orders[cancelled.order_id].canceled(self.now)
        self.book.apply(plan)
        if placement.rests:
            self.book.add(resting(order))
        elif order.remaining_count:
            order = order.canceled(self.now)
        self.orders[order.order_id] = order

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        live = sorted(o.order_id for o in self.book.orders())
        if not live:
            return
        order_id = data.draw(st.sampled_from(live))
        assert self.book.remove(order_id) is not None
        self.orders[order_id] = self.orders[order_id].canceled(self.now)

    @invariant()
    def not_crossed(self) -> None:
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if bid is not None and ask is not None:
            assert bid[0] < ask[0]

    @invariant()
    def contracts_and_money_conserved(self) -> None:
        positions = [p.position for p in self.positions.values()]
        assert sum(positions) == 0
        open_interest = sum(p for p in positions if p > 0)
        locked = open_interest * ONE_DOLLAR  # price units x count units = micro-dollars
        assert sum(self.balances.values()) + self.fees + locked == DEPOSIT * len(USERS)

    @invariant()
    def book_mirrors_the_orders(self) -> None:
        on_book = {o.order_id: o.remaining for o in self.book.orders()}
        resting = {i: o.remaining_count for i, o in self.orders.items() if o.remaining_count}
        assert on_book == resting
        for order in self.orders.values():
            assert order.fill_count <= order.initial_count


BookMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=30,
                                         deadline=None)
TestBook = BookMachine.TestCase
