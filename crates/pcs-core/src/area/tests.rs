//! The worked examples of the Microsoft pages and the boundaries of
//! rules-areas.md, through the built-in area rulebooks.

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::calendar::{Month, parse_date};
use crate::facts::{AcrRow, CertificationRow, FactsBuilder, LicenseRow, MonthFilter};
use crate::rulebook::RulebookSet;
use crate::score::{Detail, Period};
use crate::vocab::Vocabulary;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// (tenant, service, month, usd, association, offer)
type Acr<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, Option<&'a str>);
/// (tenant, workload, month, association, paid, active, associated_on)
type Lic<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    u64,
    u64,
    Option<&'a str>,
);
/// (person, certification, earned_on)
type Cert<'a> = (&'a str, &'a str, &'a str);

#[derive(Default)]
struct Data<'a> {
    acr: Vec<Acr<'a>>,
    lic: Vec<Lic<'a>>,
    certs: Vec<Cert<'a>>,
}

fn score_with(area: &str, month: &str, date: &str, data: &Data<'_>, detail: Detail) -> AreaScore {
    let set = RulebookSet::builtin();
    let ba = &set.versions()[0];
    let date = parse_date(date).unwrap();
    let rb = set.area_in_force(area, date).unwrap();
    let areas: Vec<&AreaRulebook> = set.area_versions().iter().collect();
    let vocab = Vocabulary::new(&[ba], &areas).unwrap();
    let m: Month = month.parse().unwrap();
    let facts = builder(&vocab, ba, data).finish();
    let empty = Default::default();
    let pf = facts.partners.get("P").unwrap_or(&empty);
    let engine = AreaEngine::new(rb, &vocab, ba);
    let period = Period::with_calendar(&rb.calendar, m, date);
    score_area_with(&engine, "P", pf, period, detail)
}

fn builder<'r>(
    vocab: &'r Vocabulary,
    ba: &'r crate::rulebook::Rulebook,
    data: &Data<'_>,
) -> FactsBuilder<'r> {
    let mut b = FactsBuilder::new(ba, MonthFilter::All, true).with_areas(vocab, MonthFilter::All);
    for (i, r) in data.acr.iter().enumerate() {
        b.add_acr(&AcrRow {
            partner_id: "P",
            customer_tenant_id: r.0,
            customer_name: None,
            subscription_id: None,
            service: r.1,
            month: r.2.parse().unwrap(),
            acr_usd: d(r.3),
            association: r.4,
            offer: r.5,
            line: i as u64 + 2,
        });
    }
    for (i, r) in data.lic.iter().enumerate() {
        b.add_license(&LicenseRow {
            partner_id: "P",
            customer_tenant_id: r.0,
            customer_name: None,
            workload: r.1,
            month: r.2.parse().unwrap(),
            association: r.3,
            paid_seats: r.4,
            active_users: r.5,
            associated_on: r.6.map(|x| parse_date(x).unwrap()),
            line: i as u64 + 2,
        });
    }
    for (i, r) in data.certs.iter().enumerate() {
        b.add_certification(&CertificationRow {
            partner_id: "P",
            person_id: r.0,
            person_name: None,
            certification: r.1,
            earned_on: parse_date(r.2).unwrap(),
            expires_on: None,
            line: i as u64 + 2,
        });
    }
    b
}

/// Scores with full detail and checks that totals-only detail agrees.
fn score(area: &str, month: &str, date: &str, data: &Data<'_>) -> AreaScore {
    let full = score_with(area, month, date, data, Detail::Full);
    let totals = score_with(area, month, date, data, Detail::Totals);
    assert_eq!(full.total_points, totals.total_points);
    assert_eq!(full.qualified, totals.qualified);
    assert_eq!(full.classification, totals.classification);
    assert_eq!(numbers(&full.metrics), numbers(&totals.metrics));
    assert_eq!(full.tracks.len(), totals.tracks.len());
    for (a, b) in full.tracks.iter().zip(&totals.tracks) {
        assert_eq!((a.total_points, a.qualified), (b.total_points, b.qualified));
        assert_eq!(numbers(&a.metrics), numbers(&b.metrics));
    }
    full
}

/// Every number of metrics, their options and their parts (each with its
/// id, value, points, figures and the option chosen), without the items
/// that only full detail holds.
fn numbers(metrics: &[AreaMetric]) -> Vec<String> {
    metrics
        .iter()
        .map(|m| {
            format!(
                "{} {:?} {} {:?} {:?} options {:?} parts {:?}",
                m.id,
                m.value,
                m.points,
                m.figures,
                m.chosen_option,
                numbers(&m.options),
                numbers(&m.parts)
            )
        })
        .collect()
}

fn vp(s: &AreaScore, id: &str) -> (Option<Decimal>, Decimal) {
    let m = s.metric(id).unwrap_or_else(|| panic!("no metric {id}"));
    (m.value, m.points)
}

const M: &str = "2024-01";
const D: &str = "2024-01-31";

#[test]
fn every_builtin_area_rulebook_loads_with_its_metrics() {
    let set = RulebookSet::builtin();
    let ids: Vec<(&str, Vec<&str>)> = set
        .area_versions()
        .iter()
        .map(|a| (a.solution_area.as_str(), a.metric_ids()))
        .collect();
    let five = vec![
        "net_customer_adds",
        "intermediate_certifications",
        "advanced_certifications",
        "usage_growth",
        "deployments",
    ];
    let four_dai = vec![
        "net_customer_adds",
        "intermediate_certifications",
        "usage_growth",
        "deployments",
    ];
    let four_sec = vec![
        "net_customer_adds",
        "intermediate_certifications",
        "deployments",
        "usage_growth",
    ];
    for (area, metrics) in ids {
        let want = match area {
            "azure_data_ai" => &four_dai,
            "security" => &four_sec,
            _ => &five,
        };
        assert_eq!(&metrics, want, "{area}");
    }
    // Every area's maxima add up to 100 on any date, in every track.
    for a in set.area_versions() {
        for date in ["2023-11-30", "2023-12-01"] {
            let date = parse_date(date).unwrap();
            let tracks: Vec<Option<&str>> = if a.tracks.is_empty() {
                vec![None]
            } else {
                a.tracks.iter().map(|t| Some(t.as_str())).collect()
            };
            for t in tracks {
                let total: Decimal = a.metrics_on(t, date).iter().map(|m| m.points.max).sum();
                assert_eq!(total, Decimal::ONE_HUNDRED, "{} {t:?}", a.solution_area);
            }
        }
    }
}

