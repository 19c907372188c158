"""A small public-style household survey for the worked example of pipelines/measures/README.md:
4 regions named in words (strata), 3 villages each (PSUs), 6 households per village, household
design weights and sizes, per-capita income, three deprivation flags. Deterministic (seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd

REGIONS = {"North Coast": 1.0, "Inland Valley": 0.8, "Mountain": 0.6, "Delta": 1.2}  # income level


def example_survey(seed: int = 15) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for r, (region, level) in enumerate(REGIONS.items()):
        for v in range(3):
            village_effect = rng.normal(0, 0.25)
            for h in range(6):
                income = float(round(9000 * level * np.exp(village_effect + rng.normal(0, 0.6)), -1))
                rows.append({
                    "household": f"r{r}v{v}h{h}", "region": region, "village": f"r{r}v{v}",
                    "weight": float(40 + 10 * r + 5 * v), "size": int(rng.integers(1, 7)), "income": income,
                    "food_deprived": bool(income < 5000 and rng.random() < 0.6),
                    "water_deprived": bool(rng.random() < 0.2 + 0.1 * (region == "Mountain")),
                    "school_deprived": bool(rng.random() < 0.15),
                })
    return pd.DataFrame(rows)
