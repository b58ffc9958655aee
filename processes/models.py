from django.conf import settings
from django.db import models

# Where unassigned work goes when the analyst names no default group at upload.
DEFAULT_CANDIDATE_GROUP = "process-admins"


class ProcessDefinition(models.Model):
    """A BPMN process, identified by its process id (`key`)."""

    key = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key


class ProcessVersion(models.Model):
    """One deployed, immutable version of a process definition.

    `dependencies` are the versions of other definitions its call activities
    would have run at deploy (those not in its own file: the latest deployed
    version of each, or the one `calledElementVersion` names), for the record:
    a case resolves each call when it starts (engine.spec_cache).
    `dependencies_checksum` is "" but for versions deployed when calls were
    bound at deploy (then it digests their normalized checksums, and such a
    version is still parsed with their XML, so that children started then
    finish on it; it is part of the spec cache key).
    """

    class Status(models.TextChoices):
        DEPLOYED = "deployed", "Deployed"
        RETIRED = "retired", "Retired"

    definition = models.ForeignKey(
        ProcessDefinition, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    filename = models.CharField(max_length=255)
    original_xml = models.BinaryField()
    normalized_xml = models.BinaryField()
    dmn_files = models.JSONField(default=list, blank=True)
    # The Camunda Forms (.form, form-js JSON) uploaded with the diagram, as
    # [{"name": file name, "json": text}]; user tasks render the one they name.
    form_files = models.JSONField(default=list, blank=True)
    checksum = models.CharField(max_length=64, db_index=True)
    normalized_checksum = models.CharField(max_length=64)
    dependencies = models.ManyToManyField(
        "self", symmetrical=False, related_name="dependents", blank=True
    )
    dependencies_checksum = models.CharField(max_length=64, blank=True, default="")
    # The group offered user tasks that name nobody ("" = process-admins), and
    # the upload's warnings (message, line, element_id) shown on the version page.
    default_group = models.CharField(max_length=150, blank=True, default="")
    warnings = models.JSONField(default=list, blank=True)
    # The case variables the inbox shows as columns and searches (amount,
    # requester, ...): the diagram's `laneway:columns` process property, or the
    # upload's setting.
    columns = models.JSONField(default=list, blank=True)
    # The process's camunda:versionTag ("" when it has none): a call activity
    # with calledElementBinding="versionTag" calls the one version tagged so.
    version_tag = models.CharField(max_length=255, blank=True, default="")
    # The process's camunda:isStartableInTasklist (Camunda 7's
    # ProcessDefinition.isStartableInTasklist): False keeps it off the start
    # page, which refuses to start it; the API and its events still start it.
    startable_in_tasklist = models.BooleanField(default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DEPLOYED
    )

    class Meta:
        ordering = ["definition__key", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "number"], name="version_number_unique"
            ),
        ]
        permissions = [("deploy_processversion", "Can upload and deploy BPMN diagrams")]

    def __str__(self) -> str:
        return f"{self.definition.key} v{self.number}"

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def fallback_group(self) -> str:
        """Return the group offered the tasks whose candidates resolve to nobody."""
        return self.default_group or DEFAULT_CANDIDATE_GROUP
