"""Synced records: the binding of our objects to provider records, and the troubleshooting API."""
