"""The sandbox's domain: pure Python, standard library only."""
