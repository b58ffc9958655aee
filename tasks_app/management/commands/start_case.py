from django.core.management.base import BaseCommand

from common.errors import DomainError
from engine.services import case_start

from ._common import domain_error, json_object, user_named


class Command(BaseCommand):
    help = "Start a case of a deployed process as a named user."

    def add_arguments(self, parser):
        parser.add_argument("key", help="process key (the BPMN process id)")
        parser.add_argument(
            "--data", default="{}", help="start form data as a JSON object"
        )
        parser.add_argument("--business-key", default="")
        parser.add_argument("--as", dest="username", required=True)

    def handle(self, *args, key, data, business_key, username, **options):
        user = user_named(username)
        try:
            case, _ = case_start(
                user=user, key=key, data=json_object(data), business_key=business_key
            )
        except DomainError as exc:
            raise domain_error(exc) from None
        self.stdout.write(f"{case.pk} {case.status}")
        for task in case.human_tasks.filter(status="open"):
            self.stdout.write(f"  open task {task.pk} {task.name}")
