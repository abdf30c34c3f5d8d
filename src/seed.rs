//! Seeding: the same seed gives the same tensors, in tests and in grading.

/// Seeds libtorch's global generator (CPU and CUDA).
pub fn seed(seed: u64) {
    // Seeding asks libtorch for its CUDA hooks, and libtorch keeps the first
    // answer: load the CUDA backend first, or a GPU host looks CPU-only.
    crate::device::load_cuda_backend();
    tch::manual_seed(seed as i64);
}

/// Seeds libtorch's global generator for a test and holds a lock until the
/// guard drops: tests run in parallel threads of one process and share that
/// generator, so without the lock another test's draws land between our seed
/// and our initialisation, and "seeded" results depend on scheduling.
#[cfg(test)]
pub(crate) fn seeded_test(value: u64) -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    seed(value);
    guard
}
