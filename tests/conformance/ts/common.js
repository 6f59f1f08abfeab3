// What every flow script shares: reading its input, one signed client per account, reading
// a refusal, and reporting a failed step as JSON on stderr with exit status 1.
"use strict";

const axios = require("axios");
const { Configuration } = require("kalshi-typescript");

function readStdin() {
  return new Promise((resolve, reject) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => { text += chunk; });
    process.stdin.on("end", () => resolve(text));
    process.stdin.on("error", reject);
  });
}

// Every API class registers its signing interceptor on the axios instance it is given, and
// the default is the process-wide global instance; two accounts sharing it would have every
// request signed by whichever interceptor runs last. One axios instance per account keeps
// each account's signatures its own. `apis` maps a name to an API class of the SDK.
function client(baseUrl, account, apis) {
  const configuration = new Configuration({
    apiKey: account.key_id,
    privateKeyPem: account.private_key_pem,
    basePath: baseUrl + "/trade-api/v2",
  });
  const http = axios.create();
  const built = {};
  for (const [name, Api] of Object.entries(apis)) {
    built[name] = new Api(configuration, undefined, http);
  }
  return built;
}

async function refusal(call) {
  try {
    const response = await call();
    return { status: response.status, data: response.data };
  } catch (error) {
    if (error.response) {
      return { status: error.response.status, data: error.response.data };
    }
    throw error;
  }
}

function run(main) {
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
}

module.exports = { client, readStdin, refusal, run };
