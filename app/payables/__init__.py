"""Payables (bills the entity received), their line items and Monite's payable lifecycle."""
