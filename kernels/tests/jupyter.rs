//! The installed "Rust (replearn)" kernel, driven by real Jupyter clients
//! (jupyter_client and nbclient from the venv). `make test` installs it first.
mod common;

#[test]
fn installed_kernel_runs_the_welcome_notebook_and_loads_cuda_backend() {
    let spec = common::root().join(".venv/share/jupyter/kernels/replearn/kernel.json");
    assert!(spec.exists(), "the replearn kernelspec is missing: run `make test` (it installs it)");
    let (ok, text) = common::run_venv_script("jupyter_kernel.py", &[]);
    assert!(ok, "jupyter kernel checks failed:\n{text}");
    assert!(text.contains("jupyter kernel checks passed"), "{text}");
}
