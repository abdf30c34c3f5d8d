"""Drive the installed "replearn" kernel with real Jupyter clients.

Run by kernels/tests/jupyter.rs with the venv's Python. Checks:
  1. nbclient executes notebooks/00_welcome.ipynb on the kernel, and the image
     cell shows a PNG of the expected size and colours;
  2. the kernel's child process (where cells run) has libtorch_cuda.so mapped,
     and replearn::device() agrees with libtorch about CUDA;
  3. a kernel started while a spare is ready is served by the spare (cells run
     under the spare, not under the process Jupyter started), in the folder
     Jupyter asked for; interrupting works through the proxy; killing the
     kernel Jupyter started ends the spare;
  4. a cell that panics ends with an error reply and an error message that
     give the panic's message and the line of the cell, with a spare and
     without one (the notebook's own kernel); the cells sent after it are
     aborted, as "Run All" expects; a `?` error is an error too; nothing of
     a failed cell reaches the next cell's output;
  5. clients that connect and leave at once, on every channel, while a cell
     runs in each of two kernels taken at the same time (as Jupyter Server's
     short-lived channels do), never end a kernel: replies to a client that
     has gone are dropped.
"""
import base64
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import nbformat
import zmq
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]


def png_size_and_first_pixel(data: bytes):
    """Width, height and the RGB of pixel (0, 0) of an 8-bit RGB PNG, without Pillow."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", None, None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2), "expected 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    # Every PNG filter predicts 0 for the first pixel of the first row, so its
    # bytes follow the filter-type byte unchanged.
    return width, height, tuple(raw[1:4])


def check_welcome_notebook():
    nb = nbformat.read(ROOT / "notebooks" / "00_welcome.ipynb", as_version=4)
    client = NotebookClient(nb, kernel_name="replearn", timeout=600, startup_timeout=120,
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    cells = {c.metadata.get("replearn", {}).get("id"): c for c in nb.cells}
    outputs = cells["welcome-image"].outputs
    pngs = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert pngs, f"no image/png output from the image cell: {outputs}"
    width, height, pixel = png_size_and_first_pixel(base64.b64decode(pngs[0]))
    assert (width, height) == (64, 64), (width, height)
    assert pixel == (0, 0, 128), pixel
    svgs = [o["data"]["image/svg+xml"] for o in cells["welcome-plot"].outputs if "image/svg+xml" in o.get("data", {})]
    assert svgs and "sin x" in "".join(svgs), "plot missing"
    print("nbclient ran the welcome notebook on the replearn kernel: image and plot shown")


def run_cell(client, code):
    msg_id = client.execute(code)
    result, errors, streams = None, [], []
    while True:
        msg = client.get_iopub_msg(timeout=300)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind in ("execute_result", "display_data"):
            result = content["data"].get("text/plain", result)
        elif kind == "error":
            errors.append(content)
        elif kind == "stream":
            streams.append(content["text"])
        elif kind == "status" and content["execution_state"] == "idle":
            return result, errors, "".join(streams)


def check_cuda_backend_loaded():
    km, kc = start_new_kernel(kernel_name="replearn", startup_timeout=120)
    try:
        mapped, errors, _ = run_cell(kc, 'std::fs::read_to_string("/proc/self/maps").unwrap().contains("libtorch_cuda.so")')
        assert not errors, errors
        assert mapped == "true", f"libtorch_cuda.so is not mapped in the kernel child: {mapped}"
        agree, errors, _ = run_cell(kc, "tch::Cuda::is_available() == device().is_cuda()")
        assert not errors and agree == "true", (agree, errors)
        report, errors, out = run_cell(kc, 'println!("{}", DeviceReport::probe());')
        print("kernel child has libtorch_cuda.so mapped;", out.strip().splitlines()[0])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def parent_pid(pid):
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def running(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def check_spare_kernel():
    # The spare ends with this process (prestart watches its parent).
    subprocess.run([str(ROOT / ".venv/bin/replearn-kernel"), "prestart", "--wait"], check=True,
                   env=dict(os.environ, REPLEARN_KERNEL_POOL="1"))
    folder = tempfile.mkdtemp(prefix="replearn-spare-")
    km, kc = start_new_kernel(kernel_name="replearn", startup_timeout=120, cwd=folder)
    launcher = km.provisioner.process.pid
    try:
        child, errors, _ = run_cell(kc, "std::process::id()")
        assert not errors, errors
        spare = parent_pid(int(child))
        assert spare != launcher, "cells run under the kernel Jupyter started: no spare served it"
        cwd, errors, _ = run_cell(kc, "std::env::current_dir().unwrap().display().to_string()")
        assert not errors and cwd == f'"{folder}"', (cwd, errors)
        total, errors, _ = run_cell(kc, "let t = Tensor::arange(12, (Kind::Float, device())).reshape([3, 4]);\nt.sum(Kind::Float).double_value(&[])")
        assert not errors and total == "66.0", (total, errors)
        msg_id = kc.execute("std::thread::sleep(std::time::Duration::from_secs(300));")
        time.sleep(3)
        km.interrupt_kernel()
        deadline = time.time() + 60
        while True:
            msg = kc.get_iopub_msg(timeout=max(1, deadline - time.time()))
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" \
                    and msg["content"]["execution_state"] == "idle":
                break
        two, errors, _ = run_cell(kc, "1 + 1")
        assert not errors and two == "2", (two, errors)
        os.kill(launcher, signal.SIGKILL)
        deadline = time.time() + 30
        while running(spare) and time.time() < deadline:
            time.sleep(0.2)
        assert not running(spare), "the spare outlived the kernel Jupyter started"
        print(f"a spare served the kernel in {folder}; interrupt passed through; the spare ended with it")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def execute_all(kc, codes):
    """Sends every cell at once, as JupyterLab's Run All does, and collects
    each one's reply status, error and streams."""
    ids = [kc.execute(code) for code in codes]
    results = {i: {"status": None, "errors": [], "streams": "", "idle": False} for i in ids}
    deadline = time.time() + 300
    while not all(r["status"] and r["idle"] for r in results.values()):
        try:
            msg = kc.get_iopub_msg(timeout=1)
            parent = msg["parent_header"].get("msg_id")
            if parent in results:
                kind, content = msg["msg_type"], msg["content"]
                if kind == "error":
                    results[parent]["errors"].append(content)
                elif kind == "stream":
                    results[parent]["streams"] += content["text"]
                elif kind == "status" and content["execution_state"] == "idle":
                    results[parent]["idle"] = True
        except Exception:
            pass
        try:
            while True:
                reply = kc.get_shell_msg(timeout=0.05)
                parent = reply["parent_header"].get("msg_id")
                if parent in results:
                    results[parent]["status"] = reply["content"]["status"]
        except Exception:
            pass
        assert time.time() < deadline, f"cells did not finish: {results}"
    return [results[i] for i in ids]


