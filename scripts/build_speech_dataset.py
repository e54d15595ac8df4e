"""Build the real-speech dataset split and its fixtures from Debian's Asterisk prompts.

The recordings are the 8 kHz, 16-bit mono telephone prompts of six Debian
packages, one voice each (see SPEAKERS). The script:

1. downloads the packages into ``build/speech/debs/`` with ``apt-get download``
   and extracts each into ``build/speech/root/<package>/`` with ``dpkg-deb -x``.
   Both steps are skipped when ``build/speech/root/`` already exists, so delete
   that folder to fetch again.
2. lists the speech WAV files (every ``silence/`` folder, the tones, the monkey
   recording and empty files are skipped, see SKIPPED_NAMES) and splits them
   80/20 into train and test by file, stratified by speaker, with
   ``numpy.random.default_rng(0)``. Near-duplicate recordings of one speaker
   stay on one side of the split.
3. computes the scaling bound ``scale_high``, the 99.9th percentile of every
   compressed mel value (``gandetect.audio.compressed_mel``) of the training
   files, with ``scale_low`` = 0.

It writes:

- ``fixtures/speech/split.json``: the packages and versions, the skipped files,
  every speech file with its speaker, language, role and duration, and the
  ``MelSettings`` fields with the scaling bounds.
- ``fixtures/speech/real-heldout/*.wav``: 12 test-role prompts, 2 per speaker,
  1.5 to 6 s long, copied byte for byte and named ``<voice folder>-<name>.wav``.
- ``fixtures/speech/LICENSE-asterisk-sounds.txt``: the packages' copyright files.

Run from the repository root as root (apt-get and dpkg-deb are called as
subprocesses, after one ``apt-get update``):

    /work/venv-train/bin/python scripts/build_speech_dataset.py

It takes under a minute on a 2-core CPU after downloading the 116 MB of
packages, most of it reading the WAV files and computing mel spectrograms. The Debian packages, apt-get and dpkg-deb are dev-time
dependencies only, for rebuilding fixtures. This script needs numpy, librosa
and soundfile but not torch, which only scripts/train_speech_wgan.py uses.
"""

import dataclasses
import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from gandetect.audio import MelSettings, compressed_mel, read_audio

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "build" / "speech"
DEBS_DIR = BUILD_DIR / "debs"
ROOT_DIR = BUILD_DIR / "root"
PACKAGES_RECORD = ROOT_DIR / "packages.json"
FIXTURES_DIR = REPO_ROOT / "fixtures" / "speech"
HELDOUT_DIR = FIXTURES_DIR / "real-heldout"
SPLIT_PATH = FIXTURES_DIR / "split.json"
LICENSE_PATH = FIXTURES_DIR / "LICENSE-asterisk-sounds.txt"

SOUNDS_DIR = "usr/share/asterisk/sounds"

# Package -> voice as the Debian package description and copyright file name it.
# The English and the Spanish packages are both recorded by Allison Smith, so
# "speaker" in split.json is the package, and five different people speak.
SPEAKERS = {
    "asterisk-core-sounds-en-wav": {"voice": "Allison Smith", "language": "en-US"},
    "asterisk-core-sounds-es-wav": {"voice": "Allison Smith", "language": "es-MX"},
    "asterisk-core-sounds-fr-wav": {"voice": "June Wallack", "language": "fr-CA"},
    "asterisk-core-sounds-it-wav": {"voice": "Carlo Flora", "language": "it-IT"},
    "asterisk-core-sounds-ru-wav": {
        "voice": "unnamed female voice (IvrvoiceRU), provided by Maxim Topal",
        "language": "ru-RU",
    },
    "asterisk-prompt-it-menardi-wav": {"voice": "Paola Dal Zot", "language": "it-IT"},
}

SKIPPED_FOLDERS = {
    "silence/": "recorded silences of 1 to 10 seconds, no speech",
}
# File names (relative to the voice folder) that are not speech. Each was
# checked in every package by its mel spectrogram, and most packages carry the
# same sound under these names (waveform correlation 0.89 to 1.0 between them).
SKIPPED_NAMES = {
    "beep.wav": "sine beep tone",
    "beeperr.wav": "buzzer error tone",
    "ascending-2tone.wav": "two rising sine tones",
    "descending-2tone.wav": "two falling sine tones",
    "confbridge-join.wav": "conference join tone (a chime in the Russian package)",
    "confbridge-leave.wav": "conference leave tone (a chime in the Russian package)",
    "tt-monkeys.wav": "16 s recording of screeching monkeys, not speech",
}
EMPTY_REASON = "no audio samples"

