//! Installs the "Rust (replearn)" kernelspec: into the venv's Jupyter data
//! folder for one user, or into a JupyterHub's user environment for many.
use anyhow::{Context, Result};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// The kernel's name in Jupyter (`jupyter kernelspec list`).
pub const KERNEL_NAME: &str = "replearn";
pub const DISPLAY_NAME: &str = "Rust (replearn)";

/// Where and how to install the kernelspec.
#[derive(Debug, Clone)]
pub struct KernelspecConfig {
    /// The venv whose `bin/replearn-kernel` the kernelspec starts.
    pub venv: PathBuf,
    /// The Jupyter prefix written to (`<prefix>/share/jupyter/kernels/replearn`);
    /// `None` is the venv itself.
    pub prefix: Option<PathBuf>,
    /// A hub install: the cache every user reads the pre-built kernel folder
    /// from. The kernelspec then also names the Rust toolchain, since a
    /// student's `HOME` and `PATH` know nothing of it.
    pub shared_cache: Option<PathBuf>,
}

/// Writes `kernel.json` and returns the kernelspec folder.
pub fn install(config: &KernelspecConfig) -> Result<PathBuf> {
    let prefix = config.prefix.as_ref().unwrap_or(&config.venv);
    let dir = prefix.join("share/jupyter/kernels").join(KERNEL_NAME);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let kernel = config.venv.join("bin/replearn-kernel");
    let mut spec = json!({
        "argv": [kernel, "--control_file", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "rust",
        "interrupt_mode": "message",
        "metadata": {"replearn": {"startup": "kernels/startup.evcxr"}},
    });
    if let Some(shared) = &config.shared_cache {
        let env = hub_environment(shared, &config.venv, std::env::var_os("PATH"), home())?;
        spec["env"] = Value::Object(env);
    }
    let path = dir.join("kernel.json");
    crate::notebook::write_atomic(&path, serde_json::to_string_pretty(&spec)?.as_bytes())?;
    Ok(dir)
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The variables a hub's kernels get: the shared cache, and the toolchain as
/// the installer sees it (`CARGO_HOME`, `RUSTUP_HOME`, the folder of `cargo`).
fn hub_environment(
    shared: &Path,
    venv: &Path,
    path: Option<std::ffi::OsString>,
    home: Option<PathBuf>,
) -> Result<Map<String, Value>> {
    let cargo_bin = path
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("cargo").is_file())
        .context("no `cargo` on PATH: install Rust 1.95 with rustup, as the README says, and run the install again with it on PATH")?;
    let toolchain_home = |var: &str, default: &str| -> Result<String> {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))
            .map(|p| p.to_string_lossy().into_owned())
            .with_context(|| format!("neither {var} nor HOME is set: set {var}"))
    };
    let search = [
        cargo_bin,
        venv.join("bin"),
        "/usr/local/bin".into(),
        "/usr/bin".into(),
        "/bin".into(),
    ];
    let search = std::env::join_paths(search)?.to_string_lossy().into_owned();
    let mut env = Map::new();
    env.insert("PATH".into(), search.into());
    env.insert("CARGO_HOME".into(), toolchain_home("CARGO_HOME", ".cargo")?.into());
    env.insert("RUSTUP_HOME".into(), toolchain_home("RUSTUP_HOME", ".rustup")?.into());
    env.insert(
        crate::protocol::env::SHARED_CACHE.into(),
        shared.to_string_lossy().into_owned().into(),
    );
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hub_kernelspec_names_the_toolchain_and_the_shared_cache() {
        let dir = std::env::temp_dir().join(format!("replearn-kernelspec-{}", std::process::id()));
        let cargo_bin = dir.join("toolchain/bin");
        std::fs::create_dir_all(&cargo_bin).unwrap();
        std::fs::write(cargo_bin.join("cargo"), "").unwrap();
        let path = std::env::join_paths(["/nowhere".into(), cargo_bin.clone()]).unwrap();
        let env = hub_environment(
            Path::new("/opt/replearn-cache"),
            Path::new("/opt/replearn/.venv"),
            Some(path),
            Some("/home/admin".into()),
        )
        .unwrap();
        let search = env["PATH"].as_str().unwrap();
        assert!(search.starts_with(&format!("{}:/opt/replearn/.venv/bin:", cargo_bin.display())), "{search}");
        assert_eq!(env["REPLEARN_SHARED_CACHE"], "/opt/replearn-cache");
        if std::env::var_os("CARGO_HOME").is_none() {
            assert_eq!(env["CARGO_HOME"], "/home/admin/.cargo");
        }
        let missing = hub_environment(Path::new("/c"), Path::new("/v"), Some("/nowhere".into()), None);
        assert!(missing.unwrap_err().to_string().contains("no `cargo` on PATH"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_user_install_goes_into_the_venv_and_a_hub_install_into_its_prefix() {
        let dir = std::env::temp_dir().join(format!("replearn-kernelspec-install-{}", std::process::id()));
        let venv = dir.join("venv");
        let user = install(&KernelspecConfig { venv: venv.clone(), prefix: None, shared_cache: None }).unwrap();
        assert_eq!(user, venv.join("share/jupyter/kernels/replearn"));
        let spec: Value = serde_json::from_slice(&std::fs::read(user.join("kernel.json")).unwrap()).unwrap();
        assert!(spec.get("env").is_none(), "a user's kernel keeps the user's environment");
        assert_eq!(spec["argv"][0], venv.join("bin/replearn-kernel").to_string_lossy().as_ref());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
