//! Seeding first must not hide the GPU: libtorch caches its CUDA hooks the
//! first time anything (such as `manual_seed`) asks for them, so `seed` has to
//! load the CUDA backend before it seeds. Its own test binary, so no other
//! test has loaded the backend earlier in the process.

#[test]
fn seed_loads_the_cuda_backend_before_seeding() {
    replearn::seed(0);
    let maps = std::fs::read_to_string("/proc/self/maps").expect("Linux exposes /proc/self/maps");
    assert!(
        maps.contains("libtorch_cuda.so"),
        "replearn::seed must load libtorch_cuda.so before tch::manual_seed, or device() reports the CPU on a GPU host"
    );
    assert_eq!(replearn::device().is_cuda(), tch::Cuda::device_count() > 0);
}