#[test]
fn the_three_azure_areas_share_one_definition_of_their_common_metrics() {
    let set = RulebookSet::builtin();
    let azure: Vec<&AreaRulebook> = set
        .area_versions()
        .iter()
        .filter(|a| a.solution_area.starts_with("azure_"))
        .collect();
    assert_eq!(azure.len(), 3);
    for id in ["net_customer_adds", "usage_growth", "deployments"] {
        let text = |a: &AreaRulebook| {
            let m = a.metrics.iter().find(|m| m.id == id).unwrap();
            let filter = match &m.shape {
                AreaShape::EntityCount { filter, .. } | AreaShape::Growth { filter, .. } => {
                    serde_json::to_string(&a.filters[*filter]).unwrap()
                }
                _ => unreachable!(),
            };
            format!("{}{filter}", serde_json::to_string(m).unwrap())
        };
        assert_eq!(text(azure[0]), text(azure[1]), "{id}");
        assert_eq!(text(azure[0]), text(azure[2]), "{id}");
    }
}

// ------------------------------------------------------------------ Azure skilling

fn dai_skilling(people: &[(&'static str, &[&'static str])]) -> (Option<Decimal>, Decimal) {
    let mut data = Data::default();
    for (p, certs) in people {
        for c in *certs {
            data.certs.push((p, c, "2023-01-01"));
        }
    }
    vp(
        &score("azure_data_ai", M, D, &data),
        "intermediate_certifications",
    )
}

const ARCH: &str = "azure-solutions-architect";
const ADMIN: &str = "Microsoft Certified: Azure Administrator Associate";
const S3: &str = "azure-ai-engineer";
const ENG: &str = "azure-security-engineer";
const M365: &str = "m365-security-administrator";
const SOA: &str = "security-operations-analyst";
const CSA: &str = "cybersecurity-architect-expert";

#[test]
fn data_ai_worked_examples() {
    let (arch, admin, s3) = (ARCH, ADMIN, S3);
    // A, B step 1; C, D step 2; E, F, G step 3 → 12.
    assert_eq!(
        dai_skilling(&[
            ("A", &[arch]),
            ("B", &[arch]),
            ("C", &[admin]),
            ("D", &[admin]),
            ("E", &[s3]),
            ("F", &["Data Analyst Associate"]),
            ("G", &["azure-cosmos-db-developer-specialty"]),
        ]),
        (Some(d("3")), d("12"))
    );
    // A and B complete all three steps → 8.
    assert_eq!(
        dai_skilling(&[("A", &[arch, admin, s3]), ("B", &[arch, admin, s3])]),
        (Some(d("2")), d("8"))
    );
    // A and B complete steps 1 and 3 only → 0 (value still 2, §10.1).
    assert_eq!(
        dai_skilling(&[("A", &[arch, s3]), ("B", &[arch, s3])]),
        (Some(d("2")), d("0"))
    );
    // A step 1; B and C steps 2 and 3 → 0 (step 1 has one person).
    assert_eq!(
        dai_skilling(&[("A", &[arch]), ("B", &[admin, s3]), ("C", &[admin, s3])]),
        (Some(d("2")), d("0"))
    );
    // Ten people = the maximum 40; eleven stay at 40.
    let many: Vec<(&'static str, &[&'static str])> =
        ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K"]
            .into_iter()
            .map(|p| (p, &[ARCH, ADMIN, S3][..]))
            .collect();
    assert_eq!(dai_skilling(&many[..10]).1, d("40"));
    assert_eq!(dai_skilling(&many).1, d("40"));
}

#[test]
fn a_failed_step_is_named_with_the_count_found() {
    let data = Data {
        certs: vec![
            ("A", "azure-solutions-architect", "2023-01-01"),
            ("B", "azure-administrator", "2023-01-01"),
            ("C", "azure-administrator", "2023-01-01"),
            ("E", "azure-ai-engineer", "2023-01-01"),
        ],
        ..Data::default()
    };
    let s = score("azure_data_ai", M, D, &data);
    let m = s.metric("intermediate_certifications").unwrap();
    let AreaDetail::CertifiedPeople {
        steps,
        prerequisites_met,
        items,
    } = &m.detail
    else {
        panic!()
    };
    assert!(!prerequisites_met);
    assert_eq!((steps[0].people, steps[0].met), (1, false));
    assert_eq!((steps[1].people, steps[1].met), (2, true));
    assert!(
        items
            .iter()
            .any(|i| i.person_id.as_deref() == Some("E") && i.counted)
    );
}

#[test]
fn retired_azure_certifications_count_through_july_2024() {
    let data = |earned| Data {
        certs: vec![
            ("A", "azure-administrator", earned),
            ("B", "azure-administrator", earned),
            ("C", "azure-stack-hub-operator", earned),
        ],
        ..Data::default()
    };
    let on = |date: &str| {
        vp(
            &score("azure_infrastructure", "2024-07", date, &data("2023-01-01")),
            "intermediate_certifications",
        )
    };
    assert_eq!(on("2024-07-31"), (Some(d("1")), d("4")));
    assert_eq!(on("2024-08-01").1, d("0"));
}

