"""Every refusal is raised translatable at its source (issue 15): no service error carries a bare English literal.

An AST check over ``src/gongzhi/**/*.py``: the message of ``DomainError``/``ValidationFailed``/``Forbidden``/
``NotFound``/``Conflict``/``ErrorDetail`` and of an import row's ``fail(field, message)`` must not be a string
literal, an f-string, ``"..." % x`` or ``"...".format()`` — nor a module constant that is one. Wrap it in
``gettext_lazy`` (``_("…")``), with values through ``core.messages.fmt``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.utils import translation

from gongzhi.core.errors import DomainError, ErrorDetail, NotFound, ValidationFailed
from gongzhi.core.messages import fmt

ROOT = Path(__file__).resolve().parents[2]
ERRORS = {"DomainError", "ValidationFailed", "Forbidden", "NotFound", "Conflict", "ErrorDetail"}
# Messages that are not words for people: none today. Entries are "relative/path.py:line".
ALLOWED: set[str] = set()


def _is_literal(node: ast.expr | None, constants: dict[str, ast.expr]) -> bool:
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return _is_literal(node.left, constants) or _is_literal(node.right, constants)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _is_literal(node.func.value, constants)
    if isinstance(node, ast.IfExp):
        return _is_literal(node.body, constants) or _is_literal(node.orelse, constants)
    if isinstance(node, ast.Name) and node.id in constants:
        return _is_literal(constants[node.id], {})
    return False


def _message_arg(call: ast.Call, position: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "message":
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def untranslated_messages() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in relative or "/migrations/" in relative:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Functions of the module that take a ``message`` parameter (``_require(actor, action, node, message)``).
        takes_message = {
            node.name: [a.arg for a in node.args.args].index("message")
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and "message" in [a.arg for a in node.args.args]
        }
        constants = {
            target.id: node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ERRORS:
                message = _message_arg(node, 0)
            elif name == "fail" and isinstance(func, ast.Attribute):
                message = _message_arg(node, 1)
            elif isinstance(func, ast.Name) and name in takes_message:
                message = _message_arg(node, takes_message[name])
            else:
                continue
            where = f"{relative}:{node.lineno}"
            if _is_literal(message, constants) and where not in ALLOWED:
                found.append(f"{where}: {ast.unparse(message)[:80]}")  # type: ignore[arg-type]
    return found


def test_no_service_error_is_raised_with_an_untranslated_literal() -> None:
    assert untranslated_messages() == []


def test_the_check_catches_a_literal(tmp_path: Path) -> None:
    tree = ast.parse('raise ValidationFailed(f"no building {name}")\nrow.fail("x", "too long")\n')
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert _is_literal(_message_arg(calls[0], 0), {}) and _is_literal(_message_arg(calls[1], 1), {})
    wrapped = ast.parse('ValidationFailed(_("No building."))').body[0].value  # type: ignore[attr-defined]
    assert not _is_literal(_message_arg(wrapped, 0), {})


def test_a_message_is_rendered_in_the_language_it_is_shown_in() -> None:
    from django.utils.translation import gettext_lazy as _

    with translation.override("en"):
        error = ValidationFailed(
            _("Not found."),
            [ErrorDetail(field="file", message=fmt(_("longer than %(n)s characters"), n=60))],
        )
    with translation.override("zh-hans"):
        assert error.as_dict()["error"]["message"] == "未找到。"
        assert "60" in error.as_dict()["error"]["details"][0]["message"]
        assert "characters" not in error.as_dict()["error"]["details"][0]["message"]
    with translation.override("en"):
        assert error.as_dict()["error"]["details"][0]["message"] == "longer than 60 characters"
        assert str(NotFound()) == "Not found."
    assert isinstance(DomainError(message="x").as_dict()["error"]["message"], str)
