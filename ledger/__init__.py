"""The write side of Chartledger: signed events, identities, stores and integrity."""
