//! Seeding: the same seed gives the same tensors, in tests and in grading.

/// Seeds libtorch's global generator (CPU and CUDA).
pub fn seed(seed: u64) {
    tch::manual_seed(seed as i64);
}
