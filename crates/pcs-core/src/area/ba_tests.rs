//! Business Applications expressed in the area shapes
//! (`business-applications/2023-06.shapes.toml`) against `score_partner`
//! and the format-1 rulebook: the same classification, values, points,
//! totals, qualification and explained items, on hand-built boundaries and
//! random data.

use proptest::prelude::*;

use super::*;
use crate::calendar::{Month, parse_date};
use crate::facts::{CertificationRow, FactsBuilder, MonthFilter, RevenueRow, UsageRow};
use crate::rulebook::{BA_SHAPES_BUILTIN, RulebookSet};
use crate::score::{Detail, Period, score_partner_with, shape_differences};
use crate::vocab::Vocabulary;

fn shapes() -> AreaRulebook {
    let (path, text) = BA_SHAPES_BUILTIN;
    AreaRulebook::from_toml(text, &format!("builtin:{path}")).expect("valid")
}

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

/// Scores `rows` for month `m` with both engines and `detail`; returns the
/// disagreements.
fn differences(rows: &[Row], m: &str, detail: Detail) -> Vec<String> {
    differences_under(&shapes(), rows, m, detail)
}

fn differences_under(area: &AreaRulebook, rows: &[Row], m: &str, detail: Detail) -> Vec<String> {
    let set = RulebookSet::builtin();
    let ba = &set.versions()[0];
    let vocab = Vocabulary::new(&[ba], &[area]).unwrap();
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
    let old = score_partner_with(ba, "P", pf, Period::for_month(ba, month), detail);
    let engine = AreaEngine::new(area, &vocab, ba);
    let period = Period::with_calendar(&area.calendar, month, month.last_day());
    let new = score_area_with(&engine, "P", pf, period, detail);
    assert_eq!(old.period, new.period);
    shape_differences(&old, &new)
}

fn agree(rows: &[Row], m: &str) {
    for detail in [Detail::Full, Detail::Totals] {
        let d = differences(rows, m, detail);
        assert!(d.is_empty(), "{detail:?}:\n{}", d.join("\n"));
    }
}

fn rev(t: &'static str, w: &'static str, m: &'static str, usd: &str) -> Row {
    Row::Rev(t, w, m, usd.to_string(), "DPOR")
}

#[test]
fn the_shapes_rulebook_loads_and_names_both_tracks() {
    let rb = shapes();
    assert_eq!(rb.track_rule, TrackRule::Classify);
    assert_eq!(rb.tracks, ["enterprise", "smb"]);
    assert_eq!(
        rb.metric_ids(),
        [
            "net_customer_adds",
            "intermediate_certifications",
            "advanced_certifications",
            "usage_growth",
            "deployments"
        ]
    );
}

#[test]
fn classification_at_five_pairs_above_5000_in_both_months() {
    // Exactly 5000 is not above; 5000.01 is.
    let mut rows = Vec::new();
    for t in ["T1", "T2", "T3", "T4"] {
        rows.push(rev(t, "Sales", "2023-10", "5000.01"));
        rows.push(rev(t, "Sales", "2022-10", "5000.01"));
    }
    rows.push(rev("T5", "Sales", "2023-10", "5000.01"));
    rows.push(rev("T5", "Sales", "2022-10", "5000"));
    agree(&rows, "2023-11");
    rows.push(rev("T5", "Sales", "2022-10", "0.01"));
    agree(&rows, "2023-11");
    // A credit takes a pair back below.
    rows.push(rev("T1", "Sales", "2023-10", "-0.01"));
    agree(&rows, "2023-11");
}

