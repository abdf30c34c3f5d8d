//! A real JupyterHub (PyPI's jupyterhub, the dummy authenticator, the simple
//! local spawner, configurable-http-proxy from the npm registry; `make test`
//! installs them): three students log in, start a replearn kernel each
//! through the hub's API and run a tensor cell over its websocket; their
//! kernels, folders and spares are separate, the shared pre-built folder is
//! only read, and stopping a server leaves nothing running
//! (`kernels/tests/hub.py` says what is checked).
mod common;

#[test]
fn three_students_on_a_jupyterhub_get_separate_kernels_that_stop_with_their_servers() {
    let cache = common::cache_dir();
    let proxy = cache.join("hub-proxy/node_modules/.bin/configurable-http-proxy");
    let work = tempfile::tempdir().unwrap();
    let (ok, text) = common::run_venv_script(
        "hub.py",
        &[proxy.as_os_str(), cache.as_os_str(), work.path().as_os_str()],
    );
    assert!(ok, "JupyterHub checks failed:\n{text}");
    assert!(text.contains("hub checks passed"), "{text}");
}
