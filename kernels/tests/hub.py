"""A real JupyterHub with three students, each with a replearn kernel.

Run by kernels/tests/hub.rs with the venv's Python:
    hub.py PROXY SHARED_CACHE WORKDIR
PROXY is configurable-http-proxy from the npm registry (make hub-proxy);
SHARED_CACHE holds the pre-built kernel folder (make setup), read by every
student as deploy/hub/install.sh arranges it.

The hub uses the dummy authenticator and the simple local spawner (every
student's server is a process of this user, with a home folder of its own).
Checks:
  1. the kernelspec installed for a hub (`replearn-kernel install --prefix
     --shared-cache`) is the one the students' servers offer;
  2. three students log in through the login form (a wrong password is
     refused), start their servers through the hub's REST API with their own
     tokens, start a replearn kernel each, and run a tensor cell over the
     kernel's websocket, through the hub's proxy;
  3. the students' kernels are separate processes that see their own home;
     each student's build folders and spare kernels are in that student's
     cache, at most one spare each, and nothing is written to the shared
     cache;
  4. stopping one student's server ends every process it started (kernel,
     spare, the process where cells run), while another student's kernel
     still answers; so does killing another's server outright; stopping the
     hub ends the rest.
"""
import asyncio
import html
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
USERS = ["ada", "ben", "cy"]
PASSWORD = "replearn-course"
ADMIN_TOKEN = uuid.uuid4().hex
CELL = """let t = Tensor::arange(6, (Kind::Float, Device::Cpu)).reshape([2, 3]);
println!("home={} pid={}", std::env::var("HOME").unwrap_or_default(), std::process::id());
t.sum(Kind::Float)"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, method="GET", token=None, body=None, opener=None, timeout=60):
    """A JSON request to the hub or a student's server; (status, parsed body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"token {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, ConnectionError) as e:
        return 0, str(e)


def processes_of(user):
    """Pids of the processes whose environment says they serve `user`."""
    key = f"JUPYTERHUB_USER={user}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if key in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state not in ("Z", "X"):
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def left_running(users, limit):
    """Waits up to `limit` s for the users' processes to end; returns (pid, command line) of those left."""
    deadline = time.time() + limit
    while any(processes_of(u) for u in users) and time.time() < deadline:
        time.sleep(0.5)
    return [(p, command_line(p)) for u in users for p in processes_of(u)]


def command_line(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "(ended)"


def spares_in(cache):
    """(pid, state) of the spare kernels a cache's pools list."""
    found = []
    for pool in cache.glob("evcxr/*/pool/*"):
        for f in pool.iterdir():
            if f.suffix in (".warming", ".ready") and f.stem.isdigit():
                found.append((int(f.stem), f.suffix[1:]))
    return found


def sessions_in(cache):
    """The pids that own build folders in a cache (`sessions/<pid>-<n>`)."""
    return {int(d.name.split("-")[0]) for d in cache.glob("evcxr/*/sessions/*") if d.name.split("-")[0].isdigit()}


def wait_for(what, check, limit, log=None):
    deadline = time.time() + limit
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    tail = "" if log is None else "\n--- hub log ---\n" + log.read_text()[-6000:]
    sys.exit(f"FAIL: {what} after {limit} s{tail}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def log_in(base, user, password):
    """Logs in through the hub's login form; returns the status of the POST and the cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with opener.open(f"{base}/hub/login", timeout=30) as page:
        form = page.read().decode()
    xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', form)
    assert xsrf, "the login page has no _xsrf field"
    data = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": html.unescape(xsrf.group(1))}).encode()
    try:
        with opener.open(urllib.request.Request(f"{base}/hub/login", data=data), timeout=30) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, {c.name for c in jar}


async def run_cell(base, user, token, kernel_id, code, limit=300):
    """Runs `code` over the kernel's websocket; returns (status, text outputs)."""
    url = base.replace("http", "ws", 1) + f"/user/{user}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
    # The server answers the upgrade once the kernel has answered kernel_info.
    ws = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"},
                                             connect_timeout=limit, request_timeout=limit))
    msg_id = uuid.uuid4().hex
    ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "username": user, "session": uuid.uuid4().hex,
                   "msg_type": "execute_request", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
    }))
    texts, status, idle = [], None, False
    deadline = time.time() + limit
    while not (status and idle):
        remaining = deadline - time.time()
        if remaining <= 0:
            raise TimeoutError(f"{user}'s cell gave no reply in {limit} s; outputs so far: {texts}")
        raw = await asyncio.wait_for(ws.read_message(), remaining)
        if raw is None:
            raise ConnectionError(f"{user}'s kernel websocket closed; outputs so far: {texts}")
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            texts.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            texts.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            texts.append(f"{content['ename']}: {content['evalue']}")
        elif kind == "execute_reply":
            status = content["status"]
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    ws.close()
    return status, "".join(texts)


