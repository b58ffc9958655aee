"""Read translated JUEL as the Python operators it stands for (test data pickers).

Since TRANSLATOR_VERSION 5 a JUEL condition is translated to calls of the EL
operators (`engine/spiff/sandbox/el.py`): `${order.total > 100}` becomes
`_el_cmp_('>', _el_get_(order, 'total'), 100)`. The tests that pick variable
values making conditions true or false look for `name <op> constant` and
`name['key'] <op> constant`; this gives them that shape back.
"""

import ast

_CMP = {
    "==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt,
    ">=": ast.GtE,
}  # fmt: skip
_ARITH = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "%": ast.Mod}


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
