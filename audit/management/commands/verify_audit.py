from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_verify


class Command(BaseCommand):
    help = "Recompute every audit hash chain; exit 1 at the first broken event."

    def handle(self, *args, **options):
        result = audit_verify()
        if not result.ok:
            raise CommandError(
                f"BROKEN at {result.chain} #{result.chain_seq} (event {result.event_id}): "
                f"{result.reason}; {result.events_checked} events checked."
            )
        self.stdout.write(f"OK: {result.events_checked} events verified.")
