// The kalshi-sandbox dashboard: one stream of server-sent events carries the whole state
// after every change (GET /sandbox/v1/dashboard/feed); every action is a control-plane call.
// The admin token, when the server has one, is kept for this tab only (sessionStorage) and
// sent as a bearer token; fetch streams the events so that it can send it.
"use strict";

const CONTROL = "/sandbox/v1";
const ADVANCES = [1, 5, 15, 30, 60];
let state = null;
let receivedAt = 0; // performance.now() when the state arrived
let generation = 0; // bumps when a new feed connection replaces the old one

function token() { return sessionStorage.getItem("kalshi-sandbox-token") || ""; }

function headers(json) {
  const result = {};
  if (json) result["Content-Type"] = "application/json";
  if (token()) result["Authorization"] = "Bearer " + token();
  return result;
}

function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function short(id) { return id ? String(id).slice(0, 8) : ""; }

function setStatus(text, kind) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = "status " + (kind || "");
}

function showError(text) { document.getElementById("error").textContent = text || ""; }

async function call(method, path, body) {
  showError("");
  const response = await fetch(CONTROL + path, {
    method, headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) askToken();
  if (!response.ok) {
    const text = await response.text();
    showError(`${method} ${CONTROL}${path}: ${response.status} ${text}`);
    return null;
  }
  return response.status === 204 ? {} : response.json();
}

function askToken() {
  document.getElementById("token-form").hidden = false;
  setStatus("needs the admin token", "down");
}

// The sandbox clock --------------------------------------------------------------------------

function sandboxNow() {
  if (!state) return 0;
  const clock = state.clock;
  if (clock.mode === "manual") return clock.now_ms; // a manual clock stands still
  return clock.now_ms + (performance.now() - receivedAt) * (clock.speed || 1);
}

function countdown(due, label) {
  return h("span", {class: "countdown", "data-due": due, "data-label": label});
}

function tick() {
  const now = sandboxNow();
  const frozen = state && state.clock.mode === "manual";
  for (const element of document.querySelectorAll(".countdown")) {
    const due = Number(element.dataset.due);
    const left = Math.max(0, due - now) / 1000;
    element.textContent = `${element.dataset.label} ${left.toFixed(1)} s`;
    element.classList.toggle("frozen", frozen);
    element.classList.toggle("due", left <= 0);
  }
  if (state) {
    document.getElementById("clock-now").textContent = new Date(now).toISOString();
  }
}

// Rendering ----------------------------------------------------------------------------------

function fill(id, rows, columns) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(...(rows.length ? rows
    : [h("tr", {}, h("td", {class: "empty", colspan: columns}, "none"))]));
}

function stateBadge(status) { return h("span", {class: "state " + status}, status); }

function windowOf(quote) {
  if (quote.status === "accepted" && quote.confirm_deadline_ms)
    return countdown(quote.confirm_deadline_ms, "confirm within");
  if (quote.status === "confirmed" && quote.execute_at_ms)
    return countdown(quote.execute_at_ms, "executes in");
  return "";
}

function renderClock() {
  const clock = state.clock;
  document.getElementById("clock-mode").textContent =
    clock.mode === "manual" ? "manual" : `system ×${clock.speed}`;
  document.getElementById("clock-timers").textContent = `${clock.pending_timers} timers`;
  const controls = document.getElementById("clock-controls");
  if (clock.mode === "manual") {
    if (!controls.childElementCount) {
      controls.append(...ADVANCES.map(seconds => h("button", {
        type: "button", "data-advance": seconds,
        onclick: () => advance(seconds),
      }, `+${seconds}s`)));
    }
  } else {
    controls.replaceChildren();
  }
}

