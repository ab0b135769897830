//! Business Applications in the area shapes: the shapes derived from the
//! format-1 rulebook at load (one definition of every number), and the
//! score `score_partner` gives through them on random partners (the same
//! numbers with and without explanations; caps, totals and qualification).
//! The scores themselves are checked against hand-computed values in
//! `score::tests`, against `tests/oracle` (an implementation of rules.md
//! written from the spec alone) in the CLI tests, and against the output
//! of the engine before the switch in `pcs-cli/tests/ba_golden.rs`.

use proptest::prelude::*;

use super::*;
use crate::calendar::{Month, parse_date};
use crate::facts::{CertificationRow, FactsBuilder, MonthFilter, RevenueRow, UsageRow};
use crate::rulebook::{BUILTIN, Classification, Rulebook, RulebookSet, Shape};
use crate::score::{Detail, MetricDetail, PartnerScore, Period, score_partner_with};

#[derive(Clone, Debug)]
enum Row {
    /// tenant, workload, month, USD, association
    Rev(
        &'static str,
        &'static str,
        &'static str,
        String,
        &'static str,
    ),
    /// tenant, workload, month, quantity, association
    Use(
        &'static str,
        &'static str,
        &'static str,
        String,
        &'static str,
    ),
    /// person, certification, earned on, expires on
    Cert(&'static str, &'static str, String, Option<String>),
}

/// Scores `rows` for month `m` under `ba` with `detail`.
fn score(ba: &Rulebook, rows: &[Row], m: &str, detail: Detail) -> PartnerScore {
    let mut b = FactsBuilder::new(ba, MonthFilter::All, true);
    for (i, r) in rows.iter().enumerate() {
        let line = i as u64 + 2;
        match r {
            Row::Rev(t, w, mm, usd, a) => b.add_revenue(&RevenueRow {
                partner_id: "P",
                customer_tenant_id: t,
                customer_name: None,
                subscription_id: None,
                workload: w,
                month: mm.parse().unwrap(),
                revenue_usd: usd.parse().unwrap(),
                association: a,
                line,
            }),
            Row::Use(t, w, mm, q, a) => b.add_usage(&UsageRow {
                partner_id: "P",
                customer_tenant_id: t,
                customer_name: None,
                workload: w,
                month: mm.parse().unwrap(),
                quantity: q.parse().unwrap(),
                association: a,
                line,
            }),
            Row::Cert(p, c, e, x) => b.add_certification(&CertificationRow {
                partner_id: "P",
                person_id: p,
                person_name: None,
                certification: c,
                earned_on: parse_date(e).unwrap(),
                expires_on: x.as_deref().map(|x| parse_date(x).unwrap()),
                line,
            }),
        }
    }
    let facts = b.finish();
    let empty = Default::default();
    let pf = facts.partners.get("P").unwrap_or(&empty);
    let month: Month = m.parse().unwrap();
    score_partner_with(ba, "P", pf, Period::for_month(ba, month), detail)
}

fn builtin() -> Rulebook {
    RulebookSet::builtin().versions()[0].clone()
}

fn format_1_text() -> &'static str {
    BUILTIN[0].1
}

fn rev(t: &'static str, w: &'static str, m: &'static str, usd: &str) -> Row {
    Row::Rev(t, w, m, usd.to_string(), "DPOR")
}

