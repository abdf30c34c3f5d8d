//! A spare kernel, started ahead, so that opening a notebook does not wait.
//!
//! Most of an evcxr kernel's start is rust-analyzer reading std, tch and the
//! rest of replearn's dependencies into memory, and rustc's first look at
//! tch; evcxr keeps none of it on disk. So every kernel start also starts a
//! *spare*: `replearn-kernel` on ports and a key of its own, which runs the
//! start-up script and a first tensor cell, then waits. The next kernel
//! Jupyter starts takes the spare over: it sends the notebook's folder, gets
//! the spare's ports and key back, and passes Jupyter's messages to it
//! ([`crate::jupyter::wire::proxy`]), re-signing each one.
//!
//! Files, in `<cache>/evcxr/<checkout>/pool/<library fingerprint>-<environment>/`:
//! `<pid>.warming` while a spare starts; `<pid>.ready`, holding the path of
//! its Unix socket, once it can be taken. A spare ends when its notebook's
//! kernel ends, when the process it watches (the Jupyter server) ends, when
//! its folder is removed (the library changed), or after
//! `REPLEARN_KERNEL_POOL_IDLE_S` seconds untaken (default 4 hours).
//! `REPLEARN_KERNEL_POOL` ([`env::KERNEL_POOL`]) is how many spares to keep (default: see [`size`];
//! 0 turns the pool off).
use crate::paths::short_hash;
use crate::protocol::env;
use crate::cells::session::{fingerprint, BuildDirs};
use crate::jupyter::wire::ConnectionInfo;
use anyhow::{Context, Result};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Run in the spare after the start-up script: rust-analyzer works out a
/// tensor's type once (seconds), so the notebook's first tensor cell does not.
/// The variable is dropped, so the notebook starts with none.
pub const WARM_UP: &str = "let replearn_warm_up = Tensor::arange(12, (Kind::Float, device())).reshape([3, 4]);\ndrop(replearn_warm_up);\n";

/// What a waiting spare holds, measured (README, "The kernel"): the evcxr
/// child with libtorch loaded and the warm-up's types, plus the kernel.
pub const SPARE_BYTES: u64 = 1_600_000_000;

/// What a notebook's own kernel and the Jupyter server need besides spares.
const IN_USE_BYTES: u64 = SPARE_BYTES + 1_000_000_000;

/// How many spares to keep: `REPLEARN_KERNEL_POOL` when set; otherwise as
/// many as fit in the memory this user may use beside one running notebook
/// and the server ([`pool_size`]), at most 1 on a JupyterHub and at most 2
/// elsewhere (two notebooks opened together both start at once).
pub fn size() -> usize {
    let explicit = std::env::var(env::KERNEL_POOL).ok().and_then(|v| v.trim().parse().ok());
    let on_hub = std::env::var_os("JUPYTERHUB_USER").is_some() || std::env::var_os("JUPYTERHUB_API_TOKEN").is_some();
    let limits = [std::env::var("MEM_LIMIT").ok().and_then(|v| v.trim().parse().ok()), cgroup_memory_limit()];
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024);
    pool_size(explicit, limits.into_iter().flatten().min(), on_hub, total)
}

/// The pool size for an explicit setting, a memory limit in bytes (the
/// hub's `MEM_LIMIT` or the cgroup's, whichever is lower), whether this runs
/// on a JupyterHub, and the machine's memory in bytes.
pub fn pool_size(explicit: Option<usize>, limit: Option<u64>, on_hub: bool, total: u64) -> usize {
    if let Some(n) = explicit {
        return n;
    }
    let memory = limit.unwrap_or(total).min(if total > 0 { total } else { u64::MAX });
    let fit = (memory.saturating_sub(IN_USE_BYTES) / SPARE_BYTES) as usize;
    let cap = if on_hub { 1 } else if total >= 15 * (1 << 30) { 2 } else { 1 };
    // Without a limit, a small machine still gets one spare, as before.
    if limit.is_none() && !on_hub {
        return cap;
    }
    fit.min(cap)
}