// ------------------------------------------------------------------ Azure performance and customer success

#[test]
fn azure_net_adds_either_of_two_months_at_1000() {
    let acr = |t, m, usd| (t, "Azure Machine Learning", m, usd, "CSP Tier 1", None);
    let data = Data {
        acr: vec![
            acr("T1", "2023-12", "1000"),   // latest month, exactly 1,000
            acr("T2", "2023-11", "1000"),   // X-1 of latest
            acr("T3", "2023-12", "999.99"), // just below
            acr("T4", "2023-10", "5000"),   // too early for the latest window
            acr("T5", "2022-12", "1000"),   // baseline month
            acr("T6", "2022-11", "1200"),   // baseline X-1
            acr("T7", "2022-10", "1200"),   // outside the baseline window
        ],
        ..Data::default()
    };
    let s = score("azure_infrastructure", M, D, &data);
    // latest: T1, T2 → 2; baseline: T5, T6 → 2; value 0.
    assert_eq!(vp(&s, "net_customer_adds"), (Some(d("0")), d("0")));
    let AreaDetail::EntityCount {
        latest_count,
        baseline_count,
        ..
    } = &s.metric("net_customer_adds").unwrap().detail
    else {
        panic!()
    };
    assert_eq!((*latest_count, *baseline_count), (2, Some(2)));
}

#[test]
fn azure_net_adds_points_cap_at_three_adds() {
    let mut acr = Vec::new();
    let ts = ["A", "B", "C", "D"];
    for t in ts {
        acr.push((t, "Storage", "2023-12", "1500", "PAL", None));
    }
    let s = score(
        "azure_data_ai",
        M,
        D,
        &Data {
            acr,
            ..Data::default()
        },
    );
    assert_eq!(vp(&s, "net_customer_adds"), (Some(d("4")), d("30")));
}

#[test]
fn offers_and_associations_filter_acr() {
    let data = Data {
        acr: vec![
            ("T1", "Storage", "2023-12", "5000", "PAL", Some("Trial")),
            ("T2", "Storage", "2023-12", "5000", "CPOR", None),
            (
                "T3",
                "Storage",
                "2023-12",
                "5000",
                "DPOR",
                Some("Pay-As-You-Go"),
            ),
            (
                "T4",
                "Storage",
                "2023-12",
                "5000",
                "Digital Partner of Record",
                Some("benefit program"),
            ),
        ],
        ..Data::default()
    };
    let s = score("azure_infrastructure", M, D, &data);
    assert_eq!(vp(&s, "net_customer_adds").0, Some(d("1")));
}

#[test]
fn azure_usage_growth_is_ttm_percent_with_a_1000_baseline() {
    // Baseline TTM (2022-01 … 2022-12) = 1,000 exactly; latest TTM
    // (2023-01 … 2023-12) = 1,150 → 15 %.
    let mut acr: Vec<Acr<'_>> = vec![
        ("T1", "Storage", "2022-01", "400", "PAL", None),
        ("T1", "Storage", "2022-12", "600", "PAL", None),
        ("T1", "Storage", "2021-12", "9999", "PAL", None), // before the baseline TTM
        ("T1", "Storage", "2023-01", "150", "PAL", None),
        ("T2", "Compute", "2023-12", "1000", "CSP Tier 2", None),
        ("T2", "Compute", "2024-01", "9999", "CSP Tier 2", None), // month M: not read
    ];
    let s = score(
        "azure_infrastructure",
        M,
        D,
        &Data {
            acr: acr.clone(),
            ..Data::default()
        },
    );
    let m = s.metric("usage_growth").unwrap();
    assert_eq!((m.value, m.points), (Some(d("15")), d("15")));
    assert_eq!(m.figures[0], ("latest_acr".to_string(), d("1150")));
    assert_eq!(m.figures[1], ("baseline_acr".to_string(), d("1000")));
    // A baseline of 999.99 fails the prerequisite: value shown, 0 points.
    acr[1].3 = "599.99";
    let s = score(
        "azure_infrastructure",
        M,
        D,
        &Data {
            acr: acr.clone(),
            ..Data::default()
        },
    );
    let (v, p) = vp(&s, "usage_growth");
    assert!(v.is_some());
    assert_eq!(p, d("0"));
    // A baseline at or below 0 (credits) has no value (§10.11).
    acr[0].3 = "-600";
    acr[1].3 = "600";
    let s = score(
        "azure_infrastructure",
        M,
        D,
        &Data {
            acr,
            ..Data::default()
        },
    );
    assert_eq!(vp(&s, "usage_growth"), (None, d("0")));
}

#[test]
fn azure_deployments_count_distinct_services_in_the_latest_ttm() {
    let acr: Vec<Acr<'_>> = vec![
        ("T1", "Storage", "2023-01", "1", "PAL", None), // first month of the TTM
        ("T2", "Storage", "2023-05", "5", "PAL", None), // same service: once
        ("T1", "Key Vault", "2022-12", "50", "PAL", None), // just outside
        ("T1", "Virtual Machines", "2023-06", "900", "PAL", None), // excluded
        (
            "T1",
            "Virtual Machine Licenses",
            "2023-06",
            "900",
            "PAL",
            None,
        ), // excluded
        ("T1", "Cosmos DB", "2023-06", "10", "PAL", None),
        ("T1", "Cosmos DB", "2023-07", "-10", "PAL", None), // credit: total 0, not > 0
        ("T1", "Functions", "2023-12", "0.01", "DPOR", None),
    ];
    let s = score(
        "azure_digital_app_innovation",
        M,
        D,
        &Data {
            acr,
            ..Data::default()
        },
    );
    assert_eq!(vp(&s, "deployments"), (Some(d("2")), d("4")));
}

