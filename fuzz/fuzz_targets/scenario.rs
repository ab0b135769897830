//! Fuzzes what-if scenarios (the TOML of `pcs simulate --scenario`, the JSON
//! of `POST …/simulate`): any text is refused with an error or applies to
//! every example partner, and both scores keep every metric within its cap;
//! applied with the areas' vocabulary (acr and licenses records too), every
//! area's scores keep theirs.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pcs_core::area::{AreaEngine, AreaRulebook, score_area};
use pcs_core::facts::DatasetFacts;
use pcs_core::rulebook::{Rulebook, RulebookSet};
use pcs_core::vocab::Vocabulary;
use pcs_insights::scenario::{Scenario, simulate};

#[path = "example.rs"]
mod example;

static RULEBOOK: LazyLock<Rulebook> =
    LazyLock::new(|| RulebookSet::builtin().versions()[0].clone());
static FACTS: LazyLock<DatasetFacts> = LazyLock::new(|| example::facts(&RULEBOOK));
static SET: LazyLock<RulebookSet> = LazyLock::new(RulebookSet::builtin);
static VOCAB: LazyLock<Vocabulary> = LazyLock::new(|| {
    let areas: Vec<&AreaRulebook> = SET.area_versions().iter().collect();
    Vocabulary::new(&[&*RULEBOOK], &areas).expect("the built-in rulebooks merge")
});
static AREA_FACTS: LazyLock<DatasetFacts> =
    LazyLock::new(|| example::area_facts(&RULEBOOK, &VOCAB));

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
    let d = period.evaluation_date;
    for (id, f) in &AREA_FACTS.partners {
        let Ok(changed) = scenario.apply_areas(&RULEBOOK, &VOCAB, id, f, period) else {
            continue;
        };
        for rb in SET
            .area_versions()
            .iter()
            .filter(|r| r.effective_from <= d && r.effective_until.is_none_or(|u| d <= u))
        {
            let e = AreaEngine::new(rb, &VOCAB, &RULEBOOK);
            let p = pcs_core::score::Period::with_calendar(&rb.calendar, period.month, d);
            example::check_area(&score_area(&e, id, f, p));
            example::check_area(&score_area(&e, id, &changed, p));
        }
    }
});
