//! Differential fuzzing of the per-partner index (`pcs serve` reads one
//! partner's lines again through it): on any body under a revenue header
//! that a full read accepts, every partner's facts read through the index
//! (only the byte ranges where its records lie, with a merge gap and range
//! budget chosen by the input, down to one range per run of records) equal
//! the full read's facts of that partner, field for field, lines included.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pcs_core::facts::{FactsBuilder, MonthFilter, Table};
use pcs_core::rulebook::{Rulebook, RulebookSet};
use pcs_data::{Dataset, LoadOptions};

static RULEBOOK: LazyLock<Rulebook> =
    LazyLock::new(|| RulebookSet::builtin().versions()[0].clone());

static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("pcs-fuzz-index-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
});

const HEADER: &[u8] = b"partner_id,customer_tenant_id,customer_name,subscription_id,workload,month,revenue_usd,association\n";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let gap = [0u64, 1, 64, 1 << 16][usize::from(selector & 3)];
    let spare = [0usize, 3][usize::from((selector >> 2) & 1)];
    let mut text = HEADER.to_vec();
    text.extend_from_slice(body);
    std::fs::write(DIR.join("revenue.csv"), &text).expect("written");

    let Ok(dataset) = Dataset::open(&DIR) else {
        return;
    };
    let options = LoadOptions {
        trace: true,
        threads: 1,
        ..LoadOptions::default()
    };
    // The index is built only after a full read accepted the files.
    let Ok(full) = dataset.load(&RULEBOOK, &options) else {
        return;
    };
    let index = pcs_data::testing::partner_index(&dataset, gap, spare)
        .expect("a file a full read accepts can be indexed");
    assert_eq!(index.partners(), full.partners.len(), "partners indexed");
    for (id, facts) in &full.partners {
        let mut b = FactsBuilder::new(&RULEBOOK, MonthFilter::All, true).only_partner(id);
        index
            .read(Table::Revenue, id, &mut b)
            .expect("the revenue table is indexed")
            .expect("an indexed partner's ranges read");
        let again = b.finish();
        assert_eq!(again.partners.len(), 1, "partner {id:?}: one partner read");
        assert!(
            &again.partners[id.as_str()] == facts,
            "partner {id:?}: the index read differs from the full read\nindex: {:?}\nfull: {:?}",
            again.partners[id.as_str()],
            facts
        );
    }
});
