"""The thin `chartledger` command line: parse, make one call, print."""
