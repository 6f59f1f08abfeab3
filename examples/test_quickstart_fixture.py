def test_my_quote_is_accepted_and_executed(kalshi_sandbox):
    sb = kalshi_sandbox  # a fresh in-process sandbox, manual clock, ready accounts and markets
    sb.counterparties.requester("taker", markets=[sb.markets[0]])  # accepts after 1 s
    rfq_id = sb.counterparties.rfq("taker")  # the auto-requester asks for quotes now
    me = sb.client(sb.maker)  # our client, signed as the ready maker account
    quote_id = me.create_quote(rfq_id, yes_bid="0.40", no_bid="0.55")
    sb.clock.advance(1)  # the requester accepts our quote: no sleeping
    me.confirm_quote(rfq_id, quote_id)
    sb.clock.advance(15)  # the execution delay passes at once
    assert me.get_quote(rfq_id, quote_id).status == "executed"
