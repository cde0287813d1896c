"""Stripe payments for Django sites whose payment records live in MongoDB."""

__version__ = "0.1.0"
