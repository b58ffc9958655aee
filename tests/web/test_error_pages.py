"""Every error page comes from one template and shows its own status."""

import json
from http import HTTPStatus

import pytest
from django.test import RequestFactory

from common.errors import DomainError
from config.errors import DomainErrorMiddleware
from tests.web.test_pages import client_for

pytestmark = pytest.mark.django_db


class _Unmapped(DomainError):
    code, status = "too_early", HTTPStatus.TOO_EARLY


def _page(response) -> str:
    return response.content.decode()


def test_domain_404_page_shows_404_and_its_message(users, purchase):
    response = client_for(users["requester"]).get("/processes/nope/start/")
    page = _page(response)
    assert response.status_code == 404
    assert "Error 404" in page and "<h1>Not found</h1>" in page
    assert "Error 409" not in page


def test_unknown_url_gets_the_same_page_from_djangos_handler(users):
    response = client_for(users["requester"]).get("/no-such-page/")
    assert response.status_code == 404
    assert "Error 404" in _page(response)
    assert "There is nothing here, or you may not see it." in _page(response)


def test_unmapped_status_renders_its_own_status_not_the_409_page(users):
    request = RequestFactory().get("/somewhere/")
    request.user = users["requester"]
    middleware = DomainErrorMiddleware(lambda request: None)
    response = middleware.process_exception(request, _Unmapped("Not yet."))
    page = _page(response)
    assert response.status_code == 425
    assert "Error 425" in page and "Too Early" in page and "Not yet." in page
    assert "changed in the meantime" not in page and "Error 409" not in page


def test_unmapped_status_in_json_keeps_the_error_shape(users):
    request = RequestFactory().get("/api/v1/somewhere/")
    request.user = users["requester"]
    response = DomainErrorMiddleware(lambda request: None).process_exception(
        request, _Unmapped("Not yet.")
    )
    assert response.status_code == 425
    assert json.loads(response.content) == {
        "code": "too_early",
        "message": "Not yet.",
        "details": {},
    }
