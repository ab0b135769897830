//! `pcs generate`: a deterministic synthetic dataset.
//!
//! Every name of a workload, association type or certification comes from
//! the built-in rulebook's catalogues (plus a few deliberately unknown ones,
//! which the scorer must warn about). Each partner draws from its own ChaCha8
//! stream (the seed, stream = partner index), so the same seed and options
//! give byte-identical files, and the first N partners of a larger run are
//! the same as those of a run with N partners. Rows are written as they are
//! generated, partner by partner: memory does not grow with the dataset.
//!
//! The model, per partner:
//!
//! - about 10% are large enough to be Enterprise: more tenants, and 6 to 8
//!   "anchor" (tenant, workload) pairs billing well over $5,000 in every
//!   month from before the baseline month to the latest month;
//! - a strength in [0, 1] drives every metric: how many subscriptions start
//!   in the last twelve months (net customer adds), how many stop, how usage
//!   grows, how many certified people there are. Strong partners qualify,
//!   weak ones do not, and noise keeps it from being a step function;
//! - data-quality noise in small shares: credits (negative rows), duplicate
//!   rows, amounts exactly at thresholds, case and separator variants of
//!   names, associations that do not count for the table, usage of a
//!   workload without a rate, unknown workloads and certifications, retired
//!   and expired certifications.
//!
//! `--profile dense` keeps this model but gives each partner many more pairs
//! (15 tenants on average, three to five performance workloads and one to
//! three usage items per tenant) and writes a pair's rows in months other
//! than the latest and baseline ones only now and then
//! ([`DENSE_OTHER_MONTH_SHARE`]), so that most rows (about 70 %) fall in the
//! two months a score reads and the aggregates are many: the shape on which
//! reading and memory are hardest. The acr and licenses tables get twice the
//! tenants per partner.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Context, bail};
use pcs_core::calendar::Month;
use pcs_core::facts::Table;
use pcs_core::jiff::ToSpan;
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::{Rulebook, RulebookSet, Shape};
use pcs_data::Format;
use pcs_data::write::{StagedDataset, TableWriter, WriteError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::args::{GenerateArgs, GenerateProfile, TableFormat};

/// Workload names no rulebook knows (legacy and non-Business-Applications
/// products), for unknown-workload warnings.
const UNKNOWN_WORKLOADS: &[&str] = &["Azure", "Office 365", "Dynamics AX"];

/// Certifications that do not count for Business Applications.
const UNKNOWN_CERTIFICATIONS: &[&str] = &[
    "Microsoft Certified: Azure Administrator Associate",
    "Microsoft Certified: Azure Fundamentals",
    "Microsoft 365 Certified: Teams Administrator Associate",
    "azure-solutions-architect",
];

/// Sales channels (interface.md); empty means not given.
const CHANNELS: &[(&str, f64)] = &[
    ("CSP", 0.55),
    ("EA", 0.25),
    ("Web Direct", 0.12),
    ("", 0.08),
];

const NAME_STEMS: &[&str] = &[
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Adatum",
    "Litware",
    "Proseware",
    "Tailspin",
    "Wingtip",
    "Woodgrove",
    "Alpine Ski",
    "Coho",
    "Fourth Coffee",
    "Lamna",
    "Margie's",
    "Relecloud",
    "Trey Research",
    "VanArsdel",
    "Wide World",
    "Humongous",
    "Lucerne",
    "Graphic Design",
    "Southridge",
    "Blue Yonder",
    "Datum",
];
const PARTNER_SUFFIXES: &[&str] = &[
    "Consulting",
    "Solutions",
    "Digital",
    "Partners",
    "Systems",
    "Cloud",
    "Advisory",
    "Group",
    "Technologies",
    "Labs",
    "IT Services GmbH",
    "Business Apps Ltd",
];
const CUSTOMER_SUFFIXES: &[&str] = &[
    "Retail",
    "Logistics",
    "Health",
    "Foods",
    "Manufacturing",
    "Bank",
    "Insurance",
    "Energy",
    "Motors",
    "Pharma",
    "Travel",
    "Hotels",
    "Smith, Jones & Co",
];
const FIRST_NAMES: &[&str] = &[
    "Ada", "Ben", "Chen", "Dana", "Emil", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kemal", "Lena",
    "Mateo", "Nia", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wei",
    "Ximena", "Yuki", "Zoe",
];
const LAST_NAMES: &[&str] = &[
    "Andersen", "Bauer", "Costa", "Dubois", "Eriksson", "Fischer", "García", "Haddad", "Ito",
    "Jansen", "Kowalski", "Lee", "Müller", "Nakamura", "O'Brien", "Patel", "Rossi", "Silva",
    "Tanaka", "Ueda", "Virtanen", "Wang", "Yilmaz",
];

/// The most months of data (a hundred years).
const MAX_MONTHS: u32 = 1200;

/// With `--profile dense`, the chance that a pair's revenue or usage row is
/// written in a month other than the latest and baseline months.
const DENSE_OTHER_MONTH_SHARE: f64 = 0.05;

/// Average tenants per partner of each profile, unless `--tenants` says.
const DEFAULT_TENANTS: u32 = 4;
const DENSE_TENANTS: u32 = 15;

/// Validated options.
#[derive(Clone, Debug)]
struct Plan {
    partners: u32,
    tenants: u32,
    months: u32,
    end: Month,
    seed: u64,
    format: Format,
    /// `--profile dense`.
    dense: bool,
}

impl Plan {
    fn from_args(args: &GenerateArgs) -> anyhow::Result<Plan> {
        if args.partners < 1 {
            bail!("--partners must be at least 1");
        }
        let dense = args.profile == GenerateProfile::Dense;
        let tenants = args.tenants.unwrap_or(if dense {
            DENSE_TENANTS
        } else {
            DEFAULT_TENANTS
        });
        if tenants < 1 {
            bail!("--tenants must be at least 1");
        }
        if args.months < 14 {
            bail!(
                "--months must be at least 14: a score as of month M needs data from M-13 (the baseline month) to M-1 (the latest month)"
            );
        }
        if args.months > MAX_MONTHS {
            bail!("--months must be at most {MAX_MONTHS}");
        }
        let end = Month::parse_strict(&args.end_month).with_context(|| {
            format!("--end-month '{}' is not a month (YYYY-MM)", args.end_month)
        })?;
        // Dates are written as YYYY-MM-DD: keep every generated date (data
        // months, certifications earned years before, expiries and
        // anniversaries years after) within four-digit years.
        let first = end.minus(args.months - 1);
        if first.year() < 1000 || end.year() > 9000 {
            bail!(
                "--end-month {end} with --months {} reaches outside the years 1000 to 9000",
                args.months
            );
        }
        Ok(Plan {
            partners: args.partners,
            tenants,
            months: args.months,
            end,
            seed: args.seed,
            format: match args.format {
                TableFormat::Csv => Format::Csv,
                TableFormat::Parquet => Format::Parquet,
            },
            dense,
        })
    }
}

/// Rows written per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    revenue: u64,
    usage: u64,
    certifications: u64,
    partners: u64,
    acr: u64,
    licenses: u64,
}

