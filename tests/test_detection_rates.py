"""Detection rates of the bundled MNIST profile on the committed fixtures, at level 0.01.

Run with ``pytest -s`` to see the table of rates.
"""

from pathlib import Path

import numpy as np
import pytest

from gandetect.engine import Model, score_batch
from gandetect.loading import batch_from_array, read_samples
from gandetect.profile import load_bundled_profile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mnist"

# (set, minimum share flagged, minimum share of the flagged labelled adversarial)
EXPECTED = {
    "real-heldout.npz": (None, None),
    "real-shift/": (None, None),
    "real-jpeg85/": (None, None),
    "laundered/": (None, None),
    "mlp-gan.npz": (0.95, None),
    "mlp-gan/": (0.95, None),
    "fgsm-0.05.npz": (0.95, 0.90),
    "pgd-0.1.npz": (0.95, 0.90),
    "lsgan.npz": (0.99, None),
    "wgan-gp.npz": (0.99, None),
    "lsgan/": (0.95, None),
    "wgan-gp/": (0.95, None),
    "fgsm-0.1.npz": (0.98, 0.95),
    "fgsm-0.2.npz": (0.98, 0.95),
    "fgsm-0.3.npz": (0.98, 0.95),
    "bernoulli/": (0.99, None),
}


def _load(name: str):
    path = FIXTURES / name
    if name.endswith("/"):
        files = sorted(path.glob("*.png"))
        return batch_from_array(np.concatenate([read_samples(file).values for file in files]), source=name)
    return read_samples(path)


@pytest.fixture(scope="module")
def rates():
    model = Model.from_profile(load_bundled_profile("image"))
    table = {}
    for name in EXPECTED:
        verdicts = [result.verdict for result in score_batch(_load(name), model)]
        flagged = sum(verdict != "real" for verdict in verdicts)
        adversarial = sum(verdict == "adversarial" for verdict in verdicts)
        table[name] = (len(verdicts), flagged / len(verdicts), adversarial / max(flagged, 1))
    print()
    print(f"{'set':20s} {'n':>5s} {'flagged':>8s} {'adversarial/flagged':>20s}")
    for name, (n, flagged, adversarial) in table.items():
        print(f"{name:20s} {n:5d} {flagged:8.3f} {adversarial:20.3f}")
    return table


def test_real_digits_rarely_flagged(rates):
    n, flagged, _ = rates["real-heldout.npz"]

    assert n == 1000
    assert flagged <= 0.02


def test_shifted_real_digits_rarely_flagged(rates):
    _, flagged, _ = rates["real-shift/"]

    assert flagged <= 0.02


@pytest.mark.parametrize("name", [name for name, (minimum, _) in EXPECTED.items() if minimum])
def test_fakes_flagged(rates, name):
    _, flagged, _ = rates[name]

    assert flagged >= EXPECTED[name][0]


@pytest.mark.parametrize("name", [name for name, (_, minimum) in EXPECTED.items() if minimum])
def test_fgsm_labelled_adversarial(rates, name):
    _, _, adversarial = rates[name]

    assert adversarial >= EXPECTED[name][1]


@pytest.mark.parametrize("name", ["lsgan.npz", "wgan-gp.npz", "mlp-gan.npz", "lsgan/", "wgan-gp/", "mlp-gan/", "laundered/"])
def test_gan_labelled_gan(rates, name):
    _, _, adversarial = rates[name]

    assert adversarial <= 0.05
