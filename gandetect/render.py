"""Output shared by the commands, and the ``score`` command itself, without typer.

``gandetect score`` runs in shell loops, one process per file, so it must
start fast: importing typer costs more than scoring an image. This module
contains what ``score`` needs (reading options, scoring, the table, lines and
JSON) so that :mod:`gandetect.launch` can run plain ``score`` calls without
importing :mod:`gandetect.cli`, and the typer command gives the same output.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from gandetect.errors import GandetectError, UsageError

EXIT_REAL = 0
EXIT_FLAGGED = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

# Evidence items kept per result unless --evidence says otherwise, as the option text.
DEFAULT_EVIDENCE = "3"


def parse_evidence(text: str) -> int | None:
    """Read ``--evidence``: a count of items, or ``all`` (returned as None)."""
    if text.strip().lower() == "all":
        return None
    try:
        count = int(text)
    except ValueError:
        raise UsageError(f"invalid --evidence {text!r}; use a number of statistics or all") from None
    if count < 0:
        raise UsageError(f"invalid --evidence {text!r}; use 0 or more, or all")
    return count


def read_options(
    value_range: str = "auto",
    npz_key: str | None = None,
    sample_shape: str | None = None,
    max_pixels: int = 1 << 24,
    max_elements: int = 1 << 28,
    max_seconds: float = 3600.0,
    max_notes: int = 1 << 20,
    max_steps: int = 1 << 20,
):
    """Check the reading options given on the command line and bundle them."""
    from gandetect.kinds import ReadOptions

    shape = None
    if sample_shape is not None:
        try:
            rows, columns = (int(part) for part in sample_shape.lower().split("x"))
            if rows <= 0 or columns <= 0:
                raise ValueError
        except ValueError:
            raise UsageError(f"invalid --sample-shape {sample_shape!r}; write ROWSxCOLUMNS, e.g. 28x28") from None
        shape = (rows, columns)
    caps = {
        "--max-pixels": max_pixels,
        "--max-array-elements": max_elements,
        "--max-seconds": max_seconds,
        "--max-notes": max_notes,
        "--max-steps": max_steps,
    }
    for name, cap in caps.items():
        # Written so that NaN fails too: it would switch the cap off.
        if not cap > 0:
            raise UsageError(f"invalid {name} {cap}; use a positive number")
    from gandetect.loading import VALUE_RANGES

    if value_range not in VALUE_RANGES:
        raise UsageError(f"invalid --value-range {value_range!r}; use one of {', '.join(VALUE_RANGES)}")
    return ReadOptions(
        value_range=value_range,
        npz_key=npz_key,
        sample_shape=shape,
        max_pixels=max_pixels,
        max_array_elements=max_elements,
        max_seconds=max_seconds,
        max_notes=max_notes,
        max_steps=max_steps,
    )


def check_inputs_exist(paths: list[Path]) -> None:
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"{os.fsdecode(path)}: no such file or folder")


def check_output_not_input(output: Path, inputs: list[Path]) -> None:
    """Raise UsageError when writing ``output`` would replace or add a file that the command reads.

    A forensic tool must not destroy or pollute its evidence: ``-o``,
    ``--plot`` and ``--explain`` may not name an input file, nor a file
    inside an input folder with an extension that gandetect reads, whether
    or not it exists yet.
    """
    from gandetect.kinds import ALL_SUFFIXES

    target = os.path.realpath(output)
    for input_path in inputs:
        if os.fsdecode(input_path).startswith("bundled:"):
            continue
        source = os.path.realpath(input_path)
        if os.path.isdir(source):
            inside = os.path.commonpath([source, target]) == source
            if inside and os.path.splitext(target)[1].lower() in ALL_SUFFIXES:
                raise UsageError(
                    f"{os.fsdecode(output)}: lies inside the input folder {os.fsdecode(input_path)} with an extension "
                    "that gandetect reads; write the output elsewhere so that no input is replaced or added"
                )
        elif os.path.lexists(output) and source == target:
            raise UsageError(
                f"{os.fsdecode(output)}: is one of the input files; write the output elsewhere so that no input is replaced"
            )


def print_error(message: str) -> int:
    """Print one error line to stderr and return the error exit code."""
    sys.stderr.write(f"gandetect: error: {plain_text(message)}\n")
    sys.stderr.flush()
    return EXIT_ERROR


def exit_code(results) -> int:
    counted = [result for result in results if result.counted]
    if any(result.error for result in counted):
        return EXIT_ERROR
    if any(result.flagged for result in counted):
        return EXIT_FLAGGED
    return EXIT_REAL


def summary(counts: Counter, interrupted: bool, level: float, profile_sources: list[str]) -> dict[str, Any]:
    return {
        "type": "summary",
        "n_results": sum(counts.values()),
        "real": counts["real"],
        "gan": counts["gan"],
        "adversarial": counts["adversarial"],
        "errors": counts["error"],
        "level": level,
        "profiles": profile_sources,
        "interrupted": interrupted,
    }


def summary_line(counts: dict[str, Any]) -> str:
    n = counts["n_results"]
    return (
        f"{n} {'result' if n == 1 else 'results'}: {counts['real']} real, {counts['gan']} gan, "
        f"{counts['adversarial']} adversarial, {counts['errors']} {'error' if counts['errors'] == 1 else 'errors'}"
    )


def format_p(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def evidence_text(result, count: int | None) -> str:
    parts = []
    for item in result.evidence[:count]:
        value = "undefined" if item.value is None else f"{item.value:.4g}"
        parts.append(f"{item.statistic}={value} (z {item.z:+.1f})")
    return "; ".join(parts)


# Control characters in file names (tabs, newlines, terminal escapes)
# would forge fields and lines of the text output or drive the terminal.
# They print as escapes instead. The backslash is escaped too, so that
# every escape reads one way. Unicode line and paragraph separators and
# bidirectional overrides count as control characters here.
_CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(32), *range(127, 160)]}
_CONTROL_ESCAPES.update({code: f"\\u{code:04x}" for code in [0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]})
_CONTROL_ESCAPES.update({9: "\\t", 10: "\\n", 13: "\\r", ord("\\"): "\\\\"})


def plain_text(text: str) -> str:
    """Escape control characters and backslashes, so that ``text`` stays one field of one line."""
    return text.translate(_CONTROL_ESCAPES)


def result_line(result, evidence_count: int | None) -> str:
    """Format one result as a tab-separated line: path, verdict, p-value, evidence (or the error)."""
    path = plain_text(result.path)
    if result.error:
        return f"{path}\terror\t-\t{plain_text(result.error)}"
    return f"{path}\t{result.verdict}\t{format_p(result.p_value)}\t{evidence_text(result, evidence_count)}"


def json_line(result) -> str:
    """Format one result as its JSON record on one line."""
    return json.dumps(result.to_json())


def write_line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def render_table(results, evidence_count: int | None, counts: dict[str, Any]) -> None:
    """Print results as a rich table, for a terminal."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_lines=False)
    table.add_column("path", overflow="fold")
    table.add_column("verdict")
    table.add_column("p-value", justify="right")
    table.add_column("evidence", overflow="fold")
    styles = {"real": "green", "gan": "red", "adversarial": "magenta"}
    for result in results:
        if result.error:
            table.add_row(escape(plain_text(result.path)), "[yellow]error[/]", "-", escape(plain_text(result.error)))
            continue
        style = styles[result.verdict]
        table.add_row(
            escape(plain_text(result.path)),
            f"[{style}]{result.verdict}[/]",
            format_p(result.p_value),
            escape(evidence_text(result, evidence_count)),
        )
    console = Console()
    console.print(table)
    console.print(
        f"{summary_line(counts)} (level {counts['level']}, "
        f"{'profile' if len(counts['profiles']) == 1 else 'profiles'} {', '.join(counts['profiles']) or '-'})",
        markup=False,
        highlight=False,
    )


