//! One check per rule and boundary of rules.md, through the builder and the scorer.

use super::*;
use crate::calendar::parse_date;
use crate::facts::{CertificationRow, FactsBuilder, MonthFilter, RevenueRow, UsageRow};
use crate::rulebook::RulebookSet;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A partner built row by row, scored at a month (or a date).
struct Case {
    rb: Rulebook,
    b: Vec<Row>,
}

#[derive(Clone, Debug)]
enum Row {
    Rev(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ),
    Use(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ),
    Cert(
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    ),
}

fn case() -> Case {
    Case {
        rb: RulebookSet::builtin().versions()[0].clone(),
        b: Vec::new(),
    }
}

impl Case {
    /// Revenue: tenant, workload, month, amount, association.
    fn rev(
        mut self,
        t: &'static str,
        w: &'static str,
        m: &'static str,
        a: &'static str,
        assoc: &'static str,
    ) -> Self {
        self.b.push(Row::Rev(t, w, m, a, assoc));
        self
    }
    /// Usage: tenant, workload, month, quantity, association.
    fn usage(
        mut self,
        t: &'static str,
        w: &'static str,
        m: &'static str,
        q: &'static str,
        assoc: &'static str,
    ) -> Self {
        self.b.push(Row::Use(t, w, m, q, assoc));
        self
    }
    /// Certification: person, certification, earned, expires.
    fn cert(
        mut self,
        p: &'static str,
        c: &'static str,
        earned: &'static str,
        expires: Option<&'static str>,
    ) -> Self {
        self.b.push(Row::Cert(p, c, earned, expires));
        self
    }
    /// `n` Enterprise-making pairs (> $5,000 in both months of M = 2023-11).
    fn enterprise(mut self, n: usize) -> Self {
        const T: [&str; 8] = ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"];
        for t in T.iter().take(n) {
            self = self
                .rev(t, "Finance", "2023-10", "6000", "DPOR")
                .rev(t, "Finance", "2022-10", "6000", "DPOR");
        }
        self
    }
    fn score_period(&self, period: Period) -> PartnerScore {
        let mut b = FactsBuilder::new(&self.rb, MonthFilter::All, true);
        for (i, r) in self.b.iter().enumerate() {
            let line = i as u64 + 2;
            match *r {
                Row::Rev(t, w, m, a, assoc) => b.add_revenue(&RevenueRow {
                    partner_id: "P",
                    customer_tenant_id: t,
                    customer_name: None,
                    subscription_id: Some("sub-1"),
                    workload: w,
                    month: m.parse().unwrap(),
                    revenue_usd: d(a),
                    association: assoc,
                    line,
                }),
                Row::Use(t, w, m, q, assoc) => b.add_usage(&UsageRow {
                    partner_id: "P",
                    customer_tenant_id: t,
                    customer_name: None,
                    workload: w,
                    month: m.parse().unwrap(),
                    quantity: d(q),
                    association: assoc,
                    line,
                }),
                Row::Cert(p, c, e, x) => b.add_certification(&CertificationRow {
                    partner_id: "P",
                    person_id: p,
                    person_name: None,
                    certification: c,
                    earned_on: parse_date(e).unwrap(),
                    expires_on: x.map(|x| parse_date(x).unwrap()),
                    line,
                }),
            }
        }
        let facts = b.finish();
        let empty = PartnerFacts::default();
        let facts = facts.partners.get("P").unwrap_or(&empty);
        let full = score_partner(&self.rb, "P", facts, period);
        // Every case also checks that scoring without the explanation gives
        // the same numbers, and no items.
        let totals = score_partner_with(&self.rb, "P", facts, period, Detail::Totals);
        assert_eq!(
            crate::contract::score_object(&totals),
            crate::contract::score_object(&full)
        );
        assert_eq!(
            totals.classification_detail.counted_pairs,
            full.classification_detail.counted_pairs
        );
        assert!(totals.classification_detail.pairs.is_empty());
        for (t, f) in totals.metrics.iter().zip(&full.metrics) {
            assert_eq!((t.value, t.points), (f.value, f.points));
            match (&t.detail, &f.detail) {
                (
                    MetricDetail::PairGrowth {
                        latest_count: tl,
                        baseline_count: tb,
                        items,
                        excluded,
                        ..
                    },
                    MetricDetail::PairGrowth {
                        latest_count: fl,
                        baseline_count: fb,
                        ..
                    },
                ) => {
                    assert_eq!((tl, tb), (fl, fb));
                    assert!(items.is_empty() && excluded.is_empty());
                }
                (
                    MetricDetail::CertifiedPeople { items, .. },
                    MetricDetail::CertifiedPeople { .. },
                ) => assert!(items.is_empty()),
                (
                    MetricDetail::ConsumptionGrowth {
                        prerequisite_met: t,
                        items,
                        excluded,
                        ..
                    },
                    MetricDetail::ConsumptionGrowth {
                        prerequisite_met: f,
                        ..
                    },
                ) => {
                    assert_eq!(t, f);
                    assert!(items.is_empty() && excluded.is_empty());
                }
                _ => panic!("the same metric has the same shape"),
            }
        }
        full
    }
    fn at(&self, month: &str) -> PartnerScore {
        self.score_period(Period::for_month(&self.rb, month.parse().unwrap()))
    }
}