#[test]
fn azure_deployments_cap_at_five_services() {
    let services = ["A", "B", "C", "D", "E", "F"];
    let acr: Vec<Acr<'_>> = services
        .iter()
        .map(|s| ("T1", *s, "2023-06", "10", "PAL", None))
        .collect();
    let s = score(
        "azure_infrastructure",
        M,
        D,
        &Data {
            acr,
            ..Data::default()
        },
    );
    assert_eq!(vp(&s, "deployments"), (Some(d("6")), d("10")));
}

// ------------------------------------------------------------------ Modern Work

fn mw(lic: Vec<Lic<'_>>, certs: Vec<Cert<'_>>) -> AreaScore {
    score(
        "modern_work",
        M,
        D,
        &Data {
            lic,
            certs,
            ..Data::default()
        },
    )
}

fn track<'s>(s: &'s AreaScore, t: &str) -> &'s TrackScore {
    s.tracks.iter().find(|x| x.track == t).unwrap()
}

fn tvp(s: &AreaScore, t: &str, id: &str) -> (Option<Decimal>, Decimal) {
    let m = track(s, t).metrics.iter().find(|m| m.id == id).unwrap();
    (m.value, m.points)
}

fn option_points(s: &AreaScore, t: &str, id: &str, option: &str) -> (Option<Decimal>, Decimal) {
    let m = track(s, t).metrics.iter().find(|m| m.id == id).unwrap();
    let o = m.options.iter().find(|o| o.id == option).unwrap();
    (o.value, o.points)
}

#[test]
fn modern_work_bands_at_11_300_and_301() {
    let lic = vec![
        (
            "T300",
            "Teams",
            "2023-12",
            "CPOR",
            300,
            0,
            Some("2020-01-01"),
        ),
        (
            "T301",
            "Teams",
            "2023-12",
            "CPOR",
            301,
            0,
            Some("2020-01-01"),
        ),
        (
            "T11",
            "Exchange",
            "2023-12",
            "CSP Tier 1",
            11,
            0,
            Some("2020-01-01"),
        ),
        (
            "T10",
            "Exchange",
            "2023-12",
            "CSP Tier 1",
            10,
            0,
            Some("2020-01-01"),
        ),
        // Two associations of one workload are not added: 200 + 200 < 301.
        (
            "TX",
            "Intune",
            "2023-12",
            "CPOR",
            200,
            0,
            Some("2020-01-01"),
        ),
        (
            "TX",
            "Intune",
            "2023-12",
            "DPOR",
            200,
            0,
            Some("2020-01-01"),
        ),
        // One tenant in both tracks: Teams 500 (Enterprise), Intune 50 (SMB).
        ("TB", "Teams", "2023-12", "CPOR", 500, 0, Some("2020-01-01")),
        ("TB", "Intune", "2023-12", "CPOR", 50, 0, Some("2020-01-01")),
    ];
    let s = mw(lic, vec![]);
    // Enterprise: T301, TB → 2 → 8 points.
    assert_eq!(
        tvp(&s, "enterprise", "net_customer_adds"),
        (Some(d("2")), d("8"))
    );
    // SMB (11 ≤ seats ≤ 300, CPOR or CSP): T300, T11, TX (200 CPOR), TB (Intune 50) → 4 → 8.
    assert_eq!(tvp(&s, "smb", "net_customer_adds"), (Some(d("4")), d("8")));
}

#[test]
fn modern_work_usage_growth_examples() {
    // Enterprise DPOR growth 2,000 → 15; CPOR growth 1,500 → 45 → 30.
    let lic = vec![
        (
            "E1",
            "Teams",
            "2023-12",
            "DPOR",
            5000,
            2000,
            Some("2020-01-01"),
        ),
        (
            "E2",
            "Teams",
            "2023-12",
            "CPOR",
            5000,
            1500,
            Some("2020-01-01"),
        ),
    ];
    let s = mw(lic, vec![]);
    assert_eq!(
        option_points(&s, "enterprise", "usage_growth", "dpor"),
        (Some(d("2000")), d("15"))
    );
    assert_eq!(
        option_points(&s, "enterprise", "usage_growth", "cpor"),
        (Some(d("1500")), d("30"))
    );
    assert_eq!(
        tvp(&s, "enterprise", "usage_growth"),
        (Some(d("1500")), d("30"))
    );
    // SMB CSP 1,000 → 15; CPOR 1,000 → 60 → 30.
    let lic = vec![
        (
            "S1",
            "Teams",
            "2023-12",
            "CSP Tier 2",
            300,
            1000,
            Some("2020-01-01"),
        ),
        (
            "S2",
            "Teams",
            "2023-12",
            "CPOR",
            300,
            1000,
            Some("2020-01-01"),
        ),
    ];
    let s = mw(lic, vec![]);
    assert_eq!(
        option_points(&s, "smb", "usage_growth", "csp"),
        (Some(d("1000")), d("15"))
    );
    assert_eq!(
        option_points(&s, "smb", "usage_growth", "cpor"),
        (Some(d("1000")), d("30"))
    );
}

#[test]
fn modern_work_new_associations_start_from_their_first_month() {
    // Associated 2023-06 (inside M-12 … M-1) with 800 active users then:
    // the baseline is 800, not 0 → growth 200 → 200/4000 × 30 = 1.5.
    let lic = vec![
        (
            "E1",
            "Teams",
            "2023-06",
            "DPOR",
            5000,
            800,
            Some("2023-06-10"),
        ),
        (
            "E1",
            "Teams",
            "2023-12",
            "DPOR",
            5000,
            1000,
            Some("2023-06-10"),
        ),
    ];
    let s = mw(lic.clone(), vec![]);
    assert_eq!(
        option_points(&s, "enterprise", "usage_growth", "dpor"),
        (Some(d("200")), d("1.5"))
    );
    // Associated in 2022-12 (= M-13): an old association, the usual baseline (0 in 2022-12).
    let mut old = lic;
    old[0].6 = Some("2022-12-31");
    old[1].6 = Some("2022-12-31");
    let s = mw(old, vec![]);
    assert_eq!(
        option_points(&s, "enterprise", "usage_growth", "dpor"),
        (Some(d("1000")), d("7.5"))
    );
}

