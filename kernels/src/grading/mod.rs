//! Grading notebooks: the authoring format ([`roles`]), the student version
//! ([`assign`]), a submission put into the source ([`splice`]), a graded run
//! ([`grade`], [`redact`]), its reports ([`report`]), and the commands
//! ([`autograde`], [`check`], [`validate`]), and grading spread over machines ([`shard`]).
pub mod assign;
pub mod autograde;
pub mod check;
pub mod grade;
pub mod redact;
pub mod report;
pub mod roles;
pub mod shard;
pub mod splice;
pub mod validate;
