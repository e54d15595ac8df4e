"""Reference profiles: versioned JSON documents, written atomically, checked on load.

A profile is plain JSON, never a pickle. Its ``checksum`` field is the SHA-256
of the canonical JSON of every other field (sorted keys, no spaces), so any
edit or truncation is caught on load.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from typing import Any

from gandetect import __version__
from gandetect.errors import ProfileError
from gandetect.files import write_atomically

PROFILE_FORMAT = "gandetect-profile"
SCHEMA_VERSION = 1
KINDS = ("image", "pianoroll", "melspec")

# A profile larger than this is not one that gandetect wrote; refuse to parse it.
MAX_PROFILE_BYTES = 64 * 1024 * 1024

REQUIRED_FIELDS = (
    "format", "schema_version", "kind", "created_by", "representation",
    "training", "reference", "detector", "calibration", "checksum",
)

BUNDLED_PROFILES = {"image": "mnist.json", "pianoroll": "bach.json", "melspec": "speech.json"}


@dataclass
class Profile:
    """A loaded profile: the JSON document and where it came from.

    Attributes
    ----------
    document : dict
        The profile's fields, as in the JSON file.
    source : str
        Path of the file, or ``bundled:NAME`` for a profile shipped with gandetect.
    """

    document: dict[str, Any]
    source: str

    @property
    def kind(self) -> str:
        return self.document["kind"]


def content_checksum(document: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of every field except ``checksum``."""
    content = {key: value for key, value in document.items() if key != "checksum"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def save_profile(document: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a profile atomically: a temporary file in the same folder, then a rename.

    A crash or a kill during the write leaves any earlier file at ``path`` intact.
    """
    document = dict(document)
    document["checksum"] = content_checksum(document)
    text = json.dumps(document, sort_keys=True, indent=1, allow_nan=False) + "\n"

    write_atomically(path, text.encode("utf-8"))


def load_profile(path: str | os.PathLike) -> Profile:
    """Read and validate a profile file.

    Raises
    ------
    ProfileError
        The file is missing, not JSON, not a gandetect profile, from a newer
        schema version, of an unknown kind, has missing or unknown fields, or
        fails its checksum.
    """
    source = os.fsdecode(path)
    if source.startswith("bundled:"):
        return _load_bundled_by_name(source.partition(":")[2])
    try:
        if not os.path.isfile(path):
            if os.path.isdir(path):
                raise ProfileError(f"{source}: is a directory, not a profile file")
            if os.path.exists(path):
                raise ProfileError(f"{source}: not a regular file; give a profile JSON file")
        with open(path, "rb") as stream:
            # Read one byte past the cap, so that a pipe or a growing file cannot exhaust memory.
            raw = stream.read(MAX_PROFILE_BYTES + 1)
    except FileNotFoundError:
        raise ProfileError(f"{source}: profile not found") from None
    except IsADirectoryError:
        raise ProfileError(f"{source}: is a directory, not a profile file") from None
    except OSError as error:
        raise ProfileError(f"{source}: cannot read profile ({error.strerror or error})") from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise ProfileError(f"{source}: profile is larger than the cap of {MAX_PROFILE_BYTES} bytes")
    return Profile(parse_profile(raw, source), source)


def load_bundled_profile(kind: str) -> Profile:
    """Load the default profile shipped with gandetect for ``kind``."""
    name = BUNDLED_PROFILES.get(kind)
    if name is None:
        raise ProfileError(f"no bundled profile for kind {kind!r}; fit one with 'gandetect fit'")
    raw = resources.files("gandetect").joinpath("data", name).read_bytes()
    return Profile(parse_profile(raw, f"bundled:{name}"), f"bundled:{name}")


def _load_bundled_by_name(name: str) -> Profile:
    """Load a bundled profile named by kind (``image``) or file (``mnist.json``)."""
    by_file = {file: kind for kind, file in BUNDLED_PROFILES.items()}
    kind = by_file.get(name, name)
    if kind not in BUNDLED_PROFILES:
        choices = ", ".join(f"bundled:{kind}" for kind in BUNDLED_PROFILES)
        raise ProfileError(f"bundled:{name}: no such bundled profile; use one of {choices}")
    return load_bundled_profile(kind)


def parse_profile(raw: bytes, source: str) -> dict[str, Any]:
    """Parse profile bytes and check format, version, kind, fields and checksum."""
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ProfileError(f"{source}: profile is not UTF-8 text; is this a profile file?") from None
    except ValueError as error:
        raise ProfileError(f"{source}: profile is not valid JSON ({error})") from None
    except RecursionError:
        raise ProfileError(f"{source}: profile JSON is nested too deeply") from None

    if not isinstance(document, dict) or document.get("format") != PROFILE_FORMAT:
        raise ProfileError(f"{source}: not a gandetect profile (missing format {PROFILE_FORMAT!r})")

    version = document.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProfileError(f"{source}: schema_version must be an integer, found {version!r}")
    if version > SCHEMA_VERSION:
        raise ProfileError(
            f"{source}: profile schema version {version} is newer than this gandetect "
            f"({__version__}) reads (version {SCHEMA_VERSION}); "
            f"upgrade gandetect to a release that reads schema version {version}"
        )
    if version < 1:
        raise ProfileError(f"{source}: invalid schema version {version}")

    missing = [name for name in REQUIRED_FIELDS if name not in document]
    if missing:
        raise ProfileError(f"{source}: profile lacks field(s) {', '.join(missing)}; refit it")
    extra = sorted(set(document) - set(REQUIRED_FIELDS))
    if extra:
        raise ProfileError(f"{source}: profile has unknown field(s) {', '.join(extra)}; refit it")
    if document["kind"] not in KINDS:
        raise ProfileError(
            f"{source}: unknown profile kind {document['kind']!r}; known kinds are {', '.join(KINDS)}"
        )

    expected = content_checksum(document)
    if document["checksum"] != expected:
        raise ProfileError(
            f"{source}: checksum mismatch, the profile was changed or damaged after it was "
            "written; refit it or restore a copy"
        )
    return document


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")
