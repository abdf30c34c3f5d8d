//! The two binaries' command lines: `replearn-kernel` ([`kernel`]) and
//! `replearn-grade` ([`grade`]). Each binary's `main` calls one of these.
pub mod grade;
pub mod kernel;
