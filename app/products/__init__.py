"""Products and services the entity sells."""
