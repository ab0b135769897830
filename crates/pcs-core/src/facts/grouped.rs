//! Entry points for facts aggregated elsewhere (a query engine on a cluster).
//!
//! A distributed engine resolves names and applies the rulebook's filters in
//! its plan, groups rows to the grain the scoring core needs, and hands the
//! groups here. The builder then holds exactly what it would hold had it read
//! the rows itself, except source lines: an engine that sums rows elsewhere
//! cannot say which lines it summed, so its facts have no [`super::Traces`].
//!
//! Callers feed groups in file order (by each group's first row) so that
//! tenant order, first names and product order come out as when streaming.

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::{
    CertRecord, CertRef, ExcludedKey, Exclusion, FactsBuilder, LicenseStart, NO_OFFER, Table,
    Warning, WarningKind, cached, normalize, normalized, staged_entry,
};
use crate::calendar::Month;
use crate::rulebook::{CertificationId, RevenueWorkloadId, UsageName};

/// A group of revenue or usage rows that counted for nothing.
#[derive(Clone, Debug)]
pub struct ExcludedGroup<'a> {
    /// Revenue or usage.
    pub table: Table,
    /// The partner.
    pub partner_id: &'a str,
    /// The customer tenant.
    pub customer_tenant_id: &'a str,
    /// The workload's rulebook name when known, else as written (trimmed).
    pub workload: &'a str,
    /// The association's rulebook name when known, else as written (trimmed).
    pub association: &'a str,
    /// The month.
    pub month: Month,
    /// Why the rows count for nothing.
    pub reason: Exclusion,
    /// Sum of the amounts.
    pub amount: Decimal,
    /// How many rows.
    pub rows: u32,
}

/// A group of acr rows of one (tenant, service as written, month,
/// association as written, offer as written).
#[derive(Clone, Debug)]
pub struct AcrGroup<'a> {
    /// The partner.
    pub partner_id: &'a str,
    /// The customer tenant.
    pub customer_tenant_id: &'a str,
    /// The service as written (trimmed).
    pub service: &'a str,
    /// The month.
    pub month: Month,
    /// The association type as written (trimmed).
    pub association: &'a str,
    /// The offer as written, if given.
    pub offer: Option<&'a str>,
    /// Sum of the ACR.
    pub amount: Decimal,
    /// How many rows.
    pub rows: u32,
}

/// A group of licenses rows of one (tenant, workload as written, month,
/// association as written, association date).
#[derive(Clone, Debug)]
pub struct LicenseGroup<'a> {
    /// The partner.
    pub partner_id: &'a str,
    /// The customer tenant.
    pub customer_tenant_id: &'a str,
    /// The workload as written (trimmed).
    pub workload: &'a str,
    /// The month.
    pub month: Month,
    /// The association type as written (trimmed).
    pub association: &'a str,
    /// The association date of the rows, if given.
    pub associated_on: Option<Date>,
    /// Paid seats, summed over the rows.
    pub paid_seats: u64,
    /// Active users, summed over the rows.
    pub active_users: u64,
    /// How many rows.
    pub rows: u32,
    /// The first row's line.
    pub first_line: u64,
}