/// Runs `pcs generate`.
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    let plan = Plan::from_args(args)?;
    let started = Instant::now();
    let staged = match StagedDataset::new(&args.out, args.force) {
        Ok(s) => s,
        Err(WriteError::Exists(p)) => {
            bail!("{} already exists (use --force to replace it)", p.display())
        }
        Err(e) => return Err(e).context("cannot create the output directory"),
    };
    let counts = generate(&staged, &plan)?;
    let out = match staged.commit() {
        Ok(p) => p,
        Err(WriteError::Exists(p)) => bail!(
            "{} appeared while writing (use --force to replace it)",
            p.display()
        ),
        Err(e) => return Err(e).context("cannot move the dataset into place"),
    };
    if !crate::ui::quiet() {
        eprintln!(
            "wrote {} ({}, {} partners): {} revenue, {} usage, {} certification, {} acr, {} licenses rows in {:.1}s; score it with: pcs score {} --month {}",
            out.display(),
            plan.format.extension(),
            counts.partners,
            counts.revenue,
            counts.usage,
            counts.certifications,
            counts.acr,
            counts.licenses,
            started.elapsed().as_secs_f64(),
            out.display(),
            plan.end.plus(1),
        );
    }
    Ok(())
}

/// Writes every table into the staged directory.
fn generate(staged: &StagedDataset, plan: &Plan) -> anyhow::Result<Counts> {
    let set = RulebookSet::builtin();
    let rb = set.versions().first().context("no built-in rulebook")?;
    let catalogue = Catalogue::new(rb);
    let mut writers = Writers {
        revenue: staged.create_table(Table::Revenue, plan.format)?,
        usage: staged.create_table(Table::Usage, plan.format)?,
        certifications: staged.create_table(Table::Certifications, plan.format)?,
        partners: staged.create_table(Table::Partners, plan.format)?,
        acr: staged.create_table(Table::Acr, plan.format)?,
        licenses: staged.create_table(Table::Licenses, plan.format)?,
    };
    let mut generator = Generator::new(&catalogue, plan);
    let areas = AreaGenerator::new(&set, rb, plan);
    for index in 0..plan.partners {
        generator.partner(index, &mut writers)?;
        areas.partner(index, &mut writers)?;
    }
    let counts = Counts {
        revenue: writers.revenue.rows(),
        usage: writers.usage.rows(),
        certifications: writers.certifications.rows(),
        partners: writers.partners.rows(),
        acr: writers.acr.rows(),
        licenses: writers.licenses.rows(),
    };
    for (w, what) in [
        (writers.revenue, "revenue"),
        (writers.usage, "usage"),
        (writers.certifications, "certifications"),
        (writers.partners, "partners"),
        (writers.acr, "acr"),
        (writers.licenses, "licenses"),
    ] {
        w.finish()
            .with_context(|| format!("cannot finish the {what} table"))?;
    }
    Ok(counts)
}

struct Writers {
    revenue: TableWriter,
    usage: TableWriter,
    certifications: TableWriter,
    partners: TableWriter,
    acr: TableWriter,
    licenses: TableWriter,
}

// ------------------------------------------------------------------ the other solution areas

/// Azure services beyond the security ones (an open list: any name counts).
const AZURE_SERVICES: &[&str] = &[
    "Storage",
    "Azure SQL Database",
    "Azure Kubernetes Service",
    "Azure App Service",
    "Azure Functions",
    "Azure Cosmos DB",
    "Azure Machine Learning",
    "Azure Monitor",
    "Virtual Machines",
    "Virtual Machines Licenses",
    "Azure Synapse Analytics",
];

/// ACR association types, with weights (CPOR does not count for Azure).
const ACR_ASSOCIATIONS: &[(&str, f64)] = &[
    ("CSP Tier 1", 0.32),
    ("CSP Tier 2", 0.18),
    ("DPOR", 0.15),
    ("PAL", 0.28),
    ("Partner Admin Link", 0.03),
    ("CPOR", 0.04),
];

/// ACR offers, with weights; empty means not given.
const ACR_OFFERS: &[(&str, f64)] = &[
    ("", 0.30),
    ("Azure plan", 0.35),
    ("Enterprise Agreement", 0.22),
    ("Trial", 0.04),
    ("Support", 0.03),
    ("Internal", 0.03),
    ("Benefit Program", 0.03),
];

/// Licenses association types, with weights (CPOR OSU is not CPOR here).
const LICENSE_ASSOCIATIONS: &[(&str, f64)] = &[
    ("CPOR", 0.38),
    ("DPOR", 0.2),
    ("CSP Tier 1", 0.2),
    ("CSP Tier 2", 0.15),
    ("Claiming Partner of Record", 0.03),
    ("CPOR OSU", 0.04),
];

/// Microsoft 365 workloads no rulebook knows, for warnings.
const UNKNOWN_M365: &[&str] = &["Power BI Pro", "Windows 365"];

/// Writes acr and licenses rows and the area certifications of each
/// partner from its own random stream (seed and partner index, distinct from
/// the Business Applications stream), so Business Applications rows are the
/// same as without them. Each partner has one strong area and weak others;
/// amounts and seats fall exactly on thresholds now and then.
struct AreaGenerator {
    seed: u64,
    months: Vec<String>,
    latest: usize,
    last_day: Date,
    services: Vec<String>,
    workloads: Vec<Spelled>,
    /// (area, certification names) of the area rulebooks, without the
    /// ones Business Applications knows (its generator writes those).
    certs: Vec<(String, Vec<String>)>,
    /// Tenants per partner relative to the default profile.
    tenant_factor: f64,
}

impl AreaGenerator {
    fn new(set: &RulebookSet, ba: &Rulebook, plan: &Plan) -> AreaGenerator {
        let first = plan.end.minus(plan.months - 1);
        let mut services: Vec<String> = AZURE_SERVICES.iter().map(|s| s.to_string()).collect();
        let mut workloads: Vec<Spelled> = Vec::new();
        let mut certs = Vec::new();
        for a in set.area_versions() {
            for f in &a.filters {
                if let Some(list) = &f.services {
                    for s in list {
                        if !services.iter().any(|x| pcs_core::name::normalize(x) == *s) {
                            services.push(title_case(s));
                        }
                    }
                }
            }
            for w in &a.workloads {
                if !workloads.iter().any(|x| x.name == w.name) {
                    workloads.push(Spelled {
                        name: w.name.clone(),
                        aliases: w.aliases.clone(),
                    });
                }
            }
            let names: Vec<String> = a
                .certifications
                .iter()
                .filter(|c| ba.certification(&c.id).is_none())
                .map(|c| c.id.clone())
                .collect();
            certs.push((a.solution_area.clone(), names));
        }
        AreaGenerator {
            seed: plan.seed,
            months: (0..plan.months)
                .map(|i| first.plus(i).to_string())
                .collect(),
            latest: plan.months as usize - 1,
            last_day: plan.end.last_day(),
            services,
            workloads,
            certs,
            tenant_factor: if plan.dense { 2.0 } else { 1.0 },
        }
    }

