// Read a market's life through Kalshi's official TypeScript SDK (kalshi-typescript 3.30.0,
// unmodified), pointed at a sandbox: series, events (nested markets), the exchange schedule,
// combo collections and a combo market made from legs, and the caller's settlements.
//
// Input (stdin, JSON): {"base_url": "http://127.0.0.1:PORT", "series": "...",
//   "event": "...", "collection": "...", "legs": [{event_ticker, market_ticker, side}],
//   "account": {"key_id": "...", "private_key_pem": "..."}}
// Output (stdout, JSON): what each call returned, for the caller to assert on.
// Exit status 1 with a JSON error on stderr when any step fails.
"use strict";

const common = require("./common");

const { readStdin, run } = common;
const {
  EventsApi,
  ExchangeApi,
  MarketApi,
  MultivariateApi,
  PortfolioApi,
} = require("kalshi-typescript");

async function main() {
  const input = JSON.parse(await readStdin());
  const { events, markets, exchange, combos, portfolio } = common.client(input.base_url, input.account, {
    events: EventsApi,
    markets: MarketApi,
    exchange: ExchangeApi,
    combos: MultivariateApi,
    portfolio: PortfolioApi,
  });
  const out = {};
  out.series = (await markets.getSeries(input.series)).data;
  out.series_list = (await markets.getSeriesList()).data;
  out.events = (await events.getEvents(10, undefined, true, undefined, undefined,
    input.series)).data;
  out.event = (await events.getEvent(input.event, true)).data;
  out.schedule = (await exchange.getExchangeSchedule()).data;
  out.collections = (await combos.getMultivariateEventCollections()).data;
  out.combo = (await combos.createMarketInMultivariateEventCollection(input.collection, {
    selected_markets: input.legs,
  })).data;
  out.multivariate = (await events.getMultivariateEvents(10, undefined, undefined,
    input.collection, true)).data;
  out.settlements = (await portfolio.getSettlements()).data;
  process.stdout.write(JSON.stringify(out) + "\n");
}

run(main);