#[test]
fn every_boundary_of_the_five_metrics_agrees() {
    let mut rows = vec![
        // Net adds: 250 (SMB) and 1500 (Enterprise), at and just below.
        rev("A", "Sales", "2023-10", "250"),
        rev("B", "Finance", "2023-10", "249.99"),
        rev("C", "Power BI", "2023-10", "1500"),
        rev("C", "Power BI", "2022-10", "1499.99"),
        // Excluded by the read: an association that does not count, an unknown workload.
        Row::Rev("D", "Sales", "2023-10", "9000".into(), "PAL"),
        Row::Rev("D", "Azure", "2023-10", "9000".into(), "DPOR"),
        // Deployments: 5000 / 10000 MCV; Power BI at 200 per MAU, PAL only.
        Row::Use("A", "Power BI", "2023-10", "25".into(), "PAL"),
        Row::Use("B", "Power BI", "2023-10", "24.99".into(), "PAL"),
        Row::Use("C", "Sales", "2023-10", "50".into(), "DPOR"),
        Row::Use("C", "Customer Service", "2022-10", "50".into(), "DPOR"),
        Row::Use("D", "Portals", "2023-10", "50".into(), "PAL"),
        Row::Use("D", "Customer Insights", "2022-10", "125000".into(), "PAL"),
        // Certifications: retired, expired, unknown, one person twice.
        Row::Cert("p1", "power-platform-app-maker", "2023-01-01".into(), None),
        Row::Cert("p1", "data-analyst-associate", "2023-01-01".into(), None),
        Row::Cert(
            "p2",
            "power-platform-solution-architect-expert",
            "2023-01-01".into(),
            None,
        ),
        Row::Cert(
            "p3",
            "power-apps-and-d365-solution-architect-expert",
            "2021-01-01".into(),
            None,
        ),
        Row::Cert("p4", "AZ-900", "2021-01-01".into(), None),
        Row::Cert(
            "p5",
            "data-analyst-associate",
            "2021-01-01".into(),
            Some("2023-06-30".into()),
        ),
        Row::Cert("p6", "data-analyst-associate", "2024-01-01".into(), None),
    ];
    for m in ["2023-07", "2023-11", "2023-12", "2024-07"] {
        agree(&rows, m);
    }
    // Usage growth at the 25,000 baseline prerequisite, exactly.
    rows.push(Row::Use(
        "E",
        "Business Central",
        "2022-10",
        "25".into(),
        "DPOR",
    ));
    rows.push(Row::Use(
        "E",
        "Business Central",
        "2023-10",
        "33.3".into(),
        "DPOR",
    ));
    agree(&rows, "2023-11");
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
    fn both_engines_agree_on_random_partners(
        rows in proptest::collection::vec(row(), 0..80),
        m in prop_oneof![Just("2023-11"), Just("2023-12"), Just("2024-07"), Just("2023-10")],
    ) {
        for detail in [Detail::Full, Detail::Totals] {
            let d = differences(&rows, m, detail);
            prop_assert!(d.is_empty(), "{:?}:\n{}", detail, d.join("\n"));
        }
    }
}

#[test]
fn the_shapes_rulebook_is_validated_at_load() {
    let (_, text) = BA_SHAPES_BUILTIN;
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
    ];
    for (t, want) in bad {
        let e = AreaRulebook::from_toml(&t, "test").unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}

#[test]
fn a_rule_changed_in_one_engine_only_is_caught() {
    let (_, text) = BA_SHAPES_BUILTIN;
    let rows = vec![
        rev("A", "Sales", "2023-10", "250"),
        Row::Use("A", "Power BI", "2023-10", "25".into(), "PAL"),
        Row::Cert("p", "power-platform-app-maker", "2023-01-01".into(), None),
    ];
    for (from, to, what) in [
        // The partner is SMB: its thresholds are 250 and 5000.
        (
            "\">=\", value = 250 }",
            "\">=\", value = 251 }",
            "net_customer_adds",
        ),
        (
            "\">=\", value = 5000 }",
            "\">=\", value = 5001 }",
            "deployments",
        ),
        (
            "eligible_until = \"2023-11-30\"",
            "eligible_until = \"2023-11-29\"",
            "intermediate_certifications",
        ),
        ("min_entities = 5", "min_entities = 0", ""),
    ] {
        let changed = text.replacen(from, to, 1);
        if to == "min_entities = 0" {
            // Zero is refused at load.
            assert!(AreaRulebook::from_toml(&changed, "test").is_err());
            continue;
        }
        let rb = AreaRulebook::from_toml(&changed, "test").unwrap();
        let d = differences_under(&rb, &rows, "2023-11", Detail::Full);
        assert!(d.iter().any(|x| x.contains(what)), "{from} → {to}: {d:?}");
    }
}
