"""Hypothesis profiles of the ingest fuzz suite: `short` in `make test`, `long` in `make fuzz`
(POVMON_FUZZ_PROFILE=long). Each example is one full in-process ingest of a tiny export (~2 s).
`debug` generates without shrinking (a failing example shows at once)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
               print_blob=True)
settings.register_profile("short", max_examples=20, derandomize=True,  # the same examples every run
                          phases=[Phase.explicit, Phase.generate], **_COMMON)  # a failure shows unshrunk, at once
settings.register_profile("long", max_examples=1000, **_COMMON)
settings.register_profile("debug", max_examples=300, phases=[Phase.explicit, Phase.reuse, Phase.generate], **_COMMON)
settings.load_profile(os.environ.get("POVMON_FUZZ_PROFILE", "short"))
