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

const axios = require("axios");
const {
  Configuration,
  EventsApi,
  ExchangeApi,
  MarketApi,
  MultivariateApi,
  PortfolioApi,
} = require("kalshi-typescript");

function readStdin() {
  return new Promise((resolve, reject) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => { text += chunk; });
    process.stdin.on("end", () => resolve(text));
    process.stdin.on("error", reject);
  });
}

async function main() {
  const input = JSON.parse(await readStdin());
  const configuration = new Configuration({
    apiKey: input.account.key_id,
    privateKeyPem: input.account.private_key_pem,
    basePath: input.base_url + "/trade-api/v2",
  });
  const http = axios.create();
  const events = new EventsApi(configuration, undefined, http);
  const markets = new MarketApi(configuration, undefined, http);
  const exchange = new ExchangeApi(configuration, undefined, http);
  const combos = new MultivariateApi(configuration, undefined, http);
  const portfolio = new PortfolioApi(configuration, undefined, http);
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

main().catch((error) => {
  const report = { error: String(error && error.message ? error.message : error) };
  if (error && error.response) {
    report.status = error.response.status;
    report.data = error.response.data;
    report.request = `${error.config && error.config.method} ${error.config && error.config.url}`;
  }
  process.stderr.write(JSON.stringify(report) + "\n");
  process.exit(1);
});
