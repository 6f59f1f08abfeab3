// Run the RFQ flow of reference Appendix B through Kalshi's official TypeScript SDK
// (kalshi-typescript 3.30.0, unmodified), pointed at a sandbox.
//
// Input (stdin, JSON): {"base_url": "http://127.0.0.1:PORT", "market": "TICKER",
//   "requester": {"key_id": "...", "private_key_pem": "..."}, "maker": {...}}
// Output (stdout, JSON): what each step returned, for the caller to assert on.
// Exit status 1 with a JSON error on stderr when any step fails.
"use strict";

const common = require("./common");

const { readStdin, refusal, run } = common;
const {
  AccountApi,
  CommunicationsApi,
  MarketApi,
  PortfolioApi,
} = require("kalshi-typescript");

function client(baseUrl, account) {
  return common.client(baseUrl, account, {
    comms: CommunicationsApi,
    portfolio: PortfolioApi,
    markets: MarketApi,
    account: AccountApi,
  });
}

async function advanceClock(baseUrl, seconds) {
  const response = await fetch(baseUrl + "/sandbox/v1/clock/advance", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ seconds }),
  });
  if (!response.ok) {
    throw new Error(`clock advance failed: ${response.status} ${await response.text()}`);
  }
  return response.json();
}

// Return the status and body of a call the server is expected to refuse.
async function main() {
  const input = JSON.parse(await readStdin());
  const base = input.base_url;
  const requester = client(base, input.requester);
  const maker = client(base, input.maker);
  const out = {};

  const identity = await requester.comms.getCommunicationsID();
  out.requester_communications_id = identity.data.communications_id;

  const created = await requester.comms.createRFQ({
    market_ticker: input.market,
    contracts_fp: "10",
    rest_remainder: false,
  });
  const rfqId = created.data.id;
  out.create_rfq = { status: created.status, id: rfqId };
  out.rfq = (await requester.comms.getRFQ(rfqId)).data.rfq;

  const quoted = await maker.comms.createQuote({
    rfq_id: rfqId,
    yes_bid: "0.40",
    no_bid: "0.55",
    rest_remainder: false,
  });
  const quoteId = quoted.data.id;
  out.create_quote = { status: quoted.status, id: quoteId };

  // getQuotes(cursor, minTs, maxTs, limit, status, quoteCreatorUserId, userFilter,
  //           rfqUserFilter, rfqCreatorUserId, rfqCreatorSubtraderId, rfqId)
  const listed = await requester.comms.getQuotes(
    undefined, undefined, undefined, undefined, undefined, undefined, undefined,
    "self", undefined, undefined, rfqId,
  );
  out.quotes = listed.data;

  const accepted = await requester.comms.acceptRFQQuote(rfqId, quoteId, { accepted_side: "yes" });
  out.accept = { status: accepted.status };
  out.accepted_quote = (await requester.comms.getRFQQuote(rfqId, quoteId)).data.quote;

  // No body argument: the SDK serialises undefined as "{}".
  const confirmed = await maker.comms.confirmRFQQuote(rfqId, quoteId);
  out.confirm = { status: confirmed.status };
  out.confirmed_quote = (await maker.comms.getRFQQuote(rfqId, quoteId)).data.quote;

  out.clock = await advanceClock(base, 15);

  out.requester_quote = (await requester.comms.getRFQQuote(rfqId, quoteId)).data.quote;
  out.maker_quote = (await maker.comms.getRFQQuote(rfqId, quoteId)).data.quote;
  out.rfq_after = (await requester.comms.getRFQ(rfqId)).data.rfq;

  const requesterOrder = out.requester_quote.rfq_creator_order_id;
  const makerOrder = out.maker_quote.creator_order_id;
  // getFills(ticker, orderId, ...)
  out.requester_fills = (await requester.portfolio.getFills(undefined, requesterOrder)).data;
  out.maker_fills = (await maker.portfolio.getFills(undefined, makerOrder)).data;
  out.requester_balance = (await requester.portfolio.getBalance()).data;
  out.requester_positions = (await requester.portfolio.getPositions()).data;
  out.maker_positions = (await maker.portfolio.getPositions()).data;

  out.confirm_again = await refusal(() => maker.comms.confirmRFQQuote(rfqId, quoteId));
  out.confirm_by_requester = await refusal(
    () => requester.comms.confirmRFQQuote(rfqId, quoteId));

  out.markets = (await requester.markets.getMarkets(10)).data;
  out.market = (await requester.markets.getMarket(input.market)).data.market;

  out.account_limits = (await requester.account.getAccountApiLimits()).data;
  out.endpoint_costs = (await requester.account.getAccountEndpointCosts()).data;

  process.stdout.write(JSON.stringify(out) + "\n");
}

run(main);