function renderRfqs() {
  const rows = [];
  for (const rfq of state.rfqs) {
    const quotes = rfq.quotes.length ? rfq.quotes : [null];
    quotes.forEach((quote, index) => {
      const head = index === 0;
      rows.push(h("tr", {class: head ? "rfq" : "", "data-rfq-id": rfq.id,
                         "data-quote-id": quote ? quote.id : null},
        h("td", {class: "mono", title: rfq.id}, head ? short(rfq.id) : ""),
        h("td", {}, head ? rfq.market_ticker : ""),
        h("td", {}, head ? rfq.requester : ""),
        h("td", {}, head ? rfq.contracts_fp : ""),
        h("td", {class: "mono", title: quote ? quote.id : ""}, quote ? short(quote.id) : ""),
        h("td", {}, quote ? quote.maker : h("span", {class: "empty"}, "no quotes yet")),
        h("td", {class: "yes"}, quote ? quote.yes_bid_dollars : ""),
        h("td", {class: "no"}, quote ? quote.no_bid_dollars : ""),
        h("td", {}, quote ? stateBadge(quote.status) : stateBadge(rfq.status)),
        h("td", {}, quote ? windowOf(quote) : ""),
      ));
    });
  }
  document.getElementById("rfq-count").textContent = `(${state.rfqs.length} open)`;
  fill("rfqs", rows, 10);
}

function renderExecutions() {
  fill("executions", state.executions.map(q => h("tr", {"data-quote-id": q.id},
    h("td", {class: "mono", title: q.id}, short(q.id)),
    h("td", {}, q.market_ticker),
    h("td", {}, q.requester),
    h("td", {}, q.maker),
    h("td", {class: q.accepted_side || ""}, q.accepted_side || ""),
    h("td", {class: "yes"}, q.yes_bid_dollars),
    h("td", {class: "no"}, q.no_bid_dollars),
    h("td", {}, q.contracts_fp),
  )), 8);
}

function renderFills() {
  fill("fills", state.fills.map(f => h("tr", {"data-fill-id": f.fill_id},
    h("td", {}, f.account),
    h("td", {}, f.ticker),
    h("td", {class: f.side}, f.side),
    h("td", {}, f.yes_price_dollars),
    h("td", {}, f.count_fp),
    h("td", {}, (f.is_taker ? "taker" : "maker") + (f.is_block_trade ? " · block" : "")),
  )), 6);
}

function ladder(title, levels, kind) {
  return h("table", {},
    h("thead", {}, h("tr", {}, h("th", {class: kind}, title), h("th", {}, "size"))),
    h("tbody", {}, levels.length ? levels.map(([price, size]) =>
      h("tr", {}, h("td", {class: kind}, price), h("td", {}, size)))
      : h("tr", {}, h("td", {class: "empty", colspan: 2}, "empty"))));
}

function renderMarkets() {
  const boxes = state.markets.map(m => h("div", {class: "market", "data-ticker": m.ticker},
    h("h3", {}, m.ticker, " ", h("span", {class: "muted"},
      m.status + (m.hvm ? " · HVM" : ""))),
    h("div", {class: "ladder"}, ladder("YES bids", m.yes_bids, "yes"),
      ladder("NO bids", m.no_bids, "no")),
    h("div", {class: "muted"}, "last trades: ", m.trades.length
      ? m.trades.map(t => `${t.count_fp} @ ${t.yes_price_dollars}`).join(", ") : "none"),
  ));
  document.getElementById("markets").replaceChildren(...boxes);
}

function renderAccounts() {
  fill("accounts", state.accounts.map(a => h("tr", {"data-user-id": a.user_id},
    h("td", {}, a.name),
    h("td", {class: "mono"}, "$" + a.balance_dollars),
    h("td", {}, a.positions.length
      ? a.positions.map(p => `${p.ticker} ${p.position_fp}`).join(", ") : ""),
  )), 3);
}

function toggle(kind, item) {
  return [
    h("button", {type: "button", onclick: () => call("PATCH", `/${kind}/${item.name}`,
      {active: !item.active})}, item.active ? "Pause" : "Resume"),
    h("button", {type: "button", onclick: () => call("DELETE", `/${kind}/${item.name}`)},
      "Stop"),
  ];
}

