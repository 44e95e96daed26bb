"""Writing a figure and its data: NAME.png beside NAME.json, which records every parameter,
the package and JAX versions, the device and the command line."""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")  # figures are files; no display needed
import matplotlib.pyplot as plt  # noqa: E402

from ata_jax.files import json_safe, write_json_atomically  # noqa: E402
from ata_jax.provenance import provenance  # noqa: E402

QUICK = {"quick": False}
"""Whether the figure being written is a --quick smoke run (set by `figures.reproduce`);
recorded in its JSON so that a quick run never replaces a full-size figure unasked."""


def save_figure(figure, out_dir: pathlib.Path, name: str, settings: dict,
                data: dict) -> list[pathlib.Path]:
    """Save `figure` as out_dir/name.png and {settings, data, provenance} as name.json."""
    png = out_dir / f"{name}.png"
    figure.savefig(png, dpi=120)
    plt.close(figure)
    document = {"figure": name, "quick": QUICK["quick"], "settings": settings, "data": data,
                "provenance": provenance()}
    path = out_dir / f"{name}.json"
    write_json_atomically(str(path), json_safe(document), indent=None)
    return [png, path]
