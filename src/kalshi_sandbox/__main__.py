"""Allow ``python -m kalshi_sandbox``."""

from kalshi_sandbox.cli import main

main()
