from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from processes.errors import ProcessError
from processes.services import DeployedVersion, version_upload_files


def _deploy(
    user: Any, path: Path, dmn: list[Path], forms: list[Path]
) -> list[DeployedVersion]:
    with ExitStack() as files:
        upload, *companions = (
            files.enter_context(File(p.open("rb"), name=p.name))
            for p in [path, *dmn, *forms]
        )
        return version_upload_files(
            user=user,
            upload=upload,
            dmn_uploads=companions[: len(dmn)],
            form_uploads=companions[len(dmn) :],
        )


class Command(BaseCommand):
    help = (
        "Validate and deploy BPMN files as a named user "
        "(DMN files ride along with --dmn, Camunda Forms with --form)."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="BPMN files to deploy")
        parser.add_argument(
            "--as", dest="username", required=True, help="act as this user"
        )
        parser.add_argument(
            "--dmn", action="append", default=[], help="a DMN file (repeatable)"
        )
        parser.add_argument(
            "--form",
            action="append",
            default=[],
            help=(
                "a form file the user tasks or the start event name (repeatable): "
                "a Camunda Form "
                "(.form) or a SpiffArena JSON schema or UI schema (.json)"
            ),
        )

    def handle(self, *args, files, username, dmn, form, **options):
        try:
            user = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user '{username}'.") from None
        dmn_paths = [Path(p) for p in dmn]
        form_paths = [Path(p) for p in form]
        failed = False
        for name in files:
            path = Path(name)
            try:
                deployed = _deploy(user, path, dmn_paths, form_paths)
            except ProcessError as exc:
                failed = True
                self.stderr.write(f"{path}: {exc.message}")
                for err in exc.details.get("errors", []):
                    where = f"line {err['line']}" if err.get("line") else "?"
                    element = f" [{err['element_id']}]" if err.get("element_id") else ""
                    self.stderr.write(
                        f"  {path.name}:{where}{element}: {err['message']}"
                    )
                continue
            for d in deployed:
                verb = "deployed" if d.created else "unchanged"
                self.stdout.write(
                    f"{d.version.definition.key} v{d.version.number} {verb}"
                )
        if failed:
            raise CommandError("Some files were not deployed.")
