"""The HTML report, compare --plot and score --explain: sections, embedded figures, errors."""

import base64
import io
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from gandetect.cli import app
from gandetect.engine import ProfileChooser, compare_set, score_paths
from gandetect.plots import MID_RANGE_EDGES, binned_shares, cdf_on_grid, thumbnail_png
from gandetect.report import _spread, build_report
from gandetect.report_html import SECTION_HEADINGS
from gandetect.statistics import MID_RANGE

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
MNIST = ROOT / "mnist"
BACH = ROOT / "bach"
SPEECH = ROOT / "speech"

runner = CliRunner()

COMMON_HEADINGS = ["verdicts", "comparison", "samples", "values", "moments"]
PIANO_ROLL_HEADINGS = ["durations", "violations"]
DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def run(*arguments):
    return runner.invoke(app, [str(argument) for argument in arguments])


def _copy_first(folder: Path, pattern: str, count: int, target: Path) -> Path:
    target.mkdir()
    for path in sorted(folder.glob(pattern))[:count]:
        shutil.copy(path, target / path.name)
    return target


def _embedded_images(document: str) -> list[tuple[str, Image.Image]]:
    """Decode every embedded data: URI, with the class of its <img> tag."""
    images = []
    for tag in re.findall(r"<img [^>]*>", document):
        css_class = re.search(r'class="([^"]+)"', tag).group(1)
        payload = DATA_URI.search(tag).group(1)
        picture = Image.open(io.BytesIO(base64.b64decode(payload, validate=True)))
        picture.load()
        images.append((css_class, picture))
    return images


