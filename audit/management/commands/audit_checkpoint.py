from django.core.management.base import BaseCommand

from audit.services import audit_checkpoint


class Command(BaseCommand):
    help = "Append a checkpoint event that chains the heads of all changed chains."

    def handle(self, *args, **options):
        event = audit_checkpoint()
        self.stdout.write(
            f"checkpoint {event.id}: {event.payload['chains']} chain head(s)"
        )
