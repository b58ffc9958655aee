"""A controllable clock for exact cockpit figures."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@contextmanager
def clock_at(seconds: float) -> Iterator[datetime]:
    """Run the real services as if it were T0 + seconds (audit, task and case times)."""
    at = T0 + timedelta(seconds=seconds)
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield at


def iso(seconds: float) -> str:
    """Return T0 + seconds in ISO 8601, as a query parameter."""
    return (T0 + timedelta(seconds=seconds)).isoformat()
