"""Entry point of the ``gandetect`` command.

Plain ``gandetect score FILE...`` and ``gandetect batch DIR...`` calls, with
only the options that shell loops use, run straight through
:func:`gandetect.render.run_score` and :func:`gandetect.render.run_batch`.
Importing typer takes longer than scoring an image, so it is imported only
for every other call (help, other commands, other options, bad values).
Both paths give the same output for the calls that the quick path takes.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import Any

from gandetect.render import DEFAULT_EVIDENCE, plain_text

_VALUE_OPTIONS = {"--profile": "profile", "-p": "profile", "--kind": "kind", "--level": "level", "--evidence": "evidence"}
_BATCH_VALUE_OPTIONS = {**_VALUE_OPTIONS, "--workers": "workers"}


def quick_arguments(arguments: list[str]) -> tuple[str, dict[str, Any]] | None:
    """Return the command and arguments of a ``score`` or ``batch`` call that needs no typer, or None."""
    if len(arguments) < 2 or arguments[0] not in ("score", "batch"):
        return None
    command = arguments[0]
    options = _VALUE_OPTIONS if command == "score" else _BATCH_VALUE_OPTIONS
    parsed: dict[str, Any] = {"files": [], "profile": None, "kind": None, "level": "0.01", "as_json": False, "evidence": DEFAULT_EVIDENCE}
    if command == "batch":
        parsed["workers"] = None

    tokens = iter(arguments[1:])
    for token in tokens:
        if token == "--json":
            parsed["as_json"] = True
        elif token in options:
            value = next(tokens, None)
            if value is None:
                return None
            parsed[options[token]] = value
        elif token.startswith("--") and token.partition("=")[0] in options:
            name, _, value = token.partition("=")
            parsed[options[name]] = value
        elif token.startswith("-"):
            return None
        else:
            parsed["files"].append(Path(token))

    # int() and float() also read digits of other scripts, underscores and
    # spaces around the number, which typer may reject: leave those to typer.
    for name in ("level", "workers"):
        value = parsed.get(name) or ""
        if not value.isascii() or "_" in value or value.strip() != value:
            return None

    try:
        parsed["level"] = float(parsed["level"])
        if parsed.get("workers") is not None:
            parsed["workers"] = int(parsed["workers"])
    except ValueError:
        return None
    if not parsed["files"]:
        return None
    if parsed["profile"] is not None:
        parsed["profile"] = Path(parsed["profile"])
    return command, parsed


def quick_score_arguments(arguments: list[str]) -> dict[str, Any] | None:
    """Return the arguments of a ``score`` call that needs no typer, or None."""
    quick = quick_arguments(arguments)
    return quick[1] if quick is not None and quick[0] == "score" else None


def configure_output() -> None:
    """Print undecodable file names escaped, and library warnings as one line."""
    # File names that are not valid UTF-8 reach Python as surrogate escapes;
    # print them as \udcXX instead of failing. JSON output escapes them anyway.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    import warnings

    warnings.formatwarning = lambda message, *_args, **_kwargs: f"gandetect: warning: {plain_text(str(message))}\n"


def main() -> None:
    """Run the ``gandetect`` command."""
    # With a closed stdout or stderr (`>&-`), Python sets the stream to None.
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    if sys.stdout is None:
        sys.stderr.write("gandetect: error: cannot write output (stdout is closed)\n")
        sys.exit(2)
    configure_output()
    code: int | str | None = None
    try:
        try:
            code = _run(sys.argv[1:])
        except SystemExit as request:
            code = request.code
        # Flushed here, so that a failing write is reported like any other.
        sys.stdout.flush()
    except OSError as error:
        if error.errno == errno.EPIPE:
            # The reader went away (`| head -1`): stop quietly, with the exit
            # code of the run if it got that far.
            code = 0 if code is None else code
        else:
            try:
                sys.stderr.write(f"gandetect: error: cannot write output ({error.strerror or error})\n")
                sys.stderr.flush()
            except OSError:
                pass  # stderr fails too: the exit code is all that is left
            code = 2
        # Python flushes stdout again at exit; send what is left nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(code)


def _run(arguments: list[str]) -> int | None:
    quick = quick_arguments(arguments)
    if quick is not None:
        command, parsed = quick
        files = parsed.pop("files")
        if command == "score":
            from gandetect.render import run_score

            return run_score(files, options={}, **parsed)
        from gandetect.render import run_batch

        return run_batch(files, options={}, **parsed)
    from gandetect.cli import app

    app()
    return 0