/// The memory limit of this process's cgroup (v2 `memory.max`, else v1's), if it has one.
fn cgroup_memory_limit() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    own.lines().filter_map(cgroup_limit_file).find_map(|file| {
        let value = std::fs::read_to_string(file).ok()?;
        // "max" (v2) or a number near 2^63 (v1) mean no limit.
        value.trim().parse::<u64>().ok().filter(|&bytes| bytes < 1 << 60)
    })
}

/// The file holding the memory limit for one line of `/proc/self/cgroup`:
/// `0::/path` is cgroup v2, `N:memory:/path` v1's memory controller; other controllers have none.
fn cgroup_limit_file(line: &str) -> Option<String> {
    let mut fields = line.splitn(3, ':');
    let (controllers, path) = (fields.nth(1)?, fields.next()?);
    if controllers.is_empty() {
        Some(format!("/sys/fs/cgroup{path}/memory.max"))
    } else if controllers.split(',').any(|c| c == "memory") {
        Some(format!("/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"))
    } else {
        None
    }
}

/// Variables that differ between kernels of one Jupyter server and do not
/// change what a kernel does; every other variable must match for a spare to
/// serve a notebook.
fn ignored_variable(name: &str) -> bool {
    name.starts_with("JPY_")
        || name.starts_with("IPY_")
        || name.starts_with(env::POOL_PREFIX)
        || name.starts_with(env::KERNEL_POOL)
        || matches!(name, "PWD" | "OLDPWD" | "SHLVL" | "_")
}

/// A hash of the environment a kernel starts with (see [`ignored_variable`]).
pub fn environment_key(env: &[(OsString, OsString)]) -> String {
    let mut kept: Vec<_> = env
        .iter()
        .filter(|(k, _)| !ignored_variable(&k.to_string_lossy()))
        .collect();
    kept.sort();
    let mut data = Vec::new();
    for (k, v) in kept {
        data.extend_from_slice(k.as_encoded_bytes());
        data.push(b'=');
        data.extend_from_slice(v.as_encoded_bytes());
        data.push(0);
    }
    short_hash(&data)
}

/// Whether process `pid` is running (a zombie is not).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(_) => false,
    }
}

/// The spares of one checkout, library version and environment; or, for a
/// notebook that found no spare, its own kernel ([`Pool::own`]).
#[derive(Debug, Clone)]
pub struct Pool {
    pub dir: PathBuf,
    /// A notebook's own kernel: it starts without a pre-built folder too.
    own: bool,
}

/// A spare that was taken: its connection, and the socket whose end means
/// the spare has ended (and whose closing ends the spare).
pub struct Taken {
    pub kernel: ConnectionInfo,
    pub link: UnixStream,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct TakeRequest {
    cwd: PathBuf,
}

impl Pool {
    /// The pool for this checkout's current library and this environment.
    /// Pools of older library versions are removed, which ends their spares.
    pub fn for_root(root: &Path, env: &[(OsString, OsString)]) -> Result<Pool> {
        let library = fingerprint(root)?;
        let pools = BuildDirs::for_root(root).pool;
        let dir = pools.join(format!("{library}-{}", environment_key(env)));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        if let Ok(entries) = std::fs::read_dir(&pools) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with(&library) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        Ok(Pool { dir, own: false })
    }

