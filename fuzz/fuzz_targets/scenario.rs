//! Fuzzes what-if scenarios (the TOML of `pcs simulate --scenario`, the JSON
//! of `POST …/simulate`): any text is refused with an error or applies to
//! every example partner, and both scores keep every metric within its cap.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pcs_core::facts::DatasetFacts;
use pcs_core::rulebook::{Rulebook, RulebookSet};
use pcs_insights::scenario::{Scenario, simulate};

#[path = "example.rs"]
mod example;

static RULEBOOK: LazyLock<Rulebook> =
    LazyLock::new(|| RulebookSet::builtin().versions()[0].clone());
static FACTS: LazyLock<DatasetFacts> = LazyLock::new(|| example::facts(&RULEBOOK));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = if text.trim_start().starts_with('{') {
        Scenario::from_json(text)
    } else {
        Scenario::from_toml(text)
    };
    let Ok(scenario) = parsed else { return };
    let period = example::period(&RULEBOOK);
    for (id, f) in &FACTS.partners {
        if let Ok(c) = simulate(&RULEBOOK, id, f, period, &scenario) {
            example::check(&c.current);
            example::check(&c.simulated);
        }
    }
});
