"""Refuse at upload a diagram whose paths are longer than the engine runs.

SpiffWorkflow predicts a case's whole future as a chain of tasks, one level of its
task tree per element, and parses a diagram recursively along its flows. A chain of
400-odd elements deploys but stops every case with TreeTooDeep; a longer one
exhausts Python's recursion while parsing. `depth_problems` computes the longest
path of each process and subprocess from its graph, before SpiffWorkflow sees it,
and names the element where the path passes the engine's depth limit.

A cycle can be walked once through each of its elements, so a strongly connected
component counts with all its elements (an upper bound). An activity with boundary
events counts three levels (SpiffWorkflow's split and join around it).
"""

from __future__ import annotations

from collections import defaultdict

from lxml import etree

from .limits import limits_get
from .types import Problem
from .xml import BPMN, local_name

# Levels of the task tree that are not elements: root, Start, the end task, slack.
TREE_OVERHEAD = 6
_SCOPES = {"process", "subProcess", "transaction", "adHocSubProcess"}
_NOT_NODES = {
    "sequenceFlow", "association", "textAnnotation", "dataObject",
    "dataObjectReference", "dataStoreReference", "laneSet", "extensionElements",
    "documentation", "ioSpecification", "property", "group", "category",
    "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
}  # fmt: skip


def _graph(
    scope: etree._Element,
) -> tuple[dict[str, etree._Element], dict[str, list[str]], dict[str, int]]:
    nodes: dict[str, etree._Element] = {}
    edges: dict[str, list[str]] = defaultdict(list)
    weight: dict[str, int] = {}
    for child in scope:
        if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{BPMN}}}"):
            continue
        name, element_id = local_name(child), child.get("id")
        if name == "sequenceFlow":
            edges[child.get("sourceRef") or ""].append(child.get("targetRef") or "")
        elif name not in _NOT_NODES and element_id:
            nodes[element_id] = child
            weight.setdefault(element_id, 1)
            attached = child.get("attachedToRef")
            if name == "boundaryEvent" and attached:
                edges[attached].append(element_id)
                weight[attached] = 3
    return nodes, edges, weight


def _pop_component(stack: list[str], on_stack: set[str], node: str) -> list[str]:
    component = []
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == node:
            return component


def _components(nodes: dict, edges: dict[str, list[str]]) -> list[list[str]]:
    """Return the strongly connected components, sinks first (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    # Listed once per node, not once per visit of it (a gateway with thousands
    # of outgoing flows made that quadratic: 5 s for 4,000 parallel tasks).
    following: dict[str, list[str]] = {}
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
                following[node] = [s for s in edges.get(node, []) if s in nodes]
            successors = following[node]
            if i < len(successors):
                work.append((node, i + 1))
                nxt = successors[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                components.append(_pop_component(stack, on_stack, node))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def longest_path(scope: etree._Element) -> tuple[int, list[str]]:
    """Return the longest path's length in tree levels, and its elements in order."""
    nodes, edges, weight = _graph(scope)
    components = _components(nodes, edges)
    owner = {n: i for i, c in enumerate(components) for n in c}
    best: list[tuple[int, int | None]] = []  # per component: (length, next component)
    for i, component in enumerate(components):  # sinks first: successors known
        size = sum(weight[n] for n in component)
        # Tarjan emits sinks first: every other successor component is done.
        successors = {owner.get(s, i) for n in component for s in edges.get(n, [])}
        successors.discard(i)
        following = max(successors, key=lambda j: best[j][0], default=None)
        rest = best[following][0] if following is not None else 0
        best.append((size + rest, following))
    if not best:
        return 0, []
    first = max(range(len(best)), key=lambda j: best[j][0])
    path: list[str] = []
    current: int | None = first
    while current is not None:
        path.extend(sorted(components[current]))
        current = best[current][1]
    return best[first][0], path


def depth_problems(root: etree._Element) -> list[Problem]:
    """Return a located Problem for each scope whose longest path is too deep."""
    limit = limits_get().max_tree_depth - TREE_OVERHEAD
    problems = []
    for scope in root.iter(*(f"{{{BPMN}}}{name}" for name in _SCOPES)):
        length, path = longest_path(scope)
        if length <= limit:
            continue
        nodes, _, weight = _graph(scope)
        levels, culprit = 0, path[-1]
        for element_id in path:
            levels += weight[element_id]
            if levels > limit:
                culprit = element_id
                break
        problems.append(
            Problem(
                f"'{scope.get('id')}' has a path of {length} elements (at most "
                f"{limit} run in one case); it passes the limit at '{culprit}'. "
                "Split the chain into a call activity or subprocess.",
                nodes[culprit].sourceline,
                culprit,
            )
        )
    return problems
