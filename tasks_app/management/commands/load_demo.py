import json
import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from processes.services import version_upload

DEMO_USERS = {
    "requester": ["Requester"],
    "manager1": ["Manager"],
    "manager2": ["Manager"],
    "finance": ["Finance"],
    "analyst": ["analysts"],
    "auditor": ["auditors"],
    "admin": ["process-admins"],
}


def _names(bpmn: bytes, form: tuple[str, bytes]) -> bool:
    """Say whether a diagram names a Camunda Form (by file name or form id)."""
    name, data = form
    form_id = json.loads(data).get("id", "")
    return name.encode() in bpmn or f'formRef="{form_id}"'.encode() in bpmn


class Command(BaseCommand):
    help = "Create the demo users and deploy examples/ (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=os.environ.get("LANEWAY_DEMO_PASSWORD", "laneway-demo"),
        )

    @transaction.atomic
    def _users(self, password: str):
        User = get_user_model()
        for username, groups in DEMO_USERS.items():
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            if created or not user.check_password(password):
                user.set_password(password)
            user.is_staff = user.is_superuser = username == "admin"
            user.save()
            for name in groups:
                group, _ = Group.objects.get_or_create(name=name)
                if not user.groups.filter(pk=group.pk).exists():
                    user.groups.add(group)

    def handle(self, *args, password, **options):
        self._users(password)
        analyst = get_user_model().objects.get(username="analyst")
        examples = Path(settings.BASE_DIR) / "examples"
        forms = [(p.name, p.read_bytes()) for p in sorted(examples.glob("*.form"))]
        for path in sorted(examples.glob("*.bpmn")):
            bpmn = path.read_bytes()
            for d in version_upload(
                user=analyst,
                bpmn=bpmn,
                filename=path.name,
                form_files=[f for f in forms if _names(bpmn, f)],
            ):
                verb = "deployed" if d.created else "already deployed"
                self.stdout.write(
                    f"{d.version.definition.key} v{d.version.number} {verb}"
                )
        self.stdout.write(f"Demo users: {', '.join(DEMO_USERS)} (password: {password})")
