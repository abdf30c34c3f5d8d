//! JupyterLab in a real browser (Debian's Chromium, driven by Playwright from
//! the venv; `make test` installs both): the welcome notebook runs to its end
//! with its figures rendered, and Run All stops at a panicking cell that shows
//! its message and line. Screenshots are kept in
//! `$REPLEARN_CACHE/artifacts/browser/`.
mod common;

use std::path::Path;

#[test]
fn jupyterlab_runs_the_welcome_notebook_and_stops_at_a_panic() {
    let chromium = std::env::var("REPLEARN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: run `make test` (it installs Debian's chromium) or `sudo apt-get install chromium`"
    );
    let cache = common::cache_dir();
    let artifacts = cache.join("artifacts/browser");
    let (ok, text) = common::run_venv_script("browser.py", &[artifacts.as_os_str()]);
    assert!(ok, "browser checks failed (screenshots in {}):\n{text}", artifacts.display());
    assert!(text.contains("browser checks passed"), "{text}");
    for shot in ["welcome.png", "panic.png"] {
        assert!(artifacts.join(shot).is_file(), "no screenshot {shot}");
    }
}