    /// A private pool of one, for the kernel of this process's notebook;
    /// those of ended processes are removed.
    pub fn own(root: &Path) -> Result<Pool> {
        let base = BuildDirs::for_root(root).own;
        if let Ok(entries) = std::fs::read_dir(&base) {
            for entry in entries.flatten() {
                let pid = entry.file_name().to_string_lossy().parse::<u32>().ok();
                if pid.is_some_and(|p| !alive(p)) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = base.join(std::process::id().to_string());
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        Ok(Pool { dir, own: true })
    }

    /// Removes a pool made by [`Pool::own`].
    pub fn remove(&self) {
        if self.own {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// Spares that are starting and spares that can be taken, by pid;
    /// entries of ended processes are removed.
    fn spares(&self) -> (Vec<u32>, Vec<u32>) {
        let (mut warming, mut ready) = (Vec::new(), Vec::new());
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (warming, ready);
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
                continue;
            };
            let Ok(pid) = stem.to_string_lossy().parse::<u32>() else {
                continue;
            };
            let list = match ext.to_str() {
                Some("warming") => &mut warming,
                Some("ready") => &mut ready,
                _ => continue,
            };
            if alive(pid) {
                list.push(pid);
            } else {
                let _ = std::fs::remove_file(&path);
            }
        }
        (warming, ready)
    }

    /// Starts spares until `want` are starting or ready. A spare ends when
    /// process `watch` does. Returns how many it started.
    pub fn fill(&self, want: usize, watch: u32, env: &[(OsString, OsString)]) -> Result<usize> {
        let lock = std::fs::File::create(self.dir.join("lock"))?;
        // SAFETY: flock on a file this function owns; released when it closes.
        if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) } != 0 {
            anyhow::bail!("locking {}", self.dir.display());
        }
        let (warming, ready) = self.spares();
        let mut started = 0;
        for _ in warming.len() + ready.len()..want {
            self.start_spare(watch, env)?;
            started += 1;
        }
        Ok(started)
    }

    fn start_spare(&self, watch: u32, env: &[(OsString, OsString)]) -> Result<()> {
        let exe = std::env::current_exe().context("finding replearn-kernel")?;
        let kernel = ConnectionInfo::fresh_local()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let connection = self.dir.join(format!("spare-{nanos}.json"));
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&connection)
            .and_then(|mut f| f.write_all(serde_json::to_string(&kernel)?.as_bytes()))
            .with_context(|| format!("writing {}", connection.display()))?;
        let log_path = self.dir.join("spares.log");
        let long = std::fs::metadata(&log_path).is_ok_and(|m| m.len() > 1 << 20);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(!long)
            .write(true)
            .truncate(long)
            .open(&log_path)?;
        let mut command = std::process::Command::new(exe);
        command
            .arg("--control_file")
            .arg(&connection)
            .env_clear()
            .envs(env.iter().cloned())
            .env(env::POOL_SPARE, &self.dir)
            .env(env::POOL_WATCH_PID, watch.to_string())
            .envs(self.own.then_some((env::POOL_OWN, "1")))
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // SAFETY: setsid is async-signal-safe. A session of its own keeps
        // the spare out of the signals sent to the kernel that started it.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let child = command.spawn().context("starting a spare kernel")?;
        std::fs::write(self.dir.join(format!("{}.warming", child.id())), "")?;
        Ok(())
    }

