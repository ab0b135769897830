//! Fuzzes the CSV table reader: any bytes, as any table, must either load or
//! fail with a located error; never panic.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pcs_core::facts::{FactsBuilder, MonthFilter, Table};
use pcs_core::rulebook::{Rulebook, RulebookSet};

static RULEBOOK: LazyLock<Rulebook> =
    LazyLock::new(|| RulebookSet::builtin().versions()[0].clone());

fuzz_target!(|data: &[u8]| {
    let Some((&selector, csv)) = data.split_first() else {
        return;
    };
    let table = Table::ALL[usize::from(selector) % Table::ALL.len()];
    let mut builder = FactsBuilder::new(&RULEBOOK, MonthFilter::All, selector & 0x80 != 0);
    let path = Path::new("fuzz.csv");
    match pcs_data::read_csv(table, path, csv, &mut builder) {
        Ok(_) => {
            let facts = builder.finish();
            for w in &facts.warnings {
                assert!(w.rows > 0);
            }
        }
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.starts_with("fuzz.csv"),
                "error does not name the file: {text}"
            );
            if e.kind() == pcs_data::ErrorKind::Value {
                assert!(
                    e.line().is_some() && e.value().is_some(),
                    "value error without a location: {text}"
                );
            }
        }
    }
});