def run_score(
    files: list[Path],
    *,
    profile: Path | None,
    kind: str | None,
    level: float,
    as_json: bool,
    evidence: str,
    options: dict[str, Any],
    finish: Any = None,
) -> int:
    """Run ``gandetect score`` and return its exit code.

    Output: JSON with ``as_json``; a table when stdout is a terminal;
    otherwise one tab-separated line per result, with the summary on stderr.
    ``finish(chooser, read_options)``, when given, runs after the output and
    returns False after printing why it failed, which makes the exit code 2.
    """
    from gandetect.engine import ProfileChooser, score_paths

    try:
        evidence_count = parse_evidence(evidence)
        reading = read_options(**options)
        chooser = ProfileChooser(profile, kind)
        check_inputs_exist(files)
        results = list(score_paths(files, chooser, level=level, read_options=reading, evidence=evidence_count))
    except GandetectError as error:
        return print_error(str(error))
    if not results:
        return print_error(f"no supported files found in {', '.join(os.fsdecode(path) for path in files)}")

    counts = summary(
        Counter(result.verdict or "error" for result in results if result.counted), False, level, chooser.sources()
    )
    try:
        if as_json:
            document = {"results": [result.to_json() for result in results], "summary": counts}
            # No indent: json's C encoder only runs without one, ten times faster on large stacks.
            write_line(json.dumps(document))
        elif sys.stdout.isatty():
            render_table(results, evidence_count, counts)
        else:
            sys.stdout.write("".join(result_line(result, evidence_count) + "\n" for result in results))
            sys.stdout.flush()
            sys.stderr.write(summary_line(counts) + "\n")
    except BrokenPipeError:
        quiet_broken_pipe()
    if finish is not None and not finish(chooser, reading):
        return EXIT_ERROR
    return exit_code(results)


