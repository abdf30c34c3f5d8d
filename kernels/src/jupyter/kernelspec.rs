//! Installs the "Rust (replearn)" kernelspec into a venv's Jupyter data folder.
use anyhow::{Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The kernel's name in Jupyter (`jupyter kernelspec list`).
pub const KERNEL_NAME: &str = "replearn";
pub const DISPLAY_NAME: &str = "Rust (replearn)";

/// Writes `<venv>/share/jupyter/kernels/replearn/kernel.json`, starting
/// `<venv>/bin/replearn-kernel`. Returns the kernelspec folder.
pub fn install(venv: &Path) -> Result<PathBuf> {
    let dir = venv.join("share/jupyter/kernels").join(KERNEL_NAME);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let kernel = venv.join("bin/replearn-kernel");
    let spec = json!({
        "argv": [kernel, "--control_file", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "rust",
        "interrupt_mode": "message",
        "metadata": {"replearn": {"startup": "kernels/startup.evcxr"}},
    });
    let path = dir.join("kernel.json");
    crate::notebook::write_atomic(&path, serde_json::to_string_pretty(&spec)?.as_bytes())?;
    Ok(dir)
}