impl FactsBuilder<'_> {
    /// Records that a partner appears in the data (any table, any month).
    pub fn add_partner_id(&mut self, partner_id: &str) {
        self.partner(partner_id);
    }

    /// Records a customer tenant of a partner, with a customer name if one
    /// is known. Call in order of first appearance: tenants are indexed in
    /// that order, and the first non-empty name stays.
    pub fn add_tenant(&mut self, partner_id: &str, tenant_id: &str, name: Option<&str>) {
        self.partner(partner_id).tenant(tenant_id, name);
    }

    /// Adds eligible revenue of one (tenant, performance workload, month),
    /// summed over `rows` rows. Months outside the builder's filter are ignored.
    pub fn add_revenue_group(
        &mut self,
        partner_id: &str,
        tenant_id: &str,
        workload: RevenueWorkloadId,
        month: Month,
        amount: Decimal,
        rows: u32,
    ) {
        if !self.months.keeps(month) {
            return;
        }
        let slot = self.partner_slot(partner_id);
        self.stage_for(slot);
        let t = self.partners[slot].1.tenant(tenant_id, None);
        let agg = staged_entry(&mut self.staged.revenue, (t, workload, month));
        agg.amount += amount;
        agg.rows += rows;
    }

    /// Adds eligible usage of one (tenant, rate-card workload or product,
    /// month), summed over `rows` rows. Products of one workload should come
    /// in order of first appearance. Months outside the filter are ignored.
    pub fn add_usage_group(
        &mut self,
        partner_id: &str,
        tenant_id: &str,
        usage: UsageName,
        month: Month,
        quantity: Decimal,
        rows: u32,
    ) {
        if !self.months.keeps(month) {
            return;
        }
        let slot = self.partner_slot(partner_id);
        self.stage_for(slot);
        let t = self.partners[slot].1.tenant(tenant_id, None);
        staged_entry(&mut self.staged.usage, (t, usage.workload, month)).add_group(
            usage.product,
            quantity,
            rows,
        );
    }

    /// Adds a group of rows that counted for nothing. Months outside the
    /// filter are ignored.
    pub fn add_excluded_group(&mut self, g: &ExcludedGroup<'_>) {
        if !self.months.keeps(g.month) {
            return;
        }
        if !self.keep_excluded {
            // The partner and the tenant are known, as when it keeps them.
            let slot = self.partner_slot(g.partner_id);
            self.partners[slot].1.tenant(g.customer_tenant_id, None);
            return;
        }
        let workload = self.labels.get(g.workload);
        let association = self.labels.get(g.association);
        let slot = self.partner_slot(g.partner_id);
        self.stage_for(slot);
        let tenant = self.partners[slot].1.tenant(g.customer_tenant_id, None);
        let key = ExcludedKey {
            table: g.table,
            tenant,
            workload,
            association,
            month: g.month,
            reason: g.reason,
        };
        let agg = staged_entry(&mut self.staged.excluded, key);
        agg.amount += g.amount;
        agg.rows += g.rows;
    }

    /// Adds a counted warning: `rows` rows of `table` whose name normalises
    /// like `name`; `first_line` is the first of them. The name as written
    /// at the smallest first line stays.
    pub fn add_warning_group(
        &mut self,
        table: Table,
        kind: WarningKind,
        name: &str,
        rows: u64,
        first_line: u64,
    ) {
        let key = (table, kind, normalize(name));
        match self.warnings.settle().get_mut(&key) {
            Some(w) => {
                w.rows += rows;
                if first_line < w.first_line {
                    w.first_line = first_line;
                    w.name = name.trim().to_string();
                }
            }
            None => {
                self.warnings
                    .map
                    .insert(key, Warning::first(table, kind, name, rows, first_line));
            }
        }
    }

    /// Adds a group of acr rows as [`FactsBuilder::add_acr`] adds rows, but
    /// counts no warning (the caller counts them with
    /// [`FactsBuilder::add_warning_group`]). Call in order of each group's
    /// first row, so that services keep their first-seen order and spelling.
    pub fn add_acr_group(&mut self, g: &AcrGroup<'_>) {
        let Some(v) = self.vocabulary else {
            self.partner(g.partner_id);
            return;
        };
        if !self.area_months.keeps(g.month) {
            self.partner(g.partner_id);
            return;
        }
        let association = cached(&mut self.vocab_associations, g.association, |r| {
            v.association(r)
        });
        let offer = match g.offer {
            Some(o) => cached(&mut self.vocab_offers, o, |r| {
                v.offer(r).unwrap_or(NO_OFFER)
            }),
            None => NO_OFFER,
        };
        let slot = self.partner_slot(g.partner_id);
        self.stage_for(slot);
        let key = normalized(&mut self.service_keys, g.service);
        let p = &mut self.partners[slot].1;
        let t = p.tenant(g.customer_tenant_id, None);
        let s = p.service_keyed(key, g.service);
        let agg = match association {
            Some(a) => staged_entry(&mut self.staged.acr, (t, s, g.month, a, offer)),
            None if !self.keep_excluded => return,
            None => {
                let key = ExcludedKey {
                    table: Table::Acr,
                    tenant: t,
                    workload: self.labels.get(&p.services[s as usize]),
                    association: self.labels.get(g.association.trim()),
                    month: g.month,
                    reason: Exclusion::UnknownAssociation,
                };
                staged_entry(&mut self.staged.excluded, key)
            }
        };
        agg.amount += g.amount;
        agg.rows += g.rows;
    }

    /// Adds a group of licenses rows as [`FactsBuilder::add_license`] adds
    /// rows (the association's start too), but counts no warning.
    pub fn add_license_group(&mut self, g: &LicenseGroup<'_>) {
        let Some(v) = self.vocabulary else {
            self.partner(g.partner_id);
            return;
        };
        let workload = cached(&mut self.vocab_workloads, g.workload, |r| v.workload(r));
        let association = cached(&mut self.vocab_associations, g.association, |r| {
            v.association(r)
        });
        let keep = self.area_months.keeps(g.month);
        let slot = self.partner_slot(g.partner_id);
        self.stage_for(slot);
        let p = &mut self.partners[slot].1;
        let t = p.tenant(g.customer_tenant_id, None);
        match (workload, association) {
            (Some(w), Some(a)) => {
                let start = LicenseStart {
                    associated_on: g.associated_on,
                    first_month: g.month,
                    first_line: g.first_line,
                };
                self.staged.start((t, w, a), start);
                if keep {
                    let agg = staged_entry(&mut self.staged.licenses, (t, w, g.month, a));
                    agg.paid_seats += g.paid_seats;
                    agg.active_users += g.active_users;
                    agg.rows += g.rows;
                }
            }
            _ if keep && self.keep_excluded => {
                let key = ExcludedKey {
                    table: Table::Licenses,
                    tenant: t,
                    workload: match workload {
                        Some(w) => self.labels.get(&v.workloads[w as usize]),
                        None => self.labels.get(g.workload.trim()),
                    },
                    association: match association {
                        Some(a) => self.labels.get(&v.associations[a as usize]),
                        None => self.labels.get(g.association.trim()),
                    },
                    month: g.month,
                    reason: if workload.is_none() {
                        Exclusion::UnknownWorkload
                    } else {
                        Exclusion::UnknownAssociation
                    },
                };
                let agg = staged_entry(&mut self.staged.excluded, key);
                agg.amount += Decimal::from(g.paid_seats);
                agg.rows += g.rows;
            }
            _ => {}
        }
    }

    /// Adds one certification row whose name the caller has resolved
    /// (`Err` keeps the name as written). Unlike
    /// [`FactsBuilder::add_certification`] (which resolves the name, counts
    /// its warning and then calls this), no warning is counted and the
    /// builder's partner filter is not applied: the caller counts warnings with
    /// [`FactsBuilder::add_warning_group`].
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn add_resolved_certification(
        &mut self,
        partner_id: &str,
        person_id: &str,
        person_name: Option<&str>,
        certification: Result<CertificationId, &str>,
        earned_on: Date,
        expires_on: Option<Date>,
        line: u64,
    ) {
        let certification = match certification {
            Ok(c) => CertRef::known(c),
            Err(raw) => CertRef::unknown(self.unknown_certifications.of(raw)),
        };
        let slot = self.partner_slot(partner_id);
        self.stage_for(slot);
        let person = self.partners[slot].1.person(person_id, person_name);
        self.staged.certifications.push(CertRecord::new(
            person,
            certification,
            earned_on,
            expires_on,
            line,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{MonthFilter, RevenueRow, UsageRow};
    use crate::rulebook::RulebookSet;

    fn month(s: &str) -> Month {
        s.parse().unwrap()
    }

    /// Two rows through the row path and the same two rows as one group give
    /// the same facts (lines aside).
    #[test]
    fn groups_match_rows() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let m = month("2023-10");
        let mut rows = FactsBuilder::new(rb, MonthFilter::Only(vec![m]), false);
        for (amount, line) in [("300", 2), ("-50.5", 3)] {
            rows.add_revenue(&RevenueRow {
                partner_id: "P",
                customer_tenant_id: "T",
                customer_name: Some("Contoso"),
                subscription_id: None,
                workload: "power_bi",
                month: m,
                revenue_usd: amount.parse().unwrap(),
                association: "CSP Tier 1",
                line,
            });
        }
        rows.add_usage(&UsageRow {
            partner_id: "P",
            customer_tenant_id: "T",
            customer_name: None,
            workload: "Azure",
            month: m,
            quantity: "7".parse().unwrap(),
            association: "PAL",
            line: 2,
        });
        let rows = rows.finish();

        let mut groups = FactsBuilder::new(rb, MonthFilter::Only(vec![m]), false);
        groups.add_tenant("P", "T", Some("Contoso"));
        let w = rb.revenue_workload("Power BI").unwrap();
        groups.add_revenue_group("P", "T", w, m, "249.5".parse().unwrap(), 2);
        groups.add_excluded_group(&ExcludedGroup {
            table: Table::Usage,
            partner_id: "P",
            customer_tenant_id: "T",
            workload: "Azure",
            association: "PAL",
            month: m,
            reason: Exclusion::UnknownWorkload,
            amount: "7".parse().unwrap(),
            rows: 1,
        });
        groups.add_warning_group(Table::Usage, WarningKind::UnknownWorkload, "Azure", 1, 2);
        // Outside the month filter: ignored, as rows would be.
        groups.add_revenue_group("P", "T", w, month("2021-01"), Decimal::ONE, 1);
        let groups = groups.finish();

        let (a, b) = (&rows.partners["P"], &groups.partners["P"]);
        assert_eq!(a.tenants, b.tenants);
        assert_eq!(a.revenue, b.revenue);
        assert_eq!(a.usage, b.usage);
        assert_eq!(a.excluded, b.excluded);
        assert_eq!(rows.warnings, groups.warnings);
    }

    /// Acr and licenses rows through the row path and the same rows as
    /// groups give the same facts (lines and warnings aside).
    #[test]
    fn acr_and_licenses_groups_match_rows() {
        use crate::facts::{AcrRow, LicenseRow};
        use crate::vocab::Vocabulary;
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let d = Date::constant(2024, 7, 31);
        let vocab = Vocabulary::new(&[rb], &set.areas_in_force(d)).unwrap();
        let (m, old) = (month("2024-07"), month("2023-01"));
        let keep = MonthFilter::Only(vec![m]);
        let new_builder =
            || FactsBuilder::new(rb, MonthFilter::All, false).with_areas(&vocab, keep.clone());
        let mut rows = new_builder();
        let acr = [
            (
                "Virtual Machines",
                "CSP Tier 1",
                Some("Azure plan"),
                "100",
                m,
                2,
            ),
            (
                "virtual machines",
                "CSP Tier 1",
                Some("Azure plan"),
                "-20.5",
                m,
                3,
            ),
            ("Storage", "Nobody", None, "7", m, 4),
            ("Storage", "CSP Tier 1", None, "9", old, 5),
        ];
        for (service, association, offer, amount, month, line) in acr {
            rows.add_acr(&AcrRow {
                partner_id: "P",
                customer_tenant_id: "T",
                customer_name: None,
                subscription_id: None,
                service,
                month,
                acr_usd: amount.parse().unwrap(),
                association,
                offer,
                line,
            });
        }
        let dated = Some(Date::constant(2022, 5, 1));
        let licenses = [
            ("Teams", "CPOR", 30, 20, m, None, 2),
            ("teams", "CPOR", 5, 1, m, dated, 3),
            ("Teams", "CPOR", 8, 8, old, None, 4),
            ("Minesweeper", "CPOR", 4, 4, m, None, 5),
        ];
        for (workload, association, paid, active, month, on, line) in licenses {
            rows.add_license(&LicenseRow {
                partner_id: "P",
                customer_tenant_id: "U",
                customer_name: None,
                workload,
                month,
                association,
                paid_seats: paid,
                active_users: active,
                associated_on: on,
                line,
            });
        }
        let rows = rows.finish();

        let mut groups = new_builder();
        groups.add_tenant("P", "T", None);
        groups.add_tenant("P", "U", None);
        for (service, association, offer, amount, month, _) in acr {
            groups.add_acr_group(&AcrGroup {
                partner_id: "P",
                customer_tenant_id: "T",
                service,
                month,
                association,
                offer,
                amount: amount.parse().unwrap(),
                rows: 1,
            });
        }
        for (workload, association, paid, active, month, on, line) in licenses {
            groups.add_license_group(&LicenseGroup {
                partner_id: "P",
                customer_tenant_id: "U",
                workload,
                month,
                association,
                associated_on: on,
                paid_seats: paid,
                active_users: active,
                rows: 1,
                first_line: line,
            });
        }
        let groups = groups.finish();
        let (a, b) = (&rows.partners["P"], &groups.partners["P"]);
        assert_eq!(a.tenants, b.tenants);
        assert_eq!(a.services, b.services);
        assert_eq!(a.services, ["Virtual Machines", "Storage"]);
        assert_eq!(a.acr, b.acr);
        assert_eq!(a.licenses, b.licenses);
        assert_eq!(a.license_starts, b.license_starts);
        assert_eq!(a.excluded, b.excluded);
        assert_eq!(a.acr.len(), 1);
        assert_eq!(a.excluded.len(), 2, "{:?}", a.excluded);
    }

    #[test]
    fn the_earliest_spelling_names_a_warning() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
        b.add_warning_group(Table::Revenue, WarningKind::UnknownWorkload, "azure", 2, 9);
        b.add_warning_group(
            Table::Revenue,
            WarningKind::UnknownWorkload,
            " Azure ",
            3,
            4,
        );
        let w = b.finish().warnings;
        assert_eq!(w.len(), 1);
        assert_eq!(
            (w[0].name.as_str(), w[0].rows, w[0].first_line),
            ("Azure", 5, 4)
        );
    }
}
