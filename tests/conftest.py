"""Fixtures shared by the test modules."""

import pytest


@pytest.fixture
def fails_with_one_line(capsys):
    """fails_with_one_line(arguments, *needles): `ata-jax ARGUMENTS` exits 2 with exactly
    one line on stderr, no traceback, holding every needle."""
    from ata_jax.cli import main

    def check(arguments, *needles):
        assert main(list(arguments)) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "Traceback" not in error, error
        for needle in needles:
            assert needle in error, error

    return check
