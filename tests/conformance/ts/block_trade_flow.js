// Run a block-trade proposal to execution through Kalshi's official TypeScript SDK
// (kalshi-typescript 3.30.0, unmodified), pointed at a sandbox: a broker proposes a trade
// between a buyer and a seller, each accepts, and the trade shows in the proposals, the
// public trades (is_block_trade) and both parties' fills and positions.
//
// Input (stdin, JSON): {"base_url": "http://127.0.0.1:PORT", "market": "TICKER",
//   "expiration_ts": "RFC 3339", "buyer": {"user_id", "key_id", "private_key_pem"},
//   "seller": {...}, "broker": {...}}
// Output (stdout, JSON): what each step returned, for the caller to assert on.
// Exit status 1 with a JSON error on stderr when any step fails.
"use strict";

const common = require("./common");

const { readStdin, refusal, run } = common;
const {
  CommunicationsApi,
  MarketApi,
  PortfolioApi,
} = require("kalshi-typescript");

function client(baseUrl, account) {
  return common.client(baseUrl, account, {
    communications: CommunicationsApi,
    markets: MarketApi,
    portfolio: PortfolioApi,
  });
}

async function main() {
  const input = JSON.parse(await readStdin());
  const market = input.market;
  const buyer = client(input.base_url, input.buyer);
  const seller = client(input.base_url, input.seller);
  const broker = client(input.base_url, input.broker);
  const out = {};

  const proposed = await broker.communications.proposeBlockTrade({
    buyer_user_id: input.buyer.user_id,
    seller_user_id: input.seller.user_id,
    market_ticker: market,
    price_centi_cents: 4200,
    centicount: 2500,
    maker_side: "yes",
    expiration_ts: input.expiration_ts,
  });
  out.propose = { status: proposed.status, data: proposed.data };
  const id = proposed.data.block_trade_proposal_id;
  out.listed_open = (await buyer.communications.getBlockTradeProposals(
    undefined, market)).data;
  const first = await buyer.communications.acceptBlockTradeProposal(id);
  out.accept_buyer = { status: first.status };
  out.accept_again = await refusal(() => buyer.communications.acceptBlockTradeProposal(id));
  const second = await seller.communications.acceptBlockTradeProposal(id, { subaccount: 0 });
  out.accept_seller = { status: second.status };
  out.listed_executed = (await broker.communications.getBlockTradeProposals(
    undefined, market, 10)).data;
  out.block_trades = (await buyer.markets.getTrades(
    10, undefined, market, undefined, undefined, true)).data;
  out.buyer_fills = (await buyer.portfolio.getFills(market)).data;
  out.seller_fills = (await seller.portfolio.getFills(market)).data;
  out.buyer_positions = (await buyer.portfolio.getPositions()).data;
  out.seller_positions = (await seller.portfolio.getPositions()).data;
  out.unknown = await refusal(() => buyer.communications.acceptBlockTradeProposal(
    "00000000-0000-4000-8000-000000000000"));

  process.stdout.write(JSON.stringify(out) + "\n");
}

run(main);
