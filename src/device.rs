//! Choosing where tensors live: CUDA when a GPU is present, the CPU otherwise.
use std::fmt;
use std::path::PathBuf;
use tch::Device;

/// The libtorch `lib` folder this crate was built against (empty if unknown).
pub const LIBTORCH_LIB: &str = env!("REPLEARN_LIBTORCH_LIB");

/// Loads libtorch's CUDA backend into the process, once per process.
///
/// A binary that links only `libtorch_cpu` (as evcxr's cells do) never loads
/// `libtorch_cuda.so`, and then CUDA looks absent even on a GPU host. Opening
/// it with `RTLD_GLOBAL` registers the CUDA backend with libtorch. The library
/// loads on hosts without a GPU too (the driver is only opened on first use).
/// Returns whether `libtorch_cuda.so` is now loaded.
pub fn load_cuda_backend() -> bool {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    let candidates = [
        PathBuf::from(LIBTORCH_LIB).join("libtorch_cuda.so"),
        PathBuf::from("libtorch_cuda.so"),
    ];
    for path in candidates {
        if path.as_os_str().is_empty() {
            continue;
        }
        // SAFETY: loading libtorch's own CUDA backend runs its static
        // initialisers, which only register CUDA hooks with libtorch.
        if let Ok(lib) = unsafe { Library::open(Some(&path), RTLD_NOW | RTLD_GLOBAL) } {
            // Keep it loaded for the life of the process.
            std::mem::forget(lib);
            return true;
        }
    }
    false
}

/// The device notebooks and training loops use: `Cuda(0)` when CUDA is usable, else `Cpu`.
pub fn device() -> Device {
    load_cuda_backend();
    if tch::Cuda::is_available() {
        Device::Cuda(0)
    } else {
        Device::Cpu
    }
}

/// What libtorch sees of this machine, for the first cell of a notebook.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceReport {
    /// The device [`device`] picks.
    pub device: Device,
    /// Number of CUDA devices libtorch sees.
    pub cuda_devices: i64,
    /// Whether `libtorch_cuda.so` is loaded in this process.
    pub cuda_backend_loaded: bool,
    /// Threads libtorch uses on the CPU.
    pub cpu_threads: i32,
    /// The libtorch folder this build links against.
    pub libtorch_lib: String,
}

impl DeviceReport {
    /// Looks at the machine (loads the CUDA backend first, like [`device`]).
    pub fn probe() -> Self {
        let cuda_backend_loaded = load_cuda_backend();
        DeviceReport {
            device: device(),
            cuda_devices: tch::Cuda::device_count(),
            cuda_backend_loaded,
            cpu_threads: tch::get_num_threads(),
            libtorch_lib: LIBTORCH_LIB.to_string(),
        }
    }
}

impl fmt::Display for DeviceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "device:            {:?}", self.device)?;
        writeln!(f, "CUDA devices:      {}", self.cuda_devices)?;
        writeln!(
            f,
            "CUDA backend:      {}",
            if self.cuda_backend_loaded {
                "loaded"
            } else {
                "not found"
            }
        )?;
        writeln!(f, "CPU threads:       {}", self.cpu_threads)?;
        write!(f, "libtorch:          {}", self.libtorch_lib)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_backend_loads_and_device_matches_libtorch() {
        assert!(
            !LIBTORCH_LIB.is_empty(),
            "build.rs did not record the libtorch folder"
        );
        assert!(
            load_cuda_backend(),
            "libtorch_cuda.so should load from {LIBTORCH_LIB}"
        );
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        assert!(maps.contains("libtorch_cuda.so"));
        let expected = if tch::Cuda::is_available() {
            Device::Cuda(0)
        } else {
            Device::Cpu
        };
        assert_eq!(device(), expected);
        let report = DeviceReport::probe();
        assert!(report.to_string().contains("device:"));
        assert_eq!(report.cuda_devices > 0, tch::Cuda::is_available());
    }
}
