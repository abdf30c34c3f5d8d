//! Records where torch-sys found libtorch, so that `replearn::device` can load
//! `libtorch_cuda.so` by absolute path and our own test binaries run without
//! `LD_LIBRARY_PATH` (an rpath to the same folder).
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-env=REPLEARN_LIBTORCH_LIB={lib}");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    } else {
        println!("cargo:rustc-env=REPLEARN_LIBTORCH_LIB=");
    }
}
