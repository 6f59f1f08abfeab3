"""kalshi-sandbox: a self-hostable emulator of Kalshi's Trade API v2 RFQ system."""

__version__ = "0.1.0"

__all__ = ["__version__"]
