"""The version page says who may start the process and act on each task, and warns
of a lane or candidate group with no members (as it is now, not at upload)."""

import pytest
from django.contrib.auth.models import Group

from tests.clients import page_for

pytestmark = pytest.mark.django_db


def test_the_version_page_lists_who_acts_and_warns_of_an_empty_lane(users, purchase):
    page = page_for(users["analyst"])
    html = page.get("/processes/purchase_request/v1/").content.decode()
    assert "Who does what" in html
    assert 'group <strong>Manager</strong> <span class="subtle">(2 members)' in html
    assert "group <strong>Requester</strong>" in html  # the start event's lane
    assert 'data-testid="empty-lanes"' not in html
    Group.objects.get(name="Finance").user_set.clear()
    html = page.get("/processes/purchase_request/v1/").content.decode()
    assert 'data-testid="empty-lanes"' in html
    assert (
        "&#x27;Finance approval&#x27; waits for the group &#x27;Finance&#x27;, "
        "which has no members." in html
    )
    assert "no members</span>" in html
    process_page = page.get("/processes/purchase_request/").content.decode()
    assert 'data-testid="empty-lanes"' in process_page
    assert "waits for the group &#x27;Finance&#x27;" in process_page


def test_a_task_for_the_initiator_is_decided_per_case(users, purchase):
    html = (
        page_for(users["analyst"])
        .get("/processes/purchase_request/v1/")
        .content.decode()
    )
    revise = html[html.index("Revise request") :]
    assert "(decided per case)" in revise[: revise.index("</tr>")]
