"""docs/RELIABILITY.md's case table is kept in step with the tests: every test it names exists."""
import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_case_row_names_existing_tests():
    text = (REPO / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    section = text.split("## Cases", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")][1:]
    assert len(rows) >= 25
    defined = set()
    for path in (REPO / "tests").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                defined.add(node.name)
    for row in rows:
        named = re.findall(r"`(test_\w+)`", row.rsplit("|", 2)[-2])
        assert named, f"row names no test: {row}"
        missing = [n for n in named if n not in defined]
        assert not missing, f"{missing} named in docs/RELIABILITY.md do not exist"