def check_failed_cells_are_errors(pool):
    env = dict(os.environ, REPLEARN_KERNEL_POOL=pool)
    if pool != "0":
        subprocess.run([str(ROOT / ".venv/bin/replearn-kernel"), "prestart", "--wait"], check=True, env=env)
    km, kc = start_new_kernel(kernel_name="replearn", startup_timeout=300, env=env)
    try:
        ok, panicked, aborted = execute_all(kc, [
            'let x: i32 = 1;\nprintln!("x is {x}");',
            'let y: i32 = x + 1;\nassert!(y > 5, "y is only {y}");\nprintln!("never");',
            'println!("after the panic");',
        ])
        assert ok["status"] == "ok" and "x is 1" in ok["streams"], ok
        assert panicked["status"] == "error", panicked
        [error] = panicked["errors"]
        assert error["ename"] == "Panic" and error["evalue"] == "y is only 2", error
        assert "at line 2 of the cell" in error["traceback"][0], error["traceback"]
        assert "RUST_BACKTRACE" not in panicked["streams"] and "REPLEARN" not in panicked["streams"], panicked
        assert aborted["status"] == "aborted" and "after the panic" not in aborted["streams"], aborted
        question, after = execute_all(kc, ['let n: i32 = "4x".parse()?;', 'println!("clean {}", 1 + 1);'])
        assert question["status"] == "error", question
        assert "invalid digit" in question["errors"][0]["evalue"], question
        # Run on its own, the next cell shows only its own output.
        fresh, = execute_all(kc, ['println!("clean {}", 1 + 1);'])
        assert fresh["status"] == "ok" and fresh["streams"] == "clean 2\n", fresh
        print(f"pool {pool}: a panic is an error at the cell's line, the next cells are aborted, `?` errors too")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def departing_clients(km, rounds):
    """Clients that come and go on every channel, as Jupyter Server's short-lived
    channels do: each sends a request and closes before its reply comes, and
    raw TCP connections are reset mid-way."""
    info = km.get_connection_info()
    session = Session(key=info["key"] if isinstance(info["key"], bytes) else info["key"].encode(),
                      signature_scheme=info["signature_scheme"])
    ctx = zmq.Context()
    url = lambda port: f"tcp://{info['ip']}:{info[port]}"
    try:
        for _ in range(rounds):
            for port, kind in (("shell_port", zmq.DEALER), ("control_port", zmq.DEALER),
                               ("stdin_port", zmq.DEALER), ("iopub_port", zmq.SUB), ("hb_port", zmq.REQ)):
                sock = ctx.socket(kind)
                sock.linger = 0
                sock.connect(url(port))
                if kind == zmq.SUB:
                    sock.subscribe(b"")
                elif kind == zmq.REQ:
                    sock.send(b"ping")
                elif port != "stdin_port":
                    session.send(sock, "kernel_info_request", {})
                    if port == "shell_port":
                        session.send(sock, "execute_request", {"code": "1 + 1", "silent": True,
                                     "store_history": False, "allow_stdin": False})
                sock.close()
                raw = socket.create_connection((info["ip"], info[port]))
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                raw.send(b"\xff" + b"\x00" * 8 + b"\x7f")
                raw.close()
    finally:
        ctx.destroy(linger=0)


def check_clients_that_leave_do_not_end_the_kernel():
    env = dict(os.environ, REPLEARN_KERNEL_POOL="2")
    subprocess.run([str(ROOT / ".venv/bin/replearn-kernel"), "prestart", "--wait"], check=True, env=env)
    started = [start_new_kernel(kernel_name="replearn", startup_timeout=120, env=env) for _ in range(2)]
    try:
        # Hold each kernel busy, so the replies to the departing clients come after they left.
        busy = [kc.execute("std::thread::sleep(std::time::Duration::from_secs(6)); 40 + 2") for _, kc in started]
        for km, _ in started:
            departing_clients(km, 25)
        for (km, kc), msg_id in zip(started, busy):
            reply = kc.get_shell_msg(timeout=120)
            assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok", reply
            assert km.is_alive(), "the kernel ended while clients came and went"
            two, errors, _ = run_cell(kc, "1 + 1")
            assert not errors and two == "2", (two, errors)
        print("two kernels taken at once survived 50 clients that left before their replies")
    finally:
        for km, kc in started:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


if __name__ == "__main__":
    check_cuda_backend_loaded()
    check_spare_kernel()
    check_failed_cells_are_errors("1")
    check_failed_cells_are_errors("0")
    check_clients_that_leave_do_not_end_the_kernel()
    check_welcome_notebook()
    print("jupyter kernel checks passed")
    sys.exit(0)
