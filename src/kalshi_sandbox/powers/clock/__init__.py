"""The clock power: a manual clock moved on demand, or the system clock run faster.

A manual clock only moves when told to (``POST /sandbox/v1/clock/advance``), firing every
timer that falls due on the way, each at its own instant; it is remembered in the database,
so a restart resumes where it stood. The system clock can run faster by a speed factor.
"""