    fn partner(&self, index: u32, w: &mut Writers) -> Result<(), WriteError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x5ec0_a2ea_5ec0_a2ea);
        rng.set_stream(u64::from(index));
        let rng = &mut rng;
        let id = format!("P{:06}", u64::from(index) + 1);
        // One strong area (0: Azure, 1: Modern Work, 2: Security, 3: none).
        let strong = rng.random_range(0..4u32);
        let level = |rng: &mut ChaCha8Rng, a: u32| {
            if a == strong {
                rng.random_range(0.6..1.0)
            } else {
                rng.random::<f64>() * 0.45
            }
        };
        let azure: f64 = level(rng, 0);
        let m365: f64 = level(rng, 1);
        let security: f64 = level(rng, 2);
        if rng.random_bool(0.8) {
            self.acr(rng, w, &id, azure, security)?;
        }
        if rng.random_bool(0.7) {
            self.licenses(rng, w, &id, m365, security)?;
        }
        self.certifications(rng, w, &id, azure, m365, security)
    }

    fn acr(
        &self,
        rng: &mut ChaCha8Rng,
        w: &mut Writers,
        partner: &str,
        strength: f64,
        security: f64,
    ) -> Result<(), WriteError> {
        let tenants =
            1 + ((strength * 7.0 + rng.random::<f64>() * 2.0) * self.tenant_factor) as usize;
        let mut amount = String::new();
        let n = self.months.len();
        for _ in 0..tenants {
            let tenant = guid(rng);
            let customer = format!("{} {}", pick(rng, NAME_STEMS), pick(rng, CUSTOMER_SUFFIXES));
            // New in the last twelve months, or running since before them.
            let start = if rng.random_bool(0.3 + 0.4 * strength) {
                n.saturating_sub(rng.random_range(1..=12))
            } else {
                rng.random_range(0..n.saturating_sub(12).max(1))
            };
            let services = 1 + rng.random_range(0..3usize);
            for _ in 0..services {
                // Security partners favour the security services.
                let service = if rng.random_bool(0.2 + 0.6 * security) {
                    &self.services[AZURE_SERVICES.len()
                        + rng.random_range(0..self.services.len() - AZURE_SERVICES.len())]
                } else {
                    &self.services[rng.random_range(0..AZURE_SERVICES.len())]
                };
                // A security partner's Azure security services come through PAL.
                let association = if security > 0.6 && rng.random_bool(0.6) {
                    "PAL"
                } else {
                    *pick_weighted(rng, ACR_ASSOCIATIONS)
                };
                let association = variant(rng, association, 0.05);
                let offer = *pick_weighted(rng, ACR_OFFERS);
                let base = log_uniform(rng, 40.0, 900.0 + 4000.0 * strength);
                let trend = 1.0 + (strength - 0.3) * 0.04;
                let subscription = guid(rng);
                for (m, month) in self.months.iter().enumerate().skip(start) {
                    if m > self.latest {
                        break;
                    }
                    let cents = if rng.random_bool(0.03) {
                        100_000 // exactly $1,000.00
                    } else if rng.random_bool(0.02) {
                        -((base * 100.0 * 0.2) as i64) // a credit
                    } else {
                        let v = base
                            * trend.powi((m - start) as i32)
                            * (0.8 + 0.4 * rng.random::<f64>());
                        (v * 100.0).round() as i64
                    };
                    put_fixed(&mut amount, cents, 2);
                    let row = [
                        partner,
                        &tenant,
                        &customer,
                        &subscription,
                        service,
                        month,
                        &amount,
                        &association,
                        offer,
                    ];
                    w.acr.write_row(&row)?;
                    if rng.random_bool(0.01) {
                        w.acr.write_row(&row)?; // a duplicate row
                    }
                }
            }
        }
        Ok(())
    }

    fn licenses(
        &self,
        rng: &mut ChaCha8Rng,
        w: &mut Writers,
        partner: &str,
        strength: f64,
        security: f64,
    ) -> Result<(), WriteError> {
        let tenants =
            1 + ((strength * 16.0 + rng.random::<f64>() * 2.0) * self.tenant_factor) as usize;
        let n = self.months.len();
        let first_kept = n.saturating_sub(14);
        let (mut seats_text, mut active_text) = (String::new(), String::new());
        for _ in 0..tenants {
            let tenant = guid(rng);
            let customer = format!("{} {}", pick(rng, NAME_STEMS), pick(rng, CUSTOMER_SUFFIXES));
            let start = if rng.random_bool(0.3 + 0.3 * strength) {
                n.saturating_sub(rng.random_range(1..=12))
            } else {
                rng.random_range(0..n.saturating_sub(13).max(1))
            };
            let associated_on = if rng.random_bool(0.9) {
                let m = Month::parse_strict(&self.months[start]).expect("generated month");
                let day: i8 = rng.random_range(1..=28);
                Date::new(m.year(), m.month(), day)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            };
            // Enterprise-size (> 300), SMB-size (11-300) or small, with the
            // band edges now and then.
            let seats: u64 = match rng.random_range(0..10u32) {
                0 => *pick(rng, &[10u64, 11, 25, 300, 301]),
                1..=3 => rng.random_range(301..5000),
                4..=8 => rng.random_range(11..=300),
                _ => rng.random_range(1..=10),
            };
            // A security partner's Microsoft 365 customers are mostly CPOR.
            let association = if security > 0.6 && rng.random_bool(0.6) {
                "CPOR"
            } else {
                *pick_weighted(rng, LICENSE_ASSOCIATIONS)
            };
            let association = variant(rng, association, 0.05);
            let workloads = 1 + rng.random_range(0..3usize);
            let share0 = 0.1 + 0.7 * rng.random::<f64>() * (0.3 + strength);
            for _ in 0..workloads {
                let unknown = rng.random_bool(0.02);
                let workload: Cow<'_, str> = if unknown {
                    Cow::Borrowed(*pick(rng, UNKNOWN_M365))
                } else if rng.random_bool(0.6 * security) {
                    // The security workloads follow the Modern Work ones.
                    let k = self.workloads.len();
                    let i = k - 1 - rng.random_range(0..5.min(k));
                    spelling(rng, &self.workloads[i], 0.05)
                } else {
                    let i = rng.random_range(0..14.min(self.workloads.len()));
                    spelling(rng, &self.workloads[i], 0.05)
                };
                let growth = (strength - 0.25) * 0.05;
                for (m, month) in self.months.iter().enumerate().skip(start.max(first_kept)) {
                    if m > self.latest {
                        break;
                    }
                    let share = (share0 * (1.0 + growth * (m - start) as f64)).clamp(0.0, 1.1);
                    let active = if rng.random_bool(0.03) {
                        (seats as f64 * 0.4).ceil() as u64 // exactly 40 % (or just above)
                    } else {
                        (seats as f64 * share).round() as u64
                    };
                    seats_text.clear();
                    let _ = write!(seats_text, "{seats}");
                    active_text.clear();
                    let _ = write!(active_text, "{active}");
                    w.licenses.write_row(&[
                        partner,
                        &tenant,
                        &customer,
                        &workload,
                        month,
                        &association,
                        &seats_text,
                        &active_text,
                        &associated_on,
                    ])?;
                }
            }
        }
        Ok(())
    }

    fn certifications(
        &self,
        rng: &mut ChaCha8Rng,
        w: &mut Writers,
        partner: &str,
        azure: f64,
        m365: f64,
        security: f64,
    ) -> Result<(), WriteError> {
        for (area, names) in &self.certs {
            if names.is_empty() {
                continue;
            }
            let s = if area.starts_with("azure_") {
                azure
            } else if area == "modern_work" {
                m365
            } else {
                security
            };
            let people = (s * 9.0 + rng.random::<f64>() * 1.5) as usize;
            for _ in 0..people {
                let person = format!("{partner}-{}", rng.random_range(1000..10_000u32));
                let held = 1 + rng.random_range(0..3usize);
                for _ in 0..held {
                    let cert = pick(rng, names);
                    let days: i64 = rng.random_range(30..900);
                    let earned = self.last_day - days.days();
                    let expires = if rng.random_bool(0.6) {
                        let d: i64 = rng.random_range(-60..700);
                        (earned + (days + d).days()).to_string()
                    } else {
                        String::new()
                    };
                    let earned = earned.to_string();
                    w.certifications
                        .write_row(&[partner, &person, "", cert, &earned, &expires])?;
                }
            }
        }
        Ok(())
    }
}

