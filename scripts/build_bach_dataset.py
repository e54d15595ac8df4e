"""Build the Bach chorale dataset from music21's corpus and record its train/test split.

Outputs:

- ``build/bach/train/NAME.mid`` and ``build/bach/test/NAME.mid``: one MIDI file per
  kept chorale, every note at velocity 127, so that gandetect's piano roll
  (velocity / 127) is exactly 0 or 1.
- ``fixtures/bach/split.json``: the corpus paths in each split and every dropped
  file with its reason.
- ``fixtures/bach/real-heldout/NAME.mid``: the test MIDI files, or a seed-0 subset
  of 60 of them if all of them together pass 400 KB.

Steps:

1. Take the files under ``bach/`` in music21's core corpus. The Roman-numeral
   analyses (``.rntxt``) and BWV 846 (the C major prelude of the Well-Tempered
   Clavier, a keyboard piece) are left out, which leaves the chorales.
2. Drop chorales with a pitch outside MIDI 24..87, the piano-roll range.
3. Drop duplicates. Two files are duplicates if either rule holds:

   - Same file stem, for example ``bwv277.krn`` and ``bwv277.mxl``: one chorale
     in two encodings. The ``.mxl`` file is kept.
   - Near-identical notes: at least 85% of the smaller file's note events
     (offset in quarter notes, MIDI pitch, duration in quarter notes) after ties
     are merged, are also in the other file, at one transposition between -7 and
     +7 semitones. The file with fewer parts is kept, then the first corpus path.
     In music21 10.5.1 the pairs that pass 85% share 90% to 100% of their
     events, and the closest pairs below it share at most 82%.

4. Write each remaining chorale to MIDI with music21, which writes out repeats
   and uses 120 quarter notes per minute unless the score sets a tempo. Time
   signature events that only restate the signature in force are removed with
   mido (see ``drop_repeated_time_signatures``). Each file is read back with
   ``gandetect.pianoroll.read_midi``, and a file that fails to convert or to read
   is dropped.
5. Split 80/20 by chorale: a ``numpy.random.default_rng(0)`` permutation of the
   kept corpus paths in sorted order, whose first 20% (rounded) go to test.

Run from the repository root:

    python scripts/build_bach_dataset.py

It takes about 4 minutes on a 2-core CPU shared with other jobs, most of it
spent parsing MusicXML.

music21 (and mido, which pretty_midi installs) are dev-time dependencies only,
for rebuilding the dataset:
``pip install music21 pretty_midi`` and ``pip install --no-deps -e .``.
"""

import itertools
import json
import shutil
import tempfile
import time
from pathlib import Path

import mido
import music21
import numpy as np
from music21 import chord, corpus

from gandetect.errors import InputError
from gandetect.pianoroll import PianoRollGrid, read_midi

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "build" / "bach"
FIXTURES_DIR = REPO_ROOT / "fixtures" / "bach"
HELDOUT_DIR = FIXTURES_DIR / "real-heldout"

GRID = PianoRollGrid()
SPLIT_SEED = 0
TEST_SHARE = 0.2
HELDOUT_MAX_BYTES = 400 * 1024
HELDOUT_SUBSET_SIZE = 60

SKIPPED_SUFFIXES = {".rntxt"}
NOT_CHORALES = {"bach/bwv846.mxl": "BWV 846, a keyboard prelude from the Well-Tempered Clavier, not a chorale"}
# Lower rank is kept when one chorale comes in several encodings.
FORMAT_RANK = {".mxl": 0, ".xml": 1, ".krn": 2}
DUPLICATE_MIN_SHARE = 0.85
MAX_TRANSPOSITION = 7

DEDUP_RULE = (
    "Two files are duplicates if they have the same file stem (one chorale in two encodings, "
    "the .mxl kept), or if at least 85% of the smaller file's note events (offset and duration "
    "in quarter notes, MIDI pitch, ties merged) are in the other file at one transposition "
    "within +-7 semitones (the file with fewer parts kept, then the first corpus path)."
)


def corpus_path(path):
    """Return a corpus file's path relative to music21's corpus folder, e.g. 'bach/bwv66.6.mxl'."""
    return Path(path).relative_to(music21.common.getCorpusFilePath()).as_posix()


def list_chorales():
    """Return the sorted corpus paths of the Bach chorales and the files left out with reasons."""
    left_out = {}
    chorales = []
    for path in corpus.getComposer("bach"):
        name = corpus_path(path)
        if path.suffix in SKIPPED_SUFFIXES:
            continue
        if name in NOT_CHORALES:
            left_out[name] = NOT_CHORALES[name]
            continue
        chorales.append(name)
    return sorted(chorales), left_out


