//! The default features need no C toolchain: the dependency tree a user of `telnyx` gets
//! (normal and build dependencies, default features) holds no crate that compiles C — no
//! `cc`, no `ring`, no `aws-lc-sys`, no OpenSSL — on the targets Graviola serves, and still
//! has a TLS stack. Read with `cargo tree` from the lock file (it fetches a package it has
//! not got yet, as a fresh machine may lack some of another target's).

use std::process::Command;

fn default_tree(target: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let out = Command::new(cargo)
        .args(["tree", "--locked", "--manifest-path", manifest, "-p", "telnyx"])
        .args(["-e", "normal,build", "--target", target, "--prefix", "none", "--format", "{p}"])
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| l.split(' ').next().unwrap_or("").to_owned()).collect()
}

const COMPILES_C: &[&str] = &["cc", "ring", "aws-lc-sys", "aws-lc-rs", "openssl-sys", "cmake", "bindgen"];

#[test]
fn default_features_compile_no_c() {
    // Linux targets: the ones this check is run for.
    for target in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
        let crates = default_tree(target);
        for bad in COMPILES_C {
            assert!(!crates.iter().any(|c| c == bad), "{bad} is in telnyx's default dependency tree for {target}");
        }
        for needed in ["rustls", "rustls-graviola", "webpki-roots", "reqwest"] {
            assert!(crates.iter().any(|c| c == needed), "{needed} is missing from the default tree for {target}");
        }
    }
}

/// Elsewhere Graviola is left out (it does not compile there) and nothing takes its place
/// unasked: still no C.
#[test]
fn other_targets_get_no_graviola_and_no_c() {
    let crates = default_tree("riscv64gc-unknown-linux-gnu");
    for bad in COMPILES_C.iter().chain(&["graviola", "rustls-graviola"]) {
        assert!(!crates.iter().any(|c| c == bad), "{bad} is in the default tree for riscv64");
    }
}

/// Features per product: the crate builds, without a warning, with no product or with any
/// one product alone (and no TLS), so a user compiles only what they use.
#[test]
fn each_product_builds_alone_without_warnings() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    for features in ["", "messaging", "voice", "video", "accounts"] {
        let out = Command::new(&cargo)
            .args(["check", "--locked", "--lib", "--manifest-path", manifest, "-p", "telnyx", "--no-default-features"])
            .args(["--features", features, "--message-format", "short"])
            .output()
            .expect("cargo check runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "features [{features}] do not build: {stderr}");
        let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
        assert!(warnings.is_empty(), "features [{features}] build with warnings: {warnings:?}");
    }
}
