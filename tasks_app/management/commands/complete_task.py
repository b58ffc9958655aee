from django.core.management.base import BaseCommand

from common.errors import DomainError
from tasks_app.services import task_complete

from ._common import domain_error, json_object, user_named


class Command(BaseCommand):
    help = "Complete a human task as a named user (same checks as the web and the API)."

    def add_arguments(self, parser):
        parser.add_argument("task_id")
        parser.add_argument("--data", default="{}", help="form data as a JSON object")
        parser.add_argument("--as", dest="username", required=True)

    def handle(self, *args, task_id, data, username, **options):
        user = user_named(username)
        try:
            task = task_complete(user=user, task_id=task_id, data=json_object(data))
        except DomainError as exc:
            raise domain_error(exc) from None
        self.stdout.write(
            f"completed {task.name}; case {task.case_id} is {task.case.status}"
        )