/// `azure firewall` → `Azure Firewall` (service names from a normalised list).
fn title_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ------------------------------------------------------------------ catalogue

/// A name with its accepted alternative spellings.
#[derive(Clone, Debug)]
struct Spelled {
    name: String,
    aliases: Vec<String>,
}

/// A usage name: a rate-card workload or a product rolling up into one.
#[derive(Clone, Debug)]
struct UsageItem {
    spelled: Spelled,
    /// MCV per unit (0 when the workload has no rate).
    rate: f64,
    /// Quantities are profiles (may be fractional), not MAU.
    profiles: bool,
    family: usize,
}

#[derive(Clone, Debug)]
struct Cert {
    id: String,
    name: String,
    /// The name without its optional prefix, when that spelling resolves.
    short: Option<String>,
    weight: f64,
    eligible_until: Option<Date>,
}

/// What the generator draws from, taken from the rulebook.
struct Catalogue {
    revenue_workloads: Vec<Spelled>,
    /// Cumulative weights of `revenue_workloads`.
    revenue_cumulative: Vec<f64>,
    revenue_associations: Vec<String>,
    other_associations: Vec<String>,
    usage_items: Vec<UsageItem>,
    unrated_items: Vec<UsageItem>,
    /// Per usage family: association names that count, and those that do not.
    family_associations: Vec<(Vec<String>, Vec<String>)>,
    /// Certifications per level, in metric order, with the level's share.
    levels: Vec<(f64, Vec<Cert>)>,
}

/// A stable pseudo-random weight in [0.5, 3.0) from a name, so that the mix
/// is uneven without naming favourites.
fn name_weight(name: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    0.5 + (h % 1000) as f64 / 400.0
}

impl Catalogue {
    fn new(rb: &Rulebook) -> Catalogue {
        let revenue_workloads: Vec<Spelled> = rb
            .revenue
            .workloads
            .iter()
            .map(|w| Spelled {
                name: w.name.clone(),
                aliases: w.aliases.clone(),
            })
            .collect();
        let mut total = 0.0;
        let revenue_cumulative = revenue_workloads
            .iter()
            .map(|w| {
                total += name_weight(&w.name);
                total
            })
            .collect();
        let assoc_names = |pick: &dyn Fn(u16) -> bool| -> Vec<String> {
            rb.associations
                .iter()
                .enumerate()
                .filter(|(i, _)| pick(*i as u16))
                .map(|(_, a)| a.name.clone())
                .collect()
        };
        let revenue_associations = assoc_names(&|i| rb.revenue.associations.contains(i));
        let other_associations = assoc_names(&|i| !rb.revenue.associations.contains(i));
        let family_associations = rb
            .usage
            .families
            .iter()
            .map(|f| {
                (
                    assoc_names(&|i| f.associations.contains(i)),
                    assoc_names(&|i| !f.associations.contains(i)),
                )
            })
            .collect();

        let mut usage_items = Vec::new();
        let mut unrated_items = Vec::new();
        for w in &rb.usage.workloads {
            let rate = w
                .rate
                .map(|r| r.to_string().parse::<f64>().unwrap_or(0.0))
                .unwrap_or(0.0);
            let profiles = w
                .unit
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case("profiles"));
            let item = |name: &str, aliases: Vec<String>| UsageItem {
                spelled: Spelled {
                    name: name.to_string(),
                    aliases,
                },
                rate,
                profiles,
                family: w.family,
            };
            if rate > 0.0 {
                usage_items.push(item(&w.name, w.aliases.clone()));
                for product in &w.includes {
                    usage_items.push(item(product, Vec::new()));
                }
            } else {
                unrated_items.push(item(&w.name, w.aliases.clone()));
            }
        }

        // Levels in the order of the metrics that count them.
        let mut level_names: Vec<&str> = Vec::new();
        for m in &rb.metrics {
            if let Shape::CertifiedPeople { level, .. } = &m.shape
                && !level_names.contains(&level.as_str())
            {
                level_names.push(level);
            }
        }
        for c in &rb.certifications {
            if !level_names.contains(&c.level.as_str()) {
                level_names.push(&c.level);
            }
        }
        let levels = level_names
            .iter()
            .enumerate()
            .map(|(i, level)| {
                // Higher levels are rarer.
                let share = if i == 0 { 1.0 } else { 0.3 / i as f64 };
                let certs = rb
                    .certifications
                    .iter()
                    .filter(|c| c.level == *level)
                    .map(|c| {
                        let short = c
                            .name
                            .split_once(": ")
                            .map(|(_, rest)| rest.to_string())
                            .filter(|rest| rb.certification(rest) == rb.certification(&c.id));
                        let windowed = c.eligible_from.is_some() || c.eligible_until.is_some();
                        Cert {
                            id: c.id.clone(),
                            name: c.name.clone(),
                            short,
                            weight: if windowed { 0.4 } else { 1.0 },
                            eligible_until: c.eligible_until,
                        }
                    })
                    .collect();
                (share, certs)
            })
            .collect();

        Catalogue {
            revenue_workloads,
            revenue_cumulative,
            revenue_associations,
            other_associations,
            usage_items,
            unrated_items,
            family_associations,
            levels,
        }
    }
}

// ------------------------------------------------------------------ random helpers

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn log_uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo * (hi / lo).powf(rng.random::<f64>())
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random::<f64>() * total;
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

/// A GUID-like id.
fn guid(rng: &mut ChaCha8Rng) -> String {
    let v: u128 = rng.random();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (v >> 96) as u32,
        (v >> 80) as u16,
        (v >> 68) as u16 & 0xfff,
        ((v >> 52) as u16 & 0x3fff) | 0x8000,
        v as u64 & 0xffff_ffff_ffff
    )
}

/// The name as written in a row: mostly the catalogue name, sometimes an
/// alias or a case/separator variant (`power_bi`, `CSP-TIER-1`).
fn spelling<'a>(rng: &mut ChaCha8Rng, s: &'a Spelled, variant_share: f64) -> Cow<'a, str> {
    if !rng.random_bool(variant_share) {
        return Cow::Borrowed(&s.name);
    }
    let base = if !s.aliases.is_empty() && rng.random_bool(0.5) {
        pick(rng, &s.aliases)
    } else {
        &s.name
    };
    Cow::Owned(match rng.random_range(0..3) {
        0 => base.to_lowercase().replace(' ', "_"),
        1 => base.to_uppercase().replace(' ', "-"),
        _ => base.to_lowercase(),
    })
}

fn variant<'a>(rng: &mut ChaCha8Rng, name: &'a str, share: f64) -> Cow<'a, str> {
    if !rng.random_bool(share) {
        return Cow::Borrowed(name);
    }
    Cow::Owned(match rng.random_range(0..3) {
        0 => name.to_lowercase().replace(' ', "_"),
        1 => name.to_uppercase().replace(' ', "-"),
        _ => name.to_lowercase(),
    })
}

