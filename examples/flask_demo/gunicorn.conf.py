"""gunicorn settings of the demo site, read by gunicorn when it starts in
this folder (its default ./gunicorn.conf.py); the command line still says
how many workers and threads (scripts/load-test.sh: -w 4 --threads 4).

One line for all workers. A threaded (gthread) worker accepts every
connection it can, up to worker_connections (1000 by default), busy or not,
and keeps each open between requests: under load one worker held 42-55 of
64 kept-alive connections while others held 2-4, and each of its visitors
waited behind the others in its own line (a p99 of 0.6-1.3 s at a p50 of
0.1 s, docs/load-test.md). Here a worker takes a connection only when one
of its threads is free (worker_connections = threads), and closes it after
the answer (no keep-alive, as behind a reverse proxy, which does not keep
connections to gunicorn open either): waiting visitors stay in the
listening socket's queue, shared by all workers, and the next free thread
of any worker takes the first of them.
"""
keepalive = 0


def on_starting(server):
    # after the command line is read: as many connections as threads
    server.cfg.set("worker_connections", max(1, server.cfg.threads))
