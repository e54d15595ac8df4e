"""Worker processes and the quick `score` path give exactly what one process and typer give."""

import subprocess
import sys
from pathlib import Path

import pytest

from gandetect.launch import quick_arguments, quick_score_arguments

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REAL = FIXTURES / "mnist" / "real"
LSGAN = FIXTURES / "mnist" / "lsgan"


def _gandetect(*arguments, entry: str = "-m") -> subprocess.CompletedProcess:
    if entry == "-m":
        command = [sys.executable, "-m", "gandetect"]
    else:
        # The typer application itself, without the quick path of gandetect.launch.
        command = [sys.executable, "-c", "import sys; sys.argv[0] = 'gandetect'; from gandetect.cli import app; app()"]
    return subprocess.run([*command, *map(str, arguments)], capture_output=True, timeout=300)


def _mixed_tree(tmp_path: Path) -> Path:
    """Digits of two folders, a stack, and an unreadable file between them."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for i, path in enumerate(sorted(REAL.glob("*.png"))[:150] + sorted(LSGAN.glob("*.png"))[:150]):
        (tree / f"{i:04d}.png").write_bytes(path.read_bytes())
    (tree / "0100-broken.png").write_bytes(b"not an image")
    (tree / "0200-stack.npz").write_bytes((FIXTURES / "mnist" / "fgsm-0.1.npz").read_bytes())
    return tree


def test_batch_with_two_workers_prints_what_one_prints(tmp_path):
    tree = _mixed_tree(tmp_path)

    single = _gandetect("batch", tree, "--json", "--workers", "1")
    two = _gandetect("batch", tree, "--json", "--workers", "2")

    assert single.returncode == 2
    assert two.returncode == 2
    assert single.stdout == two.stdout
    assert single.stdout.count(b'"error": null') > 300


def test_fit_with_two_workers_writes_the_same_profile(tmp_path):
    tree = _mixed_tree(tmp_path)
    (tree / "0100-broken.png").unlink()
    (tree / "0200-stack.npz").unlink()

    for workers in (1, 2):
        fitted = _gandetect("fit", tree, "-o", tmp_path / f"profile-{workers}.json", "--workers", workers)
        assert fitted.returncode == 0, fitted.stderr

    assert (tmp_path / "profile-1.json").read_bytes() == (tmp_path / "profile-2.json").read_bytes()


@pytest.mark.parametrize(
    "arguments",
    [
        ("score", REAL / "0000.png"),
        ("score", REAL / "0000.png", LSGAN / "0001.png", "--json"),
        ("score", REAL / "0000.png", "--evidence", "all", "--json"),
        ("score", REAL / "0000.png", "--evidence=1", "--level=0.3"),
        ("score", LSGAN / "0002.png", "-p", "bundled:image", "--kind", "image"),
        ("score", REAL / "0000.png", "--evidence", "-1"),
        ("score", REAL / "0000.png", "--level", "2"),
        ("score", "missing.png"),
        ("score", FIXTURES / "bach" / "real-heldout"),
        ("batch", REAL, "--json", "--workers", "2"),
        ("batch", REAL, LSGAN / "0001.png", "--evidence", "1"),
        ("batch", REAL, "--workers", "0"),
        ("batch", REAL, "--workers=1", "--level", "0.5", "-p", "bundled:image"),
        ("batch", FIXTURES / "bach" / "real-heldout", "--json", "--evidence", "all"),
        ("batch", "missing-folder"),
    ],
)
def test_quick_path_prints_what_typer_prints(arguments):
    assert quick_arguments([str(argument) for argument in arguments]) is not None

    quick = _gandetect(*arguments)
    full = _gandetect(*arguments, entry="typer")

    assert (quick.returncode, quick.stdout, quick.stderr) == (full.returncode, full.stdout, full.stderr)


@pytest.mark.parametrize(
    "arguments",
    [
        ["score"],
        ["score", "--help"],
        ["score", "a.png", "--value-range", "0-1"],
        ["score", "a.png", "--level", "low"],
        ["score", "a.png", "--profile"],
        ["score", "--", "a.png"],
        ["batch", "a", "--workers", "abc"],
        ["batch", "a", "--workers", "1_0"],
        ["batch", "a", "--progress"],
        ["batch", "a", "--value-range", "0-1"],
        ["fit", "a", "-o", "b.json"],
    ],
)
def test_other_calls_go_to_typer(arguments):
    assert quick_arguments(arguments) is None


def test_evidence_count_applies_to_json(tmp_path):
    import json

    default = json.loads(_gandetect("score", REAL / "0000.png", "--json").stdout)["results"][0]
    every = json.loads(_gandetect("score", REAL / "0000.png", "--json", "--evidence", "all").stdout)["results"][0]
    none = json.loads(_gandetect("score", REAL / "0000.png", "--json", "--evidence", "0").stdout)["results"][0]

    assert len(default["evidence"]) == 3
    assert len(every["evidence"]) == 22
    assert every["evidence"][:3] == default["evidence"]
    assert none["evidence"] == []
    assert every["p_value"] == default["p_value"] == none["p_value"]


def test_fit_refuses_folder_with_other_kinds(tmp_path):
    tree = tmp_path / "mixed"
    tree.mkdir()
    for path in sorted(REAL.glob("*.png"))[:40]:
        (tree / path.name).write_bytes(path.read_bytes())
    (tree / "chorale.mid").write_bytes((FIXTURES / "bach" / "real-heldout" / "bwv101.7.mid").read_bytes())

    fitted = _gandetect("fit", tree, "-o", tmp_path / "profile.json")

    assert fitted.returncode == 2
    assert fitted.stderr.decode() == (
        f"gandetect: error: found 1 .mid file of another kind than image in {tree}; "
        "a profile is fitted on one kind, so move them out or name the files to fit\n"
    )
    assert not (tmp_path / "profile.json").exists()


def test_batch_warns_about_files_of_other_kinds(tmp_path):
    tree = tmp_path / "mixed"
    tree.mkdir()
    (tree / "digit.png").write_bytes((REAL / "0000.png").read_bytes())
    (tree / "chorale.mid").write_bytes((FIXTURES / "bach" / "real-heldout" / "bwv101.7.mid").read_bytes())

    scored = _gandetect("batch", tree, "--profile", "bundled:image", "--json")

    assert scored.returncode == 0
    assert scored.stdout.count(b'"type": "result"') == 1
    assert b"gandetect: warning: skipped 1 .mid file that the profile's kind does not read" in scored.stderr
