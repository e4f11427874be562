"""The offline verifier: everything `chartledger verify --export` and `verify --package` run.

It checks a log from its stored bytes alone: the signed envelope (`envelope`), the key rules
(`registry`, with what they need of users in `identities`), admission of each event (`admission`),
the Merkle tree (`merkle`) and its signed checkpoints (`checkpoint`), the whole log (`log`), an
export folder (`export`) and a legal package (`package`). It imports only these pure integrity
modules, `ledger.errors` and `policies/`: no aggregate, store or application. The write side
imports it (the Merkle log admits events by the same rules); it never imports the write side,
and `tests/unit/test_architecture.py` holds it to that.
"""
