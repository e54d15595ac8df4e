"""Entry point of the ``gandetect`` command.

A plain ``gandetect score FILE...`` call, with only the options that shell
loops use, runs straight through :func:`gandetect.render.run_score`; typer,
which takes longer to import than scoring an image takes, is imported for
every other call (help, other commands, other options, bad values), and
gives the same output for the calls that the quick path takes.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import Any

_VALUE_OPTIONS = {"--profile": "profile", "-p": "profile", "--kind": "kind", "--level": "level", "--evidence": "evidence"}


def quick_score_arguments(arguments: list[str]) -> dict[str, Any] | None:
    """Return the arguments of a ``score`` call that needs no typer, or None."""
    if len(arguments) < 2 or arguments[0] != "score":
        return None
    parsed: dict[str, Any] = {"files": [], "profile": None, "kind": None, "level": "0.01", "as_json": False, "evidence": "3"}
    tokens = iter(arguments[1:])
    for token in tokens:
        if token == "--json":
            parsed["as_json"] = True
        elif token in _VALUE_OPTIONS:
            value = next(tokens, None)
            if value is None:
                return None
            parsed[_VALUE_OPTIONS[token]] = value
        elif token.startswith("--") and token.partition("=")[0] in _VALUE_OPTIONS:
            name, _, value = token.partition("=")
            parsed[_VALUE_OPTIONS[name]] = value
        elif token.startswith("-"):
            return None
        else:
            parsed["files"].append(Path(token))
    # float() also reads digits of other scripts, which typer rejects.
    if not parsed["level"].isascii():
        return None
    try:
        parsed["level"] = float(parsed["level"])
    except ValueError:
        return None
    if not parsed["files"]:
        return None
    if parsed["profile"] is not None:
        parsed["profile"] = Path(parsed["profile"])
    return parsed


def configure_output() -> None:
    """Print undecodable file names escaped, and library warnings as one line."""
    # File names that are not valid UTF-8 reach Python as surrogate escapes;
    # print them as \udcXX instead of failing. JSON output escapes them anyway.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    import warnings

    warnings.formatwarning = lambda message, *_args, **_kwargs: f"gandetect: warning: {message}\n"


def main() -> None:
    """Run the ``gandetect`` command."""
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
            sys.stderr.write(f"gandetect: error: cannot write output ({error.strerror or error})\n")
            code = 2
        # Python flushes stdout again at exit; send what is left nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(code)


def _run(arguments: list[str]) -> int | None:
    quick = quick_score_arguments(arguments)
    if quick is not None:
        from gandetect.render import run_score

        files = quick.pop("files")
        return run_score(files, options={}, **quick)
    from gandetect.cli import app

    app()
    return 0