SPLIT_SEED = 0
TEST_SHARE = 0.2
HELDOUT_SEED = 1
HELDOUT_PER_SPEAKER = 2
HELDOUT_MIN_SECONDS = 1.5
HELDOUT_MAX_SECONDS = 6.0
SCALE_PERCENTILE = 99.9

# Two recordings of one speaker count as near duplicates when their lengths
# differ by at most 1% and their waveforms, aligned at the first sample,
# correlate above this value. Pairs found this way include auth-thankyou and
# privacy-thankyou (en), and digits/9 and phonetic/9_p (it-menardi).
DUPLICATE_CORRELATION = 0.95


def run_command(command, cwd=None):
    """Run a command and exit with its output when it fails."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"command failed with exit code {result.returncode}: {' '.join(command)}\n{result.stderr.strip()}")
    return result.stdout


def fetch_packages():
    """Download and extract the packages unless build/speech/root exists.

    Returns the list of {"package", "version", "deb"} records, also stored in
    build/speech/root/packages.json.
    """
    if ROOT_DIR.exists():
        if not PACKAGES_RECORD.exists():
            sys.exit(f"{PACKAGES_RECORD} is missing; delete {ROOT_DIR} and rerun to extract the packages again")
        print(f"packages: {ROOT_DIR} exists, skipping download and extraction")
        return json.loads(PACKAGES_RECORD.read_text(encoding="utf-8"))

    DEBS_DIR.mkdir(parents=True, exist_ok=True)
    records = []
    for package in SPEAKERS:
        debs = sorted(DEBS_DIR.glob(f"{package}_*.deb"))
        if not debs:
            # apt-get download fails with "Unable to locate package" until
            # `apt-get update` has run once on this machine.
            run_command(["apt-get", "download", package], cwd=DEBS_DIR)
            debs = sorted(DEBS_DIR.glob(f"{package}_*.deb"))
        if len(debs) != 1:
            sys.exit(f"expected one {package}_*.deb in {DEBS_DIR}, found {len(debs)}; delete the extra files")
        version = run_command(["dpkg-deb", "--field", str(debs[0]), "Version"]).strip()
        target = ROOT_DIR / package
        target.mkdir(parents=True)
        run_command(["dpkg-deb", "-x", str(debs[0]), str(target)])
        records.append({"package": package, "version": version, "deb": debs[0].name})
        print(f"packages: extracted {debs[0].name}")
    PACKAGES_RECORD.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    return records


def voice_folder(package):
    """Return the single voice folder under usr/share/asterisk/sounds of an extracted package."""
    folders = [path for path in (ROOT_DIR / package / SOUNDS_DIR).iterdir() if path.is_dir()]
    if len(folders) != 1:
        sys.exit(f"expected one voice folder in {ROOT_DIR / package / SOUNDS_DIR}, found {len(folders)}")
    return folders[0]


def skip_reason(relative_path, frame_count):
    """Return why a WAV file is not speech, or None for a speech file."""
    for folder, reason in SKIPPED_FOLDERS.items():
        if relative_path.startswith(folder):
            return reason
    if relative_path in SKIPPED_NAMES:
        return SKIPPED_NAMES[relative_path]
    if frame_count == 0:
        return EMPTY_REASON
    return None


def list_files():
    """Read every WAV file of every package.

    Returns (speech, skipped): speech is a list of dicts with the package,
    the path relative to the voice folder, the duration and the samples;
    skipped is a list of {"speaker", "path", "reason"}.
    """
    import soundfile

    speech = []
    skipped = []
    for package in SPEAKERS:
        folder = voice_folder(package)
        for path in sorted(folder.rglob("*.wav")):
            relative = path.relative_to(folder).as_posix()
            info = soundfile.info(str(path))
            if info.samplerate != MelSettings.sample_rate or info.channels != 1:
                sys.exit(f"{path}: expected 8000 Hz mono, found {info.samplerate} Hz with {info.channels} channels")
            reason = skip_reason(relative, info.frames)
            if reason is not None:
                skipped.append({"speaker": package, "path": relative, "reason": reason})
                continue
            samples, _ = read_audio(path, MelSettings.sample_rate)
            speech.append(
                {
                    "speaker": package,
                    "path": relative,
                    "seconds": info.frames / info.samplerate,
                    "samples": samples,
                    "source": path,
                }
            )
    return speech, skipped


def group_near_duplicates(files):
    """Label each file with a group id so that near-duplicate recordings share one.

    Only files of the same speaker are compared, after sorting by length, so
    the cost stays near linear for prompts of spread-out lengths.
    """
    parent = list(range(len(files)))

    def find(index):
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for package in SPEAKERS:
        members = sorted(
            (index for index, entry in enumerate(files) if entry["speaker"] == package),
            key=lambda index: len(files[index]["samples"]),
        )
        for position, first in enumerate(members):
            shorter = files[first]["samples"]
            for second in members[position + 1 :]:
                longer = files[second]["samples"]
                if len(longer) - len(shorter) > 0.01 * len(longer):
                    break
                # NOTE: only alignment at the first sample is tried, so a copy
                # with extra leading silence is not found.
                a = shorter
                b = longer[: len(shorter)]
                norm = np.sqrt(np.dot(a, a) * np.dot(b, b))
                if norm > 0 and abs(np.dot(a, b)) / norm > DUPLICATE_CORRELATION:
                    parent[find(second)] = find(first)
    return [find(index) for index in range(len(files))]


def assign_roles(files, groups):
    """Set each file's role to "train" or "test", 20% test per speaker, whole groups at a time."""
    rng = np.random.default_rng(SPLIT_SEED)
    for package in SPEAKERS:
        members = [index for index, entry in enumerate(files) if entry["speaker"] == package]
        group_ids = sorted({groups[index] for index in members})
        order = rng.permutation(len(group_ids))
        target = round(TEST_SHARE * len(members))
        test_groups = set()
        test_count = 0
        for position in order:
            if test_count >= target:
                break
            group = group_ids[position]
            test_groups.add(group)
            test_count += sum(1 for index in members if groups[index] == group)
        for index in members:
            files[index]["role"] = "test" if groups[index] in test_groups else "train"


