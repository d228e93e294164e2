"""Errors that end a run, each with the exit code ccc gives for the same failure."""

from __future__ import annotations


class JobError(Exception):
    """An error that stops the job; `exit_code` is ccc's for the same failure."""

    exit_code = 3


class UsageError(JobError):
    """Bad usage, a bad suite or a bad configuration (exit 2)."""

    exit_code = 2


class InputError(JobError):
    """An input or output that cannot be read or written (exit 3)."""

    exit_code = 3


class ChecksFailed(JobError):
    """An expectation of severity error failed under --checks enforce (exit 1)."""

    exit_code = 1
