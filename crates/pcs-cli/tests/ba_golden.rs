//! Business Applications output is unchanged by scoring it through the area
//! engine's shapes: `pcs score --area business_applications` (JSON lines
//! with every explained item, and the table) on data that `pcs generate`
//! writes (default and dense profiles, three seeds, two months) gives, byte
//! for byte, what the format-1 engine gave before the switch (SHA-256 of
//! its output, recorded with that binary: commit eab97e7).
//!
//! Re-recording is only right when the output is meant to change (a new
//! rule or field, or a change to `pcs generate`); say why in the commit.

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

fn pcs(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_pcs"))
        .args(args)
        .output()
        .expect("pcs runs");
    assert!(
        out.status.success(),
        "pcs {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// (profile, seed, month, format, SHA-256 of the output before the switch).
const GOLDEN: &[(&str, u64, &str, &str, &str)] = &[
    (
        "default",
        1,
        "2024-07",
        "jsonl",
        "cda750d972af9203dda5a86faaf176da1f36f1ef3ba50d0ababcb44325d93b1d",
    ),
    (
        "default",
        1,
        "2024-07",
        "table",
        "771aee5b7743724f146a07a0ddc7eae0569d9d5201e31252e6f1e50501e9d1f1",
    ),
    (
        "default",
        1,
        "2023-12",
        "jsonl",
        "1c09426ad64c8d2d11dbb0e8632b2c5868a158ec1f67885c0e321f238c407ea2",
    ),
    (
        "default",
        1,
        "2023-12",
        "table",
        "9616aab80382b73dd3473d2dec04f872be74f00407b0ed60f5036ee1fbe314b4",
    ),
    (
        "default",
        7,
        "2024-07",
        "jsonl",
        "0ab33c20533da4511661000db7b04e7ec0e82960b157f7524bea3e4f9b5f72fc",
    ),
    (
        "default",
        7,
        "2024-07",
        "table",
        "e2c2a69b2d9b9b2e8acbd9a9177c0e813544f69dafe62de13a706a69766231ec",
    ),
    (
        "default",
        7,
        "2023-12",
        "jsonl",
        "c318c569d1390e590a37f4c24b39aeb9a8f1b2758321c3780fe702818eb47330",
    ),
    (
        "default",
        7,
        "2023-12",
        "table",
        "bb2a47f0e78fdd5fd8dcb505c2078a67af6484b00260d4bfe526b25098619c1d",
    ),
    (
        "dense",
        3,
        "2024-07",
        "jsonl",
        "866a20bf7265a20f1d19d7ef1326ceb18df45900f65cfd95c3d90be0205a62ba",
    ),
    (
        "dense",
        3,
        "2024-07",
        "table",
        "0ae3a4713f45009c7bf810df1e29e431386d322da22d3202ffac2317aeffa534",
    ),
    (
        "dense",
        3,
        "2023-12",
        "jsonl",
        "b970a922271e4f41d4929112399fa63634f773279dd842c5be1871d8e18a3563",
    ),
    (
        "dense",
        3,
        "2023-12",
        "table",
        "ecdb800a62c6f3e4d6675f7f4a6b6e7700abd3eb952c5a1affcd0892c24de229",
    ),
];

fn generate(dir: &Path, profile: &str, seed: u64) {
    let seed = seed.to_string();
    let dir = dir.to_str().unwrap();
    pcs(&[
        "generate",
        "-q",
        "--force",
        "--profile",
        profile,
        "--seed",
        &seed,
        "--partners",
        "60",
        dir,
    ]);
}

#[test]
fn business_applications_output_is_what_it_was_before_the_shapes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    let mut enterprise = 0;
    for &(profile, seed, month, format, want) in GOLDEN {
        let dir = tmp.path().join(format!("{profile}-{seed}"));
        if !dir.exists() {
            generate(&dir, profile, seed);
        }
        let mut args = vec![
            "score",
            dir.to_str().unwrap(),
            "--month",
            month,
            "--area",
            "business_applications",
            "--format",
            format,
            "-q",
        ];
        if format == "jsonl" {
            args.push("--explain");
        }
        let out = pcs(&args);
        if format == "jsonl" {
            let text = String::from_utf8_lossy(&out);
            assert_eq!(text.lines().count(), 60, "{profile} {seed} {month}");
            enterprise += text.matches("\"classification\":\"enterprise\"").count();
        }
        let got = sha256(&out);
        if got != want {
            wrong.push(format!("{profile} seed {seed} {month} {format}: {got}"));
        }
    }
    // The data reaches both classes (else Enterprise is not compared).
    assert!(enterprise > 0, "no Enterprise partner in the data");
    assert!(wrong.is_empty(), "output changed:\n{}", wrong.join("\n"));
}