#[test]
fn modern_work_deployments_examples_and_40_percent() {
    // Enterprise: 4 DPOR deployments → 10; 3 CPOR deployments → 15.
    let mut lic: Vec<Lic<'_>> = Vec::new();
    for t in ["D1", "D2", "D3", "D4"] {
        lic.push((
            t,
            "Exchange",
            "2023-12",
            "DPOR",
            1000,
            400,
            Some("2020-01-01"),
        ));
    }
    for t in ["C1", "C2", "C3"] {
        lic.push((
            t,
            "Exchange",
            "2023-12",
            "CPOR",
            1000,
            401,
            Some("2020-01-01"),
        ));
    }
    // 39.9 % active: not a deployment.
    lic.push((
        "X1",
        "Exchange",
        "2023-12",
        "CPOR",
        1000,
        399,
        Some("2020-01-01"),
    ));
    let s = mw(lic, vec![]);
    assert_eq!(
        option_points(&s, "enterprise", "deployments", "dpor"),
        (Some(d("4")), d("10"))
    );
    assert_eq!(
        option_points(&s, "enterprise", "deployments", "cpor"),
        (Some(d("3")), d("15"))
    );
    assert_eq!(tvp(&s, "enterprise", "deployments").1, d("15"));
    // SMB: CSP 4 → 10; CPOR 4 → 20.
    let mut lic: Vec<Lic<'_>> = Vec::new();
    for t in ["S1", "S2", "S3", "S4"] {
        lic.push((
            t,
            "Teams",
            "2023-12",
            "CSP Tier 1",
            100,
            40,
            Some("2020-01-01"),
        ));
    }
    for t in ["P1", "P2", "P3", "P4"] {
        lic.push((t, "Teams", "2023-12", "CPOR", 100, 40, Some("2020-01-01")));
    }
    let s = mw(lic, vec![]);
    assert_eq!(
        option_points(&s, "smb", "deployments", "csp"),
        (Some(d("4")), d("10"))
    );
    assert_eq!(
        option_points(&s, "smb", "deployments", "cpor"),
        (Some(d("4")), d("20"))
    );
}

#[test]
fn modern_work_new_tenants_already_active_are_not_deployments() {
    let lic = vec![
        // Associated 2023-03 at 50 % active (> 40 %): excluded.
        (
            "N1",
            "Teams",
            "2023-03",
            "CPOR",
            1000,
            500,
            Some("2023-03-01"),
        ),
        (
            "N1",
            "Teams",
            "2023-12",
            "CPOR",
            1000,
            500,
            Some("2023-03-01"),
        ),
        // Associated 2023-03 at exactly 40 % (not > 40 %): counts.
        (
            "N2",
            "Teams",
            "2023-03",
            "CPOR",
            1000,
            400,
            Some("2023-03-01"),
        ),
        (
            "N2",
            "Teams",
            "2023-12",
            "CPOR",
            1000,
            450,
            Some("2023-03-01"),
        ),
        // Associated 2022-12 (outside the last 12 months): counts.
        (
            "N3",
            "Teams",
            "2022-12",
            "CPOR",
            1000,
            100,
            Some("2022-12-01"),
        ),
        (
            "N3",
            "Teams",
            "2023-12",
            "CPOR",
            1000,
            900,
            Some("2022-12-01"),
        ),
    ];
    let s = mw(lic, vec![]);
    assert_eq!(
        option_points(&s, "enterprise", "deployments", "cpor").0,
        Some(d("2"))
    );
}

#[test]
fn modern_work_skilling_rates_by_track_and_smb_only_qualification() {
    let certs = vec![
        ("A", "Microsoft 365 Fundamentals", "2023-01-01"),
        ("B", "m365-teams-administrator-associate", "2023-01-01"),
        ("C", "Modern Desktop Administrator Associate", "2023-01-01"),
        (
            "D",
            "Teams Meetings and Meeting Rooms Technical Assessment",
            "2023-01-01",
        ),
    ];
    // SMB: 10 new tenants of 11–300 seats (20), CPOR growth 260 users
    // (15.6), four CPOR deployments at 50 % (20), skilling 10 + 15 = 80.6:
    // SMB qualifies; Enterprise has no tenant above 300 seats.
    let mut lic: Vec<Lic<'_>> = Vec::new();
    for t in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"] {
        let active = if t.len() == 1 && t < "5" { 50 } else { 10 };
        lic.push((
            t,
            "Teams",
            "2023-12",
            "CPOR",
            100,
            active,
            Some("2020-01-01"),
        ));
    }
    let s = mw(lic, certs);
    assert_eq!(
        tvp(&s, "smb", "intermediate_certifications"),
        (Some(d("3")), d("10"))
    );
    assert_eq!(
        tvp(&s, "enterprise", "intermediate_certifications"),
        (Some(d("3")), d("7.5"))
    );
    assert_eq!(
        tvp(&s, "smb", "advanced_certifications"),
        (Some(d("1")), d("15"))
    );
    assert_eq!(
        tvp(&s, "enterprise", "advanced_certifications"),
        (Some(d("1")), d("7.5"))
    );
    assert!(track(&s, "smb").qualified);
    assert!(!track(&s, "enterprise").qualified);
    assert!(s.qualified);
    assert_eq!(s.classification.as_deref(), Some("smb"));
}

