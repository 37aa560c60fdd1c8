"""ms per resource against catalog size for ours, the baseline and the floor (matplotlib, bench/requirements.txt).

``.venv/bin/python bench/plot.py bench/results/reference.json docs/performance-ms-per-resource.png``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

LABELS = {"ours": "ours (settings + components)", "baseline": "flat baseline (same resources)", "floor": "SDK floor (bare CustomResource)"}


def draw(results: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = list(results["programs"].values())
    x = [s["credentials"] for s in sizes]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for variant, marker in (("ours", "o"), ("baseline", "s"), ("floor", "^")):
        y = [s["variants"][variant]["ms_per_resource"] for s in sizes]
        ax.plot(x, y, marker=marker, label=LABELS[variant])
    ax.set_xscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{v:,}" for v in x])
    ax.set_xlabel("credentials in the catalog (custom resources ≈ 3 per credential)")
    ax.set_ylabel("CPU ms per registered resource (median)")
    ax.set_ylim(bottom=0)
    ax.set_title("Program evaluation under Pulumi mocks")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


if __name__ == "__main__":
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
