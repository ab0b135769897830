//! One partner's data read for several solution areas, for the reports that
//! take `--area` (simulate, recommend, plan): the rulebooks in force, the
//! vocabulary of every area, the facts with the acr and licenses tables, and
//! the [`AreaSet`] of the areas asked for.

use anyhow::anyhow;
use pcs_core::area::AreaRulebook;
use pcs_core::facts::{MonthFilter, PartnerFacts, WarningKind};
use pcs_core::vocab::Vocabulary;
use pcs_data::{Dataset, LoadOptions};
use pcs_insights::app::Areas;
use pcs_insights::scenario::AreaSet;

use crate::args::PartnerArgs;
use crate::failure::Failure;
use crate::score_cmd::{selected_areas, short_title};

/// What a report over several areas is given.
pub(crate) struct AreaRun<'x, 'a> {
    /// The areas asked for (Business Applications scored when named).
    pub set: &'x AreaSet<'a>,
    /// Every area rulebook in force (the joint plan's actions come from all).
    pub in_force: &'x [&'a AreaRulebook],
    /// The partner.
    pub partner: &'x str,
    /// Its facts.
    pub facts: &'x PartnerFacts,
    /// Business Applications' short title.
    pub ba_title: &'x str,
}

/// Reads the dataset for `areas` and runs `f` on the partner's data.
pub(crate) fn with_areas<R>(
    args: &PartnerArgs,
    areas: &[String],
    f: impl FnOnce(&AreaRun<'_, '_>) -> Result<R, Failure>,
) -> Result<R, Failure> {
    let names = selected_areas(areas)?;
    let set = crate::rulebooks::load(&args.rulebook)?;
    let (ba, ba_period) = crate::reports::report_when(&set, &args.when)?;
    let in_force = set.areas_in_force(ba_period.evaluation_date);
    let vocab = Vocabulary::new(&[ba], &in_force)?;
    let areas = Areas::with_vocabulary(&set, ba, &vocab);
    let area_set = areas.area_set(&names, ba_period)?;
    let mut months: Vec<pcs_core::calendar::Month> = Vec::new();
    for rb in &in_force {
        for m in rb.data_months(ba_period.month) {
            if !months.contains(&m) {
                months.push(m);
            }
        }
    }
    let dataset = Dataset::open_with(&args.dataset, &args.csv.options())?;
    let options = LoadOptions {
        months: MonthFilter::Only(ba_period.data_months().to_vec()),
        trace: true,
        ..LoadOptions::default()
    };
    let (mut facts, _) = dataset.load_areas(ba, &vocab, MonthFilter::Only(months), &options)?;
    facts.warnings.retain(|w| {
        !(w.kind == WarningKind::UnknownCertification && vocab.certification(&w.name).is_some())
    });
    let ba_title = ba
        .title
        .as_deref()
        .map(short_title)
        .unwrap_or("Business Applications")
        .to_string();
    let title_of = |w: &pcs_core::facts::Warning| {
        if w.kind == WarningKind::UnknownCertification {
            "any solution area"
        } else {
            ba_title.as_str()
        }
    };
    crate::score_cmd::report_warnings_titled(&facts, &dataset, title_of, args.strict, args.quiet)?;
    let Some(partner) = facts.partners.get(&args.partner) else {
        return Err(Failure::Other(anyhow!(
            "partner '{}' does not appear in any table of {}",
            args.partner,
            args.dataset.display()
        )));
    };
    f(&AreaRun {
        set: &area_set,
        in_force: &in_force,
        partner: &args.partner,
        facts: partner,
        ba_title: &ba_title,
    })
}
