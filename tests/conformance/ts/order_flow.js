// Run order entry through Kalshi's official TypeScript SDK (kalshi-typescript 3.30.0,
// unmodified), pointed at a sandbox: a resting order placed and cancelled on the V2 paths,
// the order book read, then a crossing trade seen in both parties' fills and positions.
//
// Input (stdin, JSON): {"base_url": "http://127.0.0.1:PORT", "market": "TICKER",
//   "buyer": {"key_id": "...", "private_key_pem": "..."}, "seller": {...}}
// Output (stdout, JSON): what each step returned, for the caller to assert on.
// Exit status 1 with a JSON error on stderr when any step fails.
"use strict";

const common = require("./common");

const { readStdin, refusal, run } = common;
const {
  MarketApi,
  OrderGroupsApi,
  OrdersApi,
  PortfolioApi,
} = require("kalshi-typescript");

function client(baseUrl, account) {
  return common.client(baseUrl, account, {
    orders: OrdersApi,
    groups: OrderGroupsApi,
    markets: MarketApi,
    portfolio: PortfolioApi,
  });
}

async function main() {
  const input = JSON.parse(await readStdin());
  const market = input.market;
  const buyer = client(input.base_url, input.buyer);
  const seller = client(input.base_url, input.seller);
  const out = {};

  // A resting bid, read back, seen in the book, then cancelled.
  const placed = await buyer.orders.createOrderV2({
    ticker: market, side: "bid", count: "10", price: "0.56",
    time_in_force: "good_till_canceled", self_trade_prevention_type: "taker_at_cross",
    client_order_id: "ts-resting-1",
  });
  out.create = { status: placed.status, data: placed.data };
  out.resting_order = (await buyer.orders.getOrder(placed.data.order_id)).data.order;
  out.book_resting = (await buyer.markets.getMarketOrderbook(market)).data;
  const cancelled = await buyer.orders.cancelOrderV2(placed.data.order_id);
  out.cancel = { status: cancelled.status, data: cancelled.data };
  out.cancelled_order = (await buyer.orders.getOrder(placed.data.order_id)).data.order;
  out.book_empty = (await buyer.markets.getMarketOrderbook(market, 5)).data;
  out.cancel_again = await refusal(() => buyer.orders.cancelOrderV2(placed.data.order_id));

  // A crossing trade: the seller's ask rests, the buyer's IOC bid takes part of it.
  const ask = await seller.orders.createOrderV2({
    ticker: market, side: "ask", count: "10", price: "0.56",
    time_in_force: "good_till_canceled", self_trade_prevention_type: "taker_at_cross",
  });
  out.ask = ask.data;
  out.book_ask = (await buyer.markets.getMarketOrderbooks([market])).data;
  const take = await buyer.orders.createOrderV2({
    ticker: market, side: "bid", count: "4", price: "0.60",
    time_in_force: "immediate_or_cancel", self_trade_prevention_type: "taker_at_cross",
  });
  out.take = { status: take.status, data: take.data };
  out.buyer_fills = (await buyer.portfolio.getFills(market)).data;
  out.seller_fills = (await seller.portfolio.getFills(undefined, ask.data.order_id)).data;
  out.buyer_positions = (await buyer.portfolio.getPositions()).data;
  out.seller_positions = (await seller.portfolio.getPositions()).data;
  out.trades = (await buyer.markets.getTrades(10, undefined, market)).data;
  out.seller_orders = (await seller.orders.getOrders(market)).data;
  out.book_after = (await buyer.markets.getMarketOrderbook(market)).data;
  out.fok = await refusal(() => buyer.orders.createOrderV2({
    ticker: market, side: "bid", count: "100", price: "0.56",
    time_in_force: "fill_or_kill", self_trade_prevention_type: "taker_at_cross",
  }));

  // Amend and decrease the rest of the ask; then cancel everything.
  const amended = await seller.orders.amendOrderV2(ask.data.order_id, {
    ticker: market, side: "ask", price: "0.58", count: "9",
  });
  out.amend = amended.data;
  const decreased = await seller.orders.decreaseOrderV2(ask.data.order_id, { reduce_by: "1" });
  out.decrease = decreased.data;
  const group = await seller.groups.createOrderGroup({ contracts_limit: 5 });
  out.group = { status: group.status, data: group.data };
  out.cancel_all = { status: (await seller.orders.cancelAllOrders()).status };
  out.book_final = (await buyer.markets.getMarketOrderbook(market)).data;

  process.stdout.write(JSON.stringify(out) + "\n");
}

run(main);
