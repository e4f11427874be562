"""Pure decisions: no I/O, no clock, no imports from the rest of Chartledger."""
