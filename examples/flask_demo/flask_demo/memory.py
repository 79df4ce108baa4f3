"""Memory of a long-running worker: give a replaced model back to the system.

Every retrain makes each worker load the new model file (a few MB for
ml-latest-small, about 100 MB for ml-20m) and drop the old one. glibc's
malloc serves blocks that large with mmap at first, but each time such a
block is freed it raises its mmap threshold to the block's size, so the next
models are carved out of the heap arenas of whichever request thread loaded
them; freed, they stay there as holes. Measured: 120 reloads of a 4 MB model
by 4 threads took a process from 40 MB to 69-81 MB, and a 10-minute soak
showed steps of +7 MB per worker at model reloads. Fixing the threshold at
its default (128 KiB; setting it turns the dynamic adjustment off) keeps
every large block mmap'd, so a freed model is unmapped at once: the same
120 reloads stay at 44 MB (tests/test_memory.py; docs/load-soak.md).

keep_large_blocks_mapped() does that once per process, on glibc only
(elsewhere it does nothing and says so by returning False).
"""
import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3          # <malloc.h>
MMAP_THRESHOLD = 128 * 1024    # glibc's initial value

_done = None


def keep_large_blocks_mapped():
    global _done
    if _done is None:
        _done = False
        name = ctypes.util.find_library("c")
        if name:
            try:
                libc = ctypes.CDLL(name)
                _done = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
            except (OSError, AttributeError):   # not glibc: no mallopt
                _done = False
    return _done
