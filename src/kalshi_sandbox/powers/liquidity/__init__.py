"""Liquidity on demand, a tester power: built-in market makers that keep a two-sided book.

A liquidity maker owns an ordinary account and quotes through the exchange's order use cases
(``exchange/orders.py``) as that account, so its orders obey every rule (price grid, funds,
post-only, self-trade prevention) and produce every event and message a user's orders do;
anyone may trade against them. Around each market's fair value it keeps ``depth`` orders on
each side, the best bid and ask ``spread`` apart and the next ones ``step`` apart, each for
``size`` contracts, rounded onto the market's price grid (bids down, asks up).

Every ``interval`` of sandbox time (a timer in the exchange's scheduler, so a manual clock
moves it only when advanced) the fair value takes one step and the maker requotes. The step is
a random walk of standard deviation ``volatility`` kept between $0.01 and $0.99; while a path
the test set is in force, it is the value of the path's latest point reached instead (held
after the last point until the path is replaced or cleared). Requoting cancels the orders no
longer on the ladder and tops up the levels that were traded. A market that is not open is not
quoted: its orders are withdrawn, and come back when it opens again. Creating a maker,
changing it and setting a fair value requote at once.

Configurations and fair values are stored in the database (``meta`` key ``liquidity``), so they
come back after a restart and vanish with a reset; the requote timers live in memory and are
armed again from the instant the server starts.
"""
