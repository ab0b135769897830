//! The shared state of the server: the current data snapshot (swapped
//! atomically by uploads), the SQLite store and the configuration.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use pcs_core::calendar::Month;
use pcs_core::facts::{DatasetFacts, FactsBuilder, MonthFilter, PartnerFacts, Table, Warning};
use pcs_core::jiff::civil::Date;
use pcs_core::jiff::{Timestamp, tz::TimeZone};
use pcs_core::rulebook::{Rulebook, RulebookSet};
use pcs_core::score::Period;
use pcs_core::summary::AreaRead;
use pcs_core::vocab::Vocabulary;
use pcs_data::{DataError, Dataset, LoadOptions, PartnerIndex};

use crate::error::ApiError;
use crate::lanes::Lanes;
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
    /// The most time each search of a joint plan may take in a request
    /// (`None`: no limit; the search then stops only at its scenario
    /// budget, and the same request always answers the same plan).
    pub plan_time: Option<std::time::Duration>,
}

impl Config {
    /// A configuration with the defaults: built-in rulebooks, no auth,
    /// 1 MiB JSON bodies, 1 GiB uploads, today from the clock, plain HTTP,
    /// 10 login attempts a minute per address, 50 requests a second per
    /// token, [`crate::reports::JOINT_PLAN_TIME`] per joint-plan search.
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
            plan_time: Some(crate::reports::JOINT_PLAN_TIME),
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
/// every month, under each rulebook version, with source lines for the
/// months the default pages explain ([`Traced`]). Requests hold an `Arc` of it, so an upload that replaces it never
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
    /// The newest complete month of the data ([`complete_month`]).
    complete_month: Option<Month>,
    /// The months whose aggregates keep their source lines.
    traced: Traced,
    /// Each table file read, by name: which file it was ([`FileId`]), so a
    /// later read of one partner's lines reads the same files.
    files: Vec<(String, FileId)>,
    /// The table files as found when the snapshot was read.
    dataset: Dataset,
    /// Where each partner's records lie in the CSV tables (the files held
    /// open): one partner's lines are read again from there without
    /// parsing anyone else's ([`Snapshot::partner_lines`]). `None` when it
    /// could not be built; every table is then read whole.
    index: Option<PartnerIndex>,
    /// Partners whose source lines were read again for a month outside
    /// `traced` ([`Snapshot::partner_lines`]), newest first; at most
    /// [`LINES_CACHED`]. Held by one read at a time.
    lines: Mutex<Vec<(usize, String, Arc<PartnerFacts>)>>,
}

/// How many partners' re-read source lines a snapshot keeps.
pub const LINES_CACHED: usize = 8;

/// Which file a path named when it was read: device, inode, length and
/// modification time. Uploads only ever rename new files into place, so a
/// table whose id is unchanged holds the same rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileId {
    fn of(path: &Path) -> std::io::Result<FileId> {
        FileId::from(std::fs::metadata(path)?)
    }

    fn of_file(file: &std::fs::File) -> std::io::Result<FileId> {
        FileId::from(file.metadata()?)
    }

    fn from(m: std::fs::Metadata) -> std::io::Result<FileId> {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Ok(FileId {
            dev,
            ino,
            len: m.len(),
            modified: m.modified().ok(),
        })
    }
}

/// The table files of `dataset`, by name, with their ids.
fn file_ids(dataset: &Dataset) -> std::io::Result<Vec<(String, FileId)>> {
    let mut ids = dataset
        .tables()
        .iter()
        .map(|t| {
            let name = t
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, FileId::of(&t.path)?))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    ids.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(ids)
}