// ------------------------------------------------------------------ Security

fn sec_people(
    date: &str,
    people: &[(&'static str, &[&'static str])],
) -> (Option<Decimal>, Decimal) {
    let mut data = Data::default();
    for (p, certs) in people {
        for c in *certs {
            data.certs.push((p, c, "2023-01-01"));
        }
    }
    vp(
        &score("security", "2023-11", date, &data),
        "intermediate_certifications",
    )
}

#[test]
fn security_skilling_examples_and_the_december_change() {
    let eng = "azure-security-engineer";
    let m365 = "m365-security-administrator";
    let soa = SOA;
    let arch = "cybersecurity-architect-expert";
    // A step 1, B step 2 (Microsoft 365 Security Administrator), C step 3 → 6.67.
    let first: &[(&str, &[&str])] = &[("A", &[eng]), ("B", &[m365]), ("C", &[arch])];
    assert_eq!(sec_people("2023-11-30", first), (Some(d("1")), d("6.67")));
    // The same on 2023-12-01: each step needs two people → 0.
    assert_eq!(sec_people("2023-12-01", first), (Some(d("1")), d("0")));
    // Before December, B as Security Operations Analyst also counts in step 3 → 13.33.
    assert_eq!(
        sec_people(
            "2023-11-30",
            &[("A", &[eng]), ("B", &[soa]), ("C", &[arch])]
        ),
        (Some(d("2")), d("13.33"))
    );
    // From December: A, B step 1; C, D step 2; E, F, G step 3 → 20.
    let later: &[(&str, &[&str])] = &[
        ("A", &[eng]),
        ("B", &[eng]),
        ("C", &[soa]),
        ("D", &[soa]),
        ("E", &[arch]),
        ("F", &["identity-and-access-administrator"]),
        (
            "G",
            &["information-protection-and-compliance-administrator"],
        ),
    ];
    assert_eq!(sec_people("2023-12-01", later), (Some(d("3")), d("20")));
    // From December the analyst no longer scores: C and D do not count in step 3.
    let analysts_only: &[(&str, &[&str])] =
        &[("A", &[eng]), ("B", &[eng]), ("C", &[soa]), ("D", &[soa])];
    assert_eq!(
        sec_people("2023-12-01", analysts_only),
        (Some(d("0")), d("0"))
    );
    // One person holding Security Engineer + Security Operations Analyst
    // satisfies all three steps alone before December.
    assert_eq!(
        sec_people("2023-11-30", &[("A", &[eng, soa])]),
        (Some(d("1")), d("6.67"))
    );
    // Six people → 40, seven → 40; 4 → 26.67, 5 → 33.33.
    let n = |k: usize| {
        let names = ["P1", "P2", "P3", "P4", "P5", "P6", "P7"];
        let mut v: Vec<(&str, &[&str])> =
            vec![("A", &[ENG]), ("B", &[ENG]), ("C", &[M365]), ("D", &[M365])];
        for p in &names[..k] {
            v.push((p, &[CSA]));
        }
        sec_people("2023-12-01", &v).1
    };
    assert_eq!(n(4), d("26.67"));
    assert_eq!(n(5), d("33.33"));
    assert_eq!(n(6), d("40"));
    assert_eq!(n(7), d("40"));
}

#[test]
fn security_sides_add_for_net_adds_and_deployments() {
    let data = Data {
        acr: vec![
            // Azure side: TTM ≥ $100 (PAL, a security service).
            ("A1", "Key Vault", "2023-01", "60", "PAL", None),
            ("A1", "Sentinel", "2023-12", "40", "PAL", None),
            ("A2", "Key Vault", "2023-12", "99.99", "PAL", None),
            ("A3", "Storage", "2023-12", "5000", "PAL", None), // not a security service
            ("A4", "Sentinel", "2023-12", "5000", "DPOR", None), // not PAL
            // Azure deployment: ≥ $12,000 over the TTM.
            ("A5", "Azure Firewall", "2023-06", "12000", "PAL", None),
        ],
        lic: vec![
            // M365 side: ≥ 25 paid seats in one workload, CPOR only.
            (
                "M1",
                "Microsoft Defender for Endpoint",
                "2023-12",
                "CPOR",
                25,
                4,
                None,
            ),
            ("M2", "Intune", "2023-12", "CPOR", 24, 24, None),
            ("M3", "Intune", "2023-12", "DPOR", 100, 100, None),
            // M365 deployment: 25 seats and 15 % active (4/25 = 16 %).
            ("M4", "Azure AD Premium", "2023-12", "CPOR", 100, 15, None),
        ],
        ..Data::default()
    };
    let s = score("security", M, D, &data);
    let adds = s.metric("net_customer_adds").unwrap();
    // Azure A1, A5 → 2; M365 M1, M4 → 2; 4 × 2 = 8.
    assert_eq!((adds.value, adds.points), (Some(d("4")), d("8")));
    assert_eq!(adds.parts[0].value, Some(d("2")));
    assert_eq!(adds.parts[1].value, Some(d("2")));
    let dep = s.metric("deployments").unwrap();
    // Azure A5; M365 M1 (4/25 = 16 %) and M4 (15 %) → 3 → 10.
    assert_eq!((dep.value, dep.points), (Some(d("3")), d("10")));
}

#[test]
fn security_negative_sides_are_floored_at_zero() {
    let data = Data {
        acr: vec![
            ("A1", "Key Vault", "2022-06", "500", "PAL", None),
            ("A2", "Key Vault", "2022-06", "500", "PAL", None),
        ],
        lic: vec![(
            "M1",
            "Intune",
            "2023-12",
            "CPOR",
            30,
            30,
            Some("2020-01-01"),
        )],
        ..Data::default()
    };
    let s = score("security", M, D, &data);
    let adds = s.metric("net_customer_adds").unwrap();
    assert_eq!(adds.parts[0].value, Some(d("-2")));
    assert_eq!((adds.value, adds.points), (Some(d("1")), d("2")));
}