fn metric<'a>(s: &'a PartnerScore, id: &str) -> &'a MetricScore {
    s.metric(id).unwrap()
}

/// (value, points) of a metric, as text.
fn vp(s: &PartnerScore, id: &str) -> (String, String) {
    let m = metric(s, id);
    (
        m.value.map_or("none".into(), |v| v.normalize().to_string()),
        m.points.normalize().to_string(),
    )
}

// ------------------------------------------------------------------ periods

#[test]
fn month_sets_latest_baseline_and_evaluation_date() {
    let s = case().at("2023-11");
    assert_eq!(s.period.latest_month.to_string(), "2023-10");
    assert_eq!(s.period.baseline_month.to_string(), "2022-10");
    assert_eq!(s.period.evaluation_date.to_string(), "2023-11-30");
}

#[test]
fn date_before_the_20th_scores_the_previous_month() {
    let c = case();
    let p = Period::for_date(&c.rb, parse_date("2023-11-19").unwrap());
    assert_eq!(p.month.to_string(), "2023-10");
    assert_eq!(p.evaluation_date.to_string(), "2023-11-19");
    let p = Period::for_date(&c.rb, parse_date("2023-11-20").unwrap());
    assert_eq!(p.month.to_string(), "2023-11");
    let p = Period::for_date(&c.rb, parse_date("2024-01-05").unwrap());
    assert_eq!(p.month.to_string(), "2023-12");
    assert_eq!(p.baseline_month.to_string(), "2022-11");
}

// ------------------------------------------------------------------ classification

#[test]
fn five_pairs_above_5000_in_both_months_make_enterprise() {
    assert_eq!(
        case().enterprise(5).at("2023-11").classification,
        Classification::Enterprise
    );
    assert_eq!(
        case().enterprise(4).at("2023-11").classification,
        Classification::Smb
    );
}

#[test]
fn classification_needs_more_than_5000_in_both_months() {
    let c = case()
        .enterprise(4)
        .rev("X", "Sales", "2023-10", "5000", "DPOR")
        .rev("X", "Sales", "2022-10", "9000", "DPOR");
    assert_eq!(
        c.at("2023-11").classification,
        Classification::Smb,
        "exactly 5,000 is not more than 5,000"
    );
    let c = case()
        .enterprise(4)
        .rev("X", "Sales", "2023-10", "5000.01", "DPOR")
        .rev("X", "Sales", "2022-10", "5000.01", "DPOR");
    assert_eq!(c.at("2023-11").classification, Classification::Enterprise);
    let c = case()
        .enterprise(4)
        .rev("X", "Sales", "2023-10", "9000", "DPOR");
    let s = c.at("2023-11");
    assert_eq!(s.classification, Classification::Smb, "latest month only");
    assert_eq!(s.classification_detail.counted_pairs, 4);
    assert!(
        s.classification_detail
            .pairs
            .iter()
            .any(|p| p.tenant_id == "X" && !p.counted)
    );
}

#[test]
fn classification_uses_the_net_adds_filter() {
    // PAL revenue and unknown workloads do not make a pair.
    let c = case()
        .enterprise(4)
        .rev("X", "Sales", "2023-10", "9000", "PAL")
        .rev("X", "Sales", "2022-10", "9000", "PAL")
        .rev("Y", "Azure", "2023-10", "9000", "DPOR")
        .rev("Y", "Azure", "2022-10", "9000", "DPOR");
    assert_eq!(c.at("2023-11").classification, Classification::Smb);
}