def main():
    proxy, shared, work = (Path(a).absolute() for a in sys.argv[1:4])
    for path, fix in [(proxy, "run `make test` (make hub-proxy installs it from the npm registry)"),
                      (VENV / "bin/jupyterhub", "run `make test` (requirements.txt has jupyterhub)")]:
        if not path.exists():
            sys.exit(f"FAIL: {path} is missing: {fix}")
    templates = list(shared.glob("evcxr/*/template/replearn-ready"))
    if not templates:
        sys.exit(f"FAIL: {shared} holds no pre-built kernel folder: run `make setup`")
    before = {t: (t.read_text(), t.stat().st_mtime_ns, t.parent.stat().st_mtime_ns) for t in templates}
    shared_sessions_before = sessions_in(shared)

    work.mkdir(parents=True, exist_ok=True)
    jupyter = work / "jupyter"
    subprocess.run([VENV / "bin/replearn-kernel", "install", "--venv", VENV, "--prefix", jupyter,
                    "--shared-cache", shared], check=True)
    homes = {u: work / "home" / u for u in USERS}
    port, hub_port, api_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    config = work / "jupyterhub_config.py"
    config.write_text(f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{str(proxy)!r}]
c.JupyterHub.db_url = "sqlite:///{work}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{work}/cookie_secret"
c.JupyterHub.pid_file = "{work}/jupyterhub.pid"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allowed_users = {set(USERS)!r}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{work}/home/{{username}}"
c.Spawner.cmd = [{str(VENV / "bin/jupyterhub-singleuser")!r}]
c.Spawner.args = {["--allow-root"] if os.getuid() == 0 else []!r}
c.Spawner.environment = {{"JUPYTER_PATH": "{jupyter}/share/jupyter"}}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.services = [{{"name": "course-admin", "api_token": {ADMIN_TOKEN!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-admin", "services": ["course-admin"],
    "scopes": ["admin:users", "admin:servers", "tokens", "read:users"]}}]
""")
    log = work / "jupyterhub.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLEARN_", "CARGO_TARGET", "JUPYTER"))}
    hub = subprocess.Popen([VENV / "bin/jupyterhub", "-f", config], cwd=work, env=env,
                           stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    started = time.time()
    try:
        wait_for("the hub did not answer", lambda: request(f"{base}/hub/api/")[0] == 200 if hub.poll() is None else sys.exit(f"FAIL: the hub ended:\n{log.read_text()[-4000:]}"), 60, log)

        # 1 + 2: log in, start servers and kernels.
        status, cookies = log_in(base, "ada", "wrong")
        assert status != 302 and not any(c.startswith("jupyterhub-hub-login") for c in cookies), f"a wrong password was accepted ({status})"
        tokens = {}
        for user in USERS:
            status, cookies = log_in(base, user, PASSWORD)
            assert status == 302 and any(c.startswith("jupyterhub-hub-login") for c in cookies), f"{user} could not log in: {status} {cookies}"
            status, made = request(f"{base}/hub/api/users/{user}/tokens", "POST", ADMIN_TOKEN, {"note": "hub test"})
            assert status in (200, 201), f"no token for {user}: {status} {made}"
            tokens[user] = made["token"]
            status, body = request(f"{base}/hub/api/users/{user}/server", "POST", tokens[user], {})
            assert status in (201, 202), f"{user}'s server did not start: {status} {body}"
        for user in USERS:
            wait_for(f"{user}'s server was not ready", lambda: request(f"{base}/hub/api/users/{user}", token=ADMIN_TOKEN)[1]["servers"].get("", {}).get("ready"), 120, log)
        print(f"three servers ready in {time.time() - started:.0f} s", flush=True)

        status, specs = request(f"{base}/user/ada/api/kernelspecs", token=tokens["ada"])
        spec = specs["kernelspecs"]["replearn"]["spec"]
        assert spec.get("env", {}).get("REPLEARN_SHARED_CACHE") == str(shared), f"the students' server offers another kernelspec: {spec}"

        kernels = {}
        for user in USERS:
            status, kernel = request(f"{base}/user/{user}/api/kernels", "POST", tokens[user], {"name": "replearn"}, timeout=300)
            assert status == 201, f"{user}'s kernel did not start: {status} {kernel}"
            kernels[user] = kernel["id"]

        async def first_cells():
            return await asyncio.gather(*(run_cell(base, u, tokens[u], kernels[u], CELL) for u in USERS))
        outputs = dict(zip(USERS, asyncio.run(first_cells())))
        cell_pids = {}
        for user, (status, text) in outputs.items():
            assert status == "ok" and "15" in text.rsplit("pid=", 1)[-1].split("\n", 1)[-1], f"{user}'s cell: {status} {text}"
            assert f"home={homes[user]}" in text, f"{user}'s kernel sees another home: {text}"
            cell_pids[user] = int(re.search(r"pid=(\d+)", text).group(1))
            print(f"{user}: {text.strip()!r}", flush=True)
        print(f"three tensor cells ran {time.time() - started:.0f} s after the hub started", flush=True)

        # 3: separate kernels, folders and spares; the shared cache untouched.
        assert len(set(kernels.values())) == 3 and len(set(cell_pids.values())) == 3
        procs = {u: set(processes_of(u)) for u in USERS}
        for user in USERS:
            assert cell_pids[user] in procs[user], f"{user}'s cells run in a process that is not {user}'s"
            others = set().union(*(procs[o] for o in USERS if o != user))
            assert not procs[user] & others
            cache = homes[user] / ".cache/replearn"
            owners = sessions_in(cache)
            assert owners and owners <= procs[user], f"{user}'s build folders belong to {owners}, {user}'s processes are {procs[user]}"
            for other in USERS:
                if other != user:
                    assert not sessions_in(homes[other] / ".cache/replearn") & procs[user], f"{user} has a build folder in {other}'s cache"
            spares = wait_for(f"{user} got no spare kernel", lambda: spares_in(cache), 60, log)
            assert len(spares) == 1 and spares[0][0] in procs[user], f"{user}'s spares: {spares}"
            print(f"{user}: {len(procs[user])} processes, build folders of {sorted(owners)}, spare {spares}", flush=True)
        assert not (sessions_in(shared) - shared_sessions_before) & set().union(*procs.values()), "a student's build folder is in the shared cache"
        after = {t: (t.read_text(), t.stat().st_mtime_ns, t.parent.stat().st_mtime_ns) for t in templates}
        assert after == before, "the shared pre-built folder changed"

        # 4: stopping ada's server ends all of ada's processes; ben's kernel still answers.
        status, body = request(f"{base}/hub/api/users/ada/server", "DELETE", tokens["ada"])
        assert status in (202, 204), f"ada's server did not stop: {status} {body}"
        wait_for("ada's server stopped", lambda: not request(f"{base}/hub/api/users/ada", token=ADMIN_TOKEN)[1]["servers"], 60, log)
        left = left_running(["ada"], 30)
        assert not left, f"ada's server was stopped, and these were left running: {left}"
        status, text = asyncio.run(run_cell(base, "ben", tokens["ben"], kernels["ben"], "t.size()"))
        assert status == "ok" and "[2, 3]" in text, f"ben's kernel after ada stopped: {status} {text}"
        assert cell_pids["ben"] in processes_of("ben"), "ben's cell process ended with ada's server"
        print("ada's server stopped: none of ada's processes left; ben's kernel still answers", flush=True)

        # A server killed outright (as the out-of-memory killer does) cannot
        # shut its kernel down: the kernel sees its server end and ends itself.
        server = [p for p in processes_of("cy") if "jupyterhub-singleuser" in command_line(p)]
        assert len(server) == 1, [command_line(p) for p in processes_of("cy")]
        os.kill(server[0], signal.SIGKILL)
        left = left_running(["cy"], 30)
        assert not left, f"cy's server was killed, and these were left running: {left}"
        print("cy's server killed: none of cy's processes left", flush=True)
    finally:
        if hub.poll() is None:
            os.killpg(hub.pid, signal.SIGTERM)
            try:
                hub.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(hub.pid, signal.SIGKILL)
                hub.wait()
        # Whatever a failed check left running is ended here, then reported.
        left = left_running(USERS, 60)
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert not left, f"students' processes were left running after the hub stopped: {left}"
    print(f"hub checks passed in {time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
