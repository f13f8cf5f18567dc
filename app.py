"""Start the web app: ``python app.py [--host H] [--port P] [--auth USER:PASSWORD]``.

The same as ``assistant serve``: settings come from ``ASSISTANT_*`` environment variables
(``ASSISTANT_PORT``, ``ASSISTANT_AUTH``, ``ASSISTANT_ALLOW_PRIVATE_URLS=1`` among them).
"""

from __future__ import annotations

import argparse
import os
import sys

# Before gradio is imported anywhere: no version check, no analytics.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from assistant.errors import AssistantError
from assistant.settings import Settings


def main() -> int:
    p = argparse.ArgumentParser(description="Commentary Assistant: the web app.")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1, this machine only; "
                   "0.0.0.0 for all interfaces)")  # fmt: skip
    p.add_argument("--port", type=int, metavar="N",
                   help="port to listen on, 1-65535 (env ASSISTANT_PORT; default 7860)")  # fmt: skip
    p.add_argument("--auth", metavar="USER:PASSWORD", help="require a login (env ASSISTANT_AUTH)")
    p.add_argument("--no-mcp", action="store_true", help="do not serve the MCP endpoint /mcp")
    args = p.parse_args()
    from assistant.web.launch import serve

    try:
        serve(
            Settings.from_env(), host=args.host, port=args.port, auth=args.auth, mcp=not args.no_mcp
        )
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
