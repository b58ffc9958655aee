"""ECMAScript regular expressions, read as the browser reads them.

Forms validate text patterns in the browser with JavaScript's RegExp (form-js's
`validate.pattern`, react-jsonschema-form's JSON Schema `pattern` through ajv);
the server checks the same data again and must read each pattern alike.
"""

from __future__ import annotations

import re

# ECMAScript's classes where Python's differ: without the `u` flag \d, \w and \b
# are ASCII, \s is Unicode space, and `.` stops at every line terminator.
_JS_CLASSES = {
    "d": "0-9",
    "w": "A-Za-z0-9_",
    "s": "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff",
}
_JS_DOT = "[^\n\r\u2028\u2029]"


def _js_escape(letter: str, in_class: bool, any_space: bool = False) -> str:
    """Return the Python of one escape (`\\` + letter) of an ECMAScript pattern.

    Inside a class, \\D and \\W are Python's own (ASCII, as compiled); \\S only
    beside \\s (`[\\s\\S]`, any character in both dialects).
    """
    body = _JS_CLASSES.get(letter.lower())
    if body is not None:
        if letter.islower():
            return body if in_class else f"[{body}]"
        if in_class and (letter != "S" or any_space):
            return "\\" + letter
        if in_class:
            raise re.error(f"\\{letter} inside a character class without \\s")
        return f"[^{body}]"
    if letter in "AZzGgPpkc":
        raise re.error(f"\\{letter} is read differently by JavaScript and Python")
    return "\\" + letter


def _class_body(rest: str) -> str:
    """Return the text of a character class up to its closing bracket."""
    i = 0
    while i < len(rest) and rest[i] != "]":
        i += 2 if rest[i] == "\\" else 1
    return rest[:i]


def js_regex(pattern: str) -> re.Pattern[str]:
    """Compile a pattern as the browser's `new RegExp(pattern)` reads it.

    form-js tests `pattern` (and its email and phone patterns) with JavaScript's
    RegExp, no flags: `$` is only the end of the text (Python's also matches
    before a final newline), \\d and \\w are ASCII, `.` stops at \\r too. What the
    two dialects read differently and cannot be translated (inline flags,
    named groups, \\A, \\Z, `[^]`, `{,n}`) raises re.error: refused at upload.
    """
    out: list[str] = []
    in_class = any_space = False
    i = 0
    while i < len(pattern):
        char, rest = pattern[i], pattern[i + 1 :]
        if char == "\\" and rest:
            out.append(_js_escape(rest[0], in_class, any_space))
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            if rest.startswith(("]", "^]")):
                raise re.error("an empty class ([] or [^]) means nothing in Python")
            in_class, any_space = True, "\\s" in _class_body(rest)
        elif (
            char == "("
            and rest.startswith("?")
            and not rest.startswith(("?:", "?=", "?!", "?<=", "?<!"))
        ):
            raise re.error(f"the group ({rest[:3]}... is not read alike by both")
        elif char == "{" and rest.startswith(","):
            raise re.error("{,n} is text in JavaScript, a repeat in Python")
        elif char in "$.":
            char = "\\Z" if char == "$" else _JS_DOT
        out.append(char)
        i += 1
    return re.compile("".join(out), re.ASCII)
