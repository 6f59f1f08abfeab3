"""Use cases: each one transaction that loads, applies a domain rule, stores and publishes."""