def compute_mel_settings(files):
    """Return MelSettings whose scale_high is the 99.9th percentile of the training files' compressed mel values."""
    settings = MelSettings()
    values = [
        compressed_mel(entry["samples"], settings).astype(np.float32).ravel()
        for entry in files
        if entry["role"] == "train"
    ]
    all_values = np.concatenate(values)
    scale_high = float(np.percentile(all_values, SCALE_PERCENTILE))
    print(
        f"scaling: {all_values.size} compressed mel values, max {all_values.max():.4f}, "
        f"{SCALE_PERCENTILE}th percentile {scale_high:.6f}"
    )
    return dataclasses.replace(settings, scale_low=0.0, scale_high=scale_high)


def choose_heldout(files):
    """Pick 2 test-role files per speaker lasting 1.5 to 6 s, with seed HELDOUT_SEED."""
    rng = np.random.default_rng(HELDOUT_SEED)
    chosen = []
    for package in SPEAKERS:
        candidates = [
            entry
            for entry in files
            if entry["speaker"] == package
            and entry["role"] == "test"
            and HELDOUT_MIN_SECONDS <= entry["seconds"] <= HELDOUT_MAX_SECONDS
        ]
        picks = rng.choice(len(candidates), size=HELDOUT_PER_SPEAKER, replace=False)
        chosen.extend(candidates[index] for index in sorted(picks))
    return chosen


def write_heldout(chosen):
    """Copy the chosen prompts into fixtures/speech/real-heldout/, replacing its WAV files."""
    HELDOUT_DIR.mkdir(parents=True, exist_ok=True)
    for old in HELDOUT_DIR.glob("*.wav"):
        old.unlink()
    records = []
    for entry in chosen:
        name = f"{voice_folder(entry['speaker']).name}-{entry['path'].replace('/', '-')}"
        shutil.copyfile(entry["source"], HELDOUT_DIR / name)
        records.append({"file": name, "speaker": entry["speaker"], "path": entry["path"], "seconds": entry["seconds"]})
    return records