#[test]
fn enterprise_applies_to_skilling_too() {
    let s = case()
        .enterprise(5)
        .cert("a", "data-analyst-associate", "2023-01-01", None)
        .at("2023-11");
    assert_eq!(
        vp(&s, "intermediate_certifications"),
        ("1".into(), "1".into())
    );
    let s = case()
        .cert("a", "data-analyst-associate", "2023-01-01", None)
        .at("2023-11");
    assert_eq!(
        vp(&s, "intermediate_certifications"),
        ("1".into(), "4".into())
    );
}

// ------------------------------------------------------------------ net customer adds

#[test]
fn smb_pair_qualifies_at_250() {
    let s = case()
        .rev("A", "Sales", "2023-10", "250", "CSP Tier 1")
        .rev("B", "Sales", "2023-10", "249.99", "CSP Tier 1")
        .at("2023-11");
    assert_eq!(vp(&s, "net_customer_adds"), ("1".into(), "3".into()));
}

#[test]
fn enterprise_pair_qualifies_at_1500() {
    let s = case()
        .enterprise(5)
        .rev("A", "Sales", "2023-10", "1500", "CSP Tier 1")
        .rev("B", "Sales", "2023-10", "1499.99", "CSP Tier 1")
        .at("2023-11");
    // The five Enterprise pairs count in both months (net 0), plus A.
    assert_eq!(vp(&s, "net_customer_adds"), ("1".into(), "3".into()));
}

#[test]
fn revenue_sums_per_tenant_workload_month_with_credits() {
    let s = case()
        .rev("A", "Sales", "2023-10", "200", "DPOR")
        .rev("A", "Sales", "2023-10", "100", "CSP Tier 2")
        .rev("B", "Sales", "2023-10", "400", "DPOR")
        .rev("B", "Sales", "2023-10", "-200", "DPOR")
        .at("2023-11");
    assert_eq!(vp(&s, "net_customer_adds"), ("1".into(), "3".into()));
    let MetricDetail::PairGrowth { items, .. } = &metric(&s, "net_customer_adds").detail else {
        panic!()
    };
    let b = items.iter().find(|i| i.tenant_id == "B").unwrap();
    assert_eq!((b.amount, b.counted, b.rows), (d("200"), false, 2));
    assert_eq!(b.reason, Some(Reason::BelowThreshold));
    assert_eq!(
        b.lines,
        vec![4, 5],
        "rows 3 and 4 of the case, lines counted from 2"
    );
}

#[test]
fn net_adds_are_latest_minus_baseline_clamped() {
    let mut c = case();
    for t in ["A", "B", "C", "D", "E", "F", "G"] {
        c = c.rev(t, "Power BI", "2023-10", "300", "DPOR");
    }
    assert_eq!(
        vp(&c.at("2023-11"), "net_customer_adds"),
        ("7".into(), "15".into())
    );
    let c = case()
        .rev("A", "Power BI", "2022-10", "300", "DPOR")
        .rev("B", "Power BI", "2022-10", "300", "DPOR");
    assert_eq!(
        vp(&c.at("2023-11"), "net_customer_adds"),
        ("-2".into(), "0".into())
    );
}

#[test]
fn revenue_association_and_workload_filters() {
    let s = case()
        .rev("A", "Sales", "2023-10", "300", "PAL")
        .rev("B", "Sales", "2023-10", "300", "CPOR OSU")
        .rev("C", "Azure", "2023-10", "300", "DPOR")
        .rev("D", "Sales", "2023-10", "300", "Some Link")
        .rev(
            "E",
            "Non-workload specific",
            "2023-10",
            "300",
            "cpor_revrec_performance",
        )
        .at("2023-11");
    assert_eq!(vp(&s, "net_customer_adds"), ("1".into(), "3".into()));
    let MetricDetail::PairGrowth { excluded, .. } = &metric(&s, "net_customer_adds").detail else {
        panic!()
    };
    let reason = |t: &str| {
        excluded
            .iter()
            .find(|i| i.tenant_id == t)
            .unwrap()
            .reason
            .clone()
            .unwrap()
    };
    let ex = |e| Reason::Excluded { exclusion: e };
    assert_eq!(reason("A"), ex(Exclusion::AssociationNotEligible));
    assert_eq!(reason("B"), ex(Exclusion::AssociationNotEligible));
    assert_eq!(reason("C"), ex(Exclusion::UnknownWorkload));
    assert_eq!(reason("D"), ex(Exclusion::UnknownAssociation));
}

