"""Journal replay of a market's life: timed opens and closes, a settlement, a combo and a
block trade reproduce the same state in a fresh sandbox."""

from __future__ import annotations

from kalshi_sandbox.domain.clock import MICROS, format_instant, parse_instant
from tests.conftest import MARKET
from tests.state.test_replay import export, replay
from tests.support.server import Control, Trader

TIMED = "KXTIMED-26DEC31-T1"


def _reads(base_url: str, traders: list[Trader]) -> dict[str, object]:
    out: dict[str, object] = {}
    for trader in traders:
        again = Trader(base_url, trader.account)
        name = trader.account.name
        for path in ("/portfolio/settlements", "/portfolio/positions", "/portfolio/balance",
                     "/communications/block-trade-proposals", "/portfolio/fills"):
            out[f"{name} {path}"] = again.get(path).json()
        out["events"] = again.get("/events", params={"with_nested_markets": "true"}).json()
        out["combos"] = again.get("/events/multivariate").json()
        again.close()
    return out


def test_replay_reproduces_timed_markets_settlements_combos_and_block_trades(
        control: Control, target: Control) -> None:
    alice, bob = control.trader("alice"), control.trader("bob")
    start = parse_instant(control.call("GET", "/clock")["now"])
    control.market(TIMED, open_time=format_instant(start + 10 * MICROS),
                   close_time=format_instant(start + 100 * MICROS))
    control.market("KXOTHER-26DEC31-T1")
    control.call("POST", "/collections", {
        "collection_ticker": "KXMVEREPLAY",
        "associated_events": ["KXTEST-26DEC31", "KXOTHER-26DEC31"]}, expect=201)
    combo = alice.post("/multivariate_event_collections/KXMVEREPLAY", json={
        "selected_markets": [
            {"event_ticker": "KXTEST-26DEC31", "market_ticker": MARKET, "side": "yes"},
            {"event_ticker": "KXOTHER-26DEC31", "market_ticker": "KXOTHER-26DEC31-T1",
             "side": "no"}]})
    assert combo.status_code == 200, combo.text
    control.advance(10)
    proposal = alice.post("/communications/block-trade-proposals", json={
        "buyer_user_id": alice.account.user_id, "seller_user_id": bob.account.user_id,
        "market_ticker": TIMED, "price_centi_cents": 3000, "centicount": 700,
        "maker_side": "no", "expiration_ts": format_instant(start + 50 * MICROS)})
    assert proposal.status_code == 201, proposal.text
    proposal_id = proposal.json()["block_trade_proposal_id"]
    for trader in (alice, bob):
        accepted = trader.post(f"/communications/block-trade-proposals/{proposal_id}/accept")
        assert accepted.status_code == 204, accepted.text
    control.advance(100)
    control.call("POST", f"/markets/{TIMED}/settle", {"result": "no"})
    before = _reads(control.base_url, [alice, bob])
    assert before["alice /portfolio/settlements"] != {"settlements": [], "cursor": ""}

    result = replay(target, export(control))
    assert result["mismatches"] == []
    assert _reads(target.base_url, [alice, bob]) == before