function renderControls() {
  fill("counterparties", state.counterparties.map(c => h("tr", {"data-name": c.name},
    h("td", {}, c.name), h("td", {}, c.kind),
    h("td", {}, c.active ? "running" : "paused"),
    h("td", {}, toggle("counterparties", c)),
  )), 4);
  fill("liquidity", state.liquidity.map(m => h("tr", {"data-name": m.name},
    h("td", {}, m.name),
    h("td", {}, (m.markets || []).map(x => typeof x === "string" ? x : x.ticker).join(", ")
      || "every open market"),
    h("td", {}, m.active ? "running" : "paused"),
    h("td", {}, toggle("liquidity", m)),
  )), 4);
  fill("faults", state.faults.map(f => h("tr", {"data-rule-id": f.id},
    h("td", {class: "mono"}, short(f.id)),
    h("td", {}, [f.match.method, f.match.path, f.match.account, f.match.market]
      .filter(Boolean).join(" ") || "everything"),
    h("td", {}, f.action.type + (f.action.status ? " " + f.action.status : "")
      + (f.remaining !== null && f.remaining !== undefined ? ` (${f.remaining} left)` : "")),
    h("td", {}, h("button", {type: "button",
      onclick: () => call("DELETE", `/faults/${f.id}`)}, "Remove")),
  )), 4);
}

function renderJournal() {
  const list = document.getElementById("journal");
  list.replaceChildren(...state.journal.slice().reverse().map(e =>
    h("li", {}, `#${e.seq} ${e.instant || ""} ${e.text}`)));
}

function render() {
  renderClock();
  renderRfqs();
  renderExecutions();
  renderFills();
  renderMarkets();
  renderAccounts();
  renderControls();
  renderJournal();
  tick();
}

function accept(next) {
  state = next;
  receivedAt = performance.now();
  render();
}

// Actions ------------------------------------------------------------------------------------

async function advance(seconds) {
  const clock = await call("POST", "/clock/advance", {seconds});
  if (clock && state) {
    // The feed brings the state; the clock moves on the page at once.
    state.clock = {...state.clock, now_ms: clock.now_ms, pending_timers: clock.pending_timers};
    receivedAt = performance.now();
    renderClock();
    tick();
  }
}

function nextName(prefix, items) {
  let n = 1;
  const names = new Set(items.map(i => i.name));
  while (names.has(`${prefix}-${n}`)) n++;
  return `${prefix}-${n}`;
}

function wire() {
  document.getElementById("add-maker").addEventListener("click", () =>
    call("POST", "/counterparties/makers", {name: nextName("maker", state.counterparties)}));
  document.getElementById("add-requester").addEventListener("click", () =>
    call("POST", "/counterparties/requesters",
         {name: nextName("requester", state.counterparties)}));
  document.getElementById("add-liquidity").addEventListener("click", () =>
    call("POST", "/liquidity", {name: nextName("liquidity", state.liquidity)}));
  document.getElementById("fault-form").addEventListener("submit", event => {
    event.preventDefault();
    const path = document.getElementById("fault-path").value.trim();
    const status = Number(document.getElementById("fault-status").value || 503);
    const rule = {action: {type: "error", status}};
    if (path) rule.match = {path};
    call("POST", "/faults", rule);
  });
  document.getElementById("token-form").addEventListener("submit", event => {
    event.preventDefault();
    sessionStorage.setItem("kalshi-sandbox-token", document.getElementById("token").value);
    document.getElementById("token-form").hidden = true;
    connect();
  });
}

// The feed -----------------------------------------------------------------------------------

function handle(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (name === "state" && data.length) accept(JSON.parse(data.join("\n")));
}

async function connect() {
  const mine = ++generation;
  setStatus("connecting…");
  try {
    const response = await fetch(CONTROL + "/dashboard/feed", {headers: headers(false)});
    if (response.status === 401) { askToken(); return; }
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    setStatus("live", "live");
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    while (mine === generation) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        handle(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    reader.cancel().catch(() => {});
  } catch (error) {
    showError(`feed: ${error.message || error}`);
  }
  if (mine === generation) {
    setStatus("reconnecting…", "down");
    setTimeout(() => { if (mine === generation) connect(); }, 1000);
  }
}

wire();
connect();
setInterval(tick, 100);
