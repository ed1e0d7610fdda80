"""Pulled ledger accounts and tax rates (read-only in the API)."""
