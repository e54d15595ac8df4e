"""The ``gandetect`` command line: parse, call the library, render.

Exit codes, whatever the output format: 0 every sample real, 1 at least one
sample flagged, 2 an error (bad usage, unreadable profile or input file).
An error outranks a flag. Results go to stdout; progress and diagnostics
go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from gandetect import __version__
from gandetect.errors import GandetectError, UsageError
from gandetect.render import (
    DEFAULT_EVIDENCE,
    EXIT_ERROR,
    EXIT_REAL,
    check_inputs_exist,
    check_output_not_input,
    print_error,
    read_options,
    resolve_workers,
    run_batch,
    run_score,
    write_line,
)

app = typer.Typer(
    name="gandetect",
    help="Tell real data from GAN-generated and adversarial data by statistical signatures.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

ProfileOption = Annotated[
    Optional[Path],
    typer.Option("--profile", "-p", help="Profile JSON to score against (or bundled:image, bundled:pianoroll, bundled:melspec); default: the bundled profile of each file's kind."),
]
LevelOption = Annotated[
    float,
    typer.Option("--level", help="Flag a sample when its p-value is below this level (share of real samples flagged)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ValueRangeOption = Annotated[
    str,
    typer.Option("--value-range", help="Value range of array inputs: auto, 0-1, -1-1 or 0-255."),
]
NpzKeyOption = Annotated[
    Optional[str], typer.Option("--npz-key", help="Array to read from .npz files that hold several.")
]
SampleShapeOption = Annotated[
    Optional[str],
    typer.Option("--sample-shape", help="Reshape flattened array samples, e.g. 28x28 for rows of 784 values."),
]
MaxPixelsOption = Annotated[
    int, typer.Option("--max-pixels", help="Reject images that declare more pixels than this.")
]
MaxElementsOption = Annotated[
    int, typer.Option("--max-array-elements", help="Reject arrays that declare more values than this.")
]
KindOption = Annotated[
    Optional[str],
    typer.Option(
        "--kind",
        help="Read images and arrays as image, pianoroll or melspec (MIDI and audio files decide their own kind); default: image, or the kind of the profile given.",
    ),
]
MaxSecondsOption = Annotated[
    float, typer.Option("--max-seconds", help="Reject audio files whose header declares more seconds than this.")
]
MaxNotesOption = Annotated[int, typer.Option("--max-notes", help="Reject MIDI files with more notes than this.")]
MaxStepsOption = Annotated[
    int, typer.Option("--max-steps", help="Reject MIDI files longer than this many 16th-note steps.")
]
EvidenceOption = Annotated[
    str,
    typer.Option(
        "--evidence",
        help="Statistics kept per result, most extreme first, in the table, lines and JSON: a number or all.",
    ),
]
WorkersOption = Annotated[
    Optional[int],
    typer.Option("--workers", help="Processes that read and score files; default: the machine's cores."),
]


def _fail(message: str) -> None:
    print_error(message)
    raise typer.Exit(EXIT_ERROR)


def _reading(
    value_range: str,
    npz_key: str | None,
    sample_shape: str | None,
    max_pixels: int,
    max_elements: int,
    max_seconds: float,
    max_notes: int,
    max_steps: int,
) -> dict[str, Any]:
    """Bundle the reading options as :func:`gandetect.render.read_options` takes them, unchecked."""
    return dict(
        value_range=value_range, npz_key=npz_key, sample_shape=sample_shape, max_pixels=max_pixels,
        max_elements=max_elements, max_seconds=max_seconds, max_notes=max_notes, max_steps=max_steps,
    )


def _inputs(paths: list[Path], profile: Path | None) -> list[Path]:
    """Return every file or folder a command reads: its paths and the profile given."""
    return [*paths, *([profile] if profile else [])]


def _chooser(profile_path: Path | None, kind: str | None):
    from gandetect.engine import ProfileChooser

    return ProfileChooser(profile_path, kind)


@app.command()
def fit(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders of real samples (folders recurse).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the profile JSON.")],
    calibration_share: Annotated[
        float, typer.Option("--calibration-share", help="Share of samples held back to calibrate p-values.")
    ] = 0.25,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the reference/calibration split.")] = 0,
    description: Annotated[str, typer.Option("--description", help="Free text stored in the profile.")] = "",
    kind: KindOption = None,
    pitch_low: Annotated[
        Optional[int], typer.Option("--pitch-low", help="Piano rolls: MIDI pitch of the lowest row (default 24).")
    ] = None,
    pitch_count: Annotated[
        Optional[int], typer.Option("--pitch-count", help="Piano rolls: number of pitch rows (default 64).")
    ] = None,
    gan: Annotated[
        Optional[list[Path]], typer.Option("--gan", help="Labelled GAN samples that sharpen the profile; repeatable.")
    ] = None,
    adversarial: Annotated[
        Optional[list[Path]],
        typer.Option("--adversarial", help="Labelled adversarial samples that sharpen the profile; repeatable."),
    ] = None,
    value_range: ValueRangeOption = "auto",
    npz_key: NpzKeyOption = None,
    sample_shape: SampleShapeOption = None,
    max_pixels: MaxPixelsOption = 1 << 24,
    max_array_elements: MaxElementsOption = 1 << 28,
    max_seconds: MaxSecondsOption = 3600.0,
    max_notes: MaxNotesOption = 1 << 20,
    max_steps: MaxStepsOption = 1 << 20,
    workers: WorkersOption = None,
) -> None:
    """Fit a profile from real files (images, arrays, MIDI or audio) and write it atomically."""
    from gandetect.engine import fit_profile
    from gandetect.profile import save_profile

    if not 0 <= seed < 2**32:
        _fail(f"invalid --seed {seed}; use an integer from 0 to 4294967295")
    if pitch_low is not None and not 0 <= pitch_low <= 127:
        _fail(f"invalid --pitch-low {pitch_low}; use a MIDI pitch from 0 to 127")
    if pitch_count is not None and not 1 <= pitch_count <= 128 - (pitch_low if pitch_low is not None else 24):
        _fail(f"invalid --pitch-count {pitch_count}; the range must stay within MIDI pitches 0-127")
    representation = {}
    if pitch_low is not None:
        representation["pitch_low"] = pitch_low
    if pitch_count is not None:
        representation["pitch_count"] = pitch_count
    try:
        options = read_options(
            **_reading(value_range, npz_key, sample_shape, max_pixels, max_array_elements, max_seconds, max_notes, max_steps)
        )
        _check_output_file(output)
        check_output_not_input(output, [*paths, *(gan or []), *(adversarial or [])])
        if kind is None:
            kind = _guess_kind(paths)
        document = fit_profile(
            kind=kind,
            representation=representation,
            paths=paths,
            read_options=options,
            calibration_share=calibration_share,
            seed=seed,
            description=description,
            gan_paths=gan or [],
            adversarial_paths=adversarial or [],
            workers=resolve_workers(workers),
        )
        save_profile(document, output)
    except GandetectError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{output}: cannot write profile ({error.strerror or error})")
    training = document["training"]
    typer.echo(
        f"wrote {output}: {training['n_samples']} samples from {training['n_files']} "
        f"{'file' if training['n_files'] == 1 else 'files'} "
        f"({training['n_reference']} reference, {training['n_calibration']} calibration)",
        err=True,
    )
    floor = 1.0 / (training["n_calibration"] + 1)
    if floor >= 0.01:
        typer.echo(
            f"gandetect: warning: with {training['n_calibration']} calibration samples the smallest "
            f"empirical p-value is {floor:.3f}; at level 0.01 only samples beyond every calibration "
            "score (the extrapolated tail) can be flagged; fit on more real samples",
            err=True,
        )


def _guess_kind(paths: list[Path]) -> str:
    """Return the kind of the first file under ``paths``, or image when no file decides it."""
    from gandetect.engine import iter_input_files
    from gandetect.kinds import kind_for_path

    for path, _ in iter_input_files(paths):
        return kind_for_path(path)
    return "image"


@app.command()
def score(
    files: Annotated[list[Path], typer.Argument(help="Image, array, MIDI or audio files (folders recurse).")],
    profile: ProfileOption = None,
    kind: KindOption = None,
    level: LevelOption = 0.01,
    as_json: JsonOption = False,
    evidence: EvidenceOption = DEFAULT_EVIDENCE,
    value_range: ValueRangeOption = "auto",
    npz_key: NpzKeyOption = None,
    sample_shape: SampleShapeOption = None,
    max_pixels: MaxPixelsOption = 1 << 24,
    max_array_elements: MaxElementsOption = 1 << 28,
    max_seconds: MaxSecondsOption = 3600.0,
    max_notes: MaxNotesOption = 1 << 20,
    max_steps: MaxStepsOption = 1 << 20,
    explain: Annotated[
        Optional[Path],
        typer.Option("--explain", help="Also draw the file's evidence to this .png or .svg file; takes one FILE."),
    ] = None,
) -> None:
    """Give each file, or each sample of a stack, a verdict with its p-value and evidence.

    On a terminal the results form a table; piped, each is one tab-separated
    line (path, verdict, p-value, evidence) and the summary goes to stderr.
    """
    finish = None
    if explain is not None:
        try:
            _check_explain_request(files, profile, explain)
        except GandetectError as error:
            _fail(str(error))

        def finish(chooser, reading) -> bool:
            return _write_explanation(files[0], chooser, level, reading, explain)

    options = _reading(
        value_range, npz_key, sample_shape, max_pixels, max_array_elements, max_seconds, max_notes, max_steps
    )
    code = run_score(
        files, profile=profile, kind=kind, level=level, as_json=as_json, evidence=evidence, options=options,
        finish=finish,
    )
    raise typer.Exit(code)


@app.command()
def batch(
    folders: Annotated[list[Path], typer.Argument(help="Folders (recursed) and files to score.")],
    profile: ProfileOption = None,
    kind: KindOption = None,
    level: LevelOption = 0.01,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON Lines: one record per sample, then a summary.")] = False,
    evidence: EvidenceOption = DEFAULT_EVIDENCE,
    workers: WorkersOption = None,
    value_range: ValueRangeOption = "auto",
    npz_key: NpzKeyOption = None,
    sample_shape: SampleShapeOption = None,
    max_pixels: MaxPixelsOption = 1 << 24,
    max_array_elements: MaxElementsOption = 1 << 28,
    max_seconds: MaxSecondsOption = 3600.0,
    max_notes: MaxNotesOption = 1 << 20,
    max_steps: MaxStepsOption = 1 << 20,
    progress: Annotated[
        Optional[bool], typer.Option("--progress/--no-progress", help="Progress bar on stderr; default: when stderr is a terminal.")
    ] = None,
) -> None:
    """Score a whole tree, streaming one record per sample and a final summary."""
    options = _reading(
        value_range, npz_key, sample_shape, max_pixels, max_array_elements, max_seconds, max_notes, max_steps
    )
    code = run_batch(
        folders, profile=profile, kind=kind, level=level, as_json=as_json, evidence=evidence,
        workers=workers, options=options, progress=progress,
    )
    raise typer.Exit(code)


def _stdout_console():
    """Return a console for tables on stdout: the terminal's width, or unlimited when piped.

    Piped, rich would assume 80 columns and break numbers and paths across
    lines; a file or a pager is better served by whole rows.
    """
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=10_000)


@app.command()
def compare(
    paths: Annotated[list[Path], typer.Argument(help="Sets to compare: each file or folder is one set.")],
    profile: ProfileOption = None,
    kind: KindOption = None,
    as_json: JsonOption = False,
    value_range: ValueRangeOption = "auto",
    npz_key: NpzKeyOption = None,
    sample_shape: SampleShapeOption = None,
    max_pixels: MaxPixelsOption = 1 << 24,
    max_array_elements: MaxElementsOption = 1 << 28,
    max_seconds: MaxSecondsOption = 3600.0,
    max_notes: MaxNotesOption = 1 << 20,
    max_steps: MaxStepsOption = 1 << 20,
    plot: Annotated[
        Optional[Path],
        typer.Option("--plot", help="Also draw the ECDF and value histograms of every set to this .png or .svg file."),
    ] = None,
) -> None:
    """Compare each set's pooled values with the profile: KS statistic, p-value, JSD, and per kind violations or moments."""
    from gandetect.engine import compare_set

    try:
        if plot is not None:
            _check_figure_output(plot)
            check_output_not_input(plot, _inputs(paths, profile))
        options = read_options(
            **_reading(value_range, npz_key, sample_shape, max_pixels, max_array_elements, max_seconds, max_notes, max_steps)
        )
        chooser = _chooser(profile, kind)
        check_inputs_exist(paths)
        pairs = []
        for path in paths:
            model = chooser.for_set(path)
            pairs.append((model, compare_set(path, model, read_options=options)))
    except GandetectError as error:
        _fail(str(error))

    if as_json:
        sets = [{"profile": model.profile.source, "kind": model.kind.name, **row.to_json()} for model, row in pairs]
        write_line(json.dumps({"sets": sets}, indent=1))
    else:
        _render_comparison(pairs)
    rows = [row for _, row in pairs]
    for row in rows:
        for message in row.errors:
            print_error(message)
        if row.n_samples == 0 and not row.errors:
            print_error(f"no supported files found in {row.path}")
    failed = any(row.errors or row.n_samples == 0 for row in rows)
    if plot is not None:
        _write_comparison_plot(pairs, plot)
    raise typer.Exit(EXIT_ERROR if failed else EXIT_REAL)