def describe_score(score):
    """Return the note events (offset, MIDI pitch, duration), the MIDI pitch range and the part count."""
    merged = score.stripTies()
    events = set()
    for element in merged.recurse().notes:
        offset = float(element.getOffsetInHierarchy(merged))
        duration = float(element.quarterLength)
        for pitch in element.pitches:
            events.add((offset, pitch.midi, duration))
    pitches = [event[1] for event in events]
    return {
        "events": events,
        "pitch_range": (min(pitches), max(pitches)),
        "parts": len(score.parts),
    }


def transpositions(events):
    """Return the event set transposed by each shift from -7 to +7 semitones."""
    return [
        {(offset, pitch + semitones, duration) for offset, pitch, duration in events}
        for semitones in range(-MAX_TRANSPOSITION, MAX_TRANSPOSITION + 1)
    ]


def shared_event_share(events_a, transposed_b):
    """Return the largest share of the smaller event set found in the other one, over transpositions."""
    smaller = min(len(events_a), len(transposed_b[MAX_TRANSPOSITION]))
    return max(len(events_a & events_b) for events_b in transposed_b) / smaller


def find_duplicates(info):
    """Return {dropped corpus path: (kept corpus path, reason)} for the chorales in ``info``.

    Files joined by either dedup rule form one group. Each group keeps one file:
    the best format (.mxl, then .xml, then .krn), then the fewest parts, then the
    first corpus path. So a .krn twin of an .mxl chorale is the one dropped.
    """
    names = sorted(info)
    transposed = {name: transpositions(info[name]["events"]) for name in names}
    group_of = {name: name for name in names}

    def find(name):
        while group_of[name] != name:
            name = group_of[name]
        return name

    reasons = {}
    for a, b in itertools.combinations(names, 2):
        if Path(a).stem == Path(b).stem:
            reason = "same file stem"
        else:
            share = shared_event_share(info[a]["events"], transposed[b])
            if share < DUPLICATE_MIN_SHARE:
                continue
            reason = f"{share:.0%} of note events shared"
        reasons[frozenset((a, b))] = reason
        group_of[find(b)] = find(a)

    groups = {}
    for name in names:
        groups.setdefault(find(name), []).append(name)

    duplicates = {}
    for members in groups.values():
        if len(members) == 1:
            continue
        kept = min(members, key=lambda name: (FORMAT_RANK[Path(name).suffix], info[name]["parts"], name))
        for name in members:
            if name != kept:
                reason = reasons.get(frozenset((name, kept)), "linked to the kept file through another duplicate")
                duplicates[name] = (kept, reason)
    return duplicates


def set_full_velocity(score):
    """Set every note's MIDI velocity to 127, including each note of a chord."""
    for element in score.recurse().notes:
        element.volume.velocity = 127
        if isinstance(element, chord.Chord):
            for note in element.notes:
                note.volume.velocity = 127


def drop_repeated_time_signatures(path):
    """Remove time-signature events that restate the signature in force, and return how many.

    music21 10.5.1 restates the time signature once per part where it writes out
    a repeat, all at one tick. pretty_midi 0.2.11 turns each restatement into an
    extra beat of zero length, and read_midi in gandetect then raises
    ZeroDivisionError.
    Dropping the restatements leaves the music unchanged.
    """
    midi = mido.MidiFile(path)
    events = []
    for track_index, track in enumerate(midi.tracks):
        tick = 0
        for message_index, message in enumerate(track):
            tick += message.time
            if message.type == "time_signature":
                events.append((tick, track_index, message_index, (message.numerator, message.denominator)))

    redundant = set()
    in_force = None
    for _, track_index, message_index, signature in sorted(events):
        if signature == in_force:
            redundant.add((track_index, message_index))
        in_force = signature
    if not redundant:
        return 0

    for track_index, track in enumerate(midi.tracks):
        kept = mido.MidiTrack()
        carried_ticks = 0
        for message_index, message in enumerate(track):
            if (track_index, message_index) in redundant:
                carried_ticks += message.time
                continue
            kept.append(message.copy(time=message.time + carried_ticks))
            carried_ticks = 0
        midi.tracks[track_index] = kept
    midi.save(path)
    return len(redundant)


def convert_to_midi(score, path):
    """Write ``score`` to MIDI at ``path`` and check that gandetect reads it as a 0/1 piano roll.

    Returns the number of repeated time-signature events removed. Raises
    InputError (from read_midi) or ValueError if the written file does not give
    a 0/1 roll without conversions.
    """
    set_full_velocity(score)
    score.write("midi", fp=str(path))
    removed = drop_repeated_time_signatures(path)
    roll, conversions = read_midi(path, GRID)
    if conversions:
        raise ValueError(f"read_midi applied conversions: {'; '.join(conversions)}")
    if not np.isin(roll, (0.0, 1.0)).all():
        raise ValueError("piano roll has values other than 0 and 1")
    return removed