#[test]
fn security_usage_growth_adds_the_sides_then_caps() {
    let data = Data {
        acr: vec![("A1", "Sentinel", "2023-12", "12500", "PAL", None)], // $12,500 → 10
        lic: vec![
            // min(active, paid): 700 active of 625 paid → 625 → 5 points.
            (
                "M1",
                "Intune",
                "2023-12",
                "CPOR",
                625,
                700,
                Some("2020-01-01"),
            ),
            // 1 user → 0.008 points: kept before truncation.
            ("M2", "Intune", "2023-12", "CPOR", 1, 1, Some("2020-01-01")),
        ],
        ..Data::default()
    };
    let s = score("security", M, D, &data);
    let g = s.metric("usage_growth").unwrap();
    assert_eq!(g.value, None);
    assert_eq!(g.points, d("15"));
    assert_eq!(g.parts[0].points, d("10"));
    assert_eq!(g.parts[1].points, d("5"));
    // $25,000 and 2,500 users: 20 + 20 capped at 20.
    let data = Data {
        acr: vec![("A1", "Sentinel", "2023-12", "30000", "PAL", None)],
        lic: vec![(
            "M1",
            "Intune",
            "2023-12",
            "CPOR",
            3000,
            3000,
            Some("2020-01-01"),
        )],
        ..Data::default()
    };
    assert_eq!(
        vp(&score("security", M, D, &data), "usage_growth").1,
        d("20")
    );
}

// ------------------------------------------------------------------ properties

/// Random acr rows (tenant, service, month back, tenths of a dollar,
/// association), licenses rows (tenant, workload, month back, association,
/// seats, active) and certifications (person, certification).
type ArbData = (
    Vec<(u8, u8, u8, i32, u8)>,
    Vec<(u8, u8, u8, u8, u16, u16)>,
    Vec<(u8, u8)>,
);

fn arb_data() -> impl Strategy<Value = ArbData> {
    (
        prop::collection::vec((0u8..5, 0u8..8, 0u8..26, -2000i32..20000, 0u8..5), 0..25),
        prop::collection::vec(
            (0u8..5, 0u8..8, 0u8..14, 0u8..5, 0u16..600, 0u16..600),
            0..25,
        ),
        prop::collection::vec((0u8..8, 0u8..40), 0..20),
    )
}

const SERVICES: [&str; 8] = [
    "Storage",
    "Key Vault",
    "Sentinel",
    "Virtual Machines",
    "Azure Firewall",
    "Functions",
    "Cosmos DB",
    "Azure Machine Learning",
];
const WORKLOADS: [&str; 8] = [
    "Teams",
    "Exchange",
    "Intune",
    "SharePoint",
    "Microsoft Defender for Endpoint",
    "Azure AD Premium",
    "Yammer",
    "Unknown Workload",
];
const ASSOCS: [&str; 5] = ["CPOR", "DPOR", "CSP Tier 1", "CSP Tier 2", "PAL"];
const OFFERS: [Option<&str>; 5] = [None, Some("Trial"), Some("PAYG"), None, Some("Support")];

