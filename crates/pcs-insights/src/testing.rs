//! Test helpers: a partner built row by row.

use pcs_core::calendar::parse_date;
use pcs_core::facts::{
    CertificationRow, FactsBuilder, MonthFilter, PartnerFacts, RevenueRow, UsageRow,
};
use pcs_core::rulebook::{Rulebook, RulebookSet};
use pcs_core::score::{PartnerScore, Period, score_partner};

/// Rows of partner "P", scored under the built-in rulebook.
pub(crate) struct Case {
    pub rb: Rulebook,
    rows: Vec<Row>,
}

enum Row {
    Rev(String, String, String, String, String),
    Use(String, String, String, String, String),
    Cert(String, String, String, Option<String>),
}

impl Case {
    pub fn new() -> Case {
        Case {
            rb: RulebookSet::builtin().versions()[0].clone(),
            rows: Vec::new(),
        }
    }

    /// Revenue with a DPOR association.
    pub fn rev(mut self, t: &str, w: &str, m: &str, amount: &str) -> Case {
        self.rows.push(Row::Rev(
            t.into(),
            w.into(),
            m.into(),
            amount.into(),
            "DPOR".into(),
        ));
        self
    }

    /// Usage with an association that counts for the workload's family.
    pub fn usage(mut self, t: &str, w: &str, m: &str, q: &str) -> Case {
        let u = self.rb.usage_workload(w).expect("a usage workload");
        let family = &self.rb.usage.families[self.rb.usage.workloads[u.workload as usize].family];
        let a = family
            .associations
            .iter()
            .next()
            .expect("a family has an association");
        let assoc = self.rb.associations[a as usize].name.clone();
        self.rows
            .push(Row::Use(t.into(), w.into(), m.into(), q.into(), assoc));
        self
    }

    /// Revenue with the given association.
    pub fn rev_with(mut self, t: &str, w: &str, m: &str, amount: &str, assoc: &str) -> Case {
        self.rows.push(Row::Rev(
            t.into(),
            w.into(),
            m.into(),
            amount.into(),
            assoc.into(),
        ));
        self
    }

    /// Usage with the given association.
    pub fn usage_with(mut self, t: &str, w: &str, m: &str, q: &str, assoc: &str) -> Case {
        self.rows.push(Row::Use(
            t.into(),
            w.into(),
            m.into(),
            q.into(),
            assoc.into(),
        ));
        self
    }

    /// A certification.
    pub fn cert(mut self, p: &str, c: &str, earned: &str, expires: Option<&str>) -> Case {
        self.rows.push(Row::Cert(
            p.into(),
            c.into(),
            earned.into(),
            expires.map(Into::into),
        ));
        self
    }

    pub fn facts(&self) -> PartnerFacts {
        let mut b = FactsBuilder::new(&self.rb, MonthFilter::All, true);
        for (i, r) in self.rows.iter().enumerate() {
            let line = i as u64 + 2;
            match r {
                Row::Rev(t, w, m, a, assoc) => b.add_revenue(&RevenueRow {
                    partner_id: "P",
                    customer_tenant_id: t,
                    customer_name: None,
                    subscription_id: None,
                    workload: w,
                    month: m.parse().unwrap(),
                    revenue_usd: a.parse().unwrap(),
                    association: assoc,
                    line,
                }),
                Row::Use(t, w, m, q, assoc) => b.add_usage(&UsageRow {
                    partner_id: "P",
                    customer_tenant_id: t,
                    customer_name: None,
                    workload: w,
                    month: m.parse().unwrap(),
                    quantity: q.parse().unwrap(),
                    association: assoc,
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
        b.finish().partners.remove("P").unwrap_or_default()
    }

    pub fn period(&self, month: &str) -> Period {
        Period::for_month(&self.rb, month.parse().unwrap())
    }

    pub fn score(&self, month: &str) -> PartnerScore {
        score_partner(&self.rb, "P", &self.facts(), self.period(month))
    }
}
