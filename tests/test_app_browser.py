"""The page in a real browser: Debian's chromium driven by playwright (never a downloaded browser).

Loads the page, solves an example, waits for the verified answer, checks that KaTeX rendered
the formulas (``.katex`` present, no ``.katex-error``), walks through the other tabs and saves a
screenshot of each under ``test-artifacts/`` (gitignored; the README's pictures in
``assets/screenshots/`` are copies of these).

Chromium comes from apt (``.ci/run`` installs it when missing).  Without it this test fails and
says so: a browser test that silently skips would hide a broken page.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page_url():
    from app import build_demo, launch_kwargs

    demo = build_demo()
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **launch_kwargs())
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not executable:
        pytest.fail("chromium is not installed: the browser test needs Debian's chromium at /usr/bin/chromium "
                    "(apt-get install chromium; .ci/run does this). It is never downloaded by playwright.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def test_solve_check_teach_about_in_a_browser(page_url, browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(page_url, wait_until="load")

    # Solve: the example fills the box, the preview renders it, Solve streams the verified answer.
    page.get_by_role("button", name="Linear IVP · y' + 2y = e^(-x)").click()
    page.wait_for_selector("#problem-preview .katex", timeout=30_000)
    page.click("#solve-btn")
    page.wait_for_selector("#answer .verdict-correct", timeout=90_000)
    answer = page.locator("#answer")
    assert "Verified by substitution." in answer.inner_text()
    for heading in ("Classification", "Hint", "Steps", "Final Answer"):
        assert heading.upper() in answer.inner_text().upper()
    assert answer.locator(".katex").count() >= 5
    assert page.locator(".katex-error").count() == 0
    page.screenshot(path=str(ARTIFACTS / "solve.png"), full_page=True)

    # Export: the LaTeX source to copy, and the Markdown file to download.
    page.get_by_text("Export: LaTeX and Markdown").click()
    page.wait_for_selector("#export-latex :text('section*{Problem}')", timeout=30_000)
    with page.expect_download(timeout=30_000) as download:
        page.click("#export-md")
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# ODE Tutor") and "**Verified by substitution.**" in markdown

    # Learning mode: step by step shows the hint first; Next step reveals a step.
    page.get_by_text("Step by step", exact=True).click()
    page.wait_for_selector("#answer :text('press Next step')", timeout=30_000)
    before = page.locator("#answer ol li").count()
    page.click("#next-step")
    page.wait_for_function(f"document.querySelectorAll('#answer ol li').length > {before}", timeout=30_000)

    # Check: a wrong answer gets its verdict and a pointer.
    page.get_by_role("tab", name="Check").click()
    page.fill("#check-problem textarea", "y' = 2y, y(0) = 3")
    page.fill("#check-answer textarea", "y = 2e^{2x}")
    page.click("#check-btn")
    page.wait_for_selector("#check-result .verdict-wrong", timeout=60_000)
    assert "Where to look" in page.locator("#check-result").inner_text()
    assert page.locator(".katex-error").count() == 0
    page.screenshot(path=str(ARTIFACTS / "check.png"), full_page=True)

    # Teach: a practice problem, the hint and a step, and the slope field.
    page.get_by_role("tab", name="Teach").click()
    page.click("#generate-btn")
    page.wait_for_selector("#teach-problem .katex", timeout=60_000)
    page.click("#reveal-next")
    page.wait_for_selector("#teach-reveal :text('Hint')", timeout=30_000)
    page.click("#reveal-next")
    page.wait_for_selector("#teach-reveal ol li", timeout=30_000)
    page.wait_for_selector("#slope-field img", timeout=60_000)
    assert page.locator(".katex-error").count() == 0
    page.screenshot(path=str(ARTIFACTS / "teach.png"), full_page=True)

    # About: the active profile and the accuracy line.
    page.get_by_role("tab", name="About").click()
    page.wait_for_selector("#about :text('Active profile')", timeout=30_000)
    assert "symbolic" in page.locator("#about").inner_text()
    page.screenshot(path=str(ARTIFACTS / "about.png"), full_page=True)
    assert not errors, errors
