//! The Jupyter kernel: kernelspec, spare kernels, and the proxy to a spare.
pub mod kernel;
pub mod kernelspec;
pub mod pool;
pub mod proxy;
pub mod wire;