#[test]
fn the_shapes_state_the_format_1_numbers() {
    let ba = builtin();
    let rb = ba.shapes();
    assert_eq!(rb.id(), ba.id());
    assert_eq!(rb.track_rule, TrackRule::Classify);
    assert_eq!(rb.tracks, ["enterprise", "smb"]);
    let c = rb.classifier.as_ref().unwrap();
    assert_eq!(c.amount, ba.classification.pair_revenue);
    assert_eq!(c.min_entities, ba.classification.enterprise_min_pairs);
    assert_eq!(c.entity, Entity::TenantWorkload);
    assert_eq!(rb.filters[c.filter].source, Source::Revenue);
    assert_eq!(
        rb.qualification.min_total_points,
        ba.qualification.min_total_points
    );
    let ids: Vec<&str> = ba.metrics.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(rb.metric_ids(), ids);
    for class in [Classification::Enterprise, Classification::Smb] {
        let d = parse_date("2023-11-30").unwrap();
        let track = rb.metrics_on(Some(class.as_str()), d);
        assert_eq!(track.len(), ba.metrics.len());
        for (m, f1) in track.iter().zip(&ba.metrics) {
            assert_eq!(
                (&m.id, &m.label, &m.category),
                (&f1.id, &f1.label, &f1.category)
            );
            assert_eq!(m.points.rate, f1.points_per_unit.get(class), "{}", m.id);
            assert_eq!(m.points.max, f1.max_points, "{}", m.id);
            match (&m.shape, &f1.shape) {
                (
                    AreaShape::EntityCount {
                        filter,
                        entity,
                        amount,
                        mode,
                        window,
                        ..
                    },
                    Shape::PairGrowth { source, threshold },
                ) => {
                    let want = match source {
                        crate::rulebook::PairSource::Revenue => Source::Revenue,
                        crate::rulebook::PairSource::Usage => Source::Usage,
                    };
                    assert_eq!(rb.filters[*filter].source, want);
                    assert_eq!(*entity, Entity::TenantWorkload);
                    assert_eq!((*mode, *window), (Mode::Delta, Window::Month));
                    assert_eq!(*amount, Some(threshold.for_class(class)));
                    assert_eq!(m.points.rounding, Rounding::Exact);
                }
                (
                    AreaShape::CertifiedPeople {
                        certifications,
                        prerequisites,
                    },
                    Shape::CertifiedPeople {
                        level,
                        full_points_at,
                    },
                ) => {
                    let want: Vec<&str> = ba
                        .certifications
                        .iter()
                        .filter(|c| &c.level == level)
                        .map(|c| c.id.as_str())
                        .collect();
                    assert_eq!(certifications, &want);
                    assert!(prerequisites.is_empty());
                    assert_eq!(
                        m.points.full_points_at,
                        full_points_at.map(|f| Decimal::from(f.get(class)))
                    );
                }
                (
                    AreaShape::Growth {
                        filter,
                        measure,
                        kind,
                        decimals,
                        baseline_minimum,
                        ..
                    },
                    Shape::ConsumptionGrowth {
                        baseline_minimum: b,
                        decimals: n,
                    },
                ) => {
                    assert_eq!(rb.filters[*filter].source, Source::Usage);
                    assert_eq!((*measure, *kind), (Measure::Mcv, GrowthKind::Percent));
                    assert_eq!((*decimals, m.points.decimals), (*n, *n));
                    assert_eq!(m.points.rounding, Rounding::Truncate);
                    assert_eq!(*baseline_minimum, Some(b.for_class(class)));
                }
                (a, b) => panic!("{}: {a:?} for {b:?}", m.id),
            }
        }
    }
    // Certification names resolve as the format-1 rulebook resolves them.
    for (key, id) in ba.name_keys().certifications {
        assert_eq!(rb.certification(&key), Some(usize::from(id)), "{key}");
    }
    assert_eq!(rb.certification("AZ-900"), None);
}

