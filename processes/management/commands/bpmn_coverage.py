from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from engine.spiff import coverage_markdown

DEFAULT = Path(settings.BASE_DIR) / "docs" / "bpmn-coverage.md"


class Command(BaseCommand):
    help = (
        "Write docs/bpmn-coverage.md from the upload checker's tables "
        "(--check: fail if the committed page differs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(DEFAULT), help="the page to write")
        parser.add_argument(
            "--check", action="store_true", help="only compare, write nothing"
        )

    def handle(self, *args, output, check, **options):
        path = Path(output)
        page = coverage_markdown()
        current = path.read_text() if path.exists() else ""
        if check:
            if current != page:
                raise CommandError(
                    f"{path} is out of date: run `python manage.py bpmn_coverage`."
                )
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(page)
        self.stdout.write(f"Wrote {path}.")
