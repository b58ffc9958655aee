"""Print every figure the cockpit's JSON APIs give on a database (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway_bench_volume \\
    .venv/bin/python bench/cockpit_figures.py > after.txt

A check that a change to how the cockpit reads its figures (cockpit.rollups)
changes no figure: run it on a bench database (bench/volume.py leaves the filled
one and its `_empty` copy) with the old code and with the new, and compare the
outputs byte for byte (`cmp`). Nothing is written and the beat does not run in
between, so the figures stay put. Each line: the exact limit, the URL, the range
and the response, for the user-task report, the statistics and the cycle times
of bench/volume.py's process, with every range shape the readers split
differently (none, open either end, whole days, partial days, after the mark),
with the default COCKPIT_EXACT_LIMIT, a small one (exact and approximate
figures side by side) and one above every count (every figure exact).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django  # noqa: E402

USER = "b-analyst"  # bench/volume.py's process admin
VERSION = "/api/v1/processes/purchase_request/versions/1/"
URLS = (
    VERSION + "reports/tasks/",
    VERSION + "statistics/",
    "/api/v1/processes/purchase_request/reports/cycle-times/",
)
LIMITS = (2000, 40, 10**9)


def ranges() -> list[dict[str, str]]:
    """Ranges around the rollup mark: whole and partial days, either end open."""
    from cockpit.models import RollupMark

    mark = RollupMark.objects.get(pk=1).until
    day = mark.replace(hour=0, minute=0, second=0, microsecond=0)

    def at(moment) -> str:  # noqa: ANN001
        return moment.isoformat()

    return [
        {},
        {"since": at(day - timedelta(days=11, hours=18, minutes=30))},
        {"until": at(mark - timedelta(minutes=30))},
        {"until": at(mark + timedelta(minutes=20))},
        {"since": at(day - timedelta(days=61)), "until": at(day - timedelta(days=16))},
        {"since": at(mark - timedelta(days=2, minutes=13)), "until": at(mark)},
        {"since": at(mark - timedelta(minutes=10))},
    ]


def main() -> None:
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=USER))
    for limit in LIMITS:
        with override_settings(COCKPIT_EXACT_LIMIT=limit):
            for url in URLS:
                for params in ranges():
                    response = client.get(url, params)
                    body = response.content.decode()
                    print(f"{limit} {url} {params} {response.status_code} {body}")


if __name__ == "__main__":
    main()
