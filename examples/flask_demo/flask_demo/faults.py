"""Fault points of a retrain job, for the crash tests (tests/test_faults.py).

Off unless MOVIEME_FAULT_STEPS names steps (comma-separated, from STEPS).
When the retrain worker reaches an armed step it writes
<MOVIEME_FAULT_DIR>/<step>.reached (holding its pid), then waits until
<step>.go exists (at most MOVIEME_FAULT_WAIT seconds) and goes on. A test
thus knows exactly where the worker is and can `kill -9` it there, stop
the database, post ratings, then let it go on. Each step pauses once per
process, unless its .go file already exists (a worker restarted after a
kill passes through). Unset, as in production, the engine holds None and
a step costs one attribute test.
"""
import logging
import os
import time

log = logging.getLogger("flask_demo.faults")

# The steps of Engine.run_next_job, in order.
STEPS = (
    "claimed",     # the job row says 'running' (committed); nothing read yet
    "snapshot",    # the members' ratings are read (also for the first model of a
                   # site without one); training not started
    "training",    # inside train_als: the first iteration is recorded
    "save",        # trained; the model file is not written yet
    "renamed",     # the new model file has replaced the old one (durably);
                   # recommendations not computed, job not done
    "stored",      # recommendations and the job's end written in the open
                   # transaction, the new model swapped in; not committed
    "committed",   # the transaction is committed: the job is done
)


class FaultPoints:
    def __init__(self, steps, folder, wait):
        unknown = [s for s in steps if s not in STEPS]
        if unknown:
            raise ValueError("MOVIEME_FAULT_STEPS: unknown step(s) %s (known: %s)"
                             % (", ".join(unknown), ", ".join(STEPS)))
        self.armed = set(steps)
        self.folder = folder
        self.wait = wait

    def reached(self, step):
        if step not in self.armed:
            return
        self.armed.discard(step)
        os.makedirs(self.folder, exist_ok=True)
        marker = os.path.join(self.folder, step + ".reached")
        go = os.path.join(self.folder, step + ".go")
        with open(marker + ".part", "w") as f:     # whole or absent
            f.write("%d\n" % os.getpid())
        os.replace(marker + ".part", marker)
        log.warning("fault point %r reached: waiting for %s", step, go)
        deadline = time.monotonic() + self.wait
        while not os.path.exists(go) and time.monotonic() < deadline:
            time.sleep(0.02)


def from_config(config, default_folder):
    """FaultPoints for the app's configuration, or None (the default)."""
    steps = [s.strip() for s in (config.get("MOVIEME_FAULT_STEPS") or "").split(",")
             if s.strip()]
    if not steps:
        return None
    log.warning("fault injection armed at %s", ", ".join(steps))
    return FaultPoints(steps, config.get("MOVIEME_FAULT_DIR") or default_folder,
                       float(config.get("MOVIEME_FAULT_WAIT") or 120))
