"""What every figure draws the same way: one colour per policy, bands around a mean, smoothing
and the rounds shown on a log axis.

A policy keeps its colour in every figure, so a reader who learnt that GTA is green in one
figure reads the next without its legend. Things that are not policies (prior kinds, time
models, data sources) take `category_colour`, matplotlib's darker Dark2 palette, so that none
of them wears a policy's colour.
"""

from __future__ import annotations

import matplotlib
import numpy as np

POLICY_COLOURS: dict[str, str] = {
    "ata": "tab:blue", "ata-empirical": "tab:orange", "gta": "tab:green", "uta": "tab:red",
    "ofta": "tab:purple", "ata-window": "tab:olive", "ata-empirical-window": "tab:brown",
    "ata-discounted": "tab:cyan", "ata-empirical-discounted": "tab:pink",
    "ofta-moving": "tab:gray", "thompson": "midnightblue", "explore-commit": "darkgoldenrod",
    "msync": "yellowgreen", "ofta-expected": "black"}
"""One colour per name in `ata_jax.allocators.ALL_POLICY_NAMES`: matplotlib's ten tab colours
(the paper's five in the order of its default cycle), then four named ones."""

LINE_WIDTH = 1.2
BAND_ALPHA = 0.2
LEGEND_FONT_SIZE = 7
MARKER_LINE = dict(color="black", linestyle=":", linewidth=0.8)
"""A vertical or horizontal line that marks a place (a change, the true value), not data."""


def category_colour(index: int):
    """The index-th colour of `Dark2`, for categories that are not policies."""
    palette = matplotlib.colormaps["Dark2"].colors
    return palette[index % len(palette)]


def draw_band(axis, x, centre, half_width, colour, label=None, *, floor_fraction=None,
              **line_style):
    """A line at `centre` with a shaded band centre ± half_width, against x.

    floor_fraction: on a log axis a band reaching zero or below would vanish, so its lower
    edge is kept at this fraction of the centre.
    """
    low = centre - half_width
    if floor_fraction is not None:
        low = np.maximum(low, floor_fraction * centre)
    line_style.setdefault("linewidth", LINE_WIDTH)
    axis.plot(x, centre, color=colour, label=label, **line_style)
    axis.fill_between(x, low, centre + half_width, color=colour, alpha=BAND_ALPHA,
                      linewidth=0)


def moving_average(values: np.ndarray, width: int) -> np.ndarray:
    """Means of each `width` consecutive values ([len − width + 1])."""
    return np.convolve(values, np.ones(width) / width, mode="valid")


def log_spaced_rounds(num_rounds: int, count: int = 300) -> np.ndarray:
    """About `count` distinct rounds 1..K, evenly spaced on a log axis (K included)."""
    return np.unique(np.geomspace(1, num_rounds, count).round().astype(np.int64))