#[test]
fn a_number_changed_in_the_format_1_file_changes_the_score() {
    // One definition: the format-1 file is the only place the numbers live.
    let rows = vec![
        rev("A", "Sales", "2023-10", "250"),
        Row::Use("A", "Power BI", "2023-10", "25".into(), "PAL"),
        Row::Cert("p", "power-platform-app-maker", "2023-01-01".into(), None),
    ];
    let base = score(&builtin(), &rows, "2023-11", Detail::Full);
    assert_eq!(base.classification, Classification::Smb);
    let value = |s: &PartnerScore, id: &str| s.metric(id).unwrap().value.unwrap();
    assert_eq!(value(&base, "net_customer_adds"), Decimal::ONE);
    assert_eq!(value(&base, "deployments"), Decimal::ONE);
    assert_eq!(value(&base, "intermediate_certifications"), Decimal::ONE);
    for (from, to, metric) in [
        (
            "pair_threshold = { comparison = \">=\", enterprise = 1500, smb = 250 }",
            "pair_threshold = { comparison = \">=\", enterprise = 1500, smb = 251 }",
            "net_customer_adds",
        ),
        (
            "pair_threshold = { comparison = \">=\", enterprise = 10000, smb = 5000 }",
            "pair_threshold = { comparison = \">=\", enterprise = 10000, smb = 5001 }",
            "deployments",
        ),
        (
            "eligible_until = \"2023-11-30\"",
            "eligible_until = \"2023-11-29\"",
            "intermediate_certifications",
        ),
    ] {
        let text = format_1_text();
        assert!(text.contains(from), "{from}");
        let rb = Rulebook::from_toml(&text.replacen(from, to, 1), "test").unwrap();
        let s = score(&rb, &rows, "2023-11", Detail::Full);
        assert_eq!(value(&s, metric), Decimal::ZERO, "{from} → {to}");
    }
    // The classification threshold and the rate too.
    let text = format_1_text()
        .replacen("enterprise_min_pairs = 5", "enterprise_min_pairs = 0", 1)
        .replacen(
            "points_per_unit = { enterprise = 3, smb = 3 }",
            "points_per_unit = { enterprise = 2.5, smb = 3 }",
            1,
        );
    let rb = Rulebook::from_toml(&text, "test").unwrap();
    let s = score(&rb, &rows, "2023-11", Detail::Full);
    assert_eq!(s.classification, Classification::Enterprise);
    let m = s.metric("net_customer_adds").unwrap();
    assert_eq!(
        (m.points_per_unit, m.value),
        (Decimal::new(25, 1), Some(Decimal::ZERO))
    );
}

#[test]
fn a_usage_growth_cap_finer_than_its_decimals_is_refused() {
    let text = format_1_text().replacen(
        "max_points = 30\npoints_per_unit = { enterprise = 1, smb = 1 }",
        "max_points = 30.555\npoints_per_unit = { enterprise = 1, smb = 1 }",
        1,
    );
    assert_ne!(text, format_1_text());
    let e = Rulebook::from_toml(&text, "test").unwrap_err().to_string();
    assert!(e.contains("more decimal places than decimals = 2"), "{e}");
    // With three decimals it is stated.
    let text = text.replacen("decimals = 2", "decimals = 3", 1);
    let rb = Rulebook::from_toml(&text, "test").unwrap();
    let growth = rb
        .shapes()
        .metrics
        .iter()
        .find(|m| m.id == "usage_growth")
        .unwrap();
    assert_eq!(growth.points.decimals, 3);
}

/// An area rulebook (format 2) may state the pair tables and a classifier
/// itself; they are validated at load.
const PAIR_TABLES: &str = r#"
format = 2
solution_area = "pairs"
version = "1"
effective_from = "2023-01-01"
tracks = ["big", "small"]
track_rule = "classify"
[calendar]
latest_month_offset = 1
baseline_month_offset = 13
data_refresh_day = 20
[qualification]
min_total_points = 70
every_metric_above_zero = true
window_months = 6
renewal_months_before_anniversary = 5
[classifier]
filter = "revenue"
entity = "tenant_workload"
amount = { comparison = ">", value = 5000 }
min_entities = 5
[[filter]]
id = "revenue"
table = "revenue"
[[filter]]
id = "usage"
table = "usage"
[[metric]]
id = "adds"
track = "big"
shape = "entity_count"
filter = "revenue"
entity = "tenant_workload"
window = "month"
amount = { comparison = ">=", value = 1500 }
max_points = 15
points = { rate = 3 }
[[metric]]
id = "growth"
track = "big"
shape = "growth"
filter = "usage"
measure = "mcv"
kind = "percent"
max_points = 30
points = { rate = 1 }
[[metric]]
id = "adds"
track = "small"
shape = "entity_count"
filter = "revenue"
entity = "tenant_workload"
window = "month"
amount = { comparison = ">=", value = 250 }
max_points = 15
points = { rate = 3, rounding = "none" }
[[metric]]
id = "growth"
track = "small"
shape = "growth"
filter = "usage"
measure = "mcv"
kind = "percent"
max_points = 30
points = { rate = 1 }
"#;

