"""Exceptions raised by gandetect.

Every message names the value it rejected, the rule it broke and what to do
next, in one line, so the command line can print it as it is.
"""


class GandetectError(Exception):
    """Root of every error that gandetect raises on purpose."""


class InputError(GandetectError):
    """A file or array that cannot be read as a sample of the expected kind."""


class ProfileError(GandetectError):
    """A profile that is missing, damaged, of another kind or of another version."""


class UsageError(GandetectError):
    """An option or argument combination that cannot work."""


class MissingDependencyError(GandetectError, ImportError):
    """An optional package that a feature needs is not installed, such as matplotlib for plots."""