def _render_comparison(pairs) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    def number(value, digits: str = ".6f") -> str:
        return "-" if value is None else format(value, digits)

    console = _stdout_console()
    groups: dict[str, list] = {}
    for model, row in pairs:
        groups.setdefault(model.profile.source, []).append((model, row))
    for source, members in groups.items():
        model = members[0][0]
        table = Table(title=f"pooled values against {escape(source)}")
        for column in ("set", "samples", "KS statistic", "p-value", "JSD"):
            table.add_column(column, justify="left" if column == "set" else "right", overflow="fold")
        reference_samples = model.profile.document["training"]["n_reference"]
        table.add_row("reference (the profile's own data)", str(reference_samples), "0.000000", "1", "0.000000")
        for _, row in members:
            table.add_row(escape(row.path), str(row.n_samples), number(row.ks_statistic), number(row.p_value, ".3g"), number(row.jsd))
        console.print(table)

        if model.kind.name == "pianoroll":
            violations = Table(title="chroma transitions never seen in the reference")
            durations = Table(title="note durations against the reference")
            for column in ("set", "violations", "transitions", "share"):
                violations.add_column(column, justify="left" if column == "set" else "right", overflow="fold")
            for column in ("set", "notes", "KS statistic", "p-value", "JSD"):
                durations.add_column(column, justify="left" if column == "set" else "right", overflow="fold")
            violations.add_row("reference (the profile's own data)", "0", "-", "0.0000")
            for _, row in members:
                extras = row.extras
                share = extras["violations"] / extras["transitions"] if extras.get("transitions") else None
                violations.add_row(escape(row.path), str(extras.get("violations", "-")), str(extras.get("transitions", "-")), number(share, ".4f"))
                durations.add_row(
                    escape(row.path), str(extras.get("n_notes", "-")), number(extras.get("duration_ks_statistic")),
                    number(extras.get("duration_p_value"), ".3g"), number(extras.get("duration_jsd")),
                )
            console.print(violations)
            console.print(durations)

        if model.kind.name == "melspec":
            moments = Table(title="spectral centroid and slope moments: mean (standard deviation) over samples")
            moments.add_column("set", overflow="fold")
            names = list(members[0][1].extras.get("moments", {}))
            for name in names:
                moments.add_column(name.replace("_", " "), justify="right")
            for _, row in members:
                cells = row.extras.get("moments", {})
                moments.add_row(
                    escape(row.path),
                    *(f"{number(cells[name]['mean'], '.3g')} ({number(cells[name]['std'], '.2g')})" for name in names),
                )
            console.print(moments)