#[test]
fn pair_tables_and_a_classifier_in_a_format_2_file_are_validated_at_load() {
    let rb = AreaRulebook::from_toml(PAIR_TABLES, "test").unwrap();
    assert_eq!(rb.track_rule, TrackRule::Classify);
    assert_eq!(rb.metrics[2].points.rounding, Rounding::Exact);
    let text = PAIR_TABLES;
    let bad = [
        (
            text.replace("track_rule = \"classify\"", "track_rule = \"best_track\""),
            "classifier",
        ),
        (
            text.replace(
                "table = \"revenue\"",
                "table = \"revenue\"\nassociations = [\"dpor\"]",
            ),
            "filtered while it is read",
        ),
        (
            text.replace("min_entities = 5", "min_entities = 0"),
            "min_entities",
        ),
        (
            text.replacen("window = \"month\"", "window = \"ttm\"", 1),
            "window must be 'month'",
        ),
        (
            text.replacen("measure = \"mcv\"", "measure = \"acr\"", 1),
            "does not fit",
        ),
        (
            text.replacen(
                "rate = 3, rounding = \"none\"",
                "rate = 3, rounding = \"up\"",
                1,
            ),
            "'truncate', 'half_up' or 'none'",
        ),
    ];
    for (t, want) in bad {
        let e = AreaRulebook::from_toml(&t, "test").unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}

const TENANTS: [&str; 8] = ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8"];
const WORKLOADS: [&str; 5] = ["Sales", "Power BI", "Finance", "Business Central", "Azure"];
const ASSOC: [&str; 4] = ["DPOR", "CSP Tier 1", "PAL", "CPOR OSU"];
const USAGE: [&str; 7] = [
    "Sales",
    "Power BI",
    "Business Central",
    "Customer Insights",
    "Portals",
    "Finance",
    "Customer Engagement",
];
const CERTS: [&str; 7] = [
    "data-analyst-associate",
    "power-platform-app-maker",
    "power-platform-solution-architect-expert",
    "d365-functional-consultant-customer-service",
    "power-apps-and-d365-solution-architect-expert",
    "Microsoft Certified: Power Platform Developer Associate",
    "AZ-900",
];
const PEOPLE: [&str; 10] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
const MONTHS: [&str; 3] = ["2023-10", "2022-10", "2023-09"];
/// Amounts at the thresholds (and one cent either side) or anywhere.
const USD: [&str; 10] = [
    "250", "249.99", "1500", "1499.99", "5000", "5000.01", "-0.01", "-300", "0", "12000",
];

fn amount() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..USD.len()).prop_map(|i| USD[i].to_string()),
        (-50_000i64..2_000_000).prop_map(|c| format!("{}.{:02}", c / 100, (c % 100).abs())),
    ]
}

