"""Partner authentication: client credentials -> JWT bearer tokens, and revocation."""