    /// Takes a ready spare and moves it to `cwd`. When only starting spares
    /// exist, waits for one up to `wait`. `None` when there is none.
    pub fn take(&self, cwd: &Path, wait: Duration) -> Option<Taken> {
        let deadline = Instant::now() + wait;
        loop {
            let (warming, ready) = self.spares();
            for pid in ready {
                if let Some(taken) = self.try_take(pid, cwd) {
                    return Some(taken);
                }
            }
            if warming.is_empty() || Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until every spare has started and one can be taken; fails when
    /// none is starting.
    pub fn wait_ready(&self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let (warming, ready) = self.spares();
            if warming.is_empty() && !ready.is_empty() {
                return Ok(());
            }
            anyhow::ensure!(
                !warming.is_empty() || !ready.is_empty(),
                "no spare kernel is starting: its log is {}",
                self.dir.join("spares.log").display()
            );
            anyhow::ensure!(
                Instant::now() < deadline,
                "no spare kernel was ready after {} s: its log is {}",
                limit.as_secs(),
                self.dir.join("spares.log").display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn try_take(&self, pid: u32, cwd: &Path) -> Option<Taken> {
        let socket = std::fs::read_to_string(self.dir.join(format!("{pid}.ready"))).ok()?;
        let mut link = UnixStream::connect(socket.trim()).ok()?;
        link.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
        let request = serde_json::to_string(&TakeRequest {
            cwd: cwd.to_path_buf(),
        })
        .ok()?;
        writeln!(link, "{request}").ok()?;
        let mut reply = String::new();
        BufReader::new(&link).read_line(&mut reply).ok()?;
        let kernel: ConnectionInfo = serde_json::from_str(&reply).ok()?;
        link.set_read_timeout(None).ok()?;
        Some(Taken { kernel, link })
    }
}

/// `<tmp>/replearn-<uid>/`, private to this user: where spares' sockets are
/// (a socket's path must be short, and the cache folder can be deep).
fn socket_dir() -> Result<PathBuf> {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("replearn-{uid}"));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let meta = std::fs::metadata(&dir)?;
    anyhow::ensure!(
        meta.uid() == uid && meta.mode() & 0o077 == 0,
        "{} belongs to someone else or is open to others; remove it",
        dir.display()
    );
    Ok(dir)
}

/// The spare's side, run on a thread beside evcxr's kernel: waits until the
/// kernel answers, offers it, hands it to the kernel that takes it, and asks
/// it to shut down when that kernel ends (or when the spare is not wanted).
/// evcxr still busy with its start-up does not hear that request, so when
/// the process is still running [`SHUTDOWN_GRACE`] later, it removes its
/// build folder (`session_dir`) and exits.
pub fn serve_spare(pool_dir: PathBuf, kernel: ConnectionInfo, cwd_fifo: PathBuf, session_dir: PathBuf) {
    let runtime = match crate::jupyter::wire::runtime() {
        Ok(r) => r,
        Err(e) => return eprintln!("spare {}: {e}", std::process::id()),
    };
    let pid = std::process::id();
    let warming = pool_dir.join(format!("{pid}.warming"));
    let ready = pool_dir.join(format!("{pid}.ready"));
    let outcome = offer(&runtime, &pool_dir, &kernel, &cwd_fifo, &ready);
    let _ = std::fs::remove_file(&warming);
    let _ = std::fs::remove_file(&ready);
    if let Err(e) = outcome {
        eprintln!("spare {pid}: {e:#}");
    }
    if let Err(e) = runtime.block_on(crate::jupyter::wire::request_shutdown(&kernel)) {
        eprintln!("spare {pid}: asking the kernel to shut down: {e:#}");
    }
    std::thread::sleep(SHUTDOWN_GRACE);
    eprintln!("spare {pid}: evcxr did not shut down when asked; ending the process");
    let _ = std::fs::remove_dir_all(&session_dir);
    std::process::exit(0);
}

/// How long a spare that was asked to shut down may take before it is ended.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn offer(
    runtime: &tokio::runtime::Runtime,
    pool_dir: &Path,
    kernel: &ConnectionInfo,
    cwd_fifo: &Path,
    ready: &Path,
) -> Result<()> {
    let pid = std::process::id();
    let watch = std::env::var(env::POOL_WATCH_PID)
        .ok()
        .and_then(|p| p.parse::<u32>().ok());
    runtime.block_on(async {
        tokio::select! {
            r = crate::jupyter::wire::wait_until_answering(kernel, Duration::from_secs(900)) => r,
            _ = ended(watch) => anyhow::bail!("the process it was started for ended"),
        }
    })?;
    let socket = socket_dir()?.join(format!("{pid}.sock"));
    let _ = std::fs::remove_file(&socket);
    let listener =
        UnixListener::bind(&socket).with_context(|| format!("binding {}", socket.display()))?;
    listener.set_nonblocking(true)?;
    crate::notebook::write_atomic(ready, socket.to_string_lossy().as_bytes())
        .context("the pool folder is gone (the library changed)")?;
    let _ = std::fs::remove_file(pool_dir.join(format!("{pid}.warming")));
    let idle = Duration::from_secs(
        std::env::var(env::KERNEL_POOL_IDLE_S)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(4 * 3600),
    );
    let since = Instant::now();
    let link = loop {
        match listener.accept() {
            Ok((link, _)) => break link,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.into()),
        }
        if watch.is_some_and(|w| !alive(w)) || since.elapsed() > idle || !ready.exists() {
            let _ = std::fs::remove_file(&socket);
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Taken: nobody else may take it.
    let _ = std::fs::remove_file(ready);
    let _ = std::fs::remove_file(&socket);
    drop(listener);
    link.set_nonblocking(false)?;
    link.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut reader = BufReader::new(&link);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let request: TakeRequest = serde_json::from_str(&line).context("reading the take request")?;
    if let Err(e) = move_to(&request.cwd, cwd_fifo) {
        eprintln!(
            "spare {pid}: could not move to {}: {e:#}; cells run in {}",
            request.cwd.display(),
            std::env::current_dir().unwrap_or_default().display()
        );
    }
    writeln!(&link, "{}", serde_json::to_string(kernel)?)?;
    link.set_read_timeout(None)?;
    // The taking kernel holds the other end until it ends.
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut reader, &mut rest);
    Ok(())
}

/// Returns when process `watch` has ended (never for `None`).
async fn ended(watch: Option<u32>) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if watch.is_some_and(|w| !alive(w)) {
            return;
        }
    }
}