#[test]
fn other_months_do_not_count() {
    let s = case()
        .rev("A", "Sales", "2023-11", "300", "DPOR")
        .rev("B", "Sales", "2023-09", "300", "DPOR")
        .at("2023-11");
    assert_eq!(vp(&s, "net_customer_adds"), ("0".into(), "0".into()));
}

// ------------------------------------------------------------------ skilling

#[test]
fn intermediate_counts_distinct_people_capped() {
    let mut c = case();
    const P: [&str; 7] = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"];
    for p in P {
        c = c.cert(p, "data-analyst-associate", "2023-01-01", None);
    }
    c = c.cert(
        "p1",
        "power-platform-developer-associate",
        "2023-02-01",
        None,
    );
    let s = c.at("2023-11");
    assert_eq!(
        vp(&s, "intermediate_certifications"),
        ("7".into(), "20".into()),
        "SMB 4 x 7 = 28 capped at 20"
    );
    let MetricDetail::CertifiedPeople { items, .. } =
        &metric(&s, "intermediate_certifications").detail
    else {
        panic!()
    };
    assert_eq!(
        items
            .iter()
            .filter(|i| i.reason == Some(Reason::PersonAlreadyCounted))
            .count(),
        1
    );
}

#[test]
fn advanced_enterprise_seven_people_get_the_full_15() {
    let mut c = case().enterprise(5);
    const P: [&str; 7] = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"];
    for p in &P[..6] {
        c = c.cert(
            p,
            "power-platform-solution-architect-expert",
            "2023-01-01",
            None,
        );
    }
    assert_eq!(
        vp(&c.at("2023-11"), "advanced_certifications"),
        ("6".into(), "12.84".into())
    );
    c = c.cert(
        P[6],
        "power-platform-solution-architect-expert",
        "2023-01-01",
        None,
    );
    assert_eq!(
        vp(&c.at("2023-11"), "advanced_certifications"),
        ("7".into(), "15".into()),
        "7 x 2.14 = 14.98 -> 15"
    );
}

#[test]
fn advanced_smb_two_people_get_15() {
    let c = case().cert(
        "p1",
        "d365-supply-chain-management-functional-consultant-expert",
        "2023-01-01",
        None,
    );
    assert_eq!(
        vp(&c.at("2023-11"), "advanced_certifications"),
        ("1".into(), "7.5".into())
    );
    let c = c.cert(
        "p2",
        "d365-finance-and-operations-apps-solution-architect-expert",
        "2023-01-01",
        None,
    );
    assert_eq!(
        vp(&c.at("2023-11"), "advanced_certifications"),
        ("2".into(), "15".into())
    );
}

#[test]
fn one_person_counts_in_both_skilling_metrics() {
    let s = case()
        .cert("p1", "data-analyst-associate", "2023-01-01", None)
        .cert(
            "p1",
            "power-platform-solution-architect-expert",
            "2023-01-01",
            None,
        )
        .at("2023-11");
    assert_eq!(vp(&s, "intermediate_certifications").0, "1");
    assert_eq!(vp(&s, "advanced_certifications").0, "1");
}

#[test]
fn held_on_the_evaluation_date() {
    let c = case()
        .cert("earned-on-d", "data-analyst-associate", "2023-11-30", None)
        .cert(
            "earned-after-d",
            "data-analyst-associate",
            "2023-12-01",
            None,
        )
        .cert(
            "expires-on-d",
            "data-analyst-associate",
            "2022-01-01",
            Some("2023-11-30"),
        )
        .cert(
            "expired",
            "data-analyst-associate",
            "2022-01-01",
            Some("2023-11-29"),
        );
    let s = c.at("2023-11");
    assert_eq!(vp(&s, "intermediate_certifications").0, "2");
    let MetricDetail::CertifiedPeople { items, .. } =
        &metric(&s, "intermediate_certifications").detail
    else {
        panic!()
    };
    let reason = |p: &str| {
        items
            .iter()
            .find(|i| i.person_id == p)
            .unwrap()
            .reason
            .clone()
    };
    assert_eq!(reason("earned-on-d"), None);
    assert_eq!(reason("expires-on-d"), None);
    assert_eq!(reason("earned-after-d"), Some(Reason::EarnedAfterDate));
    assert_eq!(reason("expired"), Some(Reason::Expired));
}