def midi_name(name):
    """Return the MIDI file name for a corpus path, e.g. 'bach/bwv66.6.mxl' -> 'bwv66.6.mid'."""
    return Path(name).stem + ".mid"


def reset_folder(folder):
    """Create ``folder`` and delete the MIDI files a previous run left in it."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.mid"):
        old.unlink()


def split_by_chorale(names):
    """Return (train, test) lists of corpus paths from a seed-0 permutation of the sorted paths."""
    names = sorted(names)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(names))
    test_count = round(TEST_SHARE * len(names))
    test = sorted(names[i] for i in order[:test_count])
    train = sorted(names[i] for i in order[test_count:])
    return train, test


def copy_heldout(test_dir, test_names):
    """Copy the test MIDI files into the fixtures, or a seed-0 subset of 60 if they pass 400 KB.

    Returns the corpus paths of the copied chorales.
    """
    reset_folder(HELDOUT_DIR)
    total_bytes = sum((test_dir / midi_name(name)).stat().st_size for name in test_names)
    chosen = list(test_names)
    if total_bytes > HELDOUT_MAX_BYTES:
        picks = np.random.default_rng(SPLIT_SEED).choice(len(test_names), HELDOUT_SUBSET_SIZE, replace=False)
        chosen = sorted(test_names[i] for i in picks)
    for name in chosen:
        shutil.copy2(test_dir / midi_name(name), HELDOUT_DIR / midi_name(name))
    print(f"test MIDI files total {total_bytes / 1024:.0f} KB; copied {len(chosen)} to {HELDOUT_DIR.relative_to(REPO_ROOT)}")
    return chosen


def main():
    started = time.perf_counter()
    names, not_chorales = list_chorales()
    print(f"music21 {music21.__version__}: {len(names)} chorale files under bach/, {len(not_chorales)} other file(s) left out")

    info = {}
    scores = {}
    out_of_range = {}
    for name in names:
        score = corpus.parse(name)
        described = describe_score(score)
        low, high = described["pitch_range"]
        if low < GRID.pitch_low or high > GRID.pitch_high:
            out_of_range[name] = f"pitches span {low}-{high}, outside {GRID.pitch_low}-{GRID.pitch_high}"
            continue
        info[name] = described
        scores[name] = score
    print(f"parsed in {time.perf_counter() - started:.0f} s; {len(out_of_range)} outside the pitch range")

    duplicates = find_duplicates(info)
    for name, (kept, reason) in sorted(duplicates.items()):
        print(f"duplicate: {name} of {kept} ({reason})")
    unique = [name for name in sorted(info) if name not in duplicates]

    conversion_failed = {}
    with tempfile.TemporaryDirectory() as staging:
        staging = Path(staging)
        converted = []
        restated_files = 0
        for name in unique:
            try:
                restated_files += convert_to_midi(scores[name], staging / midi_name(name)) > 0
            except (music21.Music21Exception, InputError, ValueError) as error:
                conversion_failed[name] = f"{type(error).__name__}: {error}"
                print(f"conversion failed: {name}: {conversion_failed[name]}")
                continue
            converted.append(name)
        print(f"removed repeated time-signature events from {restated_files} MIDI files")

        train, test = split_by_chorale(converted)
        for split_name, split_names in (("train", train), ("test", test)):
            folder = BUILD_DIR / split_name
            reset_folder(folder)
            for name in split_names:
                shutil.move(staging / midi_name(name), folder / midi_name(name))

    heldout = copy_heldout(BUILD_DIR / "test", test)

    dropped = {
        "not_chorale": not_chorales,
        "pitch_range": out_of_range,
        "duplicate": {name: f"duplicate of {kept}: {reason}" for name, (kept, reason) in sorted(duplicates.items())},
        "conversion_failed": conversion_failed,
    }
    record = {
        "source": f"music21 {music21.__version__} core corpus, bach/ (corpus.getComposer('bach'))",
        "seed": SPLIT_SEED,
        "dedup_rule": DEDUP_RULE,
        "train": train,
        "test": test,
        "heldout_fixture": heldout,
        "dropped": dropped,
    }
    FIXTURES_DIR.mkdir(parents=True, exist_ok=True)
    (FIXTURES_DIR / "split.json").write_text(json.dumps(record, indent=2) + "\n")

    print(
        f"chorale files {len(names)}; dropped: {len(out_of_range)} pitch range, {len(duplicates)} duplicates, "
        f"{len(conversion_failed)} conversion failures; kept {len(converted)}: "
        f"train {len(train)}, test {len(test)} ({time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
