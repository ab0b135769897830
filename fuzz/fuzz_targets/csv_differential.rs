//! Differential fuzzing of the CSV reader.
//!
//! 1. The fast record reader against the csv crate, on any bytes, with a
//!    comma or a semicolon and a buffer of any size: the same records, field
//!    for field, on the same lines.
//! 2. The parallel split against one thread, on any body under a revenue
//!    header: the same rows, sums and lines, or the same error. One thread
//!    reads in `pcs score`'s 1 MiB blocks; the parts read in blocks of the
//!    first case's size, so that block boundaries fall inside records,
//!    fields and line endings of the full reading path (header, UTF-8,
//!    field counts, values, errors).
#![no_main]

use std::io::Write;
use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pcs_core::facts::{DatasetFacts, FactsBuilder, MonthFilter, Table};
use pcs_core::rulebook::{Rulebook, RulebookSet};
use pcs_data::CsvDialect;
use pcs_data::testing::{csv_crate_records, read_csv_file, records_of};

static RULEBOOK: LazyLock<Rulebook> =
    LazyLock::new(|| RulebookSet::builtin().versions()[0].clone());

static FILE: LazyLock<PathBuf> = LazyLock::new(|| {
    std::env::temp_dir().join(format!("pcs-fuzz-split-{}.csv", std::process::id()))
});

const HEADER: &[u8] =
    b"partner_id,customer_tenant_id,customer_name,workload,month,revenue_usd,association\n";

/// What the split must keep: rows, and per partner the sums, the lines of
/// every aggregate (sorted), certifications and warnings.
fn summary(facts: &DatasetFacts, rows: u64) -> String {
    let mut out = format!("{rows} rows\n");
    for (id, p) in &facts.partners {
        let revenue: pcs_core::Decimal = p.revenue.values().map(|a| a.amount).sum();
        let usage: pcs_core::Decimal = p.usage.values().map(|a| a.total.amount).sum();
        let traces = p.traces();
        let mut lines: Vec<u64> = traces
            .revenue
            .values()
            .chain(traces.excluded.values())
            .chain(traces.usage.values())
            .flat_map(|a| a.lines().iter().copied())
            .collect();
        lines.sort_unstable();
        out += &format!(
            "{id}: {revenue} {usage} {lines:?} {} {}\n",
            p.certifications.len(),
            p.tenants.len()
        );
    }
    let mut warnings: Vec<String> = facts.warnings.iter().map(|w| format!("{w:?}")).collect();
    warnings.sort();
    out + &warnings.join("\n")
}

fn read(threads: usize, block: usize) -> Result<String, String> {
    let mut b = FactsBuilder::new(&RULEBOOK, MonthFilter::All, true);
    match read_csv_file(
        Table::Revenue,
        &FILE,
        CsvDialect::default(),
        &mut b,
        threads,
        0,
        block,
    ) {
        Ok(rows) => Ok(summary(&b.finish(), rows)),
        Err(e) => Err(e.to_string()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let delimiter = if selector & 1 == 0 { b',' } else { b';' };
    let capacity = match selector >> 1 {
        0..=63 => usize::from(selector >> 1) + 1,
        _ => 1 << 16,
    };
    let (got, _) = records_of(input, delimiter, capacity);
    assert_eq!(
        got,
        csv_crate_records(input, delimiter),
        "records differ from the csv crate's"
    );

    let mut file = std::fs::File::create(&*FILE).expect("a temporary file");
    file.write_all(HEADER)
        .and_then(|_| file.write_all(input))
        .expect("written");
    drop(file);
    let one = read(1, 1 << 20);
    let threads = 2 + usize::from(selector % 3);
    assert_eq!(
        read(threads, capacity),
        one,
        "{threads} threads in blocks of {capacity} bytes differ from one thread"
    );
    assert_eq!(
        read(1, capacity),
        one,
        "one thread in blocks of {capacity} bytes differs from 1 MiB blocks"
    );
});