fn all_certs() -> Vec<String> {
    let set = RulebookSet::builtin();
    let mut v: Vec<String> = set
        .area_versions()
        .iter()
        .flat_map(|a| a.certifications.iter().map(|c| c.id.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[allow(clippy::type_complexity)]
fn build(
    acr: &[(u8, u8, u8, i32, u8)],
    lic: &[(u8, u8, u8, u8, u16, u16)],
    certs: &[(u8, u8)],
    names: &[String],
) -> (Vec<String>, Vec<String>, Vec<(String, String)>) {
    let month = |k: u8| {
        Month::of(parse_date("2023-12-01").unwrap())
            .minus(u32::from(k))
            .to_string()
    };
    let a = acr
        .iter()
        .map(|r| {
            format!(
                "T{}|{}|{}|{}|{}",
                r.0,
                SERVICES[r.1 as usize],
                month(r.2),
                Decimal::new(i64::from(r.3), 1),
                r.4
            )
        })
        .collect();
    let l = lic
        .iter()
        .map(|r| {
            format!(
                "T{}|{}|{}|{}|{}|{}",
                r.0,
                WORKLOADS[r.1 as usize],
                month(r.2),
                ASSOCS[r.3 as usize],
                r.4,
                r.5
            )
        })
        .collect();
    let c = certs
        .iter()
        .map(|r| {
            (
                format!("person{}", r.0),
                names[r.1 as usize % names.len()].clone(),
            )
        })
        .collect();
    (a, l, c)
}

fn score_strings(
    area: &str,
    a: &[String],
    l: &[String],
    c: &[(String, String)],
    offers: &[u8],
) -> AreaScore {
    score(area, M, D, &data_of(a, l, c, offers))
}

fn data_of<'a>(
    a: &'a [String],
    l: &'a [String],
    c: &'a [(String, String)],
    offers: &[u8],
) -> Data<'a> {
    let acr: Vec<Acr<'_>> = a
        .iter()
        .zip(offers.iter().cycle())
        .map(|(s, o)| {
            let p: Vec<&str> = s.split('|').collect();
            (
                p[0],
                p[1],
                p[2],
                p[3],
                ASSOCS[p[4].parse::<usize>().unwrap()],
                OFFERS[*o as usize % 5],
            )
        })
        .collect();
    let lic: Vec<Lic<'_>> = l
        .iter()
        .map(|s| {
            let p: Vec<&str> = s.split('|').collect();
            (
                p[0],
                p[1],
                p[2],
                p[3],
                p[4].parse().unwrap(),
                p[5].parse().unwrap(),
                Some("2023-03-15"),
            )
        })
        .collect();
    let certs: Vec<Cert<'_>> = c
        .iter()
        .map(|(p, n)| (p.as_str(), n.as_str(), "2023-01-01"))
        .collect();
    Data { acr, lic, certs }
}

/// Every area scored alone ([`score_area_with`]) and together
/// ([`score_areas_with`]), serialised.
fn alone_and_together(data: &Data<'_>, detail: Detail) -> (Vec<String>, Vec<String>) {
    let set = RulebookSet::builtin();
    let ba = &set.versions()[0];
    let date = parse_date(D).unwrap();
    let areas: Vec<&AreaRulebook> = set.area_versions().iter().collect();
    let vocab = Vocabulary::new(&[ba], &areas).unwrap();
    let facts = builder(&vocab, ba, data).finish();
    let empty = Default::default();
    let pf = facts.partners.get("P").unwrap_or(&empty);
    let m: Month = M.parse().unwrap();
    let engines: Vec<(AreaEngine<'_>, Period)> = set
        .areas_in_force(date)
        .into_iter()
        .map(|rb| {
            (
                AreaEngine::new(rb, &vocab, ba),
                Period::with_calendar(&rb.calendar, m, date),
            )
        })
        .collect();
    assert_eq!(engines.len(), 5);
    let alone = engines
        .iter()
        .map(|(e, p)| serde_json::to_string(&score_area_with(e, "P", pf, *p, detail)).unwrap())
        .collect();
    let together = score_areas_with(&engines, "P", pf, detail)
        .iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect();
    (alone, together)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn scoring_every_area_together_gives_what_each_gives_alone(
        (acr, lic, certs) in arb_data(),
        offers in prop::collection::vec(0u8..5, 1..5),
    ) {
        let names = all_certs();
        let (a, l, c) = build(&acr, &lic, &certs, &names);
        let data = data_of(&a, &l, &c, &offers);
        for detail in [Detail::Full, Detail::Totals] {
            let (alone, together) = alone_and_together(&data, detail);
            prop_assert_eq!(alone, together);
        }
    }

    #[test]
    fn every_area_keeps_points_in_caps_and_totals_exact(
        (acr, lic, certs) in arb_data(),
        offers in prop::collection::vec(0u8..5, 1..5),
        extra in 0u8..40,
    ) {
        let names = all_certs();
        let (a, l, c) = build(&acr, &lic, &certs, &names);
        for area in ["azure_infrastructure", "azure_data_ai", "azure_digital_app_innovation", "modern_work", "security"] {
            let s = score_strings(area, &a, &l, &c, &offers);
            let check = |metrics: &[AreaMetric], total: Decimal, qualified: bool| {
                for m in metrics {
                    prop_assert!(m.points >= Decimal::ZERO && m.points <= m.max_points, "{area} {}", m.id);
                    prop_assert!(m.points.scale() <= 2);
                    for p in m.parts.iter().chain(&m.options) {
                        prop_assert!(p.points >= Decimal::ZERO && p.points <= p.max_points);
                    }
                }
                let sum: Decimal = metrics.iter().map(|m| m.points).sum();
                prop_assert_eq!(sum.normalize(), total);
                let q = total >= d("70") && metrics.iter().all(|m| m.points > Decimal::ZERO);
                prop_assert_eq!(q, qualified);
                Ok(())
            };
            if s.tracks.is_empty() {
                check(&s.metrics, s.total_points, s.qualified)?;
            } else {
                for t in &s.tracks {
                    check(&t.metrics, t.total_points, t.qualified)?;
                }
                prop_assert_eq!(s.qualified, s.tracks.iter().any(|t| t.qualified));
            }
            // One more certified person never lowers a skilling metric.
            let mut c2 = c.clone();
            c2.push(("newcomer".to_string(), names[extra as usize % names.len()].clone()));
            let s2 = score_strings(area, &a, &l, &c2, &offers);
            let skilling = |s: &AreaScore| -> Vec<Decimal> {
                let ms: Vec<&AreaMetric> = if s.tracks.is_empty() {
                    s.metrics.iter().collect()
                } else {
                    s.tracks.iter().flat_map(|t| t.metrics.iter()).collect()
                };
                ms.into_iter().filter(|m| m.category == "skilling").map(|m| m.points).collect()
            };
            for (before, after) in skilling(&s).into_iter().zip(skilling(&s2)) {
                prop_assert!(after >= before, "{area}: {before} → {after}");
            }
        }
    }
}

#[test]
fn tracks_options_and_parts_are_each_named_once() {
    // They key the score object's `tracks`, `options` and `parts`.
    let text = |area: &str| {
        crate::rulebook::AREA_BUILTIN
            .iter()
            .find(|(p, _)| p.starts_with(area))
            .unwrap()
            .1
    };
    let mw = text("modern-work");
    let sec = text("security");
    for (area, t) in [("modern-work", mw), ("security", sec)] {
        AreaRulebook::from_toml(t, area).unwrap();
    }
    let cases = [
        (
            mw.replacen(
                r#"tracks = ["enterprise", "smb"]"#,
                r#"tracks = ["enterprise", "smb", "smb"]"#,
                1,
            ),
            "track 'smb' is listed twice",
        ),
        (
            mw.replacen(
                "[[metric.option]]\nid = \"dpor\"",
                "[[metric.option]]\nid = \"cpor\"",
                1,
            ),
            "option 'cpor' is defined twice",
        ),
        (
            sec.replacen(
                "[[metric.part]]\nid = \"microsoft_365\"",
                "[[metric.part]]\nid = \"azure\"",
                1,
            ),
            "part 'azure' is defined twice",
        ),
    ];
    for (t, want) in cases {
        let e = AreaRulebook::from_toml(&t, "test").unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}