/// Writes `value` (a multiple of 10^-scale) with exactly `scale` decimals.
fn put_fixed(buf: &mut String, units: i64, scale: u32) {
    buf.clear();
    let p = 10i64.pow(scale);
    if units < 0 {
        buf.push('-');
    }
    let a = units.unsigned_abs();
    let p = p as u64;
    if scale == 0 {
        let _ = write!(buf, "{a}");
    } else {
        let _ = write!(buf, "{}.{:0width$}", a / p, a % p, width = scale as usize);
    }
}

// ------------------------------------------------------------------ the generator

/// A (tenant, performance workload) subscription.
#[derive(Clone)]
struct RevenuePair {
    workload: usize,
    association: String,
    subscription: String,
    /// A second subscription billing a share of each month's amount.
    second: Option<(String, f64)>,
    channel: &'static str,
    start: usize,
    end: usize,
    level: f64,
    trend: f64,
    anchor: bool,
}

/// A (tenant, usage workload or product) consumption line.
struct UsagePair {
    item: UsageItem,
    association: String,
    start: usize,
    end: usize,
    level: f64,
    trend: f64,
    fractional: bool,
}

struct Generator<'a> {
    cat: &'a Catalogue,
    plan: &'a Plan,
    /// `YYYY-MM` of each data month, oldest first.
    months: Vec<String>,
    latest: usize,
    baseline: usize,
    /// The last day of the latest month.
    last_day: Date,
    amount: String,
}