fn row() -> impl Strategy<Value = Row> {
    prop_oneof![
        4 => (0..8usize, 0..5usize, 0..3usize, amount(), 0..4usize)
            .prop_map(|(t, w, m, a, s)| Row::Rev(TENANTS[t], WORKLOADS[w], MONTHS[m], a, ASSOC[s])),
        3 => (0..8usize, 0..7usize, 0..3usize, 0u32..3_000_000, 0..4usize)
            .prop_map(|(t, w, m, q, s)| Row::Use(TENANTS[t], USAGE[w], MONTHS[m], format!("{}.{}", q / 10, q % 10), ASSOC[s])),
        2 => (0..10usize, 0..7usize, 0..900i64, proptest::option::of(0..900i64))
            .prop_map(|(p, c, e, x)| {
                let base = parse_date("2022-01-01").unwrap();
                let day = |n: i64| base.checked_add(jiff::Span::new().days(n)).unwrap().to_string();
                Row::Cert(PEOPLE[p], CERTS[c], day(e), x.map(|x| day(e + x)))
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn scores_through_the_shapes_keep_their_invariants(
        rows in proptest::collection::vec(row(), 0..80),
        m in prop_oneof![Just("2023-11"), Just("2023-12"), Just("2024-07"), Just("2023-10")],
    ) {
        let ba = builtin();
        let full = score(&ba, &rows, m, Detail::Full);
        let totals = score(&ba, &rows, m, Detail::Totals);
        // The same numbers whatever the detail.
        prop_assert_eq!(full.classification, totals.classification);
        prop_assert_eq!(full.classification_detail.counted_pairs, totals.classification_detail.counted_pairs);
        prop_assert_eq!(full.total_points, totals.total_points);
        prop_assert_eq!(full.qualified, totals.qualified);
        for (a, b) in full.metrics.iter().zip(&totals.metrics) {
            prop_assert_eq!((&a.id, a.value, a.points), (&b.id, b.value, b.points));
        }
        // The classification's pairs: as many counted as the count.
        let counted = full.classification_detail.pairs.iter().filter(|p| p.counted).count();
        prop_assert_eq!(counted as u32, full.classification_detail.counted_pairs);
        prop_assert_eq!(
            full.classification == Classification::Enterprise,
            counted as u32 >= ba.classification.enterprise_min_pairs
        );
        // Points within caps; total = sum; qualified iff ≥ 70 and none at 0.
        let mut sum = Decimal::ZERO;
        for mm in &full.metrics {
            prop_assert!(mm.points >= Decimal::ZERO && mm.points <= mm.max_points, "{}", mm.id);
            sum += mm.points;
            match &mm.detail {
                MetricDetail::PairGrowth { latest_count, baseline_count, items, .. } => {
                    let n = |latest: bool| {
                        items
                            .iter()
                            .filter(|i| i.counted && (i.month == full.period.latest_month) == latest)
                            .count() as u32
                    };
                    prop_assert_eq!((n(true), n(false)), (*latest_count, *baseline_count));
                    prop_assert_eq!(
                        mm.value,
                        Some(Decimal::from(*latest_count) - Decimal::from(*baseline_count))
                    );
                }
                MetricDetail::CertifiedPeople { items, .. } => {
                    let people: std::collections::HashSet<&str> =
                        items.iter().filter(|i| i.counted).map(|i| i.person_id.as_str()).collect();
                    prop_assert_eq!(people.len(), items.iter().filter(|i| i.counted).count());
                    prop_assert_eq!(mm.value, Some(Decimal::from(people.len() as u32)));
                }
                MetricDetail::ConsumptionGrowth { latest_mcv, baseline_mcv, items, .. } => {
                    let total = |latest: bool| -> Decimal {
                        items
                            .iter()
                            .filter(|i| (i.month == full.period.latest_month) == latest)
                            .map(|i| i.amount)
                            .sum()
                    };
                    prop_assert_eq!(total(true), *latest_mcv);
                    prop_assert_eq!(total(false), *baseline_mcv);
                }
            }
        }
        prop_assert_eq!(sum.normalize(), full.total_points);
        prop_assert_eq!(
            full.qualified,
            full.total_points >= Decimal::from(70) && full.metrics.iter().all(|m| m.points > Decimal::ZERO)
        );
    }
}
