"""Compile an expression or script into guarded, instrumented bytecode.

Pipeline (cached per (source, mode, limits)):
  1. source length limit, `ast.parse`;
  2. `Validator`: node-type whitelist, forbidden names, literal size limits and
     an AST node count limit;
  3. RestrictedPython's transformer: no `_` names or attributes, no inspection
     attributes, inserts `_getattr_`/`_getitem_`/`_getiter_`/`_write_` guards;
  4. `Instrumenter`: `BinOp` -> `_binop_`, `Compare` -> `_cmp_`/`_cmpchain_`,
     f-string fields -> `_fmt_`, `*x`/`**x` -> `_star_`/`_dstar_`, and a tick at
     the top of every loop body, comprehension, function and lambda;
  5. `compile`.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from types import CodeType

from RestrictedPython.transformer import RestrictingNodeTransformer

from .el import NAMES as EL_NAMES


class SandboxViolation(Exception):  # noqa: N818 - the name the research and logs use
    """An expression or script was refused or broke a limit (message is for the user).

    Deliberately not a SyntaxError: SpiffWorkflow's error reporting needs a line
    number for those and crashes without one.
    """


class SandboxLimit(BaseException):  # noqa: N818
    """Raised inside sandboxed code: a BaseException, so `except Exception` in a
    script cannot swallow it. Converted to SandboxViolation at the API edge."""


@dataclass(frozen=True)
class Limits:
    """Every bound the guarded evaluator enforces (defaults from the research)."""

    max_source_expr: int = 4096
    max_source_script: int = 20_000
    max_nodes_expr: int = 500
    max_nodes_script: int = 5000
    max_str: int = 1_000_000  # characters in any string the sandbox builds
    max_seq: int = 100_000  # elements in any container the sandbox builds
    max_int_bits: int = 4096  # about 1233 decimal digits
    max_range: int = 1_000_000
    max_fmt_width: int = 1000
    steps_expr: int = 100_000  # loop iterations + calls
    steps_script: int = 1_000_000
    work_expr: int = 10_000_000  # elements / bytes touched by C code
    work_script: int = 50_000_000
    alloc: int = 64 * 2**20  # bytes created by checked operations
    wall_s: float = 1.0  # checked every 1024 ticks and on every charge


DEFAULT_LIMITS = Limits()

_EXPR_NODES = {
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.Add, ast.Sub, ast.Mult,
    ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift, ast.BitOr,
    ast.BitXor, ast.BitAnd, ast.UnaryOp, ast.UAdd, ast.USub, ast.Not, ast.Invert,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot,
    ast.In, ast.NotIn, ast.IfExp, ast.Call, ast.keyword, ast.Name, ast.Load, ast.Store,
    ast.Constant, ast.Attribute, ast.Subscript, ast.Slice, ast.List, ast.Tuple,
    ast.Dict,
    ast.Set, ast.JoinedStr, ast.FormattedValue, ast.ListComp, ast.SetComp, ast.DictComp,
    ast.GeneratorExp, ast.comprehension, ast.Starred,
}  # fmt: skip
_SCRIPT_NODES = _EXPR_NODES | {
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.For, ast.While, ast.If,
    ast.Break, ast.Continue, ast.Pass, ast.Delete, ast.Del, ast.Try, ast.ExceptHandler,
    ast.Raise, ast.Assert, ast.FunctionDef, ast.Lambda, ast.arguments, ast.arg,
    ast.Return,
}  # fmt: skip
# Not exposed as builtins anyway; refusing them gives a clear upload error. Names
# such as `type` or `id` stay usable as task-data variables.
FORBIDDEN_NAMES = frozenset({
    "print", "printed", "eval", "exec", "compile", "open", "getattr", "setattr",
    "delattr", "vars", "globals", "locals", "super", "BaseException", "breakpoint",
    "memoryview", "bytearray", "classmethod", "staticmethod",
})  # fmt: skip
CATCHABLE = frozenset({
    "Exception", "ValueError", "KeyError", "TypeError", "IndexError",
    "ZeroDivisionError",
    "ArithmeticError", "LookupError", "AttributeError", "NameError", "RuntimeError",
    "OverflowError", "RecursionError",
})  # fmt: skip


class Validator(ast.NodeVisitor):
    """Reject node types, names and literals outside the whitelist."""

    def __init__(self, mode: str, limits: Limits) -> None:
        self.allowed = _EXPR_NODES if mode == "eval" else _SCRIPT_NODES
        self.limits = limits
        self.count = 0
        self.max_nodes = (
            limits.max_nodes_expr if mode == "eval" else limits.max_nodes_script
        )

    def generic_visit(self, node: ast.AST) -> None:
        self.count += 1
        if self.count > self.max_nodes:
            raise SandboxViolation(
                f"too large (more than {self.max_nodes} syntax nodes)"
            )
        if type(node) not in self.allowed:
            line = getattr(node, "lineno", None)
            where = f" (line {line})" if line else ""
            raise SandboxViolation(f"{type(node).__name__} is not allowed here{where}")
        super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:  # noqa: N802
        if _el_call(node):
            return self.generic_visit(node)
        if node.id in FORBIDDEN_NAMES or node.id.startswith("_"):
            raise SandboxViolation(f"name {node.id!r} is not allowed")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:  # noqa: N802
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > self.limits.max_int_bits:
                raise SandboxViolation("integer literal too large")
        elif isinstance(value, bytes | complex):
            raise SandboxViolation(f"{type(value).__name__} literals are not allowed")
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:  # noqa: N802
        kind = node.type
        if isinstance(kind, ast.Name):
            names: list[ast.expr] | None = [kind]
        else:
            names = kind.elts if isinstance(kind, ast.Tuple) else None
        if names is None or not all(
            isinstance(n, ast.Name) and n.id in CATCHABLE for n in names
        ):
            raise SandboxViolation(
                "except clauses must name specific exception classes "
                f"({', '.join(sorted(CATCHABLE))})"
            )
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:  # noqa: N802
        if ast.Lambda in self.allowed:
            return self.generic_visit(node)
        # In an expression only the thunk `lambda: name` that translated JUEL
        # hands to `_el_var_` / `_el_has_` (getVariable, hasVariable): no
        # arguments, a bare name, so it can neither loop nor recurse.
        arguments = node.args
        if (
            arguments.posonlyargs
            or arguments.args
            or arguments.vararg
            or arguments.kwonlyargs
            or arguments.kwarg
            or not isinstance(node.body, ast.Name)
        ):
            raise SandboxViolation("Lambda is not allowed here")
        self.count += 1
        self.visit_Name(node.body)
        return None

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # noqa: N802
        if node.decorator_list:
            raise SandboxViolation("decorators are not allowed")
        self.generic_visit(node)


def _el_call(node: ast.AST) -> bool:
    """Whether `node` reads one of the EL operators translated JUEL calls (`el`)."""
    return (
        isinstance(node, ast.Name)
        and node.id in EL_NAMES
        and isinstance(node.ctx, ast.Load)
    )


# The nodes RestrictedPython checks names of.
_Checked = (
    ast.stmt
    | ast.expr
    | ast.excepthandler
    | ast.arg
    | ast.keyword
    | ast.alias
    | ast.pattern
)


class _Restricting(RestrictingNodeTransformer):
    """RestrictedPython's rules, letting translated JUEL read its EL operators."""

    def check_name(
        self,
        node: _Checked,
        name: str | None,
        allow_magic_methods: bool = False,
    ) -> None:
        if _el_call(node):
            return
        super().check_name(node, name, allow_magic_methods)


