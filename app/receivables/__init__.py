"""Receivables (invoices the entity issues), their lines, discounts and Monite's lifecycle."""
