from django.core.management.base import BaseCommand

from cockpit.rollups import rollup


class Command(BaseCommand):
    help = "Roll the cockpit's figures up to a minute ago (what the beat does)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="forget the rollups and roll every row again",
        )

    def handle(self, *args, **options):
        until = rollup(rebuild=options["rebuild"])
        if until is None:
            self.stdout.write(
                "nothing done: another beat holds the mark, or not PostgreSQL"
            )
        else:
            self.stdout.write(f"rolled up until {until.isoformat()}")