def write_license(packages):
    """Write the packages' copyright files, each distinct text once, to LICENSE-asterisk-sounds.txt."""
    texts = {}
    for record in packages:
        copyright_path = ROOT_DIR / record["package"] / "usr/share/doc" / record["package"] / "copyright"
        text = copyright_path.read_text(encoding="utf-8")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        texts.setdefault(digest, {"text": text, "packages": []})["packages"].append(
            f"{record['package']} {record['version']}"
        )
    parts = [
        "Copyright and licence notices of the Debian packages from which\n"
        "fixtures/speech/split.json was made and whose recordings are copied into\n"
        "fixtures/speech/real-heldout/. Each section below is the verbatim file\n"
        "/usr/share/doc/<package>/copyright of the packages it names.\n"
    ]
    for entry in texts.values():
        header = "Packages: " + ", ".join(entry["packages"])
        parts.append(f"{'=' * 72}\n{header}\n{'=' * 72}\n\n{entry['text']}")
    LICENSE_PATH.write_text("\n".join(parts), encoding="utf-8")


# Stand-in that write_split replaces with the one-line-per-entry list.
SKIPPED_FILES_MARK = "@skipped-files@"


def format_entry_list(entries, indent_unit, depth):
    """Format a JSON list with one compact object per line at the given indentation depth."""
    inner = indent_unit * (depth + 1)
    lines = [inner + json.dumps(entry, ensure_ascii=False) for entry in entries]
    return "[\n" + ",\n".join(lines) + "\n" + indent_unit * depth + "]"


def write_split(packages, skipped, files, settings, heldout):
    """Write split.json with one line per file entry so that diffs stay readable."""
    speakers = {
        package: {**SPEAKERS[package], "voice_folder": f"{SOUNDS_DIR}/{voice_folder(package).name}"}
        for package in SPEAKERS
    }
    header = {
        "sources": [{"package": record["package"], "version": record["version"]} for record in packages],
        "seed": SPLIT_SEED,
        "test_share": TEST_SHARE,
        "speakers": speakers,
        "skipped": {
            "rules": {**SKIPPED_FOLDERS, **SKIPPED_NAMES, "(any file with zero samples)": EMPTY_REASON},
            "files": SKIPPED_FILES_MARK,
        },
        "mel_settings": dataclasses.asdict(settings),
        "heldout": {"seed": HELDOUT_SEED, "files": heldout},
    }
    entries = [
        {
            "path": entry["path"],
            "speaker": entry["speaker"],
            "language": SPEAKERS[entry["speaker"]]["language"],
            "role": entry["role"],
            "seconds": entry["seconds"],
        }
        for entry in files
    ]
    text = json.dumps(header, indent=1, ensure_ascii=False) + "\n"
    text = text.replace(json.dumps(SKIPPED_FILES_MARK), format_entry_list(skipped, " ", 3))
    text = text[:-3] + ',\n "files": ' + format_entry_list(entries, " ", 1) + "\n}\n"
    json.loads(text)
    SPLIT_PATH.write_text(text, encoding="utf-8")


def print_summary(files, skipped):
    """Print per-speaker file counts and hours for each role, and the skipped counts."""
    for package in SPEAKERS:
        members = [entry for entry in files if entry["speaker"] == package]
        train = [entry for entry in members if entry["role"] == "train"]
        hours = sum(entry["seconds"] for entry in members) / 3600
        print(
            f"{package}: {len(members)} files, {hours:.3f} h, train {len(train)}, test {len(members) - len(train)}, "
            f"skipped {sum(1 for entry in skipped if entry['speaker'] == package)}"
        )
    train_count = sum(1 for entry in files if entry["role"] == "train")
    total_hours = sum(entry["seconds"] for entry in files) / 3600
    print(f"total: {len(files)} speech files, {total_hours:.3f} h, train {train_count}, test {len(files) - train_count}")


def main():
    started = time.perf_counter()
    packages = fetch_packages()
    files, skipped = list_files()
    groups = group_near_duplicates(files)
    duplicate_count = len(files) - len(set(groups))
    print(f"near duplicates: {duplicate_count} files share a group with an earlier file")
    assign_roles(files, groups)
    print_summary(files, skipped)

    settings = compute_mel_settings(files)
    FIXTURES_DIR.mkdir(parents=True, exist_ok=True)
    heldout = write_heldout(choose_heldout(files))
    write_license(packages)
    write_split(packages, skipped, files, settings, heldout)
    print(f"wrote {SPLIT_PATH}, {len(heldout)} held-out WAVs and {LICENSE_PATH.name} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
