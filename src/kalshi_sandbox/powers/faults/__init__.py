"""Fault injection, a tester power: Kalshi's API failing, slowing down or losing messages.

A rule matches requests (or WebSocket data messages) and acts on them:

* on Kalshi API requests (REST, and the WebSocket handshake): ``error`` answers with a Kalshi
  error body (nested shape, docs/behaviour.md, "Wire") and any status; ``rate_limit``
  answers 429 with ``{"error": "too many requests"}``, as Kalshi's rate limiter does;
  ``latency`` waits before handling. An error or 429 answers before the request reaches its
  handler, so no transaction runs and no state changes.
* on WebSocket data messages: ``ws_drop`` loses the message, whose ``seq`` is still spent, so
  the client sees a gap as it would on Kalshi; ``ws_delay`` holds it back, together with every
  frame queued behind it on the connection, so no ``sid`` sees its order change; ``ws_close``
  closes the connection instead of sending it.

A rule matches on the request path (a glob), the method, the account (user id, key id or
account name; for messages, the recipient's) and the market (from the path, the query, the
JSON body, or the RFQ or quote the path names). It fires with a probability drawn from its own
seeded random generator, at most ``count`` times. Latency rules all apply; of the rules that
answer (error, 429) or lose a message (drop, close), the first that fires, in creation order,
wins.

A single request can also force a fault with the ``X-Sandbox-Fault`` header, e.g.
``error=503``, ``error=400:insufficient_balance``, ``rate_limit``, ``latency=250`` or several
separated by commas. The control plane (``/sandbox/v1``) is never faulted.

Latency and WebSocket delays are real time (transport latency), not sandbox time: they do not
depend on the sandbox clock, manual or not.
"""
