"""A verifier of exports written from docs/format.md alone (no project imports)."""
