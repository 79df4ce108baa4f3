"""docs/python.md runs: its ```python blocks are executed in order, in one
namespace, from a directory whose data/ is the repository's data/."""
import os
import re

import pytest

from conftest import REPO

GUIDE = REPO / "docs" / "python.md"


def _blocks():
    return re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(),
                      re.S | re.M)


def test_guide_has_examples():
    assert len(_blocks()) >= 8


def test_guide_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("pandas")
    os.symlink(REPO / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "guide"}
    for i, code in enumerate(_blocks()):
        try:
            exec(compile(code, "%s block %d" % (GUIDE.name, i + 1), "exec"),
                 ns)
        except Exception as e:
            raise AssertionError("docs/python.md block %d failed: %r\n%s"
                                 % (i + 1, e, code)) from e
    out = capsys.readouterr().out
    assert "ratings[1] = nan is not a finite rating" in out
    assert "test RMSE" in out
