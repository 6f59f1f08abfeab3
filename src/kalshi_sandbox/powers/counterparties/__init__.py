"""Built-in counterparties, a tester power: auto-makers and auto-requesters that trade
through the exchange.

Each counterparty owns an ordinary account and acts through the same ``Exchange`` use cases as
any caller, with an ``Actor`` for that account, so it obeys every rule and its actions emit
every event. It reacts to committed events (it listens on the hub): an auto-maker to
``RfqCreated`` (quote) and ``QuoteAccepted`` of its own quotes (confirm, or not), an
auto-requester to ``QuoteCreated`` on its RFQs (accept the best one, or delete the RFQ).

Its delays are timers in the exchange's own scheduler, so a manual clock fires them in order
with the exchange's timers, each at its own instant. They live in memory, not in the timers
table: a reaction is scheduled synchronously while the event that caused it is published,
so it is in the scheduler before the response of the request that caused it is sent. Each
delay is counted from the instant in the event (an RFQ's ``created_ts``, a quote's
``accepted_ts``), not from when the listener happens to run.

Configurations are stored in the database (``meta`` key ``counterparties``), in the same
transaction as each change, so they come back after a restart and vanish with a reset. Pending
reactions (a quote about to be sent, a confirm about to arrive) are not stored: a restart
forgets them, as a real bot that crashes would, and interval requesters start counting their
interval again from the instant the server starts.
"""

