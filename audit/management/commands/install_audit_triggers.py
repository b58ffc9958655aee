from django.core.management.base import BaseCommand
from django.db import connection

from audit import triggers


class Command(BaseCommand):
    help = "Re-create the triggers that make the audit table append-only."

    def handle(self, *args, **options):
        triggers.install(connection)
        self.stdout.write("Audit triggers installed.")
