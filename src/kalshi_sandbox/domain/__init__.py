"""Every rule of the emulated exchange, in pure Python with the standard library only.

States and transition tables, the checks Kalshi runs before each transition and the order of
its errors, who sees what, windows and fees, and how money moves. Time comes in as an
argument (``clock.py`` is the seam); nothing here does I/O.
"""
