"""Development server: python3 -m flask_demo (binds 127.0.0.1:5000 by default;
MOVIEME_HOST / MOVIEME_PORT to change).

    python3 -m flask_demo --init   create the tables and train the model file
                                   if it is missing, then exit (run this once
                                   before starting gunicorn on a large dataset)
"""
import os
import sys

from . import create_app


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--init"]:
        app = create_app({"MOVIEME_BACKGROUND": False})
        engine = app.extensions["movieme"]
        print("flask_demo: database ready; model %s: %s" % (engine.model_path, engine.status()))
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    app = create_app()
    host = os.environ.get("MOVIEME_HOST", "127.0.0.1")
    port = int(os.environ.get("MOVIEME_PORT", "5000"))
    app.run(host=host, port=port, threaded=True, use_reloader=False, debug=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
