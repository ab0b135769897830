//! Entry points for facts aggregated elsewhere (a query engine on a cluster).
//!
//! A distributed engine resolves names and applies the rulebook's filters in
//! its plan, groups rows to the grain the scoring core needs, and hands the
//! groups here. The builder then holds exactly what it would hold had it read
//! the rows itself, except source lines: an engine that sums rows elsewhere
//! cannot say which lines it summed, so [`Agg::lines`] stays empty.
//!
//! Callers feed groups in file order (by each group's first row) so that
//! tenant order, first names and product order come out as when streaming.

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::{
    CertRecord, ExcludedKey, Exclusion, FactsBuilder, Table, Warning, WarningKind, normalize,
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
        let p = self.partner(partner_id);
        let t = p.tenant(tenant_id, None);
        let agg = p.revenue.entry((t, workload, month)).or_default();
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
        let p = self.partner(partner_id);
        let t = p.tenant(tenant_id, None);
        p.usage
            .entry((t, usage.workload, month))
            .or_default()
            .add_group(usage.product, quantity, rows);
    }

    /// Adds a group of rows that counted for nothing. Months outside the
    /// filter are ignored.
    pub fn add_excluded_group(&mut self, g: &ExcludedGroup<'_>) {
        if !self.months.keeps(g.month) {
            return;
        }
        let p = self.partner(g.partner_id);
        let tenant = p.tenant(g.customer_tenant_id, None);
        let key = ExcludedKey {
            table: g.table,
            tenant,
            workload: g.workload.to_string(),
            association: g.association.to_string(),
            month: g.month,
            reason: g.reason,
        };
        let agg = p.excluded.entry(key).or_default();
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
        match self.warnings.map.get_mut(&key) {
            Some(w) => {
                w.rows += rows;
                if first_line < w.first_line {
                    w.first_line = first_line;
                    w.name = name.trim().to_string();
                }
            }
            None => {
                self.warnings.map.insert(
                    key,
                    Warning {
                        table,
                        kind,
                        name: name.trim().to_string(),
                        rows,
                        first_line,
                    },
                );
            }
        }
    }

    /// Adds one certification row whose name the caller has resolved
    /// (`Err` keeps the name as written). Unlike
    /// [`FactsBuilder::add_certification`], no warning is counted: the caller
    /// counts them with [`FactsBuilder::add_warning_group`].
    #[allow(clippy::too_many_arguments)]
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
        let p = self.partner(partner_id);
        let person = p.person(person_id, person_name);
        p.certifications.push(CertRecord {
            person,
            certification: certification.map_err(|raw| raw.trim().to_string()),
            earned_on,
            expires_on,
            line,
        });
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
