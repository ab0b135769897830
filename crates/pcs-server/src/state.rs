//! The shared state of the server: the current data snapshot (swapped
//! atomically by uploads), the SQLite store and the configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use pcs_core::facts::{DatasetFacts, MonthFilter, PartnerFacts, Table, Warning};
use pcs_core::jiff::civil::Date;
use pcs_core::jiff::{Timestamp, tz::TimeZone};
use pcs_core::rulebook::{Rulebook, RulebookSet};
use pcs_core::score::Period;
use pcs_core::summary::AreaRead;
use pcs_core::vocab::Vocabulary;
use pcs_data::{DataError, Dataset, LoadOptions};

use crate::error::ApiError;
use crate::store::Store;

/// The solution area of the reports (explain, customers, skilling,
/// history, simulate, recommend, plan): Business Applications. The score,
/// the summary and the area pages cover every area of
/// [`pcs_core::rulebook::AREAS`].
pub const SOLUTION_AREA: &str = "business_applications";

/// How the server runs (resolved from `pcs serve` flags).
#[derive(Clone, Debug)]
pub struct Config {
    /// The dataset directory (also holds the SQLite database).
    pub dir: PathBuf,
    /// The rulebooks (built-in unless `--rulebook` files were given).
    pub rulebooks: Arc<RulebookSet>,
    /// Whether requests need a token.
    pub auth: bool,
    /// The largest JSON body accepted, in bytes.
    pub json_limit: usize,
    /// The largest uploaded table accepted, in bytes.
    pub upload_limit: u64,
    /// A fixed "today" (the default evaluation date); the clock otherwise.
    pub today: Option<Date>,
    /// Whether the server itself serves HTTPS (`--tls-cert`): cookies are
    /// then `Secure` and only `https://` origins are this server.
    pub tls: bool,
    /// Login attempts allowed per client address and minute (0: no limit).
    pub login_per_minute: u32,
    /// Requests allowed per token (or session) and second with auth (0: no limit).
    pub token_per_second: u32,
}

impl Config {
    /// A configuration with the defaults: built-in rulebooks, no auth,
    /// 1 MiB JSON bodies, 1 GiB uploads, today from the clock, plain HTTP,
    /// 10 login attempts a minute per address, 50 requests a second per token.
    pub fn new(dir: impl Into<PathBuf>) -> Config {
        Config {
            dir: dir.into(),
            rulebooks: Arc::new(RulebookSet::builtin()),
            auth: false,
            json_limit: 1 << 20,
            upload_limit: 1 << 30,
            today: None,
            tls: false,
            login_per_minute: 10,
            token_per_second: 50,
        }
    }
}

/// One table file of the loaded dataset.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TableInfo {
    /// `revenue`, `usage`, `certifications` or `partners`.
    pub table: &'static str,
    /// The file name in the data directory.
    pub file: String,
    /// `csv` or `parquet`.
    pub format: &'static str,
    /// Data rows read.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
}

/// A partner of the dataset, as listed by the partner picker.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PartnerEntry {
    /// The partner id.
    pub partner_id: String,
    /// Its name, when the partners table gives one.
    pub name: Option<String>,
    #[serde(skip)]
    search_key: String,
}

impl PartnerEntry {
    /// Whether `needle` (already lower-case) is in the id or the name.
    pub fn matches(&self, needle: &str) -> bool {
        self.search_key.contains(needle)
    }
}

/// The whole dataset as read at one moment: the facts of every partner in
/// every month (with source lines, for explanations), under each rulebook
/// version. Requests hold an `Arc` of it, so an upload that replaces it never
/// changes what a request in flight reads.
pub struct Snapshot {
    /// A counter that grows with every accepted upload (starts at 1).
    pub generation: u64,
    /// When the snapshot was read.
    pub loaded_at: Timestamp,
    /// How long reading took.
    pub load_time: Duration,
    /// The table files read.
    pub tables: Vec<TableInfo>,
    rulebooks: Arc<RulebookSet>,
    /// Facts per rulebook version, in the order of `rulebooks.versions()`
    /// (names resolve differently under different versions); each holds the
    /// acr and licenses aggregates too, read with [`Snapshot::vocab`].
    facts: Vec<DatasetFacts>,
    /// The names of every rulebook (Business Applications and the five
    /// area rulebooks, every version), as `pcs score --area` merges them.
    read: Arc<AreaRead>,
    partners: Vec<PartnerEntry>,
}

