"""ODE Tutor web app (Gradio).

Run: ``python app.py`` (serves on http://127.0.0.1:7860; set GRADIO_SERVER_NAME=0.0.0.0
to listen on all interfaces, as Spaces does).  This page only wires UI events to
``tutor`` calls; all mathematics lives in the ``tutor`` package.
"""
from __future__ import annotations

import gradio as gr

from tutor import ParseError, parse

LATEX_DELIMITERS = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "$", "right": "$", "display": False},
    {"left": "\\(", "right": "\\)", "display": False},
    {"left": "\\[", "right": "\\]", "display": True},
]
MAX_INPUT_CHARS = 2000


def preview(text: str) -> str:
    """Markdown: the parsed ODE in LaTeX with its order and conditions, or the parse error."""
    text = (text or "")[: MAX_INPUT_CHARS + 1]
    if not text.strip():
        return "Type an ODE, e.g. `y' + 2y = e^(-x), y(0) = 1`."
    try:
        problem = parse(text)
    except ParseError as exc:
        where = f" (at character {exc.position + 1})" if exc.position is not None else ""
        hint = f"\n\n*Hint:* {exc.suggestion}" if exc.suggestion else ""
        return f"**Could not read this:** {exc.message}{where}{hint}"
    except Exception as exc:  # never a traceback in the UI
        return f"**Something went wrong while reading this:** {type(exc).__name__}"
    lines = [f"$${problem.latex}$$",
             f"- unknown: ${problem.function}({problem.variable})$, order **{problem.order}**"]
    if problem.ics:
        lines.append("- initial conditions: " + ", ".join(f"${ic.latex(problem.function)}$" for ic in problem.ics))
    if problem.parameters:
        lines.append("- parameters: " + ", ".join(f"${p}$" for p in problem.parameters))
    return "\n".join(lines)


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="ODE Tutor") as demo:
        gr.Markdown("# ODE Tutor\nType an ordinary differential equation in plain text or LaTeX.")
        box = gr.Textbox(label="Your ODE", placeholder="y' + 2y = e^(-x), y(0) = 1", max_length=MAX_INPUT_CHARS)
        out = gr.Markdown(latex_delimiters=LATEX_DELIMITERS)
        box.change(preview, box, out, api_name="parse", trigger_mode="always_last")
        box.submit(preview, box, out, api_visibility="private")
    return demo


if __name__ == "__main__":
    build_demo().queue(default_concurrency_limit=8, max_size=64).launch()
