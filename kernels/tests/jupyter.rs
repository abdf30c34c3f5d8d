//! The installed "Rust (replearn)" kernel, driven by real Jupyter clients
//! (jupyter_client and nbclient from the venv). `make test` installs it first.
use std::path::Path;
use std::process::Command;

#[test]
fn installed_kernel_runs_the_welcome_notebook_and_loads_cuda_backend() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let python = root.join(".venv/bin/python");
    let spec = root.join(".venv/share/jupyter/kernels/replearn/kernel.json");
    assert!(
        python.exists() && spec.exists(),
        "the venv or the replearn kernelspec is missing: run `make test` (it installs both)"
    );
    let out = Command::new(&python)
        .arg(root.join("kernels/tests/jupyter_kernel.py"))
        .env("PYTHONUNBUFFERED", "1")
        .output()
        .expect("run the venv's python");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "jupyter kernel checks failed:\n{text}"
    );
    assert!(text.contains("jupyter kernel checks passed"), "{text}");
}
