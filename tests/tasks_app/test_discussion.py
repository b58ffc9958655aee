"""Comments and attachments on cases and tasks, through the API and the pages.

Who may see the case (or task) may read and add; everyone else gets 404, and
nothing leaks through lists or download URLs. Every addition is audited.
"""

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tasks_app.models import Attachment, Comment
from tasks_app.services import task_delegate, task_unclaim
from tests.audit.helpers import body, jsonl
from tests.clients import api_for, page_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _upload(api, case_id, name="quote.pdf", content=PDF, **extra):
    return api.post(
        f"/api/v1/cases/{case_id}/attachments/",
        {"file": SimpleUploadedFile(name, content), **extra},
        format="multipart",
    )


def test_a_candidate_comments_on_the_task_and_the_starter_reads_it(users, review):
    manager = api_for(users["manager1"])
    response = manager.post(
        f"/api/v1/tasks/{review.pk}/comments/",
        {"text": "Which printer is it for?"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["author"], body["text"], body["task"]) == (
        "manager1",
        "Which printer is it for?",
        str(review.pk),
    )
    assert body["created_at"]
    requester = api_for(users["requester"])
    reply = requester.post(
        f"/api/v1/cases/{review.case_id}/comments/",
        {"text": "The one on floor 2."},
        format="json",
    )
    assert reply.status_code == 201
    listed = requester.get(f"/api/v1/cases/{review.case_id}/comments/").json()
    assert [(c["author"], c["task_name"]) for c in listed["results"]] == [
        ("manager1", "Manager approval"),
        ("requester", None),
    ]
    on_task = manager.get(f"/api/v1/tasks/{review.pk}/comments/").json()
    assert [c["text"] for c in on_task["results"]] == ["Which printer is it for?"]
    events = AuditEvent.objects.filter(case_id=review.case_id, action="comment.added")
    assert [
        (e.actor_repr, e.payload["text"]) for e in events.order_by("chain_seq")
    ] == [
        ("manager1", "Which printer is it for?"),
        ("requester", "The one on floor 2."),
    ]
    assert events.first().task_ref.endswith(str(review.pk))


@pytest.mark.parametrize("who", ["outsider", "requester2", "finance", "analyst"])
def test_who_may_not_see_the_case_gets_404_and_no_comments(users, review, who):
    api = api_for(users[who])
    Comment.objects.create(case=review.case, author=users["requester"], text="x")
    for url in (
        f"/api/v1/cases/{review.case_id}/comments/",
        f"/api/v1/tasks/{review.pk}/comments/",
        f"/api/v1/cases/{review.case_id}/attachments/",
    ):
        assert api.get(url).status_code == 404, url
        assert api.post(url, {"text": "hi"}).status_code == 404, url
    assert Comment.objects.count() == 1
    assert not AuditEvent.objects.filter(action="comment.added").exists()


def test_auditor_and_admin_read_the_comments(users, review):
    Comment.objects.create(case=review.case, author=users["requester"], text="x")
    for who in ("auditor", "padmin"):
        listed = api_for(users[who]).get(f"/api/v1/cases/{review.case_id}/comments/")
        assert listed.status_code == 200 and listed.json()["count"] == 1


def test_a_comment_needs_text_within_the_cap(users, review, settings):
    settings.TASKS_COMMENT_MAX_CHARS = 20
    api = api_for(users["manager1"])
    url = f"/api/v1/tasks/{review.pk}/comments/"
    for text in ("   ", "x" * 21):
        response = api.post(url, {"text": text}, format="json")
        assert response.status_code == 400
        assert response.json()["details"]["fields"]["text"]
    assert "TASKS_COMMENT_MAX_CHARS" in str(response.json())
    assert api.post(url, {}, format="json").status_code == 400
    assert not Comment.objects.exists()


def test_a_former_delegate_loses_the_comments_with_the_task(users, review):
    task_delegate(user=users["manager1"], task_id=review.pk, delegate="finance")
    finance = api_for(users["finance"])
    url = f"/api/v1/tasks/{review.pk}/comments/"
    assert finance.post(url, {"text": "Fine by me"}, format="json").status_code == 201
    task_unclaim(user=users["manager1"], task_id=review.pk)
    assert finance.get(url).status_code == 404
    assert finance.get(f"/api/v1/cases/{review.case_id}/comments/").status_code == 404


def test_comments_on_the_pages_show_author_and_keep_a_refused_text(
    users, review, settings
):
    page = page_for(users["manager1"])
    response = page.post(
        f"/tasks/{review.pk}/comments/", {"text": "Looks fine"}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your comment was added." in html and "Looks fine" in html
    assert "manager1" in html
    settings.TASKS_COMMENT_MAX_CHARS = 5
    response = page.post(
        f"/tasks/{review.pk}/comments/", {"text": "far too long"}, follow=True
    )
    html = response.content.decode()
    assert "At most 5 characters" in html
    assert ">far too long</textarea>" in html  # what was typed is kept
    case_page = page_for(users["requester"]).get(f"/cases/{review.case_id}/")
    assert "Looks fine" in case_page.content.decode()
    assert "Manager approval" in case_page.content.decode()
    assert (
        page_for(users["outsider"])
        .post(f"/cases/{review.case_id}/comments/", {"text": "hi"})
        .status_code
        == 404
    )


def test_an_attachment_is_stored_checksummed_and_served_as_a_download(
    users, review, media
):
    response = _upload(api_for(users["requester"]), review.case_id)
    assert response.status_code == 201, response.json()
    body = response.json()
    digest = hashlib.sha256(PDF).hexdigest()
    assert (body["name"], body["size"], body["sha256"]) == (
        "quote.pdf",
        len(PDF),
        digest,
    )
    stored = Attachment.objects.get()
    assert (media / stored.file.name).read_bytes() == PDF
    assert "quote" not in stored.file.name  # the client's name is not a path
    event = AuditEvent.objects.get(action="attachment.added")
    assert event.payload["sha256"] == digest and event.actor_repr == "requester"
    manager = api_for(users["manager1"])  # a candidate of the open task
    listed = manager.get(f"/api/v1/cases/{review.case_id}/attachments/").json()
    assert [a["name"] for a in listed["results"]] == ["quote.pdf"]
    download = manager.get(body["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    page = page_for(users["manager1"]).get(
        f"/cases/{review.case_id}/attachments/{stored.pk}/"
    )
    assert page.status_code == 200 and page["Content-Disposition"].startswith(
        "attachment;"
    )
    for who in ("outsider", "requester2", "finance"):
        assert api_for(users[who]).get(body["download"]).status_code == 404
        assert (
            page_for(users[who])
            .get(f"/cases/{review.case_id}/attachments/{stored.pk}/")
            .status_code
            == 404
        )
        assert _upload(api_for(users[who]), review.case_id).status_code == 404


def test_attachment_size_and_type_are_checked_before_anything_is_stored(
    users, review, settings, media
):
    settings.TASKS_ATTACHMENT_MAX_BYTES = 10
    api = api_for(users["requester"])
    too_large = _upload(api, review.case_id)
    assert too_large.status_code == 413
    assert "TASKS_ATTACHMENT_MAX_BYTES" in too_large.json()["message"]
    assert too_large.json()["details"]["fields"]["file"]
    settings.TASKS_ATTACHMENT_MAX_BYTES = 1024
    wrong = _upload(api, review.case_id, name="run.exe", content=b"MZ")
    assert wrong.status_code == 400 and wrong.json()["details"]["fields"]["file"]
    missing = api.post(f"/api/v1/cases/{review.case_id}/attachments/", {})
    assert missing.status_code == 400
    assert not Attachment.objects.exists() and not list(media.rglob("*.*"))
    assert not AuditEvent.objects.filter(action="attachment.added").exists()


def test_a_file_from_the_task_page_lands_on_the_case(users, review, media):
    page = page_for(users["manager1"])
    response = page.post(
        f"/cases/{review.case_id}/attachments/",
        {"file": SimpleUploadedFile("offer.txt", b"three quotes"), "task": review.pk},
        follow=True,
    )
    html = response.content.decode()
    assert "“offer.txt” was added to the case." in html
    attachment = Attachment.objects.get()
    assert attachment.task_id == review.pk and attachment.case_id == review.case_id
    assert (
        "offer.txt"
        in page_for(users["requester"])
        .get(f"/cases/{review.case_id}/")
        .content.decode()
    )


def test_anonymous_gets_401_from_the_api_and_the_login_page(users, review):
    stored = Attachment.objects.create(
        case=review.case,
        uploaded_by=users["requester"],
        name="a.txt",
        size=1,
        sha256="0" * 64,
        file="attachments/x",
    )
    for url in (
        f"/api/v1/cases/{review.case_id}/comments/",
        f"/api/v1/tasks/{review.pk}/comments/",
        f"/api/v1/cases/{review.case_id}/attachments/",
        f"/api/v1/cases/{review.case_id}/attachments/{stored.pk}/",
    ):
        assert APIClient().get(url).status_code == 401, url
    page = APIClient().get(f"/cases/{review.case_id}/attachments/{stored.pk}/")
    assert page.status_code == 302 and "/login/" in page["Location"]


def test_comments_and_files_are_in_the_audit_export(users, review):
    api_for(users["manager1"]).post(
        f"/api/v1/tasks/{review.pk}/comments/", {"text": "Approved soon"}
    )
    _upload(api_for(users["requester"]), review.case_id)
    response = api_for(users["auditor"]).get(
        "/api/v1/audit/", {"format": "jsonl", "case": str(review.case_id)}
    )
    rows = jsonl(body(response))
    added = {r.get("action"): r for r in rows if str(r.get("action")).endswith("added")}
    assert added["comment.added"]["payload"]["text"] == "Approved soon"
    assert added["comment.added"]["actor_repr"] == "manager1"
    assert added["attachment.added"]["payload"]["sha256"] == (
        hashlib.sha256(PDF).hexdigest()
    )
