"""ms per resource against catalog size: under mocks (ours, baseline, floor) and on the engine (matplotlib, bench/requirements.txt).

``.venv/bin/python bench/plot.py bench/results/reference.json docs/performance-ms-per-resource.png``

The engine panel is drawn when the results hold an engine series (``engine.sizes``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

LABELS = {"ours": "ours (settings + components)", "baseline": "flat baseline (same resources)", "floor": "SDK floor (bare CustomResource)"}
ENGINE_LINES = (
    ("ours preview --policy-pack pack", "o", "ours, preview with the pack"),
    ("ours preview", "s", "ours, preview"),
    ("flat preview", "^", "flat floor program, preview"),
    ("fair preview", "v", "fair floor program (same components), preview"),
    ("ours up (no-op)", "x", "ours, no-op up"),
)


def _axis(ax, x: list[int], xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{v:,}" for v in x])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def draw(results: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engine = (results.get("engine") or {}).get("sizes") or {}
    panels = (1 if results.get("programs") else 0) + (1 if engine else 0)
    fig, axes = plt.subplots(1, max(panels, 1), figsize=(7 * max(panels, 1), 4.2), dpi=120, squeeze=False)
    column = 0
    if results.get("programs"):
        ax = axes[0][column]
        column += 1
        sizes = list(results["programs"].values())
        x = [s["credentials"] for s in sizes]
        for variant, marker in (("ours", "o"), ("baseline", "s"), ("floor", "^")):
            ax.plot(x, [s["variants"][variant]["ms_per_resource"] for s in sizes], marker=marker, label=LABELS[variant])
        _axis(
            ax,
            x,
            "credentials in the catalog (custom resources ≈ 3 per credential)",
            "CPU ms per registered resource (median)",
            "Program evaluation under Pulumi mocks",
        )
    if engine:
        ax = axes[0][column]
        sizes = sorted(engine.values(), key=lambda s: s["credentials"])
        x = [s["credentials"] for s in sizes]
        for op, marker, label in ENGINE_LINES:
            points = [(s["credentials"], s["ops"][op]["ms_per_resource"]) for s in sizes if op in s["ops"]]
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker=marker, label=label)
        _axis(
            ax,
            x,
            "credentials in the local stack (render mode)",
            "wall ms per custom resource (median)",
            "Real engine: pulumi preview / up",
        )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


if __name__ == "__main__":
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
