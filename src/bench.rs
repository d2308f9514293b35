//! The nccl-tests harness: runs one collective alone on a cluster and
//! reports its time, algorithm bandwidth and bus bandwidth, then prints them
//! as a table, CSV or JSON (`fabsim collective`).
//!
//! It sits above the engine: the collective algorithms (`crate::collective`)
//! know nothing of how they are measured or printed.

pub mod measure;
pub mod table;
