// Build Kalshi's TypeScript SDK from the Configuration values the fixture hands out, unchanged,
// and read the account's identity and balance with it.
//
// Input (stdin, JSON): one account's sb.kalshi_typescript_config(...) values, plus "use_path":
// true to sign with privateKeyPath instead of privateKeyPem.
// Output (stdout, JSON): {"communications_id", "balance"}.
"use strict";

const path = require("path");
const modules = path.join(__dirname, "..", "conformance", "ts", "node_modules");
const axios = require(path.join(modules, "axios"));
const { CommunicationsApi, Configuration, PortfolioApi } = require(
  path.join(modules, "kalshi-typescript"));

async function main() {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  const values = JSON.parse(text);
  if (values.use_path) delete values.privateKeyPem;
  else delete values.privateKeyPath;
  delete values.use_path;
  const configuration = new Configuration(values);
  const http = axios.create();
  const comms = new CommunicationsApi(configuration, undefined, http);
  const portfolio = new PortfolioApi(configuration, undefined, http);
  const identity = (await comms.getCommunicationsID()).data;
  const balance = (await portfolio.getBalance()).data;
  process.stdout.write(JSON.stringify({
    communications_id: identity.communications_id, balance: balance.balance }));
}

main().catch((error) => {
  const response = error.response;
  process.stderr.write(JSON.stringify(response
    ? { status: response.status, body: response.data } : { message: String(error) }));
  process.exit(1);
});
