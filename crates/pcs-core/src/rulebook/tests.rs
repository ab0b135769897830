use super::*;

fn builtin_text() -> &'static str {
    BUILTIN[0].1
}

fn load(text: &str) -> Result<Rulebook, RulebookError> {
    Rulebook::from_toml(text, "test.toml")
}

/// The built-in text with one edit; panics if the edit does not apply.
fn edited(from: &str, to: &str) -> String {
    let text = builtin_text();
    assert!(text.contains(from), "edit target not found: {from}");
    text.replacen(from, to, 1)
}

fn error_of(text: &str) -> String {
    load(text).expect_err("should be rejected").to_string()
}

fn date(s: &str) -> Date {
    parse_date(s).unwrap()
}

#[test]
fn builtin_loads_and_is_complete() {
    let rb = load(builtin_text()).unwrap();
    assert_eq!(rb.id(), "business_applications/2023-06");
    assert_eq!(rb.metrics.len(), 5);
    assert_eq!(rb.revenue.workloads.len(), 24);
    assert_eq!(rb.usage.workloads.len(), 14);
    assert_eq!(rb.certifications.len(), 21);
    assert_eq!(
        rb.certifications
            .iter()
            .filter(|c| c.level == "advanced")
            .count(),
        4
    );
    let max: Decimal = rb.metrics.iter().map(|m| m.max_points).sum();
    assert_eq!(max, Decimal::from(100));
}

#[test]
fn exact_decimals_from_toml_floats() {
    let rb = load(builtin_text()).unwrap();
    let adv = rb.metric("advanced_certifications").unwrap();
    assert_eq!(adv.points_per_unit.enterprise.to_string(), "2.14");
    assert_eq!(adv.points_per_unit.smb.to_string(), "7.5");
    let ci = rb.usage_workload("Customer Insights").unwrap();
    assert_eq!(
        rb.usage.workloads[ci.workload as usize]
            .rate
            .unwrap()
            .to_string(),
        "0.2"
    );
}