#[test]
fn retirement_windows_end_on_their_last_day() {
    let cs = case().cert(
        "p",
        "d365-functional-consultant-customer-service",
        "2022-01-01",
        None,
    );
    assert_eq!(vp(&cs.at("2024-06"), "intermediate_certifications").0, "1");
    let s = cs.at("2024-07");
    assert_eq!(vp(&s, "intermediate_certifications").0, "0");
    let MetricDetail::CertifiedPeople { items, .. } =
        &metric(&s, "intermediate_certifications").detail
    else {
        panic!()
    };
    assert_eq!(
        items[0].reason,
        Some(Reason::Retired {
            eligible_until: parse_date("2024-06-30").unwrap()
        })
    );
    let maker = case().cert("p", "power-platform-app-maker", "2022-01-01", None);
    assert_eq!(
        vp(&maker.at("2023-11"), "intermediate_certifications").0,
        "1"
    );
    assert_eq!(
        vp(&maker.at("2023-12"), "intermediate_certifications").0,
        "0"
    );
    let arch = case().cert(
        "p",
        "power-apps-and-d365-solution-architect-expert",
        "2020-01-01",
        None,
    );
    assert_eq!(vp(&arch.at("2023-06"), "advanced_certifications").0, "1");
    assert_eq!(vp(&arch.at("2023-07"), "advanced_certifications").0, "0");
}

#[test]
fn unknown_certifications_count_for_nothing() {
    let s = case()
        .cert(
            "p",
            "Microsoft Certified: Azure Fundamentals",
            "2022-01-01",
            None,
        )
        .at("2023-11");
    assert_eq!(vp(&s, "intermediate_certifications").0, "0");
    let MetricDetail::CertifiedPeople { items, .. } =
        &metric(&s, "intermediate_certifications").detail
    else {
        panic!()
    };
    assert_eq!(items[0].reason, Some(Reason::UnknownCertification));
}

// ------------------------------------------------------------------ usage

#[test]
fn mcv_is_quantity_times_rate_after_roll_up() {
    let s = case()
        .usage("A", "Sales", "2023-10", "20", "DPOR")
        .usage("A", "Customer Service", "2023-10", "5", "CSP Tier 1")
        .usage("B", "Customer Insights Partner", "2023-10", "25000", "PAL")
        .usage("C", "Business Central", "2023-10", "4.999", "DPOR")
        .at("2023-11");
    // A: (20 + 5) x 200 = 5,000 (one pair, SMB: a deployment); B: 25,000 x 0.2 = 5,000; C: 4,999.
    assert_eq!(vp(&s, "deployments"), ("2".into(), "8".into()));
    let m = metric(&s, "usage_growth");
    let MetricDetail::ConsumptionGrowth {
        latest_mcv, items, ..
    } = &m.detail
    else {
        panic!()
    };
    assert_eq!(*latest_mcv, d("14999"));
    let a = items.iter().find(|i| i.tenant_id == "A").unwrap();
    assert_eq!(a.workload, "Customer Engagement");
    assert_eq!(a.products.len(), 2);
}

#[test]
fn usage_association_depends_on_the_family() {
    let s = case()
        .usage("A", "Power BI", "2023-10", "100", "DPOR")
        .usage("B", "Power BI", "2023-10", "100", "PAL")
        .usage("C", "Business Central", "2023-10", "10", "PAL")
        .usage("D", "Business Central", "2023-10", "10", "CSP Tier 2")
        .usage("E", "Business Central", "2023-10", "10", "CPOR OSU")
        .usage("F", "Customer Insights", "2023-10", "50000", "DPOR")
        .at("2023-11");
    let MetricDetail::ConsumptionGrowth {
        latest_mcv,
        excluded,
        ..
    } = &metric(&s, "usage_growth").detail
    else {
        panic!()
    };
    assert_eq!(*latest_mcv, d("40000"), "B 20,000 + D 10,000 + E 10,000");
    assert_eq!(excluded.len(), 3);
    assert!(excluded.iter().all(|i| i.reason
        == Some(Reason::Excluded {
            exclusion: Exclusion::AssociationNotEligible
        })));
}

