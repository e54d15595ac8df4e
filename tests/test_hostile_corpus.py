"""Every kind of bad input in the hostile corpus: a defined result or a one-line error, with the exit code."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gandetect.cli import app
from gandetect.errors import InputError, ProfileError
from gandetect.kinds import KINDS, ReadOptions, kind_for_path
from gandetect.profile import load_bundled_profile, load_profile
from hostile_corpus import CASES, OPTIONS, PROFILE_CASES

runner = CliRunner()
DIGIT = Path(__file__).resolve().parent.parent / "fixtures" / "mnist" / "real" / "0000.png"


def test_corpus_has_at_least_forty_kinds():
    assert len(CASES) + len(PROFILE_CASES) >= 40


@pytest.mark.parametrize("name", sorted(CASES))
def test_input_case(tmp_path, name):
    file_name, build, expected = CASES[name]
    path = tmp_path / file_name
    build(path)

    result = runner.invoke(app, ["score", str(path), "--json", *OPTIONS.get(name, [])])

    document = json.loads(result.stdout)
    file_record = [record for record in document["results"] if record["unit"] != "patch"][-1]
    if expected == "ok" or (re.search("ok", expected) and file_record["error"] is None):
        assert result.exit_code in (0, 1), file_record["error"]
        assert file_record["verdict"] in ("real", "gan", "adversarial")
        return
    assert result.exit_code == 2
    assert file_record["verdict"] is None
    assert re.search(expected, file_record["error"]), file_record["error"]
    assert "\n" not in file_record["error"]
    assert file_record["error"].startswith(str(path))

    # The library raises gandetect's own error for the same file.
    kind = KINDS[kind_for_path(path)]
    options = ReadOptions(max_notes=2000) if name == "midi-many-notes" else ReadOptions()
    representation = load_bundled_profile(kind.name).document["representation"]
    try:
        kind.read(path, options, representation)
    except InputError as error:
        assert re.search(expected, str(error)) or "samples are" in expected
    else:
        # Readable files fail the profile's shape check, not the reader.
        assert "samples are" in expected


@pytest.mark.parametrize("name", sorted(PROFILE_CASES))
def test_profile_case(tmp_path, name):
    file_name, build, expected = PROFILE_CASES[name]
    path = tmp_path / file_name
    build(path)

    result = runner.invoke(app, ["score", str(DIGIT), "--profile", str(path)])

    assert result.exit_code == 2
    assert re.search(expected, result.output), result.output
    assert result.output.count("\n") == 1
    with pytest.raises(ProfileError, match=expected):
        from gandetect.engine import Model

        Model.from_profile(load_profile(path))
