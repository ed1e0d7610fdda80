"""Partner settings: the provider and its API key (encrypted at rest, write-only)."""
