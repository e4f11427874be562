"""Entry point: every `LedgerError` becomes one plain sentence and its exit code, here only."""

from __future__ import annotations

import sys

import click


def main(argv: list[str] | None = None) -> int:
    from cli.main import cli

    try:
        cli.main(args=argv, prog_name="chartledger", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted; nothing half-written was kept.", err=True)
        return 130
    except Exception as error:
        from ledger.errors import LedgerError

        if isinstance(error, LedgerError):
            click.echo(f"Error: {error}", err=True)
            return error.exit_code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
