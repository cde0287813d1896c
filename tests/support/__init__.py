"""Helpers that run outside the pytest process (worker entry points) and the harness that drives them."""
