//! Builds the template folder that every kernel and grading run copies.
use crate::cells::runner::{Runner, RunnerConfig};
use crate::cells::session::{copy_tree, fingerprint, BuildDirs, READY_FILE};
use anyhow::{Context, Result};
use std::path::Path;

/// A cell that exercises the paths a first notebook cell takes: a tensor,
/// arithmetic, and the inline display of an image.
const WARM_CELL: &str =
    "let warm = Tensor::ones([3, 8, 8], (Kind::Float, Device::Cpu)) * 0.5;\nwarm";

/// Brings this user's template (in `REPLEARN_CACHE`, never the shared one) up
/// to date with the library and start-up script. Returns `false` when it
/// already was. Building from nothing takes minutes (tch is compiled); after
/// a library change only replearn is rebuilt.
pub fn warm(root: &Path, force: bool) -> Result<bool> {
    let dirs = BuildDirs::own_for_root(root);
    let want = fingerprint(root)?;
    if !force && dirs.template_fingerprint().as_deref() == Some(want.as_str()) {
        return Ok(false);
    }
    let partial = dirs
        .template
        .with_file_name(format!("template.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(partial.parent().expect("template has a parent"))?;
    // Start from this checkout's old template, else from another checkout's:
    // either way tch is already compiled and only replearn is rebuilt.
    match seed_template(&dirs) {
        Some(seed) => {
            copy_tree(&seed, &partial)?;
            let _ = std::fs::remove_file(partial.join(READY_FILE));
        }
        None => std::fs::create_dir_all(&partial)?,
    }
    let config_dir = partial.with_extension("config");
    std::fs::create_dir_all(&config_dir)?;
    std::env::set_var("EVCXR_TMPDIR", &partial);
    std::env::set_var("EVCXR_CONFIG_DIR", &config_dir);
    {
        let mut runner = Runner::start_in(root, RunnerConfig::default(), None)?;
        let outcome = runner.run_cell(WARM_CELL);
        if let Some(f) = outcome.failure {
            anyhow::bail!(
                "warming the kernel folder: the first tensor cell {f}\n{}",
                outcome.stderr
            );
        }
    }
    let _ = std::fs::remove_dir_all(&config_dir);
    crate::cells::lockfile::check_build_folder(root, &partial)?;
    std::fs::write(partial.join(READY_FILE), &want)?;
    if dirs.template.exists() {
        std::fs::remove_dir_all(&dirs.template)
            .with_context(|| format!("removing {}", dirs.template.display()))?;
    }
    std::fs::rename(&partial, &dirs.template)
        .with_context(|| format!("moving {} into place", partial.display()))?;
    Ok(true)
}

/// The best existing template to start from: this checkout's, else any finished one.
fn seed_template(dirs: &BuildDirs) -> Option<std::path::PathBuf> {
    if dirs.template.exists() {
        return Some(dirs.template.clone());
    }
    let all = dirs.template.parent()?.parent()?;
    std::fs::read_dir(all)
        .ok()?
        .flatten()
        .map(|e| e.path().join("template"))
        .find(|t| t.join(READY_FILE).exists())
}
