"""The `chartledger` command tree, walked as click walks it.

The top-level group imports its commands only when asked (`cli.main.COMMANDS`), so `.commands`
holds only those loaded so far: walk through `list_commands` and `get_command`, which load them.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from cli.main import cli


def subcommands(group: click.Group) -> list[tuple[str, click.Command]]:
    """Every command of GROUP with its name, in the order `--help` lists them."""
    ctx = click.Context(group)
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"{group.name} lists {name!r} but has no such command"
        found.append((name, command))
    return found


def command_at(words: Iterable[str]) -> click.Command:
    """The command these words name, from the top (`("chart", "add")`)."""
    command: click.Command = cli
    for word in words:
        assert isinstance(command, click.Group), f"{command.name} has no subcommands"
        found = command.get_command(click.Context(command), word)
        assert found is not None, f"no command {word!r} in {command.name}"
        command = found
    return command
