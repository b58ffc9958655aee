from django.db import models

# An event's id, time-ordered (migration 0004 names it here).
from common.uuids import uuid7

from .errors import AuditIsAppendOnly


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):  # noqa: ARG002
        raise AuditIsAppendOnly("Audit events cannot be updated.")

    def delete(self):
        raise AuditIsAppendOnly("Audit events cannot be deleted.")

    def _raw_delete(self, using: str | None) -> int:  # noqa: ARG002
        raise AuditIsAppendOnly("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """One transition, chained per case (or the system chain) by SHA-256."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    chain = models.CharField(max_length=64)
    chain_seq = models.PositiveBigIntegerField()
    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_repr = models.CharField(max_length=150)
    on_behalf_of = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64)  # indexed: Meta.indexes
    case_id = models.UUIDField(null=True, blank=True, db_index=True)
    process_key = models.CharField(max_length=255, blank=True, default="")
    version_id = models.BigIntegerField(null=True, blank=True)
    task_ref = models.CharField(max_length=255, blank=True, default="")
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    # Not unique by itself: the hash covers `id` and (`chain`, `chain_seq`), both
    # unique. An index on it (no query reads by hash) would cost every insert a
    # random page of a large index.
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "chain", "chain_seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "chain_seq"], name="audit_chain_seq_unique"
            ),
        ]
        indexes = [
            # The log's filters compare `action` and `process_key` whole (audit
            # selectors, cockpit): plain indexes, not db_index's, which on
            # PostgreSQL add a varchar_pattern_ops twin for LIKE 'x%' that nothing
            # runs (the admin's search is icontains, LIKE '%x%', which no btree
            # serves), and that every event's insert paid for.
            models.Index(fields=["action"], name="audit_action"),
            models.Index(fields=["process_key"], name="audit_process_key"),
        ]
        permissions = [("export_auditevent", "Can export and verify the audit log")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_repr} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditIsAppendOnly("Audit events cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditIsAppendOnly("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The last event of each chain, written in the same transaction as the event.

    Case chains are written under their case's row lock (the system chain under an
    advisory lock), so keeping the head here costs no extra locking; the verifier
    compares every chain with its head, so a deleted or rewritten tail shows at once.
    """

    chain = models.CharField(max_length=64, primary_key=True)
    chain_seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.chain} #{self.chain_seq}"