/// Moves this process and evcxr's child (where cells run) to `dir`.
fn move_to(dir: &Path, cwd_fifo: &Path) -> Result<()> {
    std::env::set_current_dir(dir)?;
    crate::cells::cwd_fifo::tell_child(dir, cwd_fifo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    #[test]
    fn environment_key_ignores_per_kernel_variables_only() {
        let base = environment_key(&env(&[("PATH", "/bin"), ("HOME", "/h")]));
        let reordered = environment_key(&env(&[("HOME", "/h"), ("PATH", "/bin")]));
        let per_kernel = environment_key(&env(&[
            ("PATH", "/bin"),
            ("JPY_SESSION_NAME", "a.ipynb"),
            ("HOME", "/h"),
            ("PWD", "/x"),
        ]));
        let other = environment_key(&env(&[
            ("PATH", "/bin"),
            ("HOME", "/h"),
            ("CUDA_VISIBLE_DEVICES", ""),
        ]));
        assert_eq!(base, reordered);
        assert_eq!(base, per_kernel);
        assert_ne!(base, other);
    }

    #[test]
    fn the_pool_fits_the_memory_a_user_may_use() {
        const GB: u64 = 1_000_000_000;
        let machine = 64 * (1 << 30);
        // Set explicitly: that number, whatever the memory.
        assert_eq!(pool_size(Some(3), Some(2 * GB), true, machine), 3);
        // A hub gives each user 2 GB: no room for a spare beside the notebook.
        assert_eq!(pool_size(None, Some(2 * GB), true, machine), 0);
        assert_eq!(pool_size(None, Some(4 * GB), true, machine), 0);
        // 4.2 GB fits one (1.6 notebook + 1.0 server + 1.6 spare); a hub never gets two.
        assert_eq!(pool_size(None, Some(4_200_000_000), true, machine), 1);
        assert_eq!(pool_size(None, Some(16 * GB), true, machine), 1);
        // On a hub without a limit, the machine's memory decides, at most one.
        assert_eq!(pool_size(None, None, true, machine), 1);
        assert_eq!(pool_size(None, None, true, 3 * GB), 0);
        // A laptop: two from 15 GiB, else one, as before; a container's limit counts.
        assert_eq!(pool_size(None, None, false, 16 * (1 << 30)), 2);
        assert_eq!(pool_size(None, None, false, 8 * (1 << 30)), 1);
        assert_eq!(pool_size(None, Some(3 * GB), false, machine), 0);
        assert_eq!(pool_size(None, Some(6 * GB), false, machine), 2);
    }

    #[test]
    fn the_memory_limit_is_read_from_the_memory_controller_only() {
        assert_eq!(cgroup_limit_file("0::/user.slice/u"), Some("/sys/fs/cgroup/user.slice/u/memory.max".into()));
        assert_eq!(cgroup_limit_file("4:memory:/process_api/x"), Some("/sys/fs/cgroup/memory/process_api/x/memory.limit_in_bytes".into()));
        assert_eq!(cgroup_limit_file("3:cpu,memory:/a"), Some("/sys/fs/cgroup/memory/a/memory.limit_in_bytes".into()));
        assert_eq!(cgroup_limit_file("8:pids:/"), None);
        assert_eq!(cgroup_limit_file("9:name=systemd:/"), None);
    }

    #[test]
    fn alive_knows_this_process_and_not_an_ended_one() {
        assert!(alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!alive(pid));
    }

}
