//! The shipped example dataset, read with any rulebook, for the targets
//! that score it.

use std::path::Path;

use pcs_core::facts::{DatasetFacts, FactsBuilder, MonthFilter, Table};
use pcs_core::rulebook::Rulebook;
use pcs_core::score::{PartnerScore, Period};

const TABLES: [(Table, &[u8]); 4] = [
    (
        Table::Revenue,
        include_bytes!("../../examples/contoso/revenue.csv"),
    ),
    (
        Table::Usage,
        include_bytes!("../../examples/contoso/usage.csv"),
    ),
    (
        Table::Certifications,
        include_bytes!("../../examples/contoso/certifications.csv"),
    ),
    (
        Table::Partners,
        include_bytes!("../../examples/contoso/partners.csv"),
    ),
];

/// The example's facts under `rb` (the example is valid data: it always reads).
pub fn facts(rb: &Rulebook) -> DatasetFacts {
    let mut b = FactsBuilder::new(rb, MonthFilter::All, true);
    for (table, bytes) in TABLES {
        pcs_data::read_csv(table, Path::new(table.name()), bytes, &mut b)
            .expect("the example reads");
    }
    b.finish()
}

/// The example's acr and licenses tables.
const AREA_TABLES: [(Table, &[u8]); 2] = [
    (Table::Acr, include_bytes!("../../examples/contoso/acr.csv")),
    (
        Table::Licenses,
        include_bytes!("../../examples/contoso/licenses.csv"),
    ),
];

/// The example's facts under `rb`, the acr and licenses tables read with
/// `vocabulary` (every area's names).
pub fn area_facts(rb: &Rulebook, vocabulary: &pcs_core::vocab::Vocabulary) -> DatasetFacts {
    let mut b =
        FactsBuilder::new(rb, MonthFilter::All, true).with_areas(vocabulary, MonthFilter::All);
    for (table, bytes) in TABLES.into_iter().chain(AREA_TABLES) {
        pcs_data::read_csv(table, Path::new(table.name()), bytes, &mut b)
            .expect("the example reads");
    }
    b.finish()
}

/// What every area score must satisfy: points within `0..=max` per metric,
/// and the total their sum.
pub fn check_area(score: &pcs_core::area::AreaScore) {
    let mut sum = pcs_core::Decimal::ZERO;
    for m in &score.metrics {
        assert!(!m.points.is_sign_negative(), "{}: negative points", m.id);
        assert!(m.points <= m.max_points, "{}: above the cap", m.id);
        sum += m.points;
    }
    assert_eq!(
        score.total_points,
        sum.normalize(),
        "the total is not the sum"
    );
}

/// The month the example is scored for.
pub fn period(rb: &Rulebook) -> Period {
    Period::for_month(rb, "2023-11".parse().expect("a month"))
}

/// What every score must satisfy: points within `0..=max` per metric, and
/// the total their sum.
pub fn check(score: &PartnerScore) {
    let mut sum = pcs_core::Decimal::ZERO;
    for m in &score.metrics {
        assert!(
            !m.points.is_sign_negative(),
            "{}: negative points {}",
            m.id,
            m.points
        );
        assert!(
            m.points <= m.max_points,
            "{}: {} points above the cap {}",
            m.id,
            m.points,
            m.max_points
        );
        sum += m.points;
    }
    assert_eq!(score.total_points, sum, "the total is not the sum");
}