@app.command(name="eval")
def evaluate_command(
    real: Annotated[list[Path], typer.Option("--real", help="Set of real samples (file or folder); repeatable.")],
    gan: Annotated[
        Optional[list[Path]], typer.Option("--gan", help="Set of GAN samples; repeatable.")
    ] = None,
    adversarial: Annotated[
        Optional[list[Path]], typer.Option("--adversarial", help="Set of adversarial samples; repeatable.")
    ] = None,
    profile: ProfileOption = None,
    kind: KindOption = None,
    level: LevelOption = 0.01,
    as_json: JsonOption = False,
    value_range: ValueRangeOption = "auto",
    npz_key: NpzKeyOption = None,
    sample_shape: SampleShapeOption = None,
    max_pixels: MaxPixelsOption = 1 << 24,
    max_array_elements: MaxElementsOption = 1 << 28,
    max_seconds: MaxSecondsOption = 3600.0,
    max_notes: MaxNotesOption = 1 << 20,
    max_steps: MaxStepsOption = 1 << 20,
) -> None:
    """Measure detection quality on labelled sets: confusion, flagged shares, ROC AUC, rates at 1% and 5% FPR."""
    from gandetect.engine import score_paths
    from gandetect.evaluation import collect, evaluate

    labelled = [("real", path) for path in real]
    labelled += [("gan", path) for path in gan or []]
    labelled += [("adversarial", path) for path in adversarial or []]
    try:
        options = read_options(
            **_reading(value_range, npz_key, sample_shape, max_pixels, max_array_elements, max_seconds, max_notes, max_steps)
        )
        chooser = _chooser(profile, kind)
        check_inputs_exist([path for _, path in labelled])
        sets = collect(
            labelled,
            lambda path: score_paths([path], chooser.for_set(path), level=level, read_options=options),
        )
        report = evaluate(sets, level=level)
    except GandetectError as error:
        _fail(str(error))
    report["profile"] = ", ".join(chooser.sources())

    if as_json:
        write_line(json.dumps(report, indent=1))
    else:
        _render_evaluation(report)
    errors = sum(row["confusion"]["error"] for row in report["sets"])
    empty = [row["path"] for row in report["sets"] if row["n"] == 0]
    for path in empty:
        print_error(f"no supported files found in {path}")
    raise typer.Exit(EXIT_ERROR if errors or empty else EXIT_REAL)


