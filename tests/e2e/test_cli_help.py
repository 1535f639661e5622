"""Every command and sub-command says in one line what it does (``--help``)."""
from __future__ import annotations

import argparse

import pytest

from tui.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _commands(sub, (*prefix, name))


def test_every_command_has_a_description_and_a_line_in_its_parents_list():
    commands = dict(_commands(build_parser()))
    assert {("engine",), ("workflow", "list"), ("runs",), ("history",), ("import",)} <= set(commands)
    for path, parser in commands.items():
        assert parser.description and parser.description.strip(), path
        assert parser.format_help().count(parser.description.split()[0]) >= 1, path


@pytest.mark.parametrize("argv", [["engine", "--help"], ["workflow", "list", "--help"], ["--help"]])
def test_help_prints_the_description(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    lines = out.splitlines()
    desc_line = next(line for line in lines[1:] if line.strip())
    assert desc_line[:1].isupper() and not desc_line.startswith(("usage", "options")), out
    if argv == ["engine", "--help"]:
        assert desc_line.startswith("Run the engine without the UI"), out
