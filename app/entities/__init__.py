"""Entities (the partner's customers) and their accounting settings."""
