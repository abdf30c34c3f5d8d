//! `replearn-grade`: runs and grades replearn notebooks headlessly (see
//! `replearn_kernel::cli::grade`). Its allocator is mimalloc, from
//! evcxr_jupyter's default feature (the library links evcxr_jupyter for the
//! kernel): rust-analyzer inside evcxr spends about a tenth of a start in
//! glibc's allocator.
fn main() {
    replearn_kernel::cli::grade::main()
}
