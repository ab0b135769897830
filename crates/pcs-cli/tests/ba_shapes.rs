//! Business Applications through the area engine's shapes
//! (`business-applications/2023-06.shapes.toml`) against `score_partner`,
//! on data that `pcs generate` writes: default and dense profiles, 2,000
//! partners, several seeds, with and without source lines, every partner's
//! classification, values, points, total, qualification and explained items
//! compared (`pcs_core::score::shape_differences`).

use std::path::Path;
use std::process::Command;

use pcs_core::area::{AreaEngine, AreaRulebook, score_area_with};
use pcs_core::calendar::Month;
use pcs_core::facts::MonthFilter;
use pcs_core::rulebook::{BA_SHAPES_BUILTIN, RulebookSet};
use pcs_core::score::{Detail, Period, score_partner_with, shape_differences};
use pcs_core::vocab::Vocabulary;
use pcs_data::{Dataset, LoadOptions};

fn generate(dir: &Path, profile: &str, seed: u64, partners: u32) {
    let out = Command::new(env!("CARGO_BIN_EXE_pcs"))
        .args(["generate", "--force", "--profile", profile, "--seed"])
        .arg(seed.to_string())
        .args(["--partners", &partners.to_string()])
        .arg(dir)
        .output()
        .expect("pcs runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Scores every partner of `dir` for month `m` both ways; returns the
/// partners compared, how many are Enterprise, and every disagreement.
fn compare(dir: &Path, m: &str, trace: bool) -> (usize, usize, Vec<String>) {
    let set = RulebookSet::builtin();
    let ba = &set.versions()[0];
    let (path, text) = BA_SHAPES_BUILTIN;
    let area = AreaRulebook::from_toml(text, path).unwrap();
    let vocab = Vocabulary::new(&[ba], &[&area]).unwrap();
    let engine = AreaEngine::new(&area, &vocab, ba);
    let month: Month = m.parse().unwrap();
    let old_period = Period::for_month(ba, month);
    let new_period = Period::with_calendar(&area.calendar, month, month.last_day());
    let facts = Dataset::open(dir)
        .unwrap()
        .load(
            ba,
            &LoadOptions {
                months: MonthFilter::Only(old_period.data_months().to_vec()),
                trace,
                ..LoadOptions::default()
            },
        )
        .unwrap();
    let detail = if trace { Detail::Full } else { Detail::Totals };
    let mut diffs = Vec::new();
    let mut enterprise = 0;
    for (id, f) in &facts.partners {
        let old = score_partner_with(ba, id, f, old_period, detail);
        let new = score_area_with(&engine, id, f, new_period, detail);
        enterprise += usize::from(new.classification.as_deref() == Some("enterprise"));
        diffs.extend(shape_differences(&old, &new));
    }
    (facts.partners.len(), enterprise, diffs)
}

#[test]
fn both_engines_agree_on_generated_datasets() {
    let tmp = tempfile::tempdir().unwrap();
    let mut enterprise = 0;
    for (profile, seed) in [("default", 1), ("default", 7), ("dense", 3)] {
        let dir = tmp.path().join(format!("{profile}-{seed}"));
        generate(&dir, profile, seed, 2000);
        // With source lines (every explained item compared) as the data's
        // scoring month, and without at a month whose latest month is
        // mid-history.
        for (m, trace) in [("2024-07", true), ("2023-12", false)] {
            let (n, e, diffs) = compare(&dir, m, trace);
            assert!(n >= 1900, "{profile} seed {seed}: {n} partners");
            enterprise += e;
            assert!(
                diffs.is_empty(),
                "{profile} seed {seed} month {m} trace {trace}: {} differences, first:\n{}",
                diffs.len(),
                diffs[..diffs.len().min(20)].join("\n")
            );
        }
    }
    // The data reaches both tracks (else the classifier is not tested).
    assert!(
        enterprise > 0,
        "no Enterprise partner in the generated data"
    );
}