#[test]
fn portals_usage_is_skipped() {
    let s = case()
        .usage("A", "Portals", "2023-10", "100", "PAL")
        .at("2023-11");
    let MetricDetail::ConsumptionGrowth {
        latest_mcv,
        excluded,
        ..
    } = &metric(&s, "usage_growth").detail
    else {
        panic!()
    };
    assert!(latest_mcv.is_zero());
    assert_eq!(
        excluded[0].reason,
        Some(Reason::Excluded {
            exclusion: Exclusion::NoRate
        })
    );
}

#[test]
fn usage_growth_prerequisite_at_25000_smb() {
    // Baseline exactly 25,000 (125 MAU x 200), latest 30,000: +20 %.
    let c = case()
        .usage("A", "Power Apps", "2022-10", "125", "PAL")
        .usage("A", "Power Apps", "2023-10", "150", "PAL");
    assert_eq!(
        vp(&c.at("2023-11"), "usage_growth"),
        ("20".into(), "20".into())
    );
    let c = case()
        .usage("A", "Power Apps", "2022-10", "124.999", "PAL")
        .usage("A", "Power Apps", "2023-10", "150", "PAL");
    let s = c.at("2023-11");
    assert_eq!(vp(&s, "usage_growth").1, "0");
    let MetricDetail::ConsumptionGrowth {
        prerequisite_met, ..
    } = &metric(&s, "usage_growth").detail
    else {
        panic!()
    };
    assert!(!prerequisite_met);
}

#[test]
fn usage_growth_prerequisite_at_50000_enterprise() {
    let c = case()
        .enterprise(5)
        .usage("A", "Business Central", "2022-10", "50", "DPOR")
        .usage("A", "Business Central", "2023-10", "55", "DPOR");
    assert_eq!(
        vp(&c.at("2023-11"), "usage_growth"),
        ("10".into(), "10".into())
    );
    let c = case()
        .enterprise(5)
        .usage("A", "Business Central", "2022-10", "49.999", "DPOR")
        .usage("A", "Business Central", "2023-10", "55", "DPOR");
    assert_eq!(vp(&c.at("2023-11"), "usage_growth").1, "0");
}

#[test]
fn usage_growth_truncates_and_clamps() {
    // 30,000 -> 33,703.7 : 12.3456...% -> 12.34
    let c = case()
        .usage("A", "Power BI", "2022-10", "150", "PAL")
        .usage("A", "Power BI", "2023-10", "168.5185", "PAL");
    assert_eq!(
        vp(&c.at("2023-11"), "usage_growth"),
        ("12.34".into(), "12.34".into())
    );
    // 30,000 -> 26,346.6: -12.178% -> -12.17 (toward zero), 0 points.
    let c = case()
        .usage("A", "Power BI", "2022-10", "150", "PAL")
        .usage("A", "Power BI", "2023-10", "131.733", "PAL");
    assert_eq!(
        vp(&c.at("2023-11"), "usage_growth"),
        ("-12.17".into(), "0".into())
    );
    // Doubling: 100 %, capped at 30.
    let c = case()
        .usage("A", "Power BI", "2022-10", "150", "PAL")
        .usage("A", "Power BI", "2023-10", "300", "PAL");
    assert_eq!(
        vp(&c.at("2023-11"), "usage_growth"),
        ("100".into(), "30".into())
    );
}

#[test]
fn usage_growth_is_undefined_on_a_zero_baseline() {
    let s = case()
        .usage("A", "Power BI", "2023-10", "150", "PAL")
        .at("2023-11");
    assert_eq!(vp(&s, "usage_growth"), ("none".into(), "0".into()));
}

