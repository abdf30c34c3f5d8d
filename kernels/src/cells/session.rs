//! Per-kernel build folders copied from one pre-built template.
//!
//! evcxr compiles every cell in a crate folder (`EVCXR_TMPDIR`). A fresh folder
//! rebuilds tch (about 5 minutes); a folder left by an earlier kernel is fast
//! but can serve only one kernel at a time. So the set-up builds a template
//! once (`replearn-grade warm`), and every kernel or grading run starts from a
//! private copy of it, removed when the run ends.
use crate::paths::{cache_dir, short_hash};
use crate::cells::startup::startup_script;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The cache folders of one checkout.
#[derive(Debug, Clone)]
pub struct BuildDirs {
    /// The pre-built template (`.../template`), complete when it holds `READY_FILE`.
    pub template: PathBuf,
    /// Where live sessions are (`.../sessions/<pid>-<n>`).
    pub sessions: PathBuf,
    /// Where spare kernels wait (the Jupyter layer's pool uses it).
    pub pool: PathBuf,
    /// Where the kernels notebooks start for themselves wait to be taken.
    pub own: PathBuf,
}

/// Marks a finished template; holds the fingerprint of what it was built from.
pub const READY_FILE: &str = "replearn-ready";

impl BuildDirs {
    /// This user's folders, under [`cache_dir`]. The template is this user's
    /// own when finished, else the shared cache's (`REPLEARN_SHARED_CACHE`,
    /// read-only: a JupyterHub install) when that one is.
    pub fn for_root(root: &Path) -> Self {
        let shared = std::env::var_os(crate::protocol::env::SHARED_CACHE).filter(|d| !d.is_empty());
        Self::in_caches(root, &cache_dir(), shared.as_deref().map(Path::new))
    }

    /// This user's folders only, never the shared template (what `warm` builds).
    pub fn own_for_root(root: &Path) -> Self {
        Self::in_caches(root, &cache_dir(), None)
    }

    fn in_caches(root: &Path, own: &Path, shared: Option<&Path>) -> Self {
        let checkout = short_hash(root.as_os_str().as_encoded_bytes());
        let base = own.join("evcxr").join(&checkout);
        let shared_template = shared.map(|s| s.join("evcxr").join(&checkout).join("template"));
        let own_template = base.join("template");
        let template = match shared_template {
            Some(t) if !own_template.join(READY_FILE).is_file() && t.join(READY_FILE).is_file() => t,
            _ => own_template,
        };
        BuildDirs {
            template,
            sessions: base.join("sessions"),
            pool: base.join("pool"),
            own: base.join("own"),
        }
    }

    /// The fingerprint stored in the template, if it is complete.
    pub fn template_fingerprint(&self) -> Option<String> {
        std::fs::read_to_string(self.template.join(READY_FILE)).ok()
    }
}

/// What the template depends on: the start-up script and the library's sources.
pub fn fingerprint(root: &Path) -> Result<String> {
    let mut files = vec![
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
        root.join("build.rs"),
    ];
    collect_files(&root.join("src"), &mut files)?;
    files.sort();
    let mut data = startup_script(root)?.into_bytes();
    for f in files {
        if let Ok(bytes) = std::fs::read(&f) {
            data.extend_from_slice(f.as_os_str().as_encoded_bytes());
            data.extend_from_slice(&bytes);
        }
    }
    Ok(short_hash(&data))
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// A private build folder (`tmp/`) and evcxr config folder (`config/`) for one run.
#[derive(Debug)]
pub struct Session {
    pub dir: PathBuf,
    pub tmpdir: PathBuf,
    pub config_dir: PathBuf,
    /// Whether the build folder started from the pre-built template.
    pub from_template: bool,
}

impl Session {
    /// Whether `root` has no finished pre-built folder yet (a start then compiles tch).
    pub fn template_missing(root: &Path) -> bool {
        BuildDirs::for_root(root).template_fingerprint().is_none()
    }

    /// Copies the template into a new session folder and removes folders of
    /// sessions whose process has ended.
    pub fn create(root: &Path) -> Result<Session> {
        let dirs = BuildDirs::for_root(root);
        std::fs::create_dir_all(&dirs.sessions)
            .with_context(|| format!("creating {}", dirs.sessions.display()))?;
        remove_stale_sessions(&dirs.sessions);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = dirs
            .sessions
            .join(format!("{}-{nanos}", std::process::id()));
        let tmpdir = dir.join("tmp");
        let config_dir = dir.join("config");
        std::fs::create_dir_all(&config_dir)?;
        let from_template = dirs.template_fingerprint().is_some();
        if from_template {
            copy_tree(&dirs.template, &tmpdir)?;
        } else {
            std::fs::create_dir_all(&tmpdir)?;
        }
        Ok(Session {
            dir,
            tmpdir,
            config_dir,
            from_template,
        })
    }

    /// Points evcxr at this session (read when evcxr starts its child).
    pub fn activate(&self) {
        std::env::set_var("EVCXR_TMPDIR", &self.tmpdir);
        std::env::set_var("EVCXR_CONFIG_DIR", &self.config_dir);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Copies a folder tree (reflinks where the file system has them).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg("--reflink=auto")
        .arg(from)
        .arg(to)
        .status()
        .context("running cp")?;
    anyhow::ensure!(
        status.success(),
        "copying {} to {} failed",
        from.display(),
        to.display()
    );
    Ok(())
}

fn remove_stale_sessions(sessions: &Path) {
    let Ok(entries) = std::fs::read_dir(sessions) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_string_lossy()
            .split('-')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_shared_template_is_used_and_everything_else_stays_private() {
        let dir = std::env::temp_dir().join(format!("replearn-builddirs-{}", std::process::id()));
        let (own, shared) = (dir.join("own"), dir.join("shared"));
        let root = Path::new("/opt/replearn");
        let alone = BuildDirs::in_caches(root, &own, Some(&shared));
        assert!(alone.template.starts_with(&own), "an unfinished shared template is not used");
        let shared_template = shared
            .join("evcxr")
            .join(short_hash(root.as_os_str().as_encoded_bytes()))
            .join("template");
        std::fs::create_dir_all(&shared_template).unwrap();
        std::fs::write(shared_template.join(READY_FILE), "f").unwrap();
        let dirs = BuildDirs::in_caches(root, &own, Some(&shared));
        assert_eq!(dirs.template, shared_template);
        for private in [&dirs.sessions, &dirs.pool, &dirs.own] {
            assert!(private.starts_with(&own), "{} is not in the user's cache", private.display());
        }
        std::fs::create_dir_all(alone.template.clone()).unwrap();
        std::fs::write(alone.template.join(READY_FILE), "mine").unwrap();
        let built = BuildDirs::in_caches(root, &own, Some(&shared));
        assert_eq!(built.template, alone.template, "a template the user built comes first");
        let other = BuildDirs::in_caches(Path::new("/elsewhere"), &own, Some(&shared));
        assert!(other.template.starts_with(&own), "another checkout's template is not taken");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