REPORTS = {
    "image": [MNIST / "real-heldout.npz", MNIST / "lsgan.npz", MNIST / "lsgan"],
    "pianoroll": ["chorales", BACH / "wgan-gp.npz"],
    "melspec": ["speech", SPEECH / "wgan-gp.npz"],
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """One report per kind, rendered once for the tests below.

    Three MIDI chorales and two recordings stand in for the real folders,
    so that the tests stay fast.
    """
    root = tmp_path_factory.mktemp("reports")
    small_sets = {
        "chorales": _copy_first(BACH / "real-heldout", "*.mid", 3, root / "chorales"),
        "speech": _copy_first(SPEECH / "real-heldout", "*.wav", 2, root / "speech"),
    }
    rendered = {}
    for kind, names in REPORTS.items():
        sets = [small_sets.get(name, name) for name in names]
        output = root / f"{kind}.html"
        result = run("report", *sets, "--kind", kind, "-o", output)
        rendered[kind] = (sets, result, output.read_text(encoding="utf-8") if output.exists() else "")
    return rendered


@pytest.mark.parametrize("kind", list(REPORTS))
def test_report_holds_every_section(reports, kind):
    sets, result, document = reports[kind]
    headings = COMMON_HEADINGS + (PIANO_ROLL_HEADINGS if kind == "pianoroll" else [])

    assert result.exit_code == 0, result.output
    for key in headings:
        assert f">{SECTION_HEADINGS[key]}</h" in document, key
    for number, path in enumerate(sets, start=1):
        assert f">Set {number}: {path}</h2>" in document
    if kind != "pianoroll":
        assert SECTION_HEADINGS["durations"] not in document
    assert "http://" not in document
    assert "https://" not in document
    assert 'src="//' not in document
    assert "<script" not in document.lower()
    assert document.count("<img ") == document.count('src="data:image/png;base64,')


@pytest.mark.parametrize("kind", list(REPORTS))
def test_report_figures_decode_as_images(reports, kind):
    sets, _, document = reports[kind]

    images = _embedded_images(document)

    classes = Counter(css_class for css_class, _ in images)
    # Each set gets a value figure and a moment figure, and piano rolls a duration figure too.
    # The comparison section adds one overview of all sets.
    per_set = 3 if kind == "pianoroll" else 2
    assert classes["plot"] == per_set * len(sets) + 1
    assert 0 < classes["thumbnail"] <= 16 * len(sets)
    for css_class, picture in images:
        assert picture.format == "PNG"
        if css_class == "plot":
            assert picture.width >= 800
            assert picture.height >= 300
        else:
            assert 28 <= max(picture.size) <= 128


def test_report_counts_match_score_and_compare():
    sets = [MNIST / "lsgan.npz", MNIST / "fgsm-0.1.npz"]
    chooser = ProfileChooser()

    report = build_report(sets, chooser, level=0.01)

    for path, item in zip(sets, report.sets):
        scored = Counter(result.verdict or "error" for result in score_paths([path], chooser) if result.counted)
        assert item.verdicts == scored
        assert item.comparison.to_json() == compare_set(path, chooser.for_set(path)).to_json()
    assert report.failed is False


def test_report_lists_unreadable_file(tmp_path):
    folder = tmp_path / "digits"
    folder.mkdir()
    shutil.copy(MNIST / "real" / "0000.png", folder / "good.png")
    broken = folder / "broken.png"
    broken.write_bytes(b"not an image")
    output = tmp_path / "report.html"

    result = run("report", folder, "-o", output)

    assert result.exit_code == 2
    assert f"gandetect: error: {broken}: not a readable image" in result.stderr
    document = output.read_text(encoding="utf-8")
    assert f"{broken}: not a readable image" in document
    assert f">{SECTION_HEADINGS['errors']}</h3>" in document


def test_report_escapes_file_names(tmp_path):
    folder = tmp_path / 'set <b>&"x"'
    folder.mkdir()
    shutil.copy(MNIST / "real" / "0000.png", folder / "<i>digit&.png")
    output = tmp_path / "report.html"

    result = run("report", folder, "-o", output)

    assert result.exit_code == 0, result.output
    document = output.read_text(encoding="utf-8")
    assert "<b>" not in document
    assert "<i>" not in document
    assert "set &lt;b&gt;&amp;&quot;x&quot;" in document
    assert "&lt;i&gt;digit&amp;.png" in document


def test_report_leaves_no_temporary_file(tmp_path):
    output = tmp_path / "report.html"

    result = run("report", MNIST / "lsgan.npz", "-o", output)

    assert result.exit_code == 0, result.output
    assert [path.name for path in tmp_path.iterdir()] == ["report.html"]


def test_report_into_missing_folder_is_usage_error(tmp_path):
    output = tmp_path / "missing" / "report.html"

    result = run("report", MNIST / "lsgan.npz", "-o", output)

    assert result.exit_code == 2
    assert result.stderr == f"gandetect: error: {output}: folder {output.parent} does not exist; create it first\n"


def test_compare_plot_writes_png(tmp_path):
    output = tmp_path / "values.png"

    result = run("compare", MNIST / "real-heldout.npz", MNIST / "lsgan.npz", "--plot", output)

    assert result.exit_code == 0, result.output
    assert "KS statistic" in result.stdout
    with Image.open(output) as picture:
        assert picture.format == "PNG"
        assert picture.size == (1200, 800)


def test_compare_plot_writes_svg(tmp_path):
    output = tmp_path / "values.svg"

    result = run("compare", "--kind", "pianoroll", BACH / "wgan-gp.npz", BACH / "bernoulli.npz", "--plot", output)

    assert result.exit_code == 0, result.output
    root = ElementTree.parse(output).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<dc:date>" not in output.read_text(encoding="utf-8")


def test_compare_plot_rejects_other_extensions(tmp_path):
    output = tmp_path / "values.jpg"

    result = run("compare", MNIST / "lsgan.npz", "--plot", output)

    assert result.exit_code == 2
    assert result.stderr == f"gandetect: error: invalid figure file name '{output}'; end it in .png or .svg\n"
    assert not output.exists()


def test_compare_plot_rejects_mixed_profiles(tmp_path):
    output = tmp_path / "values.png"

    result = run("compare", MNIST / "lsgan.npz", BACH / "real-heldout" / "bwv101.7.mid", "--plot", output)

    assert result.exit_code == 2
    assert "--plot draws sets against one profile" in result.stderr
    assert not output.exists()


@pytest.mark.parametrize(
    ("arguments", "exit_code"),
    [
        ((MNIST / "lsgan" / "0003.png",), 1),
        ((MNIST / "lsgan.npz",), 1),
        ((BACH / "real-heldout" / "bwv101.7.mid",), 0),
        (("--kind", "melspec", SPEECH / "wgan-gp.npz"), 1),
    ],
)
def test_score_explain_writes_png(tmp_path, arguments, exit_code):
    output = tmp_path / "evidence.png"

    result = run("score", *arguments, "--explain", output, "--json")

    assert result.exit_code == exit_code, result.output
    assert json.loads(result.stdout)["summary"]["n_results"] >= 1
    with Image.open(output) as picture:
        assert picture.format == "PNG"
        assert picture.width == 1400


def test_score_explain_takes_one_file(tmp_path):
    result = run("score", MNIST / "lsgan" / "0000.png", MNIST / "lsgan" / "0001.png", "--explain", tmp_path / "e.png")

    assert result.exit_code == 2
    assert result.stderr == "gandetect: error: --explain draws one file's evidence; give exactly one FILE, not several files or a folder\n"


def test_score_explain_of_unreadable_file(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    output = tmp_path / "evidence.png"

    result = run("score", broken, "--explain", output, "--json")

    assert result.exit_code == 2
    assert json.loads(result.stdout)["results"][0]["error"] is not None
    assert f"{broken}: could not be scored, so there is no evidence to draw; {output} not written" in result.stderr
    assert not output.exists()


BLOCK_MATPLOTLIB = (
    "import sys; sys.modules['matplotlib'] = None; "
    "from gandetect.cli import main; sys.argv[0] = 'gandetect'; main()"
)


@pytest.mark.parametrize(
    ("command", "output_name"),
    [
        (["report", MNIST / "lsgan.npz", "-o"], "report.html"),
        (["compare", MNIST / "lsgan.npz", "--plot"], "values.png"),
        (["score", MNIST / "lsgan" / "0000.png", "--explain"], "evidence.png"),
    ],
)
def test_plots_without_matplotlib_say_how_to_install(tmp_path, command, output_name):
    output = tmp_path / output_name

    completed = subprocess.run(
        [sys.executable, "-c", BLOCK_MATPLOTLIB, *map(str, command), str(output)],
        capture_output=True, text=True, timeout=120,
    )

    assert completed.returncode == 2
    assert completed.stderr == "gandetect: error: plots need matplotlib; install it with pip install 'gandetect[plot]'\n"
    assert completed.stdout == ""
    assert not output.exists()


def test_score_works_without_matplotlib():
    completed = subprocess.run(
        [sys.executable, "-c", BLOCK_MATPLOTLIB, "score", str(MNIST / "lsgan" / "0000.png"), "--json"],
        capture_output=True, text=True, timeout=120,
    )

    assert completed.returncode == 1, completed.stderr
    assert json.loads(completed.stdout)["results"][0]["verdict"] == "gan"


def test_cdf_on_grid_known_values():
    values = np.array([0.0, 0.5, 1.0])
    counts = np.array([2, 1, 1])

    cdf = cdf_on_grid(values, counts, np.array([-0.1, 0.0, 0.25, 0.5, 0.99, 1.0]))

    np.testing.assert_allclose(cdf, [0.0, 0.5, 0.5, 0.75, 0.75, 1.0])


def test_mid_range_bins_hold_the_mid_range_levels():
    levels = np.arange(256) / 255
    in_mid_range = (levels >= MID_RANGE[0]) & (levels <= MID_RANGE[1])
    in_bins = (levels >= MID_RANGE_EDGES[0]) & (levels < MID_RANGE_EDGES[-1])

    np.testing.assert_array_equal(in_bins, in_mid_range)


def test_eight_bit_levels_fill_bins_evenly():
    levels = np.arange(256) / 255

    shares = binned_shares(levels, np.ones(256), MID_RANGE_EDGES)

    # 196 mid-range levels of 256, four to a bin, so every bin contains 4 / 256 of the values.
    np.testing.assert_allclose(shares, np.full(49, 4 / 256))


def test_piano_roll_thumbnail_puts_low_pitch_at_bottom():
    roll = np.zeros((64, 64))
    roll[0, :] = 1.0

    picture = Image.open(io.BytesIO(thumbnail_png(roll, "pianoroll")))
    pixels = np.asarray(picture)

    assert picture.size == (128, 128)
    assert pixels[-1].max() == 0
    assert pixels[0].min() == 255


def test_spread_picks_evenly_from_first():
    assert _spread(1000, 4) == [0, 333, 666, 999]
    assert _spread(3, 16) == [0, 1, 2]
    assert _spread(5, 0) == []