impl Snapshot {
    /// Reads the dataset in `dir`: all months, with trace, under every
    /// rulebook, every table (acr and licenses too, with the names of every
    /// area rulebook, as `pcs score --area` reads them).
    pub fn load(
        dir: &Path,
        rulebooks: Arc<RulebookSet>,
        read: Arc<AreaRead>,
        generation: u64,
    ) -> Result<Snapshot, DataError> {
        let started = Instant::now();
        let dataset = Dataset::open(dir)?;
        let options = LoadOptions {
            months: MonthFilter::All,
            trace: true,
            ..LoadOptions::default()
        };
        let mut facts = Vec::new();
        let mut stats = None;
        for rb in rulebooks.versions() {
            let (mut f, s) =
                dataset.load_areas(rb, &read.vocab, read.area_months.clone(), &options)?;
            read.keep_unknown_only(&mut f);
            facts.push(f);
            stats.get_or_insert(s);
        }
        let tables = stats
            .map(|s| s.tables)
            .unwrap_or_default()
            .into_iter()
            .map(|(table, path, rows)| TableInfo {
                table: table.name(),
                file: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                format: dataset
                    .tables()
                    .iter()
                    .find(|t| t.table == table)
                    .map(|t| t.format.extension())
                    .unwrap_or("csv"),
                rows,
                bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            })
            .collect();
        let partners = facts
            .first()
            .map(|f| {
                f.partners
                    .iter()
                    .map(|(id, p)| PartnerEntry {
                        partner_id: id.clone(),
                        name: p.name.clone(),
                        search_key: format!(
                            "{}\u{1}{}",
                            id.to_lowercase(),
                            p.name.as_deref().unwrap_or("").to_lowercase()
                        ),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Snapshot {
            generation,
            loaded_at: Timestamp::now(),
            load_time: started.elapsed(),
            tables,
            rulebooks,
            facts,
            read,
            partners,
        })
    }

    /// The merged names of every rulebook (what the area engines bind to).
    pub fn vocab(&self) -> &Vocabulary {
        &self.read.vocab
    }

    /// How the snapshot was read (for the next one).
    pub fn area_read(&self) -> Arc<AreaRead> {
        self.read.clone()
    }

    /// Every partner, sorted by id.
    pub fn partners(&self) -> &[PartnerEntry] {
        &self.partners
    }

    /// The rulebooks.
    pub fn rulebooks(&self) -> &RulebookSet {
        &self.rulebooks
    }

    /// The rulebook in force on `date` and its place in the set.
    fn version(&self, date: Date) -> Result<(&Rulebook, usize), ApiError> {
        let rb = self
            .rulebooks
            .in_force(SOLUTION_AREA, date)
            // No score exists for a date no rulebook covers.
            .map_err(|e| ApiError::not_found(e.to_string()))?;
        let i = self
            .rulebooks
            .versions()
            .iter()
            .position(|v| std::ptr::eq(v, rb))
            .expect("a rulebook of the set");
        Ok((rb, i))
    }

    /// The rulebook in force on `date` and the facts read under it.
    pub fn under(&self, date: Date) -> Result<(&Rulebook, &DatasetFacts), ApiError> {
        let (rb, i) = self.version(date)?;
        Ok((rb, &self.facts[i]))
    }

    /// The vocabulary the facts under the rulebook in force on `date` were
    /// read with (one for every version: the names of every rulebook
    /// merged); 404 when no rulebook is in force on `date`.
    pub fn vocabulary(&self, date: Date) -> Result<&Vocabulary, ApiError> {
        self.version(date)?;
        Ok(&self.read.vocab)
    }

    /// The facts of a partner under a rulebook, if the partner is in the data.
    pub fn partner_facts(&self, date: Date, partner: &str) -> Option<&PartnerFacts> {
        self.under(date).ok()?.1.partners.get(partner)
    }

    /// The data warnings (unknown names, counted rows) under the newest rulebook.
    pub fn warnings(&self) -> &[Warning] {
        self.facts.last().map(|f| &f.warnings[..]).unwrap_or(&[])
    }

    /// The file of a table, if the dataset has it.
    pub fn table_file(&self, table: Table) -> Option<&TableInfo> {
        self.tables.iter().find(|t| t.table == table.name())
    }
}

/// When a report is for: the application layer's (a month, a date, or
/// today, which [`AppState::today`] gives).
pub use pcs_insights::app::When;
/// How the server reads every table: the names of every rulebook of the
/// set (each version of Business Applications and of the five other areas)
/// merged, the acr and licenses tables kept for every month.
pub fn area_read(rulebooks: &RulebookSet) -> Result<AreaRead, pcs_core::rulebook::RulebookError> {
    let ba: Vec<&Rulebook> = rulebooks.versions().iter().collect();
    let areas: Vec<&pcs_core::area::AreaRulebook> = rulebooks.area_versions().iter().collect();
    AreaRead::new(&ba, &areas, MonthFilter::All)
}

struct Inner {
    config: Config,
    data: ArcSwap<Snapshot>,
    store: Store,
    /// The key of the forms' CSRF tokens (kept in the store).
    csrf_key: String,
    /// Held while an upload validates and replaces a table: one at a time.
    upload: tokio::sync::Mutex<()>,
}

/// What every handler can reach: the current snapshot, the store and the
/// configuration. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Reads the dataset and opens (or creates) the store in its directory.
    pub fn open(config: Config) -> anyhow::Result<AppState> {
        let store = Store::open(&config.dir.join(crate::store::FILE_NAME))?;
        // Whatever a crash during an upload left: finish a committed one,
        // remove the rest, before reading the tables.
        let recovery = crate::upload::recover(&config.dir, Some(&store))?;
        if let Some(table) = &recovery.finished {
            eprintln!("pcs serve: finished the {table} upload a stop had interrupted");
        }
        if !recovery.removed.is_empty() {
            eprintln!(
                "pcs serve: removed what an interrupted upload left: {}",
                recovery.removed.join(", ")
            );
        }
        let read = Arc::new(area_read(&config.rulebooks)?);
        let snapshot = Snapshot::load(&config.dir, config.rulebooks.clone(), read, 1)?;
        Ok(Self::with(config, snapshot, store))
    }

    /// A state from parts already built.
    pub fn with(config: Config, snapshot: Snapshot, store: Store) -> AppState {
        // A store that cannot keep the key still gets one for this process.
        let csrf_key = store.server_secret("csrf").unwrap_or_else(|e| {
            eprintln!(
                "pcs serve: cannot keep the CSRF key in the store ({e}); forms expire at restart"
            );
            crate::store::secret("")
        });
        AppState(Arc::new(Inner {
            config,
            data: ArcSwap::from_pointee(snapshot),
            store,
            csrf_key,
            upload: tokio::sync::Mutex::new(()),
        }))
    }

    /// The current snapshot. Hold the `Arc` for the whole request so every
    /// figure of a response comes from the same data.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.0.data.load_full()
    }

    /// Replaces the snapshot (after an accepted upload).
    pub(crate) fn replace(&self, snapshot: Snapshot) {
        self.0.data.store(Arc::new(snapshot));
    }

    /// The SQLite store (tokens, sessions, scenarios, upload history).
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The key of the forms' CSRF tokens.
    pub(crate) fn csrf_key(&self) -> &str {
        &self.0.csrf_key
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub(crate) fn upload_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.0.upload
    }

    /// Today's date: the configured one, else the clock's (UTC). The
    /// server's one clock read (its adapter edge): everything below is
    /// given the date.
    pub fn today(&self) -> Date {
        self.0
            .config
            .today
            .unwrap_or_else(|| TimeZone::UTC.to_datetime(Timestamp::now()).date())
    }

    /// Resolves `when` into the period under the rulebook in force (404
    /// when none is, or when no facts were read under it).
    pub fn period(&self, snap: &Snapshot, when: When) -> Result<Period, ApiError> {
        snap.under(when.evaluation_date())?;
        pcs_insights::app::resolve(snap.rulebooks(), when)
            .map(|(_, p)| p)
            .map_err(ApiError::from)
    }
}

/// The date whose rulebook applies (a month's last day, or the date).
pub fn evaluation_date(when: When) -> Date {
    when.evaluation_date()
}