#[test]
fn exact_truncation_of_repeating_fractions() {
    // 1/3 growth: 33.333...% -> 33.33 ; 2/3: 66.666...% -> 66.66 (never rounded up).
    assert_eq!(percent_growth(d("40000"), d("30000"), 2), Some(d("33.33")));
    assert_eq!(percent_growth(d("50000"), d("30000"), 2), Some(d("66.66")));
    assert_eq!(percent_growth(d("10000"), d("30000"), 2), Some(d("-66.66")));
    assert_eq!(percent_growth(d("1"), d("0"), 2), None);
}

#[test]
fn deployments_thresholds_by_class() {
    let c = case()
        .enterprise(5)
        .usage("A", "Business Central", "2023-10", "10", "DPOR")
        .usage("B", "Business Central", "2023-10", "9.999", "DPOR");
    assert_eq!(
        vp(&c.at("2023-11"), "deployments"),
        ("1".into(), "4".into())
    );
    let mut c = case();
    for t in ["A", "B", "C", "D", "E", "F"] {
        c = c.usage(t, "Power Automate", "2023-10", "25", "PAL");
    }
    c = c.usage("Z", "Power Automate", "2022-10", "25", "PAL");
    assert_eq!(
        vp(&c.at("2023-11"), "deployments"),
        ("5".into(), "20".into())
    );
    let c = case().usage("Z", "Power Automate", "2022-10", "25", "PAL");
    assert_eq!(
        vp(&c.at("2023-11"), "deployments"),
        ("-1".into(), "0".into())
    );
}

// ------------------------------------------------------------------ total and qualification

fn strong_smb() -> Case {
    let mut c = case();
    for t in ["A", "B", "C", "D", "E"] {
        c = c.rev(t, "Sales", "2023-10", "300", "DPOR");
    }
    for p in ["p1", "p2", "p3", "p4", "p5"] {
        c = c.cert(p, "data-analyst-associate", "2023-01-01", None);
    }
    c = c
        .cert(
            "p1",
            "power-platform-solution-architect-expert",
            "2023-01-01",
            None,
        )
        .cert(
            "p2",
            "power-platform-solution-architect-expert",
            "2023-01-01",
            None,
        );
    c.usage("A", "Power Apps", "2022-10", "125", "PAL")
        .usage("A", "Power Apps", "2023-10", "200", "PAL")
        .usage("B", "Power Apps", "2023-10", "25", "PAL")
}

#[test]
fn total_and_qualification() {
    let s = strong_smb().at("2023-11");
    // adds 15, intermediate 20, advanced 15, growth (45,000 vs 25,000 = 80 %) 30, deployments 2 - 1 = 1: 4.
    assert_eq!(s.total_points, d("84"));
    assert!(s.qualified);
    let sum: Decimal = s.metrics.iter().map(|m| m.points).sum();
    assert_eq!(sum, s.total_points);
}

#[test]
fn a_zero_metric_blocks_qualification() {
    let s = strong_smb()
        .usage("B", "Power Apps", "2022-10", "25", "PAL")
        .at("2023-11");
    assert_eq!(vp(&s, "deployments").1, "0");
    assert!(s.total_points >= d("70"));
    assert!(!s.qualified);
    assert_eq!(s.zero_metrics(), vec!["deployments"]);
}

#[test]
fn an_empty_partner_scores_zero() {
    let s = case().at("2023-11");
    assert_eq!(s.total_points, Decimal::ZERO);
    assert!(!s.qualified);
    assert_eq!(s.classification, Classification::Smb);
}

// ------------------------------------------------------------------ properties

mod properties {
    use super::*;
    use proptest::prelude::*;

