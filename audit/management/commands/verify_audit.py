from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_verify


class Command(BaseCommand):
    help = (
        "Recompute every audit hash chain; list every broken event and exit 1 if any."
    )

    def handle(self, *args, **options):
        result = audit_verify()
        for broken in result.broken:
            self.stdout.write(
                f"BROKEN {broken.chain} #{broken.chain_seq}"
                f"{f' (event {broken.event_id})' if broken.event_id else ''}: "
                f"{broken.reason}"
            )
        if not result.ok:
            raise CommandError(
                f"{len(result.broken)} broken event(s); "
                f"{result.events_checked} events checked."
            )
        self.stdout.write(
            f"OK: {result.events_checked} events verified in "
            f"{result.chains_checked} chains."
        )
