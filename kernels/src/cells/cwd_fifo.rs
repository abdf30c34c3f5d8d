//! How a spare kernel's notebook process learns the notebook's folder.
//!
//! A spare starts before anyone knows which notebook it will serve. When one
//! takes it, the spare moves to the notebook's folder and writes that folder
//! to a FIFO that evcxr's child process (where cells run) follows.
use crate::protocol::env;
use anyhow::{Context, Result};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Writes `dir` to the child's FIFO and waits until the child has moved there.
pub fn tell_child(dir: &Path, cwd_fifo: &Path) -> Result<()> {
    let ack = cwd_fifo.with_extension("ack");
    let _ = std::fs::remove_file(&ack);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut fifo = loop {
        // Non-blocking: fails until the child has the FIFO open for reading.
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(cwd_fifo)
        {
            Ok(f) => break f,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e).context("the cells' process does not read its FIFO"),
        }
    };
    fifo.write_all(dir.as_os_str().as_encoded_bytes())?;
    drop(fifo);
    while !ack.exists() {
        anyhow::ensure!(Instant::now() < deadline, "the cells' process did not move");
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// In evcxr's child: waits on the FIFO named by [`env::CWD_FIFO`] and moves
/// to each folder written to it, then writes `<fifo>.ack`.
pub fn follow_cwd_fifo() {
    let Some(fifo) = std::env::var_os(env::CWD_FIFO).map(PathBuf::from) else {
        return;
    };
    std::thread::spawn(move || loop {
        let Ok(bytes) = std::fs::read(&fifo) else {
            return;
        };
        if bytes.is_empty() {
            continue;
        }
        let dir = PathBuf::from(OsString::from_vec(bytes));
        if std::env::set_current_dir(&dir).is_ok() {
            let _ = std::fs::write(fifo.with_extension("ack"), b"");
        }
    });
}

/// Makes the FIFO through which a spare tells its child the notebook's folder.
pub fn make_cwd_fifo(path: &Path) -> Result<()> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())?;
    // SAFETY: mkfifo reads a valid C string.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("creating the FIFO {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_follows_the_fifo_to_a_new_folder() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("cwd.fifo");
        make_cwd_fifo(&fifo).unwrap();
        let target = dir.path().join("notebooks");
        std::fs::create_dir(&target).unwrap();
        let script = format!(
            "d=$(cat {fifo}) && cd \"$d\" && pwd > {out} && : > {ack}",
            fifo = fifo.display(),
            ack = fifo.with_extension("ack").display(),
            out = dir.path().join("pwd").display()
        );
        let mut reader = std::process::Command::new("bash")
            .args(["-c", &script])
            .spawn()
            .unwrap();
        tell_child(&target, &fifo).unwrap();
        reader.wait().unwrap();
        let moved = std::fs::read_to_string(dir.path().join("pwd")).unwrap();
        assert_eq!(moved.trim(), target.to_str().unwrap());
    }
}
