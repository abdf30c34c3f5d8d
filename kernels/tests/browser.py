"""JupyterLab in a real browser, the way a student clicks.

Run by kernels/tests/browser.rs with the venv's Python: starts JupyterLab on a
copy of the welcome notebook and of a notebook whose second cell panics, opens
each in Debian's Chromium driven by Playwright (no browser is downloaded), and
runs Run All from the Run menu:
  1. the welcome notebook: every code cell finishes with an execution count,
     no cell shows an error, the image and the plots are rendered;
  2. the panicking notebook: Run All stops at the panicking cell, which shows
     the panic's message and the line of the cell; the cell after it is not
     run, and nothing of the panic shows in another cell.
A screenshot of each is kept in the folder given as the first argument.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("REPLEARN_CHROMIUM", "/usr/bin/chromium")
# The notebook in the tab in front (JupyterLab keeps the others in the page).
SHOWN = ".jp-NotebookPanel:not(.lm-mod-hidden)"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def panicking_notebook(path):
    cells = [
        "let x: i32 = 1;\nprintln!(\"x is {x}\");",
        "let y: i32 = x + 1;\nassert!(y > 5, \"y is only {y}\");",
        "println!(\"after the panic\");",
    ]
    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                   "source": c, "id": f"cell{i}"} for i, c in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Rust (replearn)", "language": "rust", "name": "replearn"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))


def wait_for_server(url, log, limit=120):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not start:\n{log.read_text()}")


def kernel_connected(base, token, name, limit=300):
    """Waits until the notebook's kernel has a browser connection and is idle.

    The notebook's status indicator says idle for a moment before the kernel
    connects, and Run All clicked then opens the kernel chooser instead.
    """
    deadline = time.time() + limit
    while time.time() < deadline:
        with urllib.request.urlopen(f"{base}/api/sessions?token={token}") as reply:
            kernels = [s["kernel"] for s in json.load(reply) if s.get("path") == name]
        if any(k.get("connections", 0) > 0 and k.get("execution_state") == "idle" for k in kernels):
            return
        time.sleep(0.5)
    raise AssertionError(f"no kernel connected within {limit} s: {kernels}")


def run_all(page, base, token, name):
    page.goto(f"{base}/lab/tree/{name}?token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=120_000)
    kernel_connected(base, token, name)
    page.wait_for_selector(f"{SHOWN} .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=300_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def prompts(page):
    return page.eval_on_selector_all(
        f"{SHOWN} .jp-CodeCell .jp-InputArea-prompt", "els => els.map(e => e.textContent.trim())")


def main(artifacts):
    artifacts.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="replearn-browser-"))
    shutil.copy(ROOT / "notebooks" / "00_welcome.ipynb", work / "welcome.ipynb")
    panicking_notebook(work / "panics.ipynb")
    port, token = free_port(), "replearn-browser-test"
    log = work / "jupyter.log"
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--notebook-dir={work}", "--allow-root",
         f"--LabApp.workspaces_dir={work / 'workspaces'}",
         "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log.open("w"), stderr=subprocess.STDOUT, env=dict(os.environ, REPLEARN_KERNEL_POOL="0"))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(base, log)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(int(os.environ.get("BROWSER_TIMEOUT_MS", "300000")))

            run_all(page, base, token, "welcome.ipynb")
            try:
                page.wait_for_function(
                "shown => { const p = [...document.querySelectorAll(shown + ' .jp-CodeCell .jp-InputArea-prompt')];"
                " const failed = [...document.querySelectorAll(shown + ' .jp-OutputArea')].some(o => /panicked|error\\[E|error:/.test(o.innerText));"
                " return failed || (p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent))); }", arg=SHOWN)
            except Exception:
                page.screenshot(path=str(artifacts / "welcome-failed.png"), full_page=True)
                raise AssertionError(f"the welcome notebook did not finish: prompts {prompts(page)}; screenshot welcome-failed.png")
            time.sleep(1)
            done = prompts(page)
            page.screenshot(path=str(artifacts / "welcome.png"), full_page=True)
            # JupyterLab renders an error as stderr text, so look at what it says.
            shown_text = "\n".join(page.locator(f"{SHOWN} .jp-CodeCell .jp-OutputArea").all_inner_texts())
            for mark in ("panicked", "error[E", "error:", "aborted"):
                assert mark not in shown_text, f"the welcome notebook shows {mark!r}:\n{shown_text}"
            assert all(x.startswith("[") and x[1:-2].isdigit() for x in done), f"cells not run: {done}"
            images = page.locator(f"{SHOWN} .jp-RenderedImage img").count()
            plots = page.locator(f"{SHOWN} .jp-RenderedSVG").count()
            assert images >= 1 and plots >= 2, f"{images} images and {plots} plots rendered"
            print(f"welcome notebook: {len(done)} code cells ran, {images} image(s) and {plots} plot(s) rendered")

            run_all(page, base, token, "panics.ipynb")
            try:
                page.locator(f"{SHOWN} .jp-OutputArea-output", has_text="panicked").first.wait_for()
            except Exception:
                page.screenshot(path=str(artifacts / "panic-failed.png"), full_page=True)
                raise AssertionError(f"the panicking cell shows no error: prompts {prompts(page)}; screenshot panic-failed.png")
            page.wait_for_selector(f"{SHOWN} .jp-Notebook-ExecutionIndicator[data-status='idle']")
            time.sleep(2)
            page.screenshot(path=str(artifacts / "panic.png"), full_page=True)
            cells = page.locator(f"{SHOWN} .jp-CodeCell")
            texts = [cells.nth(i).locator(".jp-OutputArea").inner_text() for i in range(cells.count())]
            shown = prompts(page)
            assert shown[0].startswith("[") and shown[1].startswith("["), shown
            assert "x is 1" in texts[0] and "y is only" not in texts[0], texts
            assert "y is only 2" in texts[1] and "line 2 of the cell" in texts[1], texts[1]
            assert "RUST_BACKTRACE" not in "".join(texts), texts
            assert shown[2] in ("[ ]:", "[]:", ""), f"the cell after the panic ran: {shown}"
            assert "after the panic" not in texts[2], texts[2]
            print(f"panicking notebook: Run All stopped at the panic ({shown}), its message and line shown")
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"screenshots in {artifacts}")
    print("browser checks passed")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
