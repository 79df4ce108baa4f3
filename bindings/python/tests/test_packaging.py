"""The package's versions and `python3 -m movieme` (the pip install itself
is tested by bindings/test_install.sh, CTest bindings_install)."""
import os
import re
import subprocess
import sys

import movieme
from movieme import _movieme as _c

from conftest import REPO


def test_versions():
    header = (REPO / "include" / "movieme.h").read_text()
    want = re.search(r'#define REC_VERSION_STRING "([^"]+)"', header).group(1)
    assert movieme.__version__ == _c.header_version() == want
    # built in-tree: the library linked is the one of the same headers
    assert movieme.version() == want


def test_main_prints_versions():
    out = subprocess.run([sys.executable, "-m", "movieme"], check=True,
                         capture_output=True, text=True,
                         env=dict(os.environ)).stdout
    assert out.startswith("movieme %s (Python binding" % movieme.__version__)
    m = re.search(r"^libmovieme (\S+) linked: (\S+)$", out, re.M)
    assert m and m.group(1) == movieme.version()
    assert "libmovieme.so" in m.group(2)
    assert "numpy" in out
