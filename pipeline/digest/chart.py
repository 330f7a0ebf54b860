"""The digest's one picture: the week's most-mentioned actors as a bar chart (PNG bytes)."""

from __future__ import annotations

import io
from datetime import date


def chart_png(top: tuple[tuple[str, int], ...], day: date) -> bytes:
    """A small horizontal bar chart of the week's most-mentioned actors."""
    import matplotlib

    matplotlib.use("Agg")  # no display; the daemon has none
    from matplotlib.figure import Figure

    # Figure (not pyplot): no global state, safe in the daemon's threads.
    fig = Figure(figsize=(5.0, 0.35 * len(top) + 0.9), dpi=80)
    ax = fig.subplots()
    names = [name for name, _ in reversed(top)]
    ax.barh(names, [n for _, n in reversed(top)], color="#3b6ea5")
    ax.set_title(f"Top actors, 7 days to {day.isoformat()}", fontsize=9, loc="right")
    ax.tick_params(labelsize=8)
    ax.set_xlabel("mentions", fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
