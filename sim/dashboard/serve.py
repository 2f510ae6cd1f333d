"""Start the dashboard's Solara server on this machine, in this process, until Ctrl-C.

Solara's own command line (`solara run`) serves `sim.dashboard.app`; the page to show is
passed in the environment. Solara's usage telemetry and its version check would reach
the network, so both are off.
"""

import contextlib
import json
import os
import socket
import warnings

TARGET = "DECAI_DASHBOARD"
"""The environment variable holding the page to show, as JSON: {"config": FILE, "set":
[KEY=VALUE, ...]} or {"results": DIR}."""


class PortError(ValueError):
    """The port cannot be listened on."""


def check_port(host: str, port: int) -> None:
    """Fail with one line now, rather than after the server has started, if `port` is taken."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortError(
                f"--port {port}: cannot listen on {host}:{port}: {error.strerror}"
            ) from None


def load_solara():
    """Solara's command line, imported with Mesa's visualization (ImportError without the
    dashboard extra). Telemetry is switched off first: Solara reads it on first import."""
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    import mesa.visualization  # noqa: F401  (Solara and Altair, as the page needs them)
    from solara.__main__ import cli

    return cli


def serve(target: dict, host: str, port: int) -> None:
    """Serve the page for `target` (see TARGET) on host:port until Ctrl-C."""
    import click  # Solara's command line is click

    os.environ[TARGET] = json.dumps(target)
    # Solara would warn at every page load that a page not on https (nor named
    # "localhost") cannot be embedded in another site's frame: true, and not wanted here.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    cli = load_solara()
    # Ctrl-C is how the dashboard stops: Solara's command line raises click's Abort then.
    with contextlib.suppress(KeyboardInterrupt, click.exceptions.Abort):
        cli(
            ["run", "sim.dashboard.app", "--host", host, "--port", str(port), "--production",
             "--no-open", "--no-check-version", "--log-level", "warning"],
            standalone_mode=False,
        )  # fmt: skip
