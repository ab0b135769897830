//! Fuzzes the rulebook loader: any text is either refused with an error
//! naming its origin, or is a rulebook that reads and scores the example
//! dataset without panicking, every metric within its cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcs_core::rulebook::Rulebook;
use pcs_core::score::score_partner;

#[path = "example.rs"]
// The area helpers serve the scenario target.
#[allow(dead_code)]
mod example;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Rulebook::from_toml(text, "fuzz.toml") {
        Err(e) => assert!(
            e.to_string().contains("fuzz.toml"),
            "error without its origin: {e}"
        ),
        Ok(rb) => {
            let facts = example::facts(&rb);
            let period = example::period(&rb);
            for (id, f) in &facts.partners {
                example::check(&score_partner(&rb, id, f, period));
            }
        }
    }
});
