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


# What the integrator's code behind a corpus diagram's operations answers: the
# variables the diagram reads afterwards that no form provides (as the Java
# delegates of those examples set them). Set by tests/processes/test_corpus.py.
CORPUS_ANSWER: dict = {}


def corpus_operation(*, idempotency_key: str, **params):
    """Stand in for every operation a corpus diagram names: succeed with a JSON
    echo and the variables of CORPUS_ANSWER."""
    return {"ok": True, **params, **CORPUS_ANSWER}


CALLS_BY_CASE: dict[str, int] = {}


def _count(idempotency_key: str) -> int:
    case_id = idempotency_key.split(":")[0]
    CALLS_BY_CASE[case_id] = CALLS_BY_CASE.get(case_id, 0) + 1
    return CALLS_BY_CASE[case_id]


def flaky_twice(*, idempotency_key: str, **params):
    """Fail the first two calls of each case, succeed on the third."""
    if _count(idempotency_key) <= 2:
        raise ConnectionError("ERP unreachable")
    return {"ok": True}


def always_fails(*, idempotency_key: str, **params):
    """Fail every call (a system that is down)."""
    _count(idempotency_key)
    raise ConnectionError("ERP is down")


def not_json(*, idempotency_key: str, **params):
    """Return something that is not JSON (a programming error in an operation)."""
    return {"when": object()}


def slow(*, idempotency_key: str, **params):
    """Sleep longer than any test's soft time limit (sleep is interrupted by it)."""
    import time

    _count(idempotency_key)
    time.sleep(5)
    return {"ok": True}


def credit_check(*, idempotency_key: str, error_code: str = "", **params):
    """Answer with the business error the case asks for, or approve."""
    from engine.operations import BusinessError

    if error_code:
        raise BusinessError(error_code, "score below limit", {"score": 420})
    return {"approved": True}


def a_number(*, idempotency_key: str, **params):
    """Answer a bare value, not a dict of variables."""
    return 42


def nothing(*, idempotency_key: str, **params):
    """Answer nothing (an operation done for its effect)."""
    return None


def greet(*, idempotency_key: str, name: str, title: str = ""):
    """A fixed signature: takes only the variables it names."""
    return {"greeting": f"Hello {title}{name}".replace("  ", " ")}


def stubborn(*, idempotency_key: str, **params):
    """Ignore the soft time limit and keep going (a hung client library)."""
    import time

    from celery.exceptions import SoftTimeLimitExceeded

    _count(idempotency_key)
    for _ in range(100):
        try:
            time.sleep(5)
        except SoftTimeLimitExceeded:
            continue
    return {"ok": True}


def pause(*, idempotency_key: str, **params):
    """Take a second, as a real remote call does (duplicates arrive meanwhile)."""
    import time

    time.sleep(1)
    return {"ok": True}


def payment_declined(*, idempotency_key: str, **params):
    """Decline the payment: the BPMN error PAYMENT_FAILED (book-travel's saga)."""
    from engine.operations import BusinessError

    raise BusinessError("PAYMENT_FAILED", "card declined")
