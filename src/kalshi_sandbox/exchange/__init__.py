"""The emulated Kalshi: thin use cases, each one transaction that loads what the domain needs,
asks it, stores what it decides and publishes the events after commit.

Also the exchange's parts that are not rules: the unit of work, the storage port, the event
bus, the timer scheduler, ids, API keys and rate-limit buckets. It never imports a tester
power, Kalshi's API front door or a storage backend.
"""