impl<'a> Generator<'a> {
    fn new(cat: &'a Catalogue, plan: &'a Plan) -> Generator<'a> {
        let n = plan.months as usize;
        let first = plan.end.minus(plan.months - 1);
        Generator {
            cat,
            plan,
            months: (0..plan.months)
                .map(|i| first.plus(i).to_string())
                .collect(),
            latest: n - 1,
            baseline: n - 13,
            last_day: plan.end.last_day(),
            amount: String::new(),
        }
    }

    /// Start and end month indices of a subscription: new in the last
    /// twelve months, stopped after the baseline, stopped before it, or
    /// running from before the baseline to the latest month.
    fn lifecycle(
        &self,
        rng: &mut ChaCha8Rng,
        p_new: f64,
        p_stop: f64,
        p_past: f64,
    ) -> (usize, usize) {
        let (b, l) = (self.baseline, self.latest);
        let r: f64 = rng.random();
        if r < p_new {
            (rng.random_range(b + 1..=l), l)
        } else if r < p_new + p_stop {
            let start = rng.random_range(0..=b);
            (start, rng.random_range(b..l))
        } else if r < p_new + p_stop + p_past && b >= 1 {
            let start = rng.random_range(0..b);
            (start, rng.random_range(start..b))
        } else {
            (rng.random_range(0..=b), l)
        }
    }

    fn partner(&mut self, index: u32, w: &mut Writers) -> Result<(), WriteError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.plan.seed);
        rng.set_stream(u64::from(index));
        let rng = &mut rng;
        let id = format!("P{:06}", u64::from(index) + 1);
        let enterprise = rng.random_bool(0.10);
        // Skewed up: more partners are strong than weak.
        let strength: f64 = rng.random::<f64>().powf(0.75);

        // partners
        let name = format!("{} {}", pick(rng, NAME_STEMS), pick(rng, PARTNER_SUFFIXES));
        let anniversary = if rng.random_bool(0.2) {
            let days: i64 = rng.random_range(-180..=365);
            (self.last_day + days.days()).to_string()
        } else {
            String::new()
        };
        w.partners.write_row(&[&id, &name, &anniversary])?;

        let t = f64::from(self.plan.tenants);
        let tenants = if enterprise {
            ((t * rng.random_range(2.0..3.0)).round() as usize).max(4)
        } else {
            ((t * rng.random_range(0.4..1.4)).round() as usize).max(1)
        };
        let mut anchors_left = if enterprise {
            rng.random_range(6..=8)
        } else {
            0
        };
        for _ in 0..tenants {
            let tenant = guid(rng);
            let customer = if rng.random_bool(0.95) {
                format!("{} {}", pick(rng, NAME_STEMS), pick(rng, CUSTOMER_SUFFIXES))
            } else {
                String::new()
            };
            self.revenue(
                rng,
                w,
                &id,
                &tenant,
                &customer,
                enterprise,
                strength,
                &mut anchors_left,
            )?;
            self.usage(rng, w, &id, &tenant, &customer, enterprise, strength)?;
        }
        self.certifications(rng, w, &id, enterprise, strength)
    }

    #[allow(clippy::too_many_arguments)]
    fn revenue(
        &mut self,
        rng: &mut ChaCha8Rng,
        w: &mut Writers,
        partner: &str,
        tenant: &str,
        customer: &str,
        enterprise: bool,
        strength: f64,
        anchors_left: &mut u32,
    ) -> Result<(), WriteError> {
        let cat = self.cat;
        let count = if self.plan.dense {
            *pick_weighted(rng, &[(3, 0.3), (4, 0.4), (5, 0.3)])
        } else if enterprise {
            if rng.random_bool(0.4) { 2 } else { 3 }
        } else {
            *pick_weighted(rng, &[(1, 0.3), (2, 0.4), (3, 0.3)])
        };
        let total = *cat
            .revenue_cumulative
            .last()
            .expect("the rulebook has performance workloads");
        let mut chosen: Vec<usize> = Vec::with_capacity(count);
        while chosen.len() < count.min(cat.revenue_workloads.len()) {
            let x = rng.random::<f64>() * total;
            let i = cat
                .revenue_cumulative
                .partition_point(|&c| c <= x)
                .min(cat.revenue_workloads.len() - 1);
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        for workload in chosen {
            let anchor = *anchors_left > 0;
            let pair = if anchor {
                *anchors_left -= 1;
                RevenuePair {
                    workload,
                    association: pick(rng, &cat.revenue_associations).clone(),
                    subscription: guid(rng),
                    second: None,
                    channel: pick_weighted::<&str>(rng, CHANNELS),
                    start: rng.random_range(0..=self.baseline.saturating_sub(1)),
                    end: self.latest,
                    level: log_uniform(rng, 9_000.0, 40_000.0),
                    trend: 0.004 * normal(rng),
                    anchor: true,
                }
            } else {
                let (start, end) = self.lifecycle(
                    rng,
                    0.05 + 0.7 * strength,
                    0.03 + 0.35 * (1.0 - strength),
                    0.08,
                );
                let association = if rng.random_bool(0.9) || cat.other_associations.is_empty() {
                    pick(rng, &cat.revenue_associations).clone()
                } else {
                    pick(rng, &cat.other_associations).clone()
                };
                RevenuePair {
                    workload,
                    association,
                    subscription: if rng.random_bool(0.85) {
                        guid(rng)
                    } else {
                        String::new()
                    },
                    second: if rng.random_bool(0.28) {
                        Some((guid(rng), rng.random_range(0.2..0.5)))
                    } else {
                        None
                    },
                    channel: pick_weighted::<&str>(rng, CHANNELS),
                    start,
                    end,
                    level: if enterprise {
                        log_uniform(rng, 600.0, 30_000.0)
                    } else {
                        log_uniform(rng, 150.0, 5_000.0)
                    },
                    trend: 0.01 * normal(rng),
                    anchor: false,
                }
            };
            // A customer coming back: new in the last twelve months, after an
            // earlier subscription that stopped before the baseline month.
            if !anchor && pair.start > self.baseline && self.baseline >= 1 && rng.random_bool(0.5) {
                let mut earlier = pair.clone();
                earlier.start = rng.random_range(0..self.baseline);
                earlier.end = rng.random_range(earlier.start..self.baseline);
                if !earlier.subscription.is_empty() {
                    earlier.subscription = guid(rng);
                }
                self.revenue_rows(rng, w, partner, tenant, customer, &earlier)?;
            }
            self.revenue_rows(rng, w, partner, tenant, customer, &pair)?;
        }
        Ok(())
    }

    fn revenue_rows(
        &mut self,
        rng: &mut ChaCha8Rng,
        w: &mut Writers,
        partner: &str,
        tenant: &str,
        customer: &str,
        p: &RevenuePair,
    ) -> Result<(), WriteError> {
        let cat = self.cat;
        let spelled = &cat.revenue_workloads[p.workload];
        for i in p.start..=p.end {
            if self.sparse_month(rng, i) {
                continue;
            }
            if !p.anchor && rng.random_bool(0.03) {
                continue; // a month without billing
            }
            let noise = (1.0 + 0.12 * normal(rng)).clamp(0.6, 1.4);
            let mut amount = p.level * (p.trend * (i - p.start) as f64).exp() * noise;
            if p.anchor {
                amount = amount.max(5_600.0);
            } else if rng.random_bool(0.01) {
                amount = *pick(rng, &[250.0, 1_500.0, 5_000.0]);
            }
            let cents = ((amount * 100.0).round() as i64).max(1);
            let workload = spelling(rng, spelled, 0.03);
            let association = variant(rng, &p.association, 0.03);
            let month = &self.months[i];
            // A second subscription bills part of the month's amount.
            let parts = match &p.second {
                Some((subscription, share)) => {
                    let b = ((cents as f64 * share).round() as i64).clamp(1, (cents - 1).max(1));
                    [
                        (p.subscription.as_str(), cents - b),
                        (subscription.as_str(), b),
                    ]
                }
                None => [(p.subscription.as_str(), cents), ("", 0)],
            };
            for (subscription, part) in parts {
                if part <= 0 {
                    continue;
                }
                put_fixed(&mut self.amount, part, 2);
                let row = [
                    partner,
                    tenant,
                    customer,
                    subscription,
                    &workload,
                    month,
                    &self.amount,
                    &association,
                    p.channel,
                ];
                w.revenue.write_row(&row)?;
                if rng.random_bool(0.01) {
                    w.revenue.write_row(&row)?; // a duplicate
                }
            }
            if !p.anchor && rng.random_bool(0.02) {
                let credit = -((cents as f64 * rng.random_range(0.05..0.3)).round() as i64).max(1);
                put_fixed(&mut self.amount, credit, 2);
                w.revenue.write_row(&[
                    partner,
                    tenant,
                    customer,
                    &p.subscription,
                    &workload,
                    month,
                    &self.amount,
                    &association,
                    p.channel,
                ])?;
            }
            if rng.random_bool(0.005) {
                let unknown = *pick(rng, UNKNOWN_WORKLOADS);
                put_fixed(&mut self.amount, rng.random_range(1_000..500_000), 2);
                w.revenue.write_row(&[
                    partner,
                    tenant,
                    customer,
                    "",
                    unknown,
                    month,
                    &self.amount,
                    &association,
                    p.channel,
                ])?;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn usage(
        &mut self,
        rng: &mut ChaCha8Rng,
        w: &mut Writers,
        partner: &str,
        tenant: &str,
        customer: &str,
        enterprise: bool,
        strength: f64,
    ) -> Result<(), WriteError> {
        let cat = self.cat;
        let count = if self.plan.dense {
            *pick_weighted(rng, &[(1usize, 0.2), (2, 0.5), (3, 0.3)])
        } else if enterprise {
            *pick_weighted(rng, &[(0usize, 0.1), (1, 0.5), (2, 0.4)])
        } else {
            *pick_weighted(
                rng,
                &[
                    (0usize, 0.3 - 0.2 * strength),
                    (1, 0.5),
                    (2, 0.15 + 0.15 * strength),
                ],
            )
        };
        let mut pairs: Vec<UsagePair> = Vec::with_capacity(count + 1);
        for _ in 0..count {
            let item = pick(rng, &cat.usage_items).clone();
            if pairs
                .iter()
                .any(|p| p.item.spelled.name == item.spelled.name)
            {
                continue;
            }
            let (start, end) = self.lifecycle(
                rng,
                0.05 + 0.45 * strength,
                0.03 + 0.15 * (1.0 - strength),
                0.03,
            );
            let median = if enterprise {
                9_000.0 + 12_000.0 * strength
            } else {
                8_000.0 + 16_000.0 * strength
            };
            let level = median * (0.7 * normal(rng)).exp();
            let trend = -0.02 + 0.05 * strength + 0.012 * normal(rng);
            let association = self.usage_association(rng, item.family);
            let fractional = item.profiles && rng.random_bool(0.3);
            pairs.push(UsagePair {
                item,
                association,
                start,
                end,
                level,
                trend,
                fractional,
            });
        }
        if !cat.unrated_items.is_empty() && rng.random_bool(0.01) {
            let item = pick(rng, &cat.unrated_items).clone();
            let (start, end) = self.lifecycle(rng, 0.3, 0.1, 0.05);
            let association = self.usage_association(rng, item.family);
            pairs.push(UsagePair {
                item,
                association,
                start,
                end,
                level: log_uniform(rng, 5.0, 300.0),
                trend: 0.01 * normal(rng),
                fractional: false,
            });
        }
        for p in &pairs {
            for i in p.start..=p.end {
                if self.sparse_month(rng, i) {
                    continue;
                }
                let factor = (p.trend * (i - p.start) as f64).exp() * (1.0 + 0.04 * normal(rng));
                let units = if p.item.rate > 0.0 {
                    let quantity = p.level * factor / p.item.rate;
                    if p.fractional {
                        (quantity * 1000.0).round() as i64
                    } else {
                        (quantity.round() as i64).max(1) * 1000
                    }
                } else {
                    ((p.level * factor).round() as i64).max(1) * 1000
                };
                put_fixed(&mut self.amount, units.max(0), 3);
                // Whole quantities are written without decimals.
                if self.amount.ends_with(".000") {
                    let n = self.amount.len() - 4;
                    self.amount.truncate(n);
                }
                let workload = spelling(rng, &p.item.spelled, 0.03);
                let association = variant(rng, &p.association, 0.03);
                w.usage.write_row(&[
                    partner,
                    tenant,
                    customer,
                    &workload,
                    &self.months[i],
                    &self.amount,
                    &association,
                ])?;
                if rng.random_bool(0.003) {
                    w.usage.write_row(&[
                        partner,
                        tenant,
                        customer,
                        *pick(rng, UNKNOWN_WORKLOADS),
                        &self.months[i],
                        &self.amount,
                        &association,
                    ])?;
                }
            }
        }
        Ok(())
    }

    /// With `--profile dense`, whether to skip month `i` of a pair: the
    /// latest and baseline months are always written, the others only now
    /// and then. Never skips (and draws nothing) with the default profile.
    fn sparse_month(&self, rng: &mut ChaCha8Rng, i: usize) -> bool {
        self.plan.dense
            && i != self.latest
            && i != self.baseline
            && !rng.random_bool(DENSE_OTHER_MONTH_SHARE)
    }

    /// Mostly an association type that counts for the family, sometimes one that does not.
    fn usage_association(&self, rng: &mut ChaCha8Rng, family: usize) -> String {
        let (ok, wrong) = &self.cat.family_associations[family];
        if ok.is_empty() || (!wrong.is_empty() && rng.random_bool(0.08)) {
            pick(rng, wrong).clone()
        } else {
            pick(rng, ok).clone()
        }
    }

    fn certifications(
        &mut self,
        rng: &mut ChaCha8Rng,
        w: &mut Writers,
        partner: &str,
        enterprise: bool,
        strength: f64,
    ) -> Result<(), WriteError> {
        let cat = self.cat;
        let people = if enterprise {
            (8.0 + 22.0 * strength + 3.0 * normal(rng))
                .round()
                .clamp(4.0, 30.0) as usize
        } else if rng.random_bool(0.08) {
            0
        } else {
            (1.0 + 11.0 * strength + 2.0 * normal(rng))
                .round()
                .clamp(1.0, 30.0) as usize
        };
        let levels: Vec<(usize, f64)> = cat
            .levels
            .iter()
            .enumerate()
            .map(|(i, (share, _))| (i, *share))
            .collect();
        let mut earned = String::new();
        let mut expires = String::new();
        for n in 1..=people {
            let person = format!("{partner}-{n:03}");
            let person_name = if rng.random_bool(0.9) {
                format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES))
            } else {
                String::new()
            };
            let count = *pick_weighted(rng, &[(1usize, 0.3), (2, 0.4), (3, 0.3)]);
            let mut held: Vec<&str> = Vec::with_capacity(count);
            for _ in 0..count {
                let (written, until): (Cow<'_, str>, Option<Date>) = if rng.random_bool(0.03)
                    || levels.is_empty()
                {
                    (Cow::Borrowed(*pick(rng, UNKNOWN_CERTIFICATIONS)), None)
                } else {
                    let certs = &cat.levels[*pick_weighted(rng, &levels)].1;
                    if certs.is_empty() {
                        continue;
                    }
                    let weighted: Vec<(&Cert, f64)> = certs.iter().map(|c| (c, c.weight)).collect();
                    let cert = *pick_weighted(rng, &weighted);
                    if held.contains(&cert.id.as_str()) {
                        continue;
                    }
                    held.push(&cert.id);
                    let r: f64 = rng.random();
                    let name: &str = if r < 0.5 {
                        &cert.name
                    } else if r < 0.75 {
                        cert.short.as_deref().unwrap_or(&cert.name)
                    } else {
                        &cert.id
                    };
                    (variant(rng, name, 0.02), cert.eligible_until)
                };
                // Earned over the last four years (before a retirement, for retired ones).
                let mut back: i64 = rng.random_range(0..4 * 365);
                if let Some(u) = until
                    && u < self.last_day
                {
                    let min_back = (self.last_day - u).get_days() as i64;
                    back = back.max(min_back + rng.random_range(0..365));
                }
                let earned_on = self.last_day - back.days();
                earned.clear();
                let _ = write!(earned, "{earned_on}");
                expires.clear();
                if rng.random_bool(0.5) {
                    let years: i64 = rng.random_range(1..=3);
                    let _ = write!(expires, "{}", earned_on + (365 * years).days());
                }
                w.certifications.write_row(&[
                    partner,
                    &person,
                    &person_name,
                    &written,
                    &earned,
                    &expires,
                ])?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    use pcs_core::facts::MonthFilter;
    use pcs_core::rulebook::Classification;
    use pcs_core::score::{Period, score_partner};

    fn args(out: &Path, partners: u32, seed: u64, format: TableFormat) -> GenerateArgs {
        GenerateArgs {
            out: out.to_path_buf(),
            partners,
            tenants: None,
            profile: GenerateProfile::Default,
            months: 25,
            end_month: "2024-06".to_string(),
            seed,
            format,
            force: false,
        }
    }

    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let root = tempfile::tempdir().unwrap();
        for format in [TableFormat::Csv, TableFormat::Parquet] {
            let name = format!("{format:?}");
            let a = root.path().join(format!("{name}-a"));
            let b = root.path().join(format!("{name}-b"));
            let c = root.path().join(format!("{name}-c"));
            run(&args(&a, 6, 7, format)).unwrap();
            run(&args(&b, 6, 7, format)).unwrap();
            run(&args(&c, 6, 8, format)).unwrap();
            let (fa, fb, fc) = (files(&a), files(&b), files(&c));
            assert_eq!(fa.len(), 6); // the six tables
            assert_eq!(fa, fb, "{name}");
            for ((na, ba), (nc, bc)) in fa.iter().zip(&fc) {
                assert_eq!(na, nc);
                assert_ne!(ba, bc, "{name} {na}");
            }
        }
    }

    #[test]
    fn a_smaller_run_is_a_prefix_of_a_larger_one() {
        let root = tempfile::tempdir().unwrap();
        run(&args(&root.path().join("small"), 3, 5, TableFormat::Csv)).unwrap();
        run(&args(&root.path().join("large"), 5, 5, TableFormat::Csv)).unwrap();
        for table in [
            "revenue.csv",
            "usage.csv",
            "certifications.csv",
            "partners.csv",
        ] {
            let small = std::fs::read_to_string(root.path().join("small").join(table)).unwrap();
            let large = std::fs::read_to_string(root.path().join("large").join(table)).unwrap();
            assert!(large.starts_with(&small), "{table}");
        }
    }

    /// Rows of a CSV table and those whose `month` column is one of `months`.
    fn rows_in(path: &Path, months: &[&str]) -> (usize, usize) {
        let mut r = csv::Reader::from_path(path).unwrap();
        let col = r
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "month")
            .unwrap();
        let (mut all, mut inside) = (0, 0);
        for rec in r.records() {
            let rec = rec.unwrap();
            all += 1;
            inside += usize::from(months.contains(&&rec[col]));
        }
        (all, inside)
    }

    #[test]
    fn the_dense_profile_puts_most_rows_in_the_scored_months() {
        let root = tempfile::tempdir().unwrap();
        let (plain, dense) = (root.path().join("plain"), root.path().join("dense"));
        run(&args(&plain, 200, 3, TableFormat::Csv)).unwrap();
        let mut a = args(&dense, 200, 3, TableFormat::Csv);
        a.profile = GenerateProfile::Dense;
        run(&a).unwrap();
        let scored = ["2024-06", "2023-06"];
        for table in ["revenue.csv", "usage.csv"] {
            let (pa, pi) = rows_in(&plain.join(table), &scored);
            let (da, di) = rows_in(&dense.join(table), &scored);
            let share = di as f64 / da as f64;
            assert!(
                pi * 5 < pa,
                "{table}: default {pi} of {pa} in the scored months"
            );
            assert!((0.6..0.85).contains(&share), "{table}: dense {di} of {da}");
            // Many more aggregates (pairs in the scored months) per partner.
            assert!(di > 4 * pi, "{table}: {di} against {pi}");
        }
        for table in ["acr.csv", "licenses.csv"] {
            let (pa, _) = rows_in(&plain.join(table), &[]);
            let (da, _) = rows_in(&dense.join(table), &[]);
            assert!(da as f64 > 1.5 * pa as f64, "{table}: {da} against {pa}");
        }
        // Deterministic, and --tenants still applies.
        let again = root.path().join("again");
        let mut b = args(&again, 200, 3, TableFormat::Csv);
        b.profile = GenerateProfile::Dense;
        run(&b).unwrap();
        assert_eq!(files(&dense), files(&again));
        let few = root.path().join("few");
        let mut c = args(&few, 200, 3, TableFormat::Csv);
        c.profile = GenerateProfile::Dense;
        c.tenants = Some(4);
        run(&c).unwrap();
        let (fa, _) = rows_in(&few.join("revenue.csv"), &[]);
        let (da, _) = rows_in(&dense.join("revenue.csv"), &[]);
        assert!(fa * 2 < da, "{fa} against {da}");
    }

    #[test]
    fn options_are_validated_and_an_existing_output_is_kept() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("x");
        let mut a = args(&out, 1, 1, TableFormat::Csv);
        a.months = 13;
        assert!(run(&a).unwrap_err().to_string().contains("--months"));
        a.months = 14;
        a.end_month = "2024-6".to_string();
        assert!(format!("{:#}", run(&a).unwrap_err()).contains("2024-6"));
        a.end_month = "2024-06".to_string();
        a.partners = 0;
        assert!(run(&a).is_err());
        assert!(!out.exists());
        a.partners = 1;
        std::fs::create_dir(&out).unwrap();
        assert!(run(&a).unwrap_err().to_string().contains("--force"));
        assert!(std::fs::read_dir(&out).unwrap().next().is_none());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
        a.force = true;
        run(&a).unwrap();
        assert_eq!(files(&out).len(), 6);
    }

    #[test]
    fn catalogue_names_come_from_the_rulebook_and_unknown_ones_are_unknown() {
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let cat = Catalogue::new(rb);
        for w in UNKNOWN_WORKLOADS {
            assert!(
                rb.revenue_workload(w).is_none() && rb.usage_workload(w).is_none(),
                "{w}"
            );
        }
        for c in UNKNOWN_CERTIFICATIONS {
            assert!(rb.certification(c).is_none(), "{c}");
        }
        for (_, certs) in &cat.levels {
            for c in certs {
                let id = rb.certification(&c.id);
                assert!(id.is_some());
                assert_eq!(rb.certification(&c.name), id);
                if let Some(s) = &c.short {
                    assert_eq!(rb.certification(s), id);
                }
            }
        }
        assert!(
            cat.levels
                .iter()
                .all(|(_, c)| c.iter().any(|c| c.short.is_some()))
        );
        assert!(!cat.unrated_items.is_empty());
        assert!(
            cat.usage_items
                .iter()
                .all(|i| rb.usage_workload(&i.spelled.name).is_some())
        );
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for w in &cat.revenue_workloads {
            for _ in 0..20 {
                assert!(
                    rb.revenue_workload(&spelling(&mut rng, w, 1.0)).is_some(),
                    "{}",
                    w.name
                );
            }
        }
    }

    #[test]
    fn fixed_point_formatting() {
        let mut s = String::new();
        put_fixed(&mut s, 150_000, 2);
        assert_eq!(s, "1500.00");
        put_fixed(&mut s, -5, 2);
        assert_eq!(s, "-0.05");
        put_fixed(&mut s, 12_345, 3);
        assert_eq!(s, "12.345");
    }

    /// Scores a generated dataset in process: (partners, enterprise, qualified,
    /// rows per table).
    fn mix(partners: u32, format: TableFormat) -> (usize, usize, usize, Vec<u64>) {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("d");
        run(&args(&out, partners, 11, format)).unwrap();
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let month = Month::parse_strict("2024-07").unwrap();
        let period = Period::for_month(rb, month);
        let options = pcs_data::LoadOptions {
            months: MonthFilter::Only(period.data_months().to_vec()),
            trace: false,
            ..pcs_data::LoadOptions::default()
        };
        let (facts, stats) = pcs_data::Dataset::open(&out)
            .unwrap()
            .load_with_stats(rb, &options)
            .unwrap();
        let mut enterprise = 0;
        let mut qualified = 0;
        for (id, f) in &facts.partners {
            let s = score_partner(rb, id, f, period);
            enterprise += usize::from(s.classification == Classification::Enterprise);
            qualified += usize::from(s.qualified);
        }
        (
            facts.partners.len(),
            enterprise,
            qualified,
            stats.tables.iter().map(|t| t.2).collect(),
        )
    }

    #[test]
    fn classifications_and_qualification_are_mixed() {
        let (n, enterprise, qualified, rows) = mix(120, TableFormat::Csv);
        assert_eq!(n, 120);
        assert!(
            (3..=30).contains(&enterprise),
            "{enterprise} enterprise of {n}"
        );
        assert!(
            (10..=80).contains(&qualified),
            "{qualified} qualified of {n}"
        );
        let (_, e2, q2, rows2) = mix(120, TableFormat::Parquet);
        assert_eq!((enterprise, qualified, rows), (e2, q2, rows2));
    }

    /// Run by hand to tune the model:
    /// `cargo test -p pcs-cli --release -- --ignored --nocapture generate::tests::report`
    #[test]
    #[ignore]
    fn report() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("d");
        run(&args(&out, 1000, 1, TableFormat::Csv)).unwrap();
        let set = RulebookSet::builtin();
        let rb = &set.versions()[0];
        let period = Period::for_month(rb, Month::parse_strict("2024-07").unwrap());
        let facts = pcs_data::Dataset::open(&out)
            .unwrap()
            .load(rb, &pcs_data::LoadOptions::default())
            .unwrap();
        for class in [Classification::Smb, Classification::Enterprise] {
            let scores: Vec<_> = facts
                .partners
                .iter()
                .map(|(id, f)| score_partner(rb, id, f, period))
                .filter(|s| s.classification == class)
                .collect();
            let n = scores.len() as f64;
            let q = scores.iter().filter(|s| s.qualified).count();
            let t: f64 = scores
                .iter()
                .map(|s| s.total_points.to_string().parse::<f64>().unwrap())
                .sum();
            eprintln!(
                "{class}: {} partners, {q} qualified, mean total {:.1}",
                scores.len(),
                t / n
            );
            let (mut low, mut down) = (0, 0);
            for sc in &scores {
                if let pcs_core::score::MetricDetail::ConsumptionGrowth {
                    latest_mcv,
                    baseline_mcv,
                    ..
                } = &sc.metric("usage_growth").unwrap().detail
                {
                    let Some(Shape::ConsumptionGrowth {
                        baseline_minimum, ..
                    }) = rb.metric("usage_growth").map(|m| &m.shape)
                    else {
                        unreachable!("the built-in rulebook has usage growth")
                    };
                    let enough = baseline_minimum.for_class(class).passes(*baseline_mcv);
                    low += usize::from(!enough);
                    down += usize::from(enough && latest_mcv <= baseline_mcv);
                }
            }
            eprintln!("  usage baseline below minimum: {low}, not growing: {down}");
            for m in &rb.metrics {
                let pts: Vec<f64> = scores
                    .iter()
                    .map(|s| s.metric(&m.id).unwrap().points.to_string().parse().unwrap())
                    .collect();
                let zero = pts.iter().filter(|p| **p <= 0.0).count();
                eprintln!(
                    "  {:28} mean {:5.1}  zero {:4.0}%",
                    m.id,
                    pts.iter().sum::<f64>() / n,
                    100.0 * zero as f64 / n
                );
            }
        }
        for w in &facts.warnings {
            use std::io::Write as _;
            let style = crate::ui::WARNING;
            let _ = writeln!(
                anstream::stderr().lock(),
                "  {style}warning:{style:#} {}",
                w.describe("Business Applications")
            );
        }
    }
}
