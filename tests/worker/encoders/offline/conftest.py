"""Shared, expensive fixtures of the offline model's tests: one FluidSynth render and one loaded model."""

from __future__ import annotations

import numpy as np
import pytest

from tests.worker.encoders.offline import renders


@pytest.fixture(scope="package")
def rendered() -> dict[str, np.ndarray]:
    return renders.render_named({"piano": renders.piano_solo(), "drums": renders.drums_alone(),
                                 "fast": renders.band(160.0), "slow": renders.band(70.0)})


@pytest.fixture(scope="package")
def committed():
    """The encoder with the committed weights (loaded offline: HF_HUB_OFFLINE is set for all tests)."""
    from worker.encoders.offline.encoder import OfflineEncoder

    return OfflineEncoder()
