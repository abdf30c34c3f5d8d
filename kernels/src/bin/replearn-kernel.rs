//! `replearn-kernel`: evcxr's Jupyter kernel with replearn preloaded (see
//! `replearn_kernel::cli::kernel`).
fn main() -> anyhow::Result<()> {
    replearn_kernel::cli::kernel::main()
}
