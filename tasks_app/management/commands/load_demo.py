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
        for path in sorted((Path(settings.BASE_DIR) / "examples").glob("*.bpmn")):
            for d in version_upload(
                user=analyst, bpmn=path.read_bytes(), filename=path.name
            ):
                verb = "deployed" if d.created else "already deployed"
                self.stdout.write(
                    f"{d.version.definition.key} v{d.version.number} {verb}"
                )
        self.stdout.write(f"Demo users: {', '.join(DEMO_USERS)} (password: {password})")
