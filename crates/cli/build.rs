//! Links `ccc` as a position-dependent executable on Linux: a position-independent one
//! spends its first milliseconds in the dynamic loader rewriting some hundred pages of
//! pointers (vtables, string tables) to its load address, and `ccc validate` on a million
//! rows is a 40 ms process. The code itself is compiled as usual; only the final link of
//! the binary changes (measured in docs/decisions.md).

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
