#!/usr/bin/env python
"""Write docs/corpus-report.md: deploy and drive every diagram of the shared corpus.

Runs tests/processes/test_corpus.py (PostgreSQL from DATABASE_URL, as the test
suite does) with CORPUS_REPORT pointing at the report file. With `--update`, it
also rewrites tests/processes/corpus_expected.json (each file's pinned outcome
and route) from this run: review its diff before committing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway \
        python scripts/corpus_report.py [--update]
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    target = ROOT / "docs" / "corpus-report.md"
    target.parent.mkdir(exist_ok=True)
    env = {**os.environ, "CORPUS_REPORT": str(target)}
    if "--update" in sys.argv[1:]:
        env["CORPUS_UPDATE"] = "1"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/processes/test_corpus.py",
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if result.returncode == 0:
        print(f"wrote {target.relative_to(ROOT)}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
