"""Development server: python3 -m flask_demo (binds 127.0.0.1:5000 by default;
MOVIEME_HOST / MOVIEME_PORT to change)."""
import os

from . import create_app


def main():
    app = create_app()
    host = os.environ.get("MOVIEME_HOST", "127.0.0.1")
    port = int(os.environ.get("MOVIEME_PORT", "5000"))
    app.run(host=host, port=port, threaded=True, use_reloader=False, debug=False)


if __name__ == "__main__":
    main()
