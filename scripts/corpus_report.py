#!/usr/bin/env python
"""Write the corpus reports: deploy and drive every diagram of the corpora.

Runs tests/processes/test_corpus.py (PostgreSQL from DATABASE_URL, as the test
suite does) over its two corpora and writes their reports: docs/corpus-report.md
(the shared corpus) and docs/compat-report.md (the Camunda 7 diagrams of
tests/conformance/bpmn/camunda7). With `--update`, it also rewrites each
corpus's pinned outcomes and routes (tests/processes/corpus_expected.json,
tests/conformance/bpmn/camunda7/expected.json) from this run: review their diff
before committing.

The test's environment variables are honoured: CORPUS_DIR (with CORPUS_EXPECTED,
CORPUS_NAME) runs another folder instead, its report going to CORPUS_REPORT;
CORPUS_REPORT alone writes only the shared corpus's report, there.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laneway \
        python scripts/corpus_report.py [--update]
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    (ROOT / "docs").mkdir(exist_ok=True)
    env = {**os.environ, "CORPUS_REPORTS": "1"}
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
        if os.environ.get("CORPUS_REPORT"):
            print(f"wrote {os.environ['CORPUS_REPORT']}")
        elif os.environ.get("CORPUS_DIR"):
            print("no report written (set CORPUS_REPORT for this folder's)")
        else:
            print("wrote docs/corpus-report.md and docs/compat-report.md")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
