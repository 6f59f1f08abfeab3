"""A client for Kalshi's Trade API v2 (the sandbox, demo or production).

This package never imports the server's packages.
"""

from kalshi_sandbox.client.auth import KalshiAuth, load_private_key, sign_request

__all__ = ["KalshiAuth", "load_private_key", "sign_request"]
