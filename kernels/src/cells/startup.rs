//! The one start-up script (`kernels/startup.evcxr`) that kernel and grader share.
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The start-up script with the checkout's absolute path filled in.
pub fn startup_script(root: &Path) -> Result<String> {
    let path = root.join("kernels/startup.evcxr");
    let template =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let root_str = root
        .to_str()
        .context("the checkout path must be valid UTF-8")?;
    let escaped = root_str.replace('\\', "\\\\").replace('"', "\\\"");
    Ok(template.replace("{{REPLEARN_ROOT}}", &escaped))
}

/// Writes what evcxr_jupyter runs when it starts, into the session's config
/// folder: `init.evcxr` restores the checkout's `Cargo.lock` (see
/// [`crate::lockfile`]), then `prelude.rs` is the start-up script followed by
/// `extra`.
pub fn write_kernel_startup(root: &Path, session: &crate::cells::session::Session, extra: &str) -> Result<()> {
    let files = [
        ("init.evcxr", crate::cells::lockfile::restore_cell(root, &session.tmpdir)?),
        ("prelude.rs", startup_script(root)? + "\n" + extra),
    ];
    for (name, text) in files {
        let path = session.config_dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The environment a kernel or grader needs before evcxr starts its child:
/// libtorch and Rust's `libstd` on the loader path, and torch-sys told to use
/// the venv's PyTorch.
///
/// evcxr links cells against `libstd-*.so` and finds it through a relative
/// RUNPATH that is only right when the build folder is shallow (under /tmp);
/// our build folders live deeper, in the cache, so the folder goes on
/// `LD_LIBRARY_PATH` instead.
pub fn set_process_env(root: &Path) -> Result<()> {
    let torch_lib = crate::paths::torch_lib_dir(root)?;
    let venv_bin = crate::paths::venv_dir(root).join("bin");
    let join = |first: &[PathBuf], var: &str| {
        let mut parts = first.to_vec();
        if let Some(old) = std::env::var_os(var) {
            parts.extend(std::env::split_paths(&old).filter(|p| !first.contains(p)));
        }
        std::env::join_paths(parts)
    };
    let loader = [torch_lib, rust_std_dir()?];
    std::env::set_var("LD_LIBRARY_PATH", join(&loader, "LD_LIBRARY_PATH")?);
    std::env::set_var("PATH", join(&[venv_bin], "PATH")?);
    std::env::set_var("LIBTORCH_USE_PYTORCH", "1");
    std::env::remove_var("LIBTORCH");
    Ok(())
}

/// The active toolchain's folder holding `libstd-*.so` (`<sysroot>/lib/rustlib/<host>/lib`).
pub fn rust_std_dir() -> Result<PathBuf> {
    let out = std::process::Command::new("rustc")
        .args(["--print", "target-libdir"])
        .output()
        .context("running `rustc --print target-libdir` (is Rust installed with rustup?)")?;
    anyhow::ensure!(out.status.success(), "`rustc --print target-libdir` failed");
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}
