"""`ata-jax reproduce NAME [--quick]`: regenerate a figure and its data into a folder."""

from __future__ import annotations

import argparse
import os

from ata_jax.cli.common import UsageError


def add_parser(commands) -> None:
    """Register `reproduce` on the subcommand set `commands`."""
    from ata_jax.figures import FIGURES

    reproduce = commands.add_parser(
        "reproduce", help="regenerate a figure (PNG) and its data (JSON)",
        description="Regenerate a figure into --out-dir as PNG files, each with a JSON beside "
                    "it (every parameter, the plotted data, versions and device).")
    reproduce.add_argument("name", metavar="NAME", help=f"one of: {', '.join(FIGURES)}")
    reproduce.add_argument("--quick", action="store_true",
                           help="small settings for a smoke run (not the committed figures' "
                                "sizes), written to ./figures-quick by default")
    reproduce.add_argument("--out-dir", default=None, metavar="DIR",
                           help="where to write (default: ./figures, or ./figures-quick with "
                                "--quick; created if missing)")
    reproduce.add_argument("--replace", action="store_true",
                           help="let a --quick run write into a folder of full-size figures")
    reproduce.set_defaults(handler=run_reproduce)


def run_reproduce(arguments: argparse.Namespace) -> int:
    from ata_jax.figures import FIGURES, full_size_figures, reproduce

    if arguments.name not in FIGURES:
        raise UsageError(f"ata-jax reproduce: unknown figure {arguments.name!r}; valid "
                         f"figures: {', '.join(FIGURES)}")
    if arguments.out_dir is None:
        arguments.out_dir = "figures-quick" if arguments.quick else "figures"
    if arguments.quick and not arguments.replace and os.path.isdir(arguments.out_dir):
        full = full_size_figures(arguments.out_dir)
        if full:
            raise UsageError(f"ata-jax reproduce: {arguments.out_dir} holds full-size figures "
                             f"({full[0]}{' and others' if len(full) > 1 else ''}) that a "
                             "--quick run could overwrite: use another --out-dir (a --quick "
                             "run's default is figures-quick) or pass --replace")
    if os.path.exists(arguments.out_dir) and not os.path.isdir(arguments.out_dir):
        raise UsageError(f"ata-jax reproduce: --out-dir {arguments.out_dir} is not a directory")
    try:  # fail before the computation, not after it
        os.makedirs(arguments.out_dir, exist_ok=True)
        probe = os.path.join(arguments.out_dir, ".ata-jax-write-test")
        with open(probe, "w"):
            pass
        os.unlink(probe)
    except OSError as error:
        raise UsageError(f"ata-jax reproduce: --out-dir {arguments.out_dir} cannot be "
                         f"written: {error.strerror or error}") from None
    from ata_jax.progress import Progress, reporting

    # the figure's simulations, sweeps and training runs report to this bar
    with reporting(Progress(f"reproduce {arguments.name}")):
        paths = reproduce(arguments.name, arguments.out_dir, arguments.quick)
    for path in paths:
        print(f"wrote {path}")
    return 0
