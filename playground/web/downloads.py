"""Files a lab offers for download: its figures as JSON and CSV, its plots as PNG.

Each call writes into a fresh temporary folder, so two users never share a file;
Gradio copies returned files into its own cache and serves them from there.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from typing import Mapping, Optional

import pandas as pd

log = logging.getLogger("playground")


def write_downloads(
    prefix: str,
    figures: Optional[Mapping] = None,
    table: Optional[pd.DataFrame] = None,
    plots: Optional[Mapping[str, object]] = None,
) -> list[str]:
    """Write ``prefix.json`` (``figures``), ``prefix.csv`` (``table``) and one PNG per
    plotly figure in ``plots`` (name -> figure); returns the paths written.

    PNG export needs a Chromium for kaleido; where there is none the PNGs are
    skipped with a log line (the plot's own camera button still saves a PNG).
    """
    folder = tempfile.mkdtemp(prefix=f"playground-{prefix}-")
    paths = []
    if figures is not None:
        path = os.path.join(folder, f"{prefix}.json")
        with open(path, "w") as f:
            json.dump(figures, f, indent=2, default=float)
        paths.append(path)
    if table is not None:
        path = os.path.join(folder, f"{prefix}.csv")
        table.to_csv(path, index=False)
        paths.append(path)
    plots = dict(plots or {})
    pngs = {name: os.path.join(folder, f"{prefix}-{name}.png") for name in plots}
    if len(plots) > 1:
        # One browser for all the figures: kaleido starts Chromium per call otherwise
        # (seconds each); on any failure fall back to one call per figure below.
        try:
            import plotly.io as pio

            pio.write_images(list(plots.values()), list(pngs.values()), width=900, height=600)
            return paths + list(pngs.values())
        except Exception as exc:
            log.info("batch PNG export failed (%s); exporting one by one", exc)
    for name, fig in plots.items():
        try:
            fig.write_image(pngs[name], width=900, height=600)
            paths.append(pngs[name])
        except Exception as exc:  # no Chromium for kaleido: keep the other downloads
            log.warning("PNG export of %s skipped: %s", name, exc)
    return paths