/// The months whose aggregates keep their source lines (and amounts by
/// subscription) in a snapshot: what the pages of the default month show
/// (Business Applications' metric pages and customers, for that month and
/// the one before, for the refresh-by-the-20th rule). Every other month
/// keeps its sums only: scores, the summary and the history need nothing
/// more, and an explanation that needs lines the snapshot does not hold
/// reads them again ([`Snapshot::partner_lines`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Traced {
    /// Revenue and usage months (Business Applications' latest and baseline months).
    pub ba: Vec<Month>,
    /// acr and licenses months. No page shows their lines by default (the
    /// API's explanations of the other areas and their customers by
    /// subscription do), so a snapshot traces none: 24 months of ACR
    /// lines and subscriptions would cost more than every sum.
    pub areas: Vec<Month>,
}

impl Traced {
    /// The months the periods of `months` read, under the rulebooks in force.
    pub fn of(rulebooks: &RulebookSet, months: &[Month]) -> Traced {
        let mut t = Traced::default();
        for &m in months {
            let d = m.last_day();
            if let Ok(rb) = rulebooks.in_force(SOLUTION_AREA, d) {
                t.ba.extend(Period::for_month(rb, m).data_months());
            }
            for rb in rulebooks.areas_in_force(d) {
                t.areas.extend(rb.data_months(m));
            }
        }
        for v in [&mut t.ba, &mut t.areas] {
            v.sort_unstable();
            v.dedup();
        }
        t
    }

    /// Whether the explanations of month `m` have their source lines (every
    /// month its periods read, in every area, is traced).
    pub fn covers(&self, rulebooks: &RulebookSet, m: Month) -> bool {
        self.covers_ba(rulebooks, m) && self.covers_areas(rulebooks, m)
    }

    /// Whether Business Applications' explanations of month `m` have their
    /// source lines (the revenue and usage months its period reads are traced).
    pub fn covers_ba(&self, rulebooks: &RulebookSet, m: Month) -> bool {
        let need = Traced::of(rulebooks, &[m]);
        need.ba.iter().all(|x| self.ba.contains(x))
    }

    /// Whether the other areas' explanations of month `m` have their source
    /// lines (every acr and licenses month their periods read is traced).
    pub fn covers_areas(&self, rulebooks: &RulebookSet, m: Month) -> bool {
        let need = Traced::of(rulebooks, &[m]);
        need.areas.iter().all(|x| self.areas.contains(x))
    }
}

/// The newest month with as many partners with revenue or usage as any
/// month (a month still being filled, as in an export taken mid-month, has
/// fewer).
pub fn complete_month<'a>(partners: impl Iterator<Item = &'a PartnerFacts>) -> Option<Month> {
    let mut count: std::collections::BTreeMap<Month, usize> = Default::default();
    let mut months: Vec<Month> = Vec::new();
    for p in partners {
        months.clear();
        months.extend(p.revenue.keys().map(|k| k.2));
        months.extend(p.usage.keys().map(|k| k.2));
        months.sort_unstable();
        months.dedup();
        for m in &months {
            *count.entry(*m).or_default() += 1;
        }
    }
    let most = count.values().copied().max()?;
    count
        .iter()
        .rev()
        .find(|(_, n)| **n == most)
        .map(|(m, _)| *m)
}

