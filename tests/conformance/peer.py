"""The second Django process of the conformance run: step commands in, results out.

Started once per session by the runner (`python -m tests.conformance.peer`, with
DATABASE_URL naming pytest's test database); it reads one JSON command per line
on stdin and writes one JSON result per line on stdout (see actions.perform).
"""

import json
import os
import sys


def main() -> None:
    """Serve commands until stdin closes."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from tests.conformance.actions import perform

    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but results on the protocol stream
    print(json.dumps({"ok": True, "ready": os.getpid()}), file=out, flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            result = perform(json.loads(line))
        except Exception as exc:  # noqa: BLE001 - reported to the runner, which fails the test
            result = {
                "ok": False,
                "code": "crash",
                "message": f"{type(exc).__name__}: {exc}",
            }
        print(json.dumps(result, default=str), file=out, flush=True)


if __name__ == "__main__":
    main()