    const WORKLOADS: [&str; 4] = ["Sales", "Power BI", "Finance", "Azure"];
    const ASSOC: [&str; 4] = ["DPOR", "CSP Tier 1", "PAL", "CPOR OSU"];
    const USAGE: [&str; 5] = [
        "Sales",
        "Power BI",
        "Business Central",
        "Customer Insights",
        "Portals",
    ];
    const CERTS: [&str; 5] = [
        "data-analyst-associate",
        "power-platform-app-maker",
        "power-platform-solution-architect-expert",
        "d365-functional-consultant-customer-service",
        "AZ-900",
    ];
    const TENANTS: [&str; 6] = ["T1", "T2", "T3", "T4", "T5", "T6"];
    const PEOPLE: [&str; 10] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    const MONTHS: [&str; 2] = ["2023-10", "2022-10"];

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    prop_compose! {
        fn rev_row()(t in 0..6usize, w in 0..4usize, m in 0..2usize, cents in -50_000i64..1_000_000, a in 0..4usize)
            -> Row {
            Row::Rev(TENANTS[t], WORKLOADS[w], MONTHS[m], leak(format!("{}.{:02}", cents / 100, (cents % 100).abs())), ASSOC[a])
        }
    }
    prop_compose! {
        fn usage_row()(t in 0..6usize, w in 0..5usize, m in 0..2usize, q in 0u32..200_000, a in 0..4usize) -> Row {
            Row::Use(TENANTS[t], USAGE[w], MONTHS[m], leak(format!("{}.{}", q / 10, q % 10)), ASSOC[a])
        }
    }
    prop_compose! {
        fn cert_row()(p in 0..10usize, c in 0..5usize, e in 0..900i64, x in proptest::option::of(0..900i64)) -> Row {
            let base = parse_date("2022-01-01").unwrap();
            let day = |n: i64| leak(base.checked_add(jiff::Span::new().days(n)).unwrap().to_string());
            Row::Cert(PEOPLE[p], CERTS[c], day(e), x.map(|x| day(e + x)))
        }
    }

    fn build(rows: Vec<Row>) -> Case {
        let mut c = case();
        c.b = rows;
        c
    }

    fn rows() -> impl Strategy<Value = Vec<Row>> {
        (
            proptest::collection::vec(rev_row(), 0..40),
            proptest::collection::vec(usage_row(), 0..30),
            proptest::collection::vec(cert_row(), 0..25),
        )
            .prop_map(|(mut a, b, c)| {
                a.extend(b);
                a.extend(c);
                a
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn points_stay_within_bounds_and_sum_to_the_total(rows in rows(), month in prop_oneof![Just("2023-11"), Just("2024-07")]) {
            let s = build(rows).at(month);
            for m in &s.metrics {
                prop_assert!(m.points >= Decimal::ZERO, "{} below zero", m.id);
                prop_assert!(m.points <= m.max_points, "{} above its max", m.id);
                prop_assert!(m.points.scale() <= 2 || m.points.normalize().scale() <= 2);
            }
            let sum: Decimal = s.metrics.iter().map(|m| m.points).sum();
            prop_assert_eq!(sum, s.total_points);
            prop_assert_eq!(s.qualified, s.total_points >= d("70") && s.metrics.iter().all(|m| m.points > Decimal::ZERO));
        }

        #[test]
        fn another_certified_person_never_lowers_skilling(rows in rows(), c in 0..3usize) {
            let before = build(rows.clone()).at("2023-11");
            let mut more = rows;
            more.push(Row::Cert("newcomer", CERTS[c], "2023-01-01", None));
            let after = build(more).at("2023-11");
            for id in ["intermediate_certifications", "advanced_certifications"] {
                prop_assert!(metric(&after, id).points >= metric(&before, id).points, "{}", id);
            }
        }

        #[test]
        fn explained_items_add_up_to_each_value(rows in rows()) {
            let s = build(rows).at("2023-11");
            for m in &s.metrics {
                match &m.detail {
                    MetricDetail::PairGrowth { items, latest_count, baseline_count, .. } => {
                        let latest = items.iter().filter(|i| i.counted && i.month == s.period.latest_month).count() as u32;
                        let base = items.iter().filter(|i| i.counted && i.month == s.period.baseline_month).count() as u32;
                        prop_assert_eq!((latest, base), (*latest_count, *baseline_count));
                        prop_assert_eq!(m.value, Some(Decimal::from(latest) - Decimal::from(base)));
                    }
                    MetricDetail::CertifiedPeople { items, .. } => {
                        let people = items.iter().filter(|i| i.counted).count();
                        prop_assert_eq!(m.value, Some(Decimal::from(people as u64)));
                    }
                    MetricDetail::ConsumptionGrowth { items, latest_mcv, baseline_mcv, .. } => {
                        let l: Decimal = items.iter().filter(|i| i.month == s.period.latest_month).map(|i| i.amount).sum();
                        let b: Decimal = items.iter().filter(|i| i.month == s.period.baseline_month).map(|i| i.amount).sum();
                        prop_assert_eq!((l, b), (*latest_mcv, *baseline_mcv));
                    }
                }
            }
        }
    }
}