#[test]
fn version_in_force_by_date() {
    let set = RulebookSet::builtin();
    assert!(
        set.in_force("business_applications", date("2023-06-13"))
            .is_ok()
    );
    assert!(
        set.in_force("business_applications", date("2030-01-01"))
            .is_ok()
    );
    let err = set
        .in_force("business_applications", date("2023-06-12"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no business_applications rulebook is in force on 2023-06-12"),
        "{err}"
    );
    assert!(err.contains("2023-06 from 2023-06-13"), "{err}");
    assert!(set.in_force("modern_work", date("2024-01-01")).is_err());
}

#[test]
fn a_later_version_takes_over_and_until_is_inclusive() {
    let v1 = load(&edited(
        "effective_from = \"2023-06-13\"",
        "effective_from = \"2023-06-13\"\neffective_until = \"2024-06-30\"",
    ))
    .unwrap();
    let v2 = load(
        &edited("version = \"2023-06\"", "version = \"2024-07\"")
            .replace("2023-06-13", "2024-07-01"),
    )
    .unwrap();
    let set = RulebookSet::new(vec![v2, v1]).unwrap();
    assert_eq!(
        set.in_force("business_applications", date("2024-06-30"))
            .unwrap()
            .version,
        "2023-06"
    );
    assert_eq!(
        set.in_force("business_applications", date("2024-07-01"))
            .unwrap()
            .version,
        "2024-07"
    );
}

#[test]
fn overlapping_versions_are_rejected() {
    let a = load(builtin_text()).unwrap();
    let b = load(&edited("version = \"2023-06\"", "version = \"2023-06b\"")).unwrap();
    let err = RulebookSet::new(vec![a.clone(), b])
        .unwrap_err()
        .to_string();
    assert!(err.contains("overlaps"), "{err}");
    let until = load(&edited(
        "effective_from = \"2023-06-13\"",
        "effective_from = \"2023-06-13\"\neffective_until = \"2024-01-31\"",
    ))
    .unwrap();
    let later = load(
        &edited("version = \"2023-06\"", "version = \"2024-01\"")
            .replace("2023-06-13", "2024-01-31"),
    )
    .unwrap();
    let err = RulebookSet::new(vec![until, later])
        .unwrap_err()
        .to_string();
    assert!(err.contains("overlaps"), "{err}");
}

#[test]
fn unknown_keys_are_errors_with_a_location() {
    let err = error_of(&edited(
        "enterprise_min_pairs = 5",
        "enterprise_min_pairs = 5\nenterprise_min_pair = 5",
    ));
    assert!(err.contains("unknown field `enterprise_min_pair`"), "{err}");
    assert!(err.contains("line"), "{err}");
    let err = error_of(&edited(
        "shape = \"pair_growth\"",
        "shape = \"pair_growth\"\nthreshold = 3",
    ));
    assert!(err.contains("unknown field `threshold`"), "{err}");
}

#[test]
fn negative_rates_and_points_are_errors() {
    let err = error_of(&edited("rate = 1000", "rate = -1000"));
    assert!(err.contains("may not be negative"), "{err}");
    let err = error_of(&edited(
        "points_per_unit = { enterprise = 3, smb = 3 }",
        "points_per_unit = { enterprise = 3, smb = -3 }",
    ));
    assert!(err.contains("points_per_unit.smb is -3"), "{err}");
}

#[test]
fn a_metric_needs_a_cap() {
    let err = error_of(&edited(
        "max_points = 15\npoints_per_unit = { enterprise = 3",
        "points_per_unit = { enterprise = 3",
    ));
    assert!(
        err.contains("metric 'net_customer_adds' has no max_points"),
        "{err}"
    );
}

#[test]
fn shape_fields_are_checked() {
    let err = error_of(&edited(
        "shape = \"pair_growth\"\nsource = \"revenue\"",
        "shape = \"pair_growth\"",
    ));
    assert!(err.contains("needs a source"), "{err}");
    let err = error_of(&edited(
        "level = \"intermediate\"\nmax_points",
        "level = \"intermediate\"\ndecimals = 2\nmax_points",
    ));
    assert!(
        err.contains("'decimals' does not apply to shape 'certified_people'"),
        "{err}"
    );
    let err = error_of(&edited(
        "shape = \"consumption_growth\"",
        "shape = \"growth\"",
    ));
    assert!(err.contains("unknown shape 'growth'"), "{err}");
    let err = error_of(&edited(
        "full_points_at = { enterprise = 7,",
        "full_points_at = { enterprise = 7.5,",
    ));
    assert!(err.contains("not a positive whole number"), "{err}");
    let err = error_of(&edited(
        "level = \"advanced\"\nmax_points",
        "level = \"expert\"\nmax_points",
    ));
    assert!(err.contains("no certification has level 'expert'"), "{err}");
}

#[test]
fn comparisons_and_references_are_checked() {
    let err = error_of(&edited(
        "pair_revenue = { comparison = \">\"",
        "pair_revenue = { comparison = \"=>\"",
    ));
    assert!(err.contains("comparison '=>' is not '>=' or '>'"), "{err}");
    let err = error_of(&edited(
        "associations = [\"pal\"]",
        "associations = [\"pall\"]",
    ));
    assert!(err.contains("unknown association id 'pall'"), "{err}");
    let err = error_of(&edited("family = \"dynamics_365\"", "family = \"d365\""));
    assert!(err.contains("unknown family 'd365'"), "{err}");
}

#[test]
fn ambiguous_names_are_errors() {
    let err = error_of(&edited(
        "aliases = [\"HR\", \"Human Resources\"]",
        "aliases = [\"HR\", \"Sales\"]",
    ));
    assert!(err.contains("name 'Sales' is ambiguous"), "{err}");
}

#[test]
fn dates_and_format_are_checked() {
    let err = error_of(&edited(
        "eligible_until = \"2024-06-30\"",
        "eligible_until = \"2024-06-31\"",
    ));
    assert!(err.contains("'2024-06-31' is not a date"), "{err}");
    let err = error_of(&edited("format = 1", "format = 2"));
    assert!(err.contains("format 2 is not supported"), "{err}");
    let err = error_of("format = 1\nsolution_area = ");
    assert!(err.contains("TOML parse error"), "{err}");
}

#[test]
fn names_resolve_with_case_and_separators() {
    let rb = load(builtin_text()).unwrap();
    assert_eq!(rb.association("csp_tier_1"), rb.association("CSP Tier 1"));
    assert!(rb.association("CSP-TIER-1").is_some());
    assert!(rb.association("CSP Tier 3").is_none());
    assert_eq!(
        rb.revenue_workload("HR"),
        rb.revenue_workload("HR (Human Resources)")
    );
    assert_eq!(
        rb.revenue_workload("human_resources"),
        rb.revenue_workload("HR (Human Resources)")
    );
    assert!(rb.revenue_workload("Azure").is_none());
    assert!(
        rb.revenue_workload("Core HR").is_none(),
        "a usage workload is not a performance workload"
    );
}

#[test]
fn usage_products_roll_up() {
    let rb = load(builtin_text()).unwrap();
    let ce = rb.usage_workload("Customer Engagement").unwrap();
    assert_eq!(ce.product, None);
    for product in [
        "Sales",
        "sales insights",
        "Customer_Service",
        "FIELD-SERVICE",
    ] {
        let u = rb.usage_workload(product).unwrap();
        assert_eq!(u.workload, ce.workload, "{product}");
        assert!(u.product.is_some());
    }
    assert_eq!(
        rb.usage_workload("Common data service (Customer Engagement)")
            .unwrap()
            .workload,
        ce.workload
    );
    let fo = rb.usage_workload("Finance & Operations").unwrap().workload;
    assert_eq!(
        rb.usage_workload("Project Operations").unwrap().workload,
        fo
    );
    assert_eq!(
        rb.usage_workload("Power App").unwrap(),
        rb.usage_workload("Power Apps").unwrap()
    );
    let portals = rb.usage_workload("Portals").unwrap();
    assert_eq!(rb.usage.workloads[portals.workload as usize].rate, None);
    assert!(rb.usage_workload("Marketing").is_none());
}

#[test]
fn certifications_resolve_by_id_and_name_with_or_without_prefix() {
    let rb = load(builtin_text()).unwrap();
    let id = rb
        .certification("d365-functional-consultant-sales")
        .unwrap();
    assert_eq!(
        rb.certification("Microsoft Certified: Dynamics 365 Sales Functional Consultant Associate"),
        Some(id)
    );
    assert_eq!(
        rb.certification("dynamics 365 sales functional consultant associate"),
        Some(id)
    );
    assert_eq!(
        rb.certification("D365_FUNCTIONAL_CONSULTANT_SALES"),
        Some(id)
    );
    assert!(
        rb.certification("Microsoft Certified: Azure Fundamentals")
            .is_none()
    );
    assert!(
        rb.certification("Microsoft Certified:Data Analyst Associate")
            .is_none()
    );
    let fo = rb
        .certification("Dynamics 365: Finance and Operations Apps Developer Associate")
        .unwrap();
    assert_eq!(rb.certifications[fo as usize].level, "intermediate");
}

#[test]
fn certification_windows_are_inclusive() {
    let rb = load(builtin_text()).unwrap();
    let cs = &rb.certifications[rb
        .certification("d365-functional-consultant-customer-service")
        .unwrap() as usize];
    assert!(cs.eligible_on(date("2024-06-30")));
    assert!(!cs.eligible_on(date("2024-07-01")));
    let maker = &rb.certifications[rb.certification("power-platform-app-maker").unwrap() as usize];
    assert!(maker.eligible_on(date("2023-11-30")));
    assert!(!maker.eligible_on(date("2023-12-01")));
    let arch = &rb.certifications[rb
        .certification("power-apps-and-d365-solution-architect-expert")
        .unwrap() as usize];
    assert!(arch.eligible_on(date("2023-06-30")));
    assert!(!arch.eligible_on(date("2023-07-01")));
}

#[test]
fn comparisons_pass_at_their_boundaries() {
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    assert!(Comparison::AtLeast.passes(d("1500"), d("1500")));
    assert!(!Comparison::Above.passes(d("5000"), d("5000")));
    assert!(Comparison::Above.passes(d("5000.01"), d("5000")));
}
