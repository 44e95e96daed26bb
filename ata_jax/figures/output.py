"""Writing a figure and its data: NAME.png beside NAME.json, which records every parameter,
the package and JAX versions, the device and the command line."""

from __future__ import annotations

import json
import math
import pathlib

import matplotlib

matplotlib.use("Agg")  # figures are files; no display needed
import matplotlib.pyplot as plt  # noqa: E402

from ata_jax.provenance import command_line, package_version  # noqa: E402

QUICK = {"quick": False}
"""Whether the figure being written is a --quick smoke run (set by `figures.reproduce`);
recorded in its JSON so that a quick run never replaces a full-size figure unasked."""


def _json_safe(value):
    """NaN and ±inf become None (JSON has no such numbers); NumPy values become Python ones."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if hasattr(value, "tolist"):
        return _json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def save_figure(figure, out_dir: pathlib.Path, name: str, settings: dict,
                data: dict) -> list[pathlib.Path]:
    """Save `figure` as out_dir/name.png and {settings, data, provenance} as name.json."""
    import jax

    png = out_dir / f"{name}.png"
    figure.savefig(png, dpi=120)
    plt.close(figure)
    document = {"figure": name, "quick": QUICK["quick"], "settings": settings, "data": data,
                "provenance": {"ata_jax": package_version(), "jax": jax.__version__,
                               "device": jax.devices()[0].device_kind,
                               "device_count": jax.local_device_count(),
                               "command": command_line()}}
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(_json_safe(document), allow_nan=False) + "\n")
    return [png, path]
