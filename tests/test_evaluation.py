"""`gandetect eval` against figures computed by hand from `gandetect score` output."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gandetect.cli import app
from gandetect.evaluation import SetScores, evaluate, rate_at_fpr

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mnist"
runner = CliRunner()


def _scores(path):
    result = runner.invoke(app, ["score", str(path), "--json"])
    return json.loads(result.stdout)["results"]


def _pairwise_auc(real, fake):
    """Mann-Whitney AUC: share of (real, fake) pairs ordered correctly, ties counting half."""
    wins = sum((f > r) + 0.5 * (f == r) for r in real for f in fake)
    return wins / (len(real) * len(fake))


@pytest.fixture(scope="module")
def small_sets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("labelled")
    real = folder / "real"
    real.mkdir()
    for path in sorted((FIXTURES / "real").glob("*.png"))[:40]:
        (real / path.name).write_bytes(path.read_bytes())
    gan = folder / "gan.npy"
    np.save(gan, np.load(FIXTURES / "wgan-gp.npz")["samples"][:6])
    adversarial = folder / "fgsm.npy"
    np.save(adversarial, np.load(FIXTURES / "fgsm-0.1.npz")["samples"][:4])
    return real, gan, adversarial


def test_eval_matches_hand_computed_figures(small_sets):
    real, gan, adversarial = small_sets

    result = runner.invoke(
        app, ["eval", "--real", str(real), "--gan", str(gan), "--adversarial", str(adversarial), "--json"]
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_hand = {path: _scores(path) for path in (real, gan, adversarial)}
    real_statistics = [record["statistic"] for record in by_hand[real]]
    for row, path in zip(report["sets"], (real, gan, adversarial)):
        verdicts = [record["verdict"] for record in by_hand[path]]
        flagged = sum(verdict != "real" for verdict in verdicts)
        assert row["n"] == len(verdicts)
        assert row["confusion"]["real"] == verdicts.count("real")
        assert row["confusion"]["gan"] == verdicts.count("gan")
        assert row["confusion"]["adversarial"] == verdicts.count("adversarial")
        assert row["flagged_share"] == pytest.approx(flagged / len(verdicts))
        if path != real:
            fake_statistics = [record["statistic"] for record in by_hand[path]]
            assert row["roc_auc"] == pytest.approx(_pairwise_auc(real_statistics, fake_statistics))
    real_flagged = sum(record["verdict"] != "real" for record in by_hand[real])
    assert report["overall"]["false_positive_rate"] == pytest.approx(real_flagged / 40)


def test_rate_at_fpr_by_hand():
    real = np.arange(100.0)  # 0 .. 99
    fake = np.array([50.0, 97.5, 98.0, 99.0, 120.0])

    # At 1% one real sample (99) may lie above the threshold, so the threshold is 98.
    assert rate_at_fpr(real, fake, 0.01) == pytest.approx(2 / 5)
    # At 5% five may, so the threshold is 94.
    assert rate_at_fpr(real, fake, 0.05) == pytest.approx(4 / 5)


def test_auc_and_ap_on_known_order():
    real = SetScores("real", "real", ["real"] * 3, [0.5, 0.4, 0.3], [1.0, 2.0, 3.0])
    fake = SetScores("fake", "gan", ["gan", "real"], [0.001, 0.35], [10.0, 2.5])

    report = evaluate([real, fake], level=0.01)
    row = report["sets"][1]

    # Pairs (real, fake): 10 beats all three; 2.5 beats 1 and 2 only: 5 of 6.
    assert row["roc_auc"] == pytest.approx(5 / 6)
    # Ranked 10 (fake), 3 (real), 2.5 (fake): AP = (1/1 + 2/3) / 2.
    assert row["average_precision"] == pytest.approx((1 + 2 / 3) / 2)
    assert row["flagged_share"] == pytest.approx(0.5)


def test_eval_needs_real_set(small_sets):
    _, gan, _ = small_sets

    result = runner.invoke(app, ["eval", "--gan", str(gan)])

    assert result.exit_code == 2
