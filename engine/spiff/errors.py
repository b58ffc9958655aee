"""Adapter-level errors: SpiffWorkflow exceptions become these at the edge."""

from .types import Problem


class SpiffAdapterError(Exception):
    """Root of every error raised by engine.spiff."""


class BpmnParseError(SpiffAdapterError):
    """The uploaded diagram cannot be deployed; `problems` lists every reason."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))


class StateCorrupt(SpiffAdapterError):
    """A stored case state cannot be loaded."""


class TaskNotReady(SpiffAdapterError):
    """The named task is not a READY human task of this case."""


class AssignmentListenerFailed(SpiffAdapterError):
    """A task's assignment listener failed (the message says why)."""


class ServiceErrorNotCaught(SpiffAdapterError):
    """No error boundary event catches the business error a service task threw."""


class ServiceResultRejected(SpiffAdapterError):
    """An operation's result cannot be applied as its task's mapping says."""


class LocalVariablesRefused(SpiffAdapterError):
    """A task's local variables (an external task's localVariables) would land
    on an execution Laneway does not keep (a parallel branch, a sequential
    multi-instance activity): refused, nothing changed."""


class EndListenerFailed(SpiffAdapterError):
    """An end listener failed while the case was being cancelled (the message
    says which and why): the cancellation did not happen."""
