//! No code. pcs-cli depends on this crate so that every build of the
//! workspace (`cargo build`, `cargo test`, the crash-test feature build)
//! asks for the same features of third-party crates and compiles each of
//! them once; see this crate's `Cargo.toml`.