def _render_evaluation(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    def share(value) -> str:
        return "-" if value is None else f"{value:.3f}"

    # Two narrower tables, verdict counts then ranking quality, so that each
    # fits an 80-column terminal with the set names.
    counts_table = Table(title=f"verdicts at level {report['level']} against {escape(report['profile'])}")
    quality_table = Table(title="ranking of fakes against the real sets, by p-value")
    for table, columns in (
        (counts_table, ("class", "set", "n", "real", "gan", "adv.", "errors", "flagged", "adv. share")),
        (quality_table, ("class", "set", "ROC AUC", "AP", "det. @1% FPR", "det. @5% FPR")),
    ):
        for column in columns:
            table.add_column(column, justify="left" if column in ("class", "set") else "right", overflow="fold")

    def add(label: str, name: str, row: dict[str, Any]) -> None:
        counts = row["confusion"]
        counts_table.add_row(
            label, name, str(row["n"]), str(counts["real"]), str(counts["gan"]), str(counts["adversarial"]),
            str(counts["error"]), share(row["flagged_share"]), share(row["adversarial_share_of_flagged"]),
        )
        if label != "real":
            quality_table.add_row(
                label, name, share(row.get("roc_auc")), share(row.get("average_precision")),
                share(row.get("detection_at_fpr_0.01")), share(row.get("detection_at_fpr_0.05")),
            )

    for row in report["sets"]:
        add(row["label"], escape(row["path"]), row)
    counts_table.add_section()
    quality_table.add_section()
    for label, row in report["classes"].items():
        add(label, "(all sets)", row)
    overall = report["overall"]
    if "n" in overall:
        add("fakes", "(all fake sets)", overall)
    console = _stdout_console()
    console.print(counts_table)
    console.print(quality_table)
    console.print(
        f"measured false-positive rate on the real sets: {share(overall['false_positive_rate'])} "
        f"at level {report['level']}",
        markup=False,
    )


@app.command()
def inspect(
    profile: Annotated[
        Path,
        typer.Argument(help="Profile JSON file, or bundled:image, bundled:pianoroll, bundled:melspec for a bundled one."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Show what a profile holds: its data, reference statistics and calibration."""
    from gandetect.engine import Model, describe_profile
    from gandetect.profile import load_bundled_profile, load_profile

    try:
        loaded = load_bundled_profile("image") if str(profile) == "bundled" else load_profile(profile)
        summary = describe_profile(Model.from_profile(loaded))
    except GandetectError as error:
        _fail(str(error))

    if as_json:
        write_line(json.dumps(summary, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"profile {_plain(loaded.source)}", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    from rich.markup import escape

    for key, value in summary.items():
        table.add_row(key, escape(value if isinstance(value, str) else json.dumps(value)))
    _stdout_console().print(table)


def _plain(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"gandetect {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = None,
) -> None:
    """Tell real data from GAN-generated and adversarial data by statistical signatures."""


def main() -> None:
    """Entry point of the ``gandetect`` console script (see :mod:`gandetect.launch`)."""
    from gandetect.launch import main as launch

    launch()


# ---------------------------------------------------------------- figures and reports


def _check_figure_output(path: Path, *, figure: bool = True) -> None:
    """Raise before any work when plots cannot be drawn, ``path`` is no .png or .svg name, or its folder is missing."""
    from gandetect.plots import figure_format, require_matplotlib

    require_matplotlib()
    if figure:
        figure_format(path)
    _check_output_file(path)


def _check_output_file(path: Path) -> None:
    """Raise before any work when ``path`` cannot be a file to write: a folder, a device, or in a missing folder."""
    from gandetect.files import check_output_path

    check_output_path(path)
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{os.fsdecode(path)}: folder {os.fsdecode(folder)} does not exist; create it first")


def _check_explain_request(files: list[Path], profile: Path | None, explain: Path) -> None:
    _check_figure_output(explain)
    check_output_not_input(explain, _inputs(files, profile))
    if len(files) != 1 or os.path.isdir(files[0]):
        raise UsageError("--explain draws one file's evidence; give exactly one FILE, not several files or a folder")


def _write_explanation(path: Path, chooser, level: float, options, output: Path) -> bool:
    """Draw and save the figure of ``score --explain``, and return False after printing why when that fails."""
    from gandetect.engine import score_paths
    from gandetect.plots import save_figure
    from gandetect.report import explain_file

    try:
        # Scored again with every statistic: the printed results keep only --evidence of them.
        results = list(score_paths([path], chooser, level=level, read_options=options))
        save_figure(explain_file(path, chooser.for_path(path), results, read_options=options), output)
    except GandetectError as error:
        print_error(f"{error}; {os.fsdecode(output)} not written")
        return False
    except OSError as error:
        print_error(f"{os.fsdecode(output)}: cannot write figure ({error.strerror or error})")
        return False
    return True


def _write_comparison_plot(pairs, output: Path) -> None:
    from gandetect.plots import ValueDistribution, save_figure, value_figure

    sources = list(dict.fromkeys(model.profile.source for model, _ in pairs))
    if len(sources) > 1:
        _fail(f"--plot draws sets against one profile, but these sets use {', '.join(sources)}; pass --profile or plot each kind apart")
    model = pairs[0][0]
    reference = ValueDistribution(f"reference ({model.profile.source})", model.reference.values, model.reference.counts)
    sets = [
        ValueDistribution(row.path, row.pooled.values, row.pooled.counts)
        for _, row in pairs
        if row.pooled is not None
    ]
    try:
        save_figure(value_figure(reference, sets), output)
    except OSError as error:
        _fail(f"{os.fsdecode(output)}: cannot write figure ({error.strerror or error})")


@app.command()
def report(
    paths: Annotated[list[Path], typer.Argument(help="Sets to report on: each file or folder is one set.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the HTML report.")],
    profile: ProfileOption = None,
    kind: KindOption = None,
    level: LevelOption = 0.01,
    value_range: ValueRangeOption = "auto",
    npz_key: NpzKeyOption = None,
    sample_shape: SampleShapeOption = None,
    max_pixels: MaxPixelsOption = 1 << 24,
    max_array_elements: MaxElementsOption = 1 << 28,
    max_seconds: MaxSecondsOption = 3600.0,
    max_notes: MaxNotesOption = 1 << 20,
    max_steps: MaxStepsOption = 1 << 20,
) -> None:
    """Write one self-contained HTML report: per set, sample thumbnails, value, moment and duration distributions, the compare table and verdict counts."""
    from gandetect.report import build_report, write_report

    try:
        _check_figure_output(output, figure=False)
        check_output_not_input(output, _inputs(paths, profile))
        options = read_options(
            **_reading(value_range, npz_key, sample_shape, max_pixels, max_array_elements, max_seconds, max_notes, max_steps)
        )
        chooser = _chooser(profile, kind)
        check_inputs_exist(paths)
        collected = build_report(paths, chooser, level=level, read_options=options)
    except GandetectError as error:
        _fail(str(error))
    try:
        write_report(collected, output)
    except OSError as error:
        _fail(f"{os.fsdecode(output)}: cannot write report ({error.strerror or error})")

    for item in collected.sets:
        for message in item.errors:
            print_error(message)
        if item.comparison.n_samples == 0 and not item.errors:
            print_error(f"no supported files found in {item.path}")
    scored = sum(item.verdicts[name] for item in collected.sets for name in ("real", "gan", "adversarial"))
    sets = len(collected.sets)
    typer.echo(
        f"wrote {os.fsdecode(output)}: {sets} {'set' if sets == 1 else 'sets'}, "
        f"{scored} {'result' if scored == 1 else 'results'} scored",
        err=True,
    )
    raise typer.Exit(EXIT_ERROR if collected.failed else EXIT_REAL)