def quiet_broken_pipe() -> None:
    """Send further output to /dev/null once the reader of stdout has gone, as `| head -1` does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def resolve_workers(workers: int | None) -> int:
    """Check ``--workers``; None means the cores this process may run on.

    More than 4 processes per core only add memory and start-up time, and
    thousands of them can exhaust the machine, so that is the limit.
    """
    from gandetect.engine import default_workers

    cores = default_workers()
    if workers is None:
        return cores
    limit = max(8, 4 * cores)
    if not 1 <= workers <= limit:
        raise UsageError(f"invalid --workers {workers}; use 1 to {limit} (this machine has {cores} cores)")
    return workers


def run_batch(
    folders: list[Path],
    *,
    profile: Path | None,
    kind: str | None,
    level: float,
    as_json: bool,
    evidence: str,
    workers: int | None,
    options: dict[str, Any],
    progress: bool | None = None,
) -> int:
    """Run ``gandetect batch`` and return its exit code.

    Records stream to stdout, flushed once per group of files, then the
    summary (a JSON line with ``as_json``, else a line on stderr). The first
    Ctrl-C stops after the record being written.
    """
    import functools

    from gandetect.engine import ProfileChooser, check_level, iter_input_files, score_groups

    try:
        check_level(level)
        evidence_count = parse_evidence(evidence)
        n_workers = resolve_workers(workers)
        reading = read_options(**options)
        chooser = ProfileChooser(profile, kind)
        check_inputs_exist(folders)
    except GandetectError as error:
        return print_error(str(error))

    show_progress = sys.stderr.isatty() if progress is None else progress
    counts: Counter = Counter()
    worst = EXIT_REAL
    bar = None
    stop = InterruptFlag()
    try:
        if show_progress:
            from rich.console import Console
            from rich.progress import Progress

            files = list(iter_input_files(folders, chooser.suffixes))
            # Rich redirects stdout into its console by default, which would send
            # the records to the terminal instead of the pipe or file.
            bar = Progress(
                console=Console(stderr=True), transient=True, redirect_stdout=False, redirect_stderr=False
            )
            bar.start()
            task = bar.add_task("scoring", total=len(files))
            paths = _advance_each(files, bar, task)
        else:
            paths = folders
        render = json_line if as_json else functools.partial(result_line, evidence_count=evidence_count)
        groups = score_groups(
            paths, chooser, level=level, read_options=reading, evidence=evidence_count, workers=n_workers,
            render=render,
        )
        try:
            for group in groups:
                for result in group:
                    if result.counted:
                        counts[result.verdict or "error"] += 1
                        worst = max(worst, exit_code([result]))
                    sys.stdout.write(result.text + "\n")
                    if stop.requested:
                        break
                # One flush per group of files, not one system call per record.
                sys.stdout.flush()
                if stop.requested:
                    break
        finally:
            # Stops the worker processes on Ctrl-C or a closed pipe.
            groups.close()
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        quiet_broken_pipe()
        return worst
    finally:
        stop.restore()
        if bar is not None:
            bar.stop()

    interrupted = stop.requested
    counted = summary(counts, interrupted, level, chooser.sources())
    if not interrupted and sum(counts.values()) == 0:
        return print_error(f"no supported files found in {', '.join(os.fsdecode(path) for path in folders)}")
    try:
        if as_json:
            write_line(json.dumps(counted))
        else:
            sys.stderr.write(summary_line(counted) + (" (interrupted)" if interrupted else "") + "\n")
    except BrokenPipeError:
        quiet_broken_pipe()
        return worst
    return EXIT_INTERRUPTED if interrupted else worst


def _advance_each(files, bar, task):
    for path, _ in files:
        yield path
        bar.advance(task)


class InterruptFlag:
    """Turn the first Ctrl-C into a request to stop after the record being written.

    A KeyboardInterrupt raised inside a write can cut a JSON line in half;
    with the flag the loop stops between records. A second Ctrl-C raises
    KeyboardInterrupt as usual, for a file that takes long to score.
    """

    def __init__(self) -> None:
        import signal

        self.requested = False
        self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def restore(self) -> None:
        import signal

        signal.signal(signal.SIGINT, self._previous)
