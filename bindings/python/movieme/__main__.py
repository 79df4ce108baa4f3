"""python3 -m movieme: the binding's version, the linked library's, and
where they are (to check an installation)."""
import sys

import numpy

import movieme
from movieme import _movieme as _c


def _linked_library():
    """Path of the libmovieme shared object this process mapped."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "/libmovieme.so" in path:
                    return path
    except OSError:
        pass
    return "(unknown)"


def main():
    print("movieme %s (Python binding, built with the libmovieme %s "
          "headers)" % (movieme.__version__, _c.header_version()))
    print("libmovieme %s linked: %s" % (movieme.version(), _linked_library()))
    print("package: %s" % movieme.__file__)
    print("extension: %s" % _c._movieme_c.__file__)
    print("python %s, numpy %s" % (sys.version.split()[0], numpy.__version__))
    if movieme.version_number() < _c.header_version_number():
        print("warning: the linked library is older than the headers the "
              "binding was built with", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
