"""The command line on the committed fixtures: output formats, exit codes, errors."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ks_2samp
from typer.testing import CliRunner

from gandetect.cli import app
from gandetect.loading import read_samples
from gandetect.profile import load_bundled_profile
from gandetect.statistics import ValueReference

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mnist"
REAL_PNG = FIXTURES / "real" / "0000.png"
LSGAN_PNG = FIXTURES / "lsgan" / "0000.png"
LSGAN_NPY = FIXTURES / "lsgan.npz"

runner = CliRunner()


def run(*arguments):
    return runner.invoke(app, [str(argument) for argument in arguments])


def test_score_real_png_exits_zero():
    result = run("score", REAL_PNG, "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    record = document["results"][0]
    assert record["path"] == str(REAL_PNG)
    assert record["kind"] == "image"
    assert record["verdict"] == "real"
    assert record["error"] is None
    assert 0.0 < record["p_value"] <= 1.0
    assert {"statistic", "value", "z", "tail_share"} <= set(record["evidence"][0])
    assert document["summary"]["real"] == 1


def test_score_gan_stack_exits_one():
    result = run("score", LSGAN_NPY, "--json")

    assert result.exit_code == 1
    records = json.loads(result.stdout)["results"]
    assert len(records) == 256
    assert records[3]["path"] == f"{LSGAN_NPY}[3]"
    assert all(record["verdict"] == "gan" for record in records[:20])


def test_score_table_names_verdicts():
    result = run("score", REAL_PNG, LSGAN_PNG)

    assert result.exit_code == 1
    assert "real" in result.stdout
    assert "gan" in result.stdout


def test_error_outranks_flag(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")

    result = run("score", LSGAN_PNG, broken, "--json")

    assert result.exit_code == 2
    records = json.loads(result.stdout)["results"]
    assert records[1]["verdict"] is None
    assert records[1]["error"] == f"{broken}: not a readable image (unknown or damaged format)"


def test_batch_streams_json_lines_with_summary(tmp_path):
    tree = tmp_path / "tree"
    (tree / "nested").mkdir(parents=True)
    shutil.copy(REAL_PNG, tree / "a.png")
    shutil.copy(LSGAN_PNG, tree / "nested" / "b.png")
    (tree / "nested" / "c.png").write_bytes(b"")
    (tree / "readme.txt").write_text("ignored: not an image extension")

    result = run("batch", tree, "--json")

    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 2
    assert [line["type"] for line in lines] == ["result", "result", "result", "summary"]
    assert lines[0]["verdict"] == "real"
    assert lines[1]["verdict"] == "gan"
    assert lines[2]["error"] == f"{tree / 'nested' / 'c.png'}: file is empty"
    summary = lines[3]
    assert (summary["real"], summary["gan"], summary["errors"]) == (1, 1, 1)
    assert summary["interrupted"] is False


def test_damaged_profile_is_one_line_error(tmp_path):
    profile = tmp_path / "profile.json"
    profile.write_text('{"format": "gandetect-profile", "schema_version": 1}')

    result = run("score", REAL_PNG, "--profile", profile)

    assert result.exit_code == 2
    assert result.stderr == f"gandetect: error: {profile}: profile lacks field(s) kind, created_by, representation, training, reference, detector, calibration, checksum; refit it\n"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("score", "missing.png"), "missing.png: no such file or folder"),
        (("score", REAL_PNG, "--level", "1.5"), "level 1.5 is outside (0, 1)"),
        (("score", REAL_PNG, "--sample-shape", "28by28"), "invalid --sample-shape '28by28'"),
        (("batch", "no-such-folder"), "no-such-folder: no such file or folder"),
        (("batch", REAL_PNG, "--max-seconds", "nan"), "invalid --max-seconds nan; use a positive number"),
        (("batch", REAL_PNG, "--max-pixels", "0"), "invalid --max-pixels 0; use a positive number"),
        (("batch", REAL_PNG, "--value-range", "bogus"), "invalid --value-range 'bogus'; use one of auto, 0-1, -1-1, 0-255"),
    ],
)
def test_usage_errors_exit_two(arguments, message):
    result = run(*arguments)

    assert result.exit_code == 2
    assert message in result.output


def test_nan_array_is_error(tmp_path):
    path = tmp_path / "nan.npy"
    np.save(path, np.full((28, 28), np.nan, dtype=np.float32))

    result = run("score", path, "--json")

    assert result.exit_code == 2
    assert "contains 784 NaN" in json.loads(result.stdout)["results"][0]["error"]


def test_pickled_array_is_error(tmp_path):
    path = tmp_path / "pickled.npy"
    np.save(path, np.array([None, {"x": 1}], dtype=object), allow_pickle=True)

    result = run("score", path, "--json")

    assert result.exit_code == 2
    assert "never unpickles" in json.loads(result.stdout)["results"][0]["error"]


def test_wrong_shape_is_error(tmp_path):
    path = tmp_path / "wide.npy"
    np.save(path, np.zeros((28, 30)))

    result = run("score", path, "--json")

    assert result.exit_code == 2
    assert "samples are 28x30, but the profile" in json.loads(result.stdout)["results"][0]["error"]


def test_compare_matches_scipy_on_pooled_values():
    heldout = FIXTURES / "real-heldout.npz"
    result = run("compare", heldout, LSGAN_NPY, FIXTURES / "lsgan", "--json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["sets"]
    document = load_bundled_profile("image").document
    reference = ValueReference(document["reference"]["value_levels"], document["reference"]["value_counts"])
    pooled_reference = reference.pooled_values()
    set_values = [
        read_samples(heldout).values.ravel(),
        read_samples(LSGAN_NPY).values.ravel(),
        np.concatenate([read_samples(path).values.ravel() for path in sorted((FIXTURES / "lsgan").glob("*.png"))]),
    ]
    for row, values in zip(rows, set_values):
        expected = ks_2samp(values, pooled_reference)
        assert row["n_values"] == values.size
        assert row["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-6)
        assert row["p_value"] == pytest.approx(expected.pvalue, abs=1e-6)


def test_compare_table_shape():
    names = ["real-heldout.npz", "lsgan.npz", "wgan-gp.npz", "fgsm-0.1.npz", "fgsm-0.2.npz", "fgsm-0.3.npz", "bernoulli"]
    result = run("compare", *(FIXTURES / name for name in names), "--json")

    rows = dict(zip(names, json.loads(result.stdout)["sets"]))
    assert rows["real-heldout.npz"]["ks_statistic"] < 0.01
    assert rows["lsgan.npz"]["ks_statistic"] > 0.5
    assert rows["wgan-gp.npz"]["ks_statistic"] > 0.5
    largest_jsd = max(rows, key=lambda name: rows[name]["jsd"])
    assert largest_jsd.startswith("fgsm")


def test_fit_then_inspect(tmp_path):
    output = tmp_path / "profile.json"

    fitted = run("fit", FIXTURES / "real", "-o", output, "--description", "200 real digits")
    inspected = run("inspect", output, "--json")

    assert fitted.exit_code == 0, fitted.output
    summary = json.loads(inspected.stdout)
    assert summary["samples"] == 200
    assert summary["sample_shape"] == "28x28"
    assert summary["description"] == "200 real digits"
    assert summary["reference_samples"] + summary["calibration_samples"] == 200


def test_python_module_entry_point():
    completed = subprocess.run(
        [sys.executable, "-m", "gandetect", "score", str(REAL_PNG), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["results"][0]["verdict"] == "real"


def test_batch_into_closed_pipe_ends_quietly():
    command = (
        f"{sys.executable} -m gandetect batch {FIXTURES / 'lsgan'} --json | head -1"
    )
    completed = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120
    )

    assert json.loads(completed.stdout)["type"] == "result"
    assert "Traceback" not in completed.stderr
    assert "BrokenPipe" not in completed.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_error_record(tmp_path):
    path = tmp_path / "locked.png"
    shutil.copy(REAL_PNG, path)
    path.chmod(0)

    result = run("batch", tmp_path, "--json")

    assert "permission denied" in json.loads(result.stdout.splitlines()[0])["error"]


def test_fit_with_labelled_fakes_sharpens_profile(tmp_path):
    output = tmp_path / "sharp.json"

    fitted = run(
        "fit", FIXTURES / "real", "-o", output,
        "--gan", FIXTURES / "wgan-gp.npz", "--adversarial", FIXTURES / "fgsm-0.2.npz",
    )
    document = json.loads(output.read_text())
    scored = run("score", FIXTURES / "lsgan.npz", FIXTURES / "fgsm-0.1.npz", "--profile", output, "--json")

    assert fitted.exit_code == 0, fitted.output
    assert set(document["detector"]) >= {"supervised", "labeller"}
    assert document["detector"]["supervised_counts"] == {"gan": 256, "adversarial": 256}
    assert len(document["calibration"]["supervised_scores"]) == document["training"]["n_calibration"]
    records = json.loads(scored.stdout)["results"]
    verdicts = [record["verdict"] for record in records]
    assert verdicts[:256].count("gan") >= 250
    assert verdicts[256:].count("adversarial") >= 250


def test_empty_folder_is_an_error(tmp_path):
    result = run("batch", tmp_path, "--json")

    assert result.exit_code == 2
    assert f"no supported files found in {tmp_path}" in result.output


def test_closed_pipe_keeps_flag_exit_code():
    command = f"{sys.executable} -m gandetect batch {LSGAN_NPY} --json | head -1 > /dev/null; echo ${{PIPESTATUS[0]}}"
    completed = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)

    assert completed.stdout.strip() == "1"


def test_profile_from_device_is_rejected(tmp_path):
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")

    result = run("score", REAL_PNG, "--profile", link)

    assert result.exit_code == 2
    assert "not a regular file" in result.output


def test_bundled_profile_by_name():
    by_kind = run("score", REAL_PNG, "--profile", "bundled:image", "--json")
    by_file = run("score", REAL_PNG, "--profile", "bundled:mnist.json", "--json")

    assert by_kind.exit_code == 0
    assert by_file.exit_code == 0
    assert json.loads(by_kind.stdout)["summary"]["profiles"] == ["bundled:mnist.json"]


def test_markup_in_description_is_shown_literally(tmp_path):
    output = tmp_path / "profile.json"
    run("fit", FIXTURES / "real", "-o", output, "--description", "[/red] digits [v2]")

    result = run("inspect", output)

    assert result.exit_code == 0, result.output
    assert "[/red] digits [v2]" in result.stdout


def test_negative_seed_is_usage_error():
    result = run("fit", FIXTURES / "real", "-o", "unused.json", "--seed", "-1")

    assert result.exit_code == 2
    assert "invalid --seed -1" in result.output


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", [("batch", "--json"), ("score", "--json"), ("compare",)])
def test_failed_output_write_is_one_line_error(command):
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "gandetect", command[0], str(FIXTURES / "lsgan"), *command[1:]],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
        )

    assert completed.returncode == 2
    assert completed.stderr == "gandetect: error: cannot write output (No space left on device)\n"


def test_pipe_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "digit.png"
    os.mkfifo(fifo)

    result = run("score", fifo, "--json")

    record = json.loads(result.stdout)["results"][0]
    assert result.exit_code == 2
    assert record["error"] == f"{fifo}: not a regular file (a pipe, device or socket); copy the data to a file first"


def test_outputs_never_replace_inputs(tmp_path):
    folder = tmp_path / "digits"
    folder.mkdir()
    for path in sorted((FIXTURES / "real").glob("*.png"))[:30]:
        shutil.copy(path, folder / path.name)
    victim = sorted(folder.glob("*.png"))[0]
    before = victim.read_bytes()

    for arguments in (
        ("fit", folder, "-o", victim),
        ("compare", folder, "--plot", victim),
        ("score", victim, "--explain", victim),
        ("report", folder, "-o", victim),
    ):
        result = run(*arguments)
        assert result.exit_code == 2, arguments
        assert "write the output elsewhere so that no input is replaced" in result.stderr, arguments

    assert victim.read_bytes() == before


@pytest.mark.parametrize("command", [("eval", "--real"), ("compare",)])
def test_empty_set_is_an_error(tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()

    result = run(*command, empty)

    assert result.exit_code == 2
    assert f"gandetect: error: no supported files found in {empty}\n" in result.stderr


def test_control_characters_in_names_stay_in_one_field(tmp_path):
    name = "digit7.png\treal\t0.8\nforged.png"
    shutil.copy(LSGAN_PNG, tmp_path / name)

    result = run("batch", tmp_path)

    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].split("\t")[:2] == [f"{tmp_path}/digit7.png\\treal\\t0.8\\nforged.png", "gan"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("batch", REAL_PNG, "--level", "2"), "level 2.0 is outside (0, 1); use for example 0.01"),
        (("batch", REAL_PNG, "--workers", "100000"), "invalid --workers 100000; use 1 to"),
        (("fit", FIXTURES / "real", "-o", "/dev/null"), "/dev/null: not a regular file (a device, pipe or socket)"),
    ],
)
def test_batch_and_fit_usage_errors(arguments, message):
    result = run(*arguments)

    assert result.exit_code == 2
    assert message in result.stderr


def test_error_messages_escape_control_characters(tmp_path):
    missing = tmp_path / "gone\x1b[31m\nX.png"

    result = run("score", missing)

    assert result.exit_code == 2
    assert result.stderr == f"gandetect: error: {tmp_path}/gone\\x1b[31m\\nX.png: no such file or folder\n"


def test_new_output_inside_input_folder_is_refused(tmp_path):
    folder = tmp_path / "digits"
    folder.mkdir()
    shutil.copy(REAL_PNG, folder / "0000.png")

    result = run("compare", folder, "--plot", folder / "new.png")

    assert result.exit_code == 2
    assert "lies inside the input folder" in result.stderr
    assert sorted(path.name for path in folder.iterdir()) == ["0000.png"]
