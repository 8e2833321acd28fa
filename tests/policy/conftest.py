"""Fixtures for the policy engine tests. No database: the engine reads only its parameter files."""

import io
import json
from dataclasses import dataclass

import pytest

from portal.policy.cli import main


@dataclass
class CliRun:
    status: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)

    @property
    def lines(self):
        return [json.loads(line) for line in self.stdout.splitlines()]


@pytest.fixture
def run_cli():
    """Runs the policy CLI in-process with the given argv and stdin text."""

    def run(argv, stdin_text):
        stdout, stderr = io.StringIO(), io.StringIO()
        status = main(argv, stdin=io.StringIO(stdin_text), stdout=stdout, stderr=stderr)
        return CliRun(status, stdout.getvalue(), stderr.getvalue())

    return run
