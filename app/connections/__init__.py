"""Accounting connections: an entity's link to one accounting platform through the provider."""