impl Snapshot {
    /// Reads the dataset in `dir`: all months, under every rulebook, every
    /// table (acr and licenses too, with the names of every area rulebook,
    /// as `pcs score --area` reads them), keeping source lines for the
    /// [`Traced`] months only.
    pub fn load(
        dir: &Path,
        rulebooks: Arc<RulebookSet>,
        read: Arc<AreaRead>,
        generation: u64,
    ) -> Result<Snapshot, DataError> {
        let started = Instant::now();
        let dataset = Dataset::open(dir)?;
        // A file that cannot be examined fails the read below; without ids,
        // re-reading lines answers "ask again" rather than read other data.
        let files = file_ids(&dataset).unwrap_or_default();
        let options = LoadOptions {
            months: MonthFilter::All,
            trace: true,
            ..LoadOptions::default()
        };
        // The pages' default month is the one whose latest month is the
        // newest complete month: a first read of revenue and usage (sums
        // only) finds it, then the full read keeps the source lines of that
        // month's period (and the month before's) and sums for the rest.
        let complete_month = match rulebooks.versions().last() {
            Some(rb) => {
                let sums = dataset
                    .only(&[Table::Revenue, Table::Usage])
                    .load(rb, &LoadOptions::default())?;
                complete_month(sums.partners.values())
            }
            None => None,
        };
        let traced = match complete_month {
            Some(latest) => {
                let offset = rulebooks
                    .versions()
                    .last()
                    .map_or(1, |rb| rb.calendar.latest_month_offset);
                let m = latest.plus(offset);
                Traced {
                    areas: Vec::new(),
                    ..Traced::of(&rulebooks, &[m.minus(1), m])
                }
            }
            None => Traced::default(),
        };
        let mut facts = Vec::new();
        let mut stats = None;
        for rb in rulebooks.versions() {
            let builder = FactsBuilder::new(rb, MonthFilter::All, true)
                .with_areas(&read.vocab, read.area_months.clone())
                .trace_only(
                    MonthFilter::Only(traced.ba.clone()),
                    MonthFilter::Only(traced.areas.clone()),
                );
            let (mut f, s) = dataset.load_into(builder, &options)?;
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
        // Built from files opened now: kept only when they are the files
        // read above.
        let index = PartnerIndex::build(&dataset).ok().filter(|index| {
            index.files().all(|(_, path, file)| {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let held = FileId::of_file(file).ok();
                files
                    .iter()
                    .any(|(n, id)| Some(n) == name.as_ref() && Some(*id) == held)
            })
        });
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
            complete_month,
            traced,
            files,
            dataset,
            index,
            lines: Mutex::new(Vec::new()),
        })
    }

    /// Whether Business Applications' explanations of month `m` can be
    /// given from this snapshot's own aggregates (their source lines are held).
    pub fn explains(&self, m: Month) -> bool {
        self.traced.covers_ba(&self.rulebooks, m)
    }

    /// Whether the other areas' explanations of month `m` can be given
    /// from this snapshot's own aggregates (never, as the snapshot traces
    /// no acr or licenses month: [`Traced::areas`]).
    pub fn explains_areas(&self, m: Month) -> bool {
        self.traced.covers_areas(&self.rulebooks, m)
    }

    /// One partner's facts under the rulebook in force on `date`, with the
    /// source lines (and amounts by subscription) of every month: for the
    /// explanations of a month whose lines the snapshot does not hold
    /// ([`Snapshot::explains`]). That partner's rows are read again: from
    /// the CSV tables, only the byte ranges the snapshot's
    /// [`PartnerIndex`] gives (the files it holds open, so an upload that
    /// replaced one changes nothing), parsed and checked as a full read
    /// does; any other table whole, keeping that partner's rows. The result
    /// is kept for the next requests (the last [`LINES_CACHED`] partners).
    /// One such read runs at a time. When a table read whole is no longer
    /// the file this snapshot read (an upload was applied meanwhile), the
    /// answer is 503: the next request reads the new data.
    pub fn partner_lines(&self, date: Date, partner: &str) -> Result<Arc<PartnerFacts>, ApiError> {
        let (rb, i) = self.version(date)?;
        let cached = |cache: &mut Vec<(usize, String, Arc<PartnerFacts>)>| {
            let at = cache.iter().position(|(v, p, _)| *v == i && p == partner)?;
            let hit = cache.remove(at);
            let facts = hit.2.clone();
            cache.insert(0, hit);
            Some(facts)
        };
        // Held for the whole read: one partner's rows are read at a time.
        let mut cache = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = cached(&mut cache) {
            return Ok(f);
        }
        if !self.facts[i].partners.contains_key(partner) {
            return Err(ApiError::partner_not_found(partner));
        }
        let replaced = || {
            ApiError::unavailable(
                "the data was replaced by an upload while this answer was prepared; ask again",
            )
        };
        let mut builder = FactsBuilder::new(rb, MonthFilter::All, true)
            .with_areas(&self.read.vocab, self.read.area_months.clone())
            .only_partner(partner);
        let options = LoadOptions {
            months: MonthFilter::All,
            trace: true,
            ..LoadOptions::default()
        };
        for t in self.dataset.tables() {
            if let Some(read) = self
                .index
                .as_ref()
                .and_then(|index| index.read(t.table, partner, &mut builder))
            {
                read.map_err(ApiError::internal)?;
                continue;
            }
            let same = || {
                let name = t.path.file_name().map(|n| n.to_string_lossy().into_owned());
                let id = FileId::of(&t.path).ok();
                self.files
                    .iter()
                    .any(|(n, f)| Some(n) == name.as_ref() && Some(*f) == id)
            };
            if !same() {
                return Err(replaced());
            }
            let read = self.dataset.read_table(t, &mut builder, &options);
            if !same() {
                return Err(replaced());
            }
            read.map_err(ApiError::internal)?;
        }
        let facts = builder
            .finish()
            .partners
            .remove(partner)
            .ok_or_else(|| ApiError::partner_not_found(partner))?;
        let facts = Arc::new(facts);
        cache.insert(0, (i, partner.to_string(), facts.clone()));
        cache.truncate(LINES_CACHED);
        Ok(facts)
    }

    /// The index of the partners' rows in the CSV tables, when it was built.
    pub fn partner_index(&self) -> Option<&PartnerIndex> {
        self.index.as_ref()
    }

    /// The month a page or report shows when none is asked for: the one
    /// whose latest month is the newest complete month of the data
    /// ([`complete_month`]), but not after the month of `today`; `None` when
    /// no rulebook is in force on `today`.
    pub fn default_month(&self, today: Date) -> Option<Month> {
        let (rb, _) = self.under(today).ok()?;
        let now = Period::for_date(rb, today).month;
        Some(match self.complete_month {
            Some(latest) => latest.plus(rb.calendar.latest_month_offset).min(now),
            None => now,
        })
    }

    /// The newest month in which as many partners have revenue or usage as
    /// in any month.
    pub fn complete_month(&self) -> Option<Month> {
        self.complete_month
    }

    /// The months whose aggregates keep their source lines.
    pub fn traced(&self) -> &Traced {
        &self.traced
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
    /// The threads that read snapshots and free them, by generation.
    lanes: Arc<Lanes>,
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
        // Read on the lane of generation 1, where it is freed when replaced.
        let lanes = Arc::new(Lanes::default());
        let (dir, rulebooks) = (config.dir.clone(), config.rulebooks.clone());
        let snapshot = lanes
            .run_blocking(1, move || Snapshot::load(&dir, rulebooks, read, 1))
            .ok_or_else(|| {
                anyhow::anyhow!("the data thread stopped while reading the dataset")
            })??;
        Ok(Self::with_lanes(config, snapshot, store, lanes))
    }

    /// A state from parts already built.
    pub fn with(config: Config, snapshot: Snapshot, store: Store) -> AppState {
        Self::with_lanes(config, snapshot, store, Arc::default())
    }

    fn with_lanes(config: Config, snapshot: Snapshot, store: Store, lanes: Arc<Lanes>) -> AppState {
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
            lanes,
        }))
    }

    /// The current snapshot. Hold the `Arc` for the whole request so every
    /// figure of a response comes from the same data.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.0.data.load_full()
    }

    /// Replaces the snapshot (after an accepted upload). The old one is
    /// freed on its lane once the last request reading it is done
    /// ([`Lanes::release`]).
    pub(crate) fn replace(&self, snapshot: Snapshot) {
        let old = self.0.data.swap(Arc::new(snapshot));
        self.0.lanes.release(old.generation, old);
    }

    /// Runs `f`, a read whose result belongs to snapshot generation
    /// `generation`, on that generation's lane ([`crate::lanes`]); `None`
    /// when it panicked.
    pub(crate) async fn on_lane<T: Send + 'static>(
        &self,
        generation: u64,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        self.0.lanes.run(generation, f).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use pcs_core::score::{Detail, score_partner_with};

    fn example() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contoso")
    }

    fn snapshot() -> Snapshot {
        let set = Arc::new(RulebookSet::builtin());
        let read = Arc::new(area_read(&set).unwrap());
        Snapshot::load(&example(), set, read, 1).unwrap()
    }

    #[test]
    fn the_snapshot_keeps_source_lines_of_the_default_months_only() {
        let snap = snapshot();
        // The example's newest complete month is 2023-10: pages default to
        // 2023-11, whose period reads 2023-10 and 2022-10 (and 2023-10's
        // period, for the 19th of a month, 2023-09 and 2022-09).
        assert_eq!(snap.complete_month(), Some("2023-10".parse().unwrap()));
        let m = |s: &str| -> Month { s.parse().unwrap() };
        assert_eq!(
            snap.traced().ba,
            vec![m("2022-09"), m("2022-10"), m("2023-09"), m("2023-10")]
        );
        assert!(snap.traced().covers_ba(snap.rulebooks(), m("2023-11")));
        assert!(!snap.traced().covers_ba(snap.rulebooks(), m("2023-07")));
        // No acr or licenses month is traced: the other areas' lines are read again.
        assert!(snap.traced().areas.is_empty());
        assert!(!snap.explains_areas(m("2023-11")));
        let (mut inside, mut outside) = (0, 0);
        for p in snap.facts[0].partners.values() {
            let traces = p.traces();
            for (k, a) in &p.revenue {
                let t = traces.revenue(k);
                if snap.traced().ba.contains(&k.2) {
                    assert_eq!(t.lines().len(), a.rows as usize, "{k:?}");
                    inside += 1;
                } else {
                    assert!(
                        t.lines().is_empty() && t.subscriptions().is_empty(),
                        "{k:?}"
                    );
                    outside += 1;
                }
            }
            for k in p.usage.keys() {
                if !snap.traced().ba.contains(&k.2) {
                    assert!(traces.usage(k).lines().is_empty(), "{k:?}");
                    outside += 1;
                }
            }
            for k in p.acr.keys() {
                if !snap.traced().areas.contains(&k.2) {
                    let t = traces.acr(k);
                    assert!(
                        t.lines().is_empty() && t.subscriptions().is_empty(),
                        "{k:?}"
                    );
                }
            }
        }
        assert!(inside > 0 && outside > 0, "{inside} traced, {outside} not");
    }

    /// A copy of the example's CSV tables, and a snapshot of it.
    fn copied() -> (tempfile::TempDir, Snapshot) {
        let dir = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(example()).unwrap() {
            let e = e.unwrap();
            if e.path().extension().is_some_and(|x| x == "csv") {
                std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
            }
        }
        let set = Arc::new(RulebookSet::builtin());
        let read = Arc::new(area_read(&set).unwrap());
        let snap = Snapshot::load(dir.path(), set, read, 1).unwrap();
        (dir, snap)
    }

    #[test]
    fn a_partners_lines_are_read_again_for_a_month_not_held_from_the_files_read() {
        let (dir, snap) = copied();
        // Every CSV table is indexed.
        let index = snap.partner_index().expect("an index");
        for t in snap.dataset.tables() {
            assert!(index.covers(t.table), "{:?}", t.table);
        }
        let m: Month = "2023-07".parse().unwrap();
        assert!(!snap.explains(m) && snap.explains("2023-11".parse().unwrap()));
        let date = m.last_day();
        let held = snap.partner_facts(date, "1000001").unwrap();
        let lines = snap.partner_lines(date, "1000001").unwrap();
        // The same sums, and the lines of every month, this partner's only.
        assert_eq!(lines.revenue.len(), held.revenue.len());
        let mut traced = 0;
        for (k, a) in &lines.revenue {
            let h = &held.revenue[k];
            assert_eq!((a.amount, a.rows), (h.amount, h.rows), "{k:?}");
            assert_eq!(
                lines.traces().revenue(k).lines().len(),
                a.rows as usize,
                "{k:?}"
            );
            traced += usize::from(!snap.traced().ba.contains(&k.2));
        }
        assert!(traced > 0);
        assert_eq!(lines.acr.len(), held.acr.len());
        // Kept: the second ask is the same read.
        let again = snap.partner_lines(date, "1000001").unwrap();
        assert!(Arc::ptr_eq(&lines, &again));
        assert_eq!(
            snap.partner_lines(date, "9999999")
                .err()
                .map(|e| e.status()),
            Some(axum::http::StatusCode::NOT_FOUND)
        );
        // A table replaced by an upload (a new file renamed into place, here
        // without partner 1000002's rows): this snapshot still reads the
        // file it read, held open.
        let revenue = dir.path().join("revenue.csv");
        let kept: String = std::fs::read_to_string(&revenue)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("1000002,"))
            .map(|l| format!("{l}\n"))
            .collect();
        let staged = dir.path().join("revenue.new");
        std::fs::write(&staged, kept).unwrap();
        std::fs::rename(&staged, &revenue).unwrap();
        let other = snap
            .partner_lines(date, "1000002")
            .expect("the snapshot's own file");
        let held = snap.partner_facts(date, "1000002").unwrap();
        assert!(!other.revenue.is_empty());
        for (k, a) in &other.revenue {
            assert_eq!(a.amount, held.revenue[k].amount, "{k:?}");
        }
    }

    /// The regression test of the re-read: for every partner and every
    /// rulebook version, the facts read again through the index equal the
    /// facts of a full read of every table (tracing every month), lines,
    /// subscriptions, exclusions and certifications included.
    #[test]
    fn the_re_read_gives_what_a_full_read_gives() {
        let (dir, snap) = copied();
        let dataset = Dataset::open(dir.path()).unwrap();
        for rb in snap.rulebooks().versions() {
            let builder = FactsBuilder::new(rb, MonthFilter::All, true)
                .with_areas(snap.vocab(), snap.area_read().area_months.clone());
            let (full, _) = dataset.load_into(builder, &LoadOptions::default()).unwrap();
            assert!(full.partners.len() > 1);
            for (id, f) in &full.partners {
                // A date under this version.
                let date = rb.effective_from;
                let again = snap.partner_lines(date, id).unwrap();
                assert_eq!(*again, *f, "{id}");
            }
        }
    }

    #[test]
    fn dropping_source_lines_changes_no_score() {
        let snap = snapshot();
        let rb = &snap.rulebooks().versions()[0];
        let (full, _) = Dataset::open(&example())
            .unwrap()
            .load_areas(
                rb,
                snap.vocab(),
                MonthFilter::All,
                &LoadOptions {
                    months: MonthFilter::All,
                    trace: true,
                    ..LoadOptions::default()
                },
            )
            .unwrap();
        for month in ["2023-05", "2023-07", "2023-10", "2023-11", "2024-01"] {
            let period = Period::for_month(rb, month.parse().unwrap());
            for (id, f) in &full.partners {
                let kept = &snap.facts[0].partners[id];
                for detail in [Detail::Totals, Detail::Full] {
                    let a = score_partner_with(rb, id, f, period, detail);
                    let b = score_partner_with(rb, id, kept, period, detail);
                    assert_eq!(a.total_points, b.total_points, "{id} {month}");
                    for (x, y) in a.metrics.iter().zip(&b.metrics) {
                        assert_eq!((x.value, x.points), (y.value, y.points), "{id} {month}");
                    }
                }
            }
        }
    }
}
