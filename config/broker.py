"""The embedded broker of the quick start: Kombu's filesystem transport, made atomic.

With ``REDIS_URL`` unset, Celery's worker, beat and the web processes exchange messages
through files in one folder (settings.CELERY_BROKER_TRANSPORT_OPTIONS). Kombu's own
filesystem transport writes a message in place, so a polling worker can take a
half-written file, and it claims a message by moving it to the system temporary folder,
which is a copy (not a rename) when that folder is on another file system, so two
workers can both take it. Here a message is written under a temporary name and renamed
into the queue folder, and claimed by a rename inside the broker folder: both atomic.

A message is removed when a worker takes it; a worker killed mid-task loses it, and the
engine's outbox sweep sends the call again (ENGINE_OUTBOX_STALE_SECONDS), as with Redis.
"""

import os
import uuid
from pathlib import Path
from queue import Empty
from time import time_ns
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    """A filesystem channel whose writes and claims are single renames."""

    # The two base classes name the argument differently; Kombu passes it by position.
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Write `payload` under a temporary name, then rename it into the queue."""
        name = f"{time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        folder = Path(self.data_folder_out)
        partial = folder / f".{name}.partial"
        try:
            partial.write_bytes(str_to_bytes(dumps(payload)))
            os.replace(partial, folder / name)
        except OSError as exc:
            raise ChannelError(f"Cannot add {name!r} to {folder}") from exc

    def _get(self, queue: Any, timeout: Any = None) -> Any:
        """Claim the oldest message of `queue` by renaming it; read and delete it."""
        folder = Path(self.data_folder_in)
        claimed = folder / "claimed"
        claimed.mkdir(exist_ok=True)
        suffix = f".{queue}.msg"
        for name in sorted(os.listdir(folder)):
            if name.startswith(".") or name.partition(".")[2] != suffix[1:]:
                continue
            mine = claimed / f"{uuid.uuid4().hex}-{name}"
            try:
                os.rename(folder / name, mine)
            except OSError:
                continue  # another worker took it first
            payload = mine.read_bytes()
            mine.unlink()
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    """Kombu's filesystem transport with the atomic channel above."""

    Channel = Channel
