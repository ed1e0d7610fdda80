"""Counterparts: the entity's customers and vendors."""
