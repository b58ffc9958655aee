"""Read translated JUEL as the Python operators it stands for (test data pickers).

Since TRANSLATOR_VERSION 5 a JUEL condition is translated to calls of the EL
operators (`engine/spiff/sandbox/el.py`): `${order.total > 100}` becomes
`_el_cmp_('>', _el_get_(order, 'total'), 100)`. The tests that pick variable
values making conditions true or false look for `name <op> constant` and
`name['key'] <op> constant`; this gives them that shape back (and a Java
method call `_el_call_('equals', a, b)` the shape `a.equals(b)`).
"""

import ast

_CMP = {
    "==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt,
    ">=": ast.GtE,
}  # fmt: skip
_ARITH = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "%": ast.Mod}


_SPIN_VALUES = ("numberValue", "stringValue", "boolValue")


def _method(args: list[ast.expr]) -> object:
    return args[0].value if args and isinstance(args[0], ast.Constant) else None


def _java_call(args: list[ast.expr]) -> ast.expr:
    """`_el_call_('m', subject, ...)` as Spin's `subject['key']` (prop), the
    subject itself (numberValue() ...), else `subject.m(...)`."""
    method = _method(args)
    if method in _SPIN_VALUES and len(args) == 2:
        return args[1]
    if method == "prop" and len(args) == 3:
        return ast.Subscript(value=args[1], slice=args[2], ctx=ast.Load())
    attribute = ast.Attribute(value=args[1], attr=str(method), ctx=ast.Load())
    return ast.Call(func=attribute, args=args[2:], keywords=[])


class _Plain(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        args = node.args
        if name == "_el_bool_" and len(args) == 1:
            return args[0]
        if name == "_el_condition_" and len(args) == 2:
            return args[0]
        if name == "_el_neg_" and len(args) == 1:
            return ast.UnaryOp(op=ast.USub(), operand=args[0])
        if name == "_el_get_" and len(args) == 2:
            return ast.Subscript(value=args[0], slice=args[1], ctx=ast.Load())
        if name == "_el_call_" and isinstance(_method(args), str) and len(args) >= 2:
            return _java_call(args)
        if name in ("_el_cmp_", "_el_arith_") and len(args) == 3:
            op = args[0].value if isinstance(args[0], ast.Constant) else None
            if name == "_el_cmp_" and op in _CMP:
                compared = [args[2]]
                return ast.Compare(left=args[1], ops=[_CMP[op]()], comparators=compared)
            if name == "_el_arith_" and op in _ARITH:
                return ast.BinOp(left=args[1], op=_ARITH[op](), right=args[2])
        return node


def plain_python(tree: ast.AST) -> ast.AST:
    """Return `tree` with the EL operator calls as Python operators."""
    return _Plain().visit(tree)
