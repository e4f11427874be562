"""Entry point of the `chartledger` command (errors become exit codes in `cli.main.LedgerGroup`)."""

from __future__ import annotations


def main() -> None:
    from cli.main import cli

    cli(prog_name="chartledger")


if __name__ == "__main__":
    main()
