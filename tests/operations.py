FLAKY_CALLS: list[str] = []


def flaky(*, idempotency_key: str, **params):
    """Fail on the first call of each case, succeed after (for retry tests)."""
    FLAKY_CALLS.append(idempotency_key)
    if (
        len(
            [k for k in FLAKY_CALLS if k.split(":")[0] == idempotency_key.split(":")[0]]
        )
        == 1
    ):
        raise ConnectionError("ERP unreachable")
    return {"ok": True}


def corpus_operation(*, idempotency_key: str, **params):
    """Stand in for every operation a corpus diagram names: succeed with a JSON echo."""
    return {"ok": True, **params}
