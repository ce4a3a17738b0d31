"""The app's parse preview through the real Gradio server and gradio_client."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def client():
    from gradio_client import Client

    from app import build_demo

    demo = build_demo()
    demo.queue()
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    try:
        yield Client(demo.local_url, verbose=False)
    finally:
        demo.close()


def test_preview_shows_latex_order_and_conditions(client) -> None:
    out = client.predict("y'' + y = 0, y(0) = 1, y'(0) = 0", api_name="/parse")
    assert "$$y'' + y = 0" in out
    assert "order **2**" in out
    assert "y'\\left(0\\right) = 0" in out


def test_preview_reports_parse_errors_as_text(client) -> None:
    out = client.predict("y' = (x + 1", api_name="/parse")
    assert out.startswith("**Could not read this:**") and "never closed" in out
    out = client.predict("__import__('os').system('id')", api_name="/parse")
    assert "Could not read this" in out
