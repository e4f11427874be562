"""Read models that follow the ledger's notification log."""