BINOPS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
    ast.BitXor: "^", ast.BitAnd: "&",
}  # fmt: skip
CMPOPS = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(
        func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[]
    )


def _thunk(body: ast.expr) -> ast.Lambda:
    no_args = ast.arguments(
        posonlyargs=[],
        args=[],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )
    return ast.Lambda(args=no_args, body=body)


class Instrumenter(ast.NodeTransformer):
    """Route explosive operations through checked helpers; tick every loop.

    Runs after RestrictedPython's transformer, so the helper names it inserts may
    start with `_`.
    """

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        op = ast.Constant(BINOPS[type(node.op)])
        return ast.copy_location(_call("_binop_", op, node.left, node.right), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        if len(node.ops) == 1:
            symbol = ast.Constant(CMPOPS[type(node.ops[0])])
            return ast.copy_location(
                _call("_cmp_", symbol, node.left, node.comparators[0]), node
            )
        args: list[ast.expr] = [node.left]
        for op, right in zip(node.ops, node.comparators, strict=True):
            # Lazy operands keep chained comparisons short-circuiting.
            args += [ast.Constant(CMPOPS[type(op)]), _thunk(right)]
        return ast.copy_location(_call("_cmpchain_", *args), node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        node.value = _call("_fmt_", node.value, ast.Constant(node.conversion), spec)
        node.conversion, node.format_spec = -1, None
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_star_", node.value)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        node.values = [
            _call("_dstar_", v) if k is None else v
            for k, v in zip(node.keys, node.values, strict=True)
        ]
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        self.generic_visit(node)
        if node.arg is None:
            node.value = _call("_dstar_", node.value)
        return node

    def _loop(self, node: ast.For | ast.While | ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, ast.Expr(value=_call("_tick_")))
        return node

    visit_For = visit_While = visit_FunctionDef = _loop  # noqa: N815

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        node.body = ast.BoolOp(op=ast.And(), values=[_call("_tick_"), node.body])
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.ifs.insert(0, _call("_tick_"))
        return node


@functools.lru_cache(maxsize=4096)
def compile_guarded(
    source: str, mode: str, limits: Limits = DEFAULT_LIMITS
) -> CodeType:
    """Compile `source` in mode "eval" or "exec", or raise SandboxViolation."""
    max_len = limits.max_source_expr if mode == "eval" else limits.max_source_script
    if not isinstance(source, str):
        raise SandboxViolation("source must be text")
    if len(source) > max_len:
        raise SandboxViolation(f"too long (more than {max_len} characters)")
    if mode == "eval":
        source = source.strip()
    try:
        tree = ast.parse(source, "<bpmn>", mode)
    except SyntaxError as exc:
        raise SandboxViolation(f"syntax error: {exc.msg} (line {exc.lineno})") from None
    except (RecursionError, MemoryError, ValueError):
        raise SandboxViolation("nested too deeply") from None
    Validator(mode, limits).visit(tree)
    errors: list[str] = []
    _Restricting(errors, [], {}).visit(tree)
    if errors:
        raise SandboxViolation("; ".join(errors))
    tree = Instrumenter().visit(tree)
    ast.fix_missing_locations(tree)
    return compile(tree, "<bpmn>", mode)
