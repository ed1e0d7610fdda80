"""Read-only views of the bills and invoices pulled from the accounting system."""
