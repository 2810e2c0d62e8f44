"""`--help` of every command and subcommand (walked from the parser, not listed here): each option explained, the
sandbox's scenarios named (from graph_sandbox, where they are defined), an example, and the exit statuses."""

from __future__ import annotations

import argparse

import pytest

from graph_sandbox import SCENARIOS
from orchestration.cli import build_parser


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("sentrum",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(build_parser()))


def test_the_walk_finds_the_commands():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"sentrum demo", "sentrum sync", "sentrum workspaces add", "sentrum sandbox serve"} <= names
    assert len(names) > 15


@pytest.mark.parametrize("path,parser", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_explains_every_option_and_gives_an_example_and_the_exit_statuses(path, parser):
    text = parser.format_help()
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            assert action.help and action.help.strip(), f"{' '.join(path)}: {action.option_strings or action.dest}"
    assert "example:\n  " in text
    example = text.split("example:\n  ", 1)[1].splitlines()[0]
    assert " ".join(path) in example  # the example runs this command (a group's: one of its actions)
    assert "exit status: 0 ok" in text and "2 bad input" in text


@pytest.mark.parametrize("path,parser", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_scenario_option_names_the_sandbox_s_scenarios(path, parser):
    for action in parser._actions:
        if "--scenario" in action.option_strings:
            assert all(name in action.help for name in SCENARIOS), action.help


def test_pipeline_commands_take_verbose_before_or_after_the_command():
    parser = build_parser()
    assert parser.parse_args(["-v", "demo"]).verbose is True
    assert parser.parse_args(["demo", "-v"]).verbose is True
    assert parser.parse_args(["demo"]).verbose is False
    assert parser.parse_args(["sync", "--workspace", "acme", "--verbose"]).verbose is True
