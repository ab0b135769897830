//! Command-line flags, exactly as typed (the "low" layer). Each command
//! resolves these into the objects it works with.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pcs_core::calendar::{Month, parse_date};
use pcs_core::jiff::civil::Date;

/// pcs computes Microsoft's Partner Capability Score for the Solutions
/// Partner for Business Applications designation from a partner's raw
/// records, and explains every point.
#[derive(Parser, Debug)]
#[command(name = "pcs", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Score every partner of a dataset (or those named with --partner).
    Score(ScoreArgs),
    /// Write a deterministic synthetic dataset (for demos, tests and benchmarks).
    Generate(GenerateArgs),
    /// Convert a CSV dataset to Parquet (sorted by month), atomically.
    Convert(ConvertArgs),
    /// Turn another system's reports into a dataset (Partner Center Insights).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Explain each metric of a partner: what counted, what did not, and why.
    Explain(ExplainArgs),
    /// Customer eligibility and details: per customer and metric, met or not and the effect.
    Customers(CustomersArgs),
    /// People, their certifications, what counts, and what stops counting soon.
    Skilling(SkillingArgs),
    /// The score of each of the last months, trends, and the qualification status.
    History(HistoryArgs),
    /// Score a partner with hypothetical records added or removed.
    Simulate(SimulateArgs),
    /// Actions ranked by the points they gain or protect.
    Recommend(RecommendArgs),
    /// The cheapest set of actions that makes the partner qualified.
    Plan(PlanArgs),
    /// List, check or show rulebooks.
    #[command(subcommand)]
    Rulebook(RulebookCommand),
    /// Serve the dashboard and the JSON API over a dataset directory.
    Serve(ServeArgs),
    /// Create, list or revoke the access tokens of `pcs serve --auth`.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Run a scheduler or an executor of an Apache Ballista cluster for
    /// `pcs score --cluster` (a binary built with `--features distributed`).
    #[command(subcommand)]
    Cluster(ClusterCommand),
}

/// The two kinds of cluster process.
#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// The scheduler: plans each query and hands its tasks to executors.
    Scheduler {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:50050")]
        bind: std::net::SocketAddr,
        /// The host name executors and clients use for this scheduler
        /// (default: the bind address).
        #[arg(long)]
        external_host: Option<String>,
    },
    /// An executor: registers with the scheduler and runs its tasks. It
    /// reads the dataset's files by the paths the client gives, so every
    /// executor must see them at the same path (a shared file system).
    Executor {
        /// The scheduler, `df://HOST:PORT`.
        #[arg(long, value_name = "ADDRESS")]
        scheduler: String,
        /// The address the executor's ports listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// The host name clients use to fetch results from this executor
        /// (default: the bind address).
        #[arg(long)]
        external_host: Option<String>,
        /// The Arrow Flight port (results and shuffle data).
        #[arg(long, default_value_t = 50051)]
        flight_port: u16,
        /// The gRPC control port.
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// Tasks run at once (0: one per core).
        #[arg(long, default_value_t = 0)]
        slots: usize,
        /// Where shuffle files go (default: a temporary directory, removed
        /// when the executor stops).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
}

/// Output formats of the reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people.
    Table,
    /// JSON.
    Json,
    /// CSV (the "download").
    Csv,
}

/// How CSV tables are written, where the header does not tell.
#[derive(Args, Debug, Clone, Default)]
pub struct CsvArgs {
    /// The field delimiter of CSV tables: `,`, `;` or `tab` [default:
    /// detected from each table's header, and said on stderr when not `,`].
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Numbers in CSV tables have a decimal comma (`1234,5`) [default: in
    /// `;`-separated tables, as Excel writes them].
    #[arg(long, conflicts_with = "decimal_point")]
    pub decimal_comma: bool,
    /// Numbers in CSV tables have a decimal point, whatever the delimiter.
    #[arg(long)]
    pub decimal_point: bool,
}

impl CsvArgs {
    /// What the flags say, for the reader (unsaid: detected).
    pub fn options(&self) -> pcs_data::CsvOptions {
        pcs_data::CsvOptions {
            delimiter: self.delimiter,
            decimal_comma: match (self.decimal_comma, self.decimal_point) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
        }
    }
}

fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        "\t" | "tab" => Ok(b'\t'),
        "|" | "pipe" => Ok(b'|'),
        _ => Err(format!(
            "'{text}' is not a delimiter pcs reads: use ',', ';', 'tab' or '|'"
        )),
    }
}

/// A dataset, a partner and a period: what every report needs.
#[derive(Args, Debug, Clone)]
pub struct PartnerArgs {
    /// The dataset directory.
    pub dataset: PathBuf,
    /// The partner.
    #[arg(long)]
    pub partner: String,
    /// When (default: today, as the dashboard would show it).
    #[command(flatten)]
    pub when: WhenArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Treat data warnings as errors.
    #[arg(long)]
    pub strict: bool,
    /// Do not print the warnings summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// CSV dialect.
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Rulebooks.
    #[command(flatten)]
    pub rulebook: RulebookArgs,
}

/// `pcs explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Dataset, partner, period, format.
    #[command(flatten)]
    pub common: PartnerArgs,
    /// Only this metric (e.g. `usage_growth`).
    #[arg(long)]
    pub metric: Option<String>,
}

/// `pcs customers`.
#[derive(Args, Debug)]
pub struct CustomersArgs {
    /// Dataset, partner, period, format.
    #[command(flatten)]
    pub common: PartnerArgs,
    /// Only customers whose id or name contains this text.
    #[arg(long)]
    pub search: Option<String>,
}

/// `pcs skilling`.
#[derive(Args, Debug)]
pub struct SkillingArgs {
    /// Dataset, partner, period, format.
    #[command(flatten)]
    pub common: PartnerArgs,
    /// Look this many days ahead for certifications that stop counting.
    #[arg(long, default_value_t = 90)]
    pub within: u32,
}

/// `pcs history`.
#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Dataset, partner, period, format.
    #[command(flatten)]
    pub common: PartnerArgs,
    /// How many months, ending with M.
    #[arg(long, default_value_t = 6)]
    pub months: u32,
}

/// `pcs simulate`.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Dataset, partner, period, format.
    #[command(flatten)]
    pub common: PartnerArgs,
    /// The scenario (TOML or JSON): records to add and remove.
    #[arg(long)]
    pub scenario: PathBuf,
}

/// `pcs recommend`.
#[derive(Args, Debug)]
pub struct RecommendArgs {
    /// Dataset, partner, period, format.
    #[command(flatten)]
    pub common: PartnerArgs,
    /// Look this many days ahead for risks.
    #[arg(long, default_value_t = 90)]
    pub within: u32,
}

/// `pcs plan`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Dataset, partner, period, format.
    #[command(flatten)]
    pub common: PartnerArgs,
    /// Per-action costs (TOML); the documented defaults otherwise.
    #[arg(long)]
    pub costs: Option<PathBuf>,
    /// Also write the plan as a scenario file (for `pcs simulate`).
    #[arg(long, value_name = "FILE")]
    pub write_scenario: Option<PathBuf>,
}

/// Output formats of `pcs score`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScoreFormat {
    /// A scorecard per partner, for people.
    Table,
    /// A JSON array of score objects.
    Json,
    /// One score object per line.
    Jsonl,
    /// One row per partner.
    Csv,
}

/// Which rulebooks to use and when.
#[derive(Args, Debug, Clone)]
pub struct RulebookArgs {
    /// Use these rulebook files (TOML) instead of the built-in ones. Repeat
    /// for several versions; the one in force on the evaluation date is used.
    #[arg(long = "rulebook", value_name = "FILE")]
    pub rulebooks: Vec<PathBuf>,
}

/// When to score.
#[derive(Args, Debug, Clone)]
#[group(required = false, multiple = false)]
pub struct WhenArgs {
    /// The month to score (M): latest month M-1, baseline M-13, skilling on M's last day.
    #[arg(long, value_name = "YYYY-MM", value_parser = Month::parse_strict)]
    pub month: Option<Month>,
    /// The day you look (as the dashboard would): M is this month from the
    /// data refresh day (the 20th) on, else the month before; skilling on this date.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub date: Option<Date>,
}

/// `pcs score`.
#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// The dataset directory (revenue, usage, certifications, partners as .csv, .parquet or .xlsx).
    pub dataset: PathBuf,
    /// When.
    #[command(flatten)]
    pub when: WhenArgs,
    /// Score only this partner (repeatable).
    #[arg(long = "partner", value_name = "ID")]
    pub partners: Vec<String>,
    /// Solution area to score (repeatable): business_applications,
    /// azure_infrastructure, azure_data_ai, azure_digital_app_innovation,
    /// modern_work, security, or all [default: all].
    #[arg(long = "area", value_name = "AREA")]
    pub areas: Vec<String>,
    /// Output format [default: table on a terminal, jsonl otherwise].
    #[arg(long, value_enum)]
    pub format: Option<ScoreFormat>,
    /// Treat warnings (unknown workloads, association types, certifications,
    /// workloads without a rate) as errors.
    #[arg(long)]
    pub strict: bool,
    /// Add the full explanation (every counted and not-counted item with its
    /// reason and source lines) to json and jsonl output.
    #[arg(long)]
    pub explain: bool,
    /// Do not print the warnings summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Aggregate on an Apache Ballista cluster: `df://HOST:PORT` (a
    /// scheduler, see `pcs cluster`) or `standalone` (a scheduler and an
    /// executor in this process). Parquet tables only; needs a binary built
    /// with `--features distributed`.
    #[arg(long, value_name = "ADDRESS")]
    pub cluster: Option<String>,
    /// CSV dialect.
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Rulebooks.
    #[command(flatten)]
    pub rulebook: RulebookArgs,
}

/// File format of generated tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// CSV with a header row.
    Csv,
    /// Apache Parquet (zstd compressed).
    Parquet,
}

/// The shape of a generated dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GenerateProfile {
    /// Subscriptions billed month after month: about a tenth of the revenue
    /// and usage rows fall in the two months a score reads.
    Default,
    /// Many pairs per partner (15 tenants on average, several workloads
    /// each) and most revenue and usage rows (about 70 %) in the latest and
    /// baseline months; the acr and licenses tables get twice the tenants.
    Dense,
}

/// `pcs generate`.
#[derive(Args, Debug, Clone)]
pub struct GenerateArgs {
    /// The directory to write (created; must not exist unless --force).
    pub out: PathBuf,
    /// Number of partners.
    #[arg(long, default_value_t = 100)]
    pub partners: u32,
    /// Average number of customer tenants per partner [default: 4; with
    /// --profile dense: 15].
    #[arg(long)]
    pub tenants: Option<u32>,
    /// The shape of the data: `default` (rows spread over every month) or
    /// `dense` (many pairs, most rows in the scored months).
    #[arg(long, value_enum, default_value_t = GenerateProfile::Default)]
    pub profile: GenerateProfile,
    /// Number of months of data, ending with --end-month.
    #[arg(long, default_value_t = 25)]
    pub months: u32,
    /// The last month with data; score with the month after it.
    #[arg(long, value_name = "YYYY-MM", default_value = "2024-06")]
    pub end_month: String,
    /// Random seed: the same seed and options give the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// File format.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    pub format: TableFormat,
    /// Replace the output directory if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `pcs convert`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// The CSV dataset directory.
    pub source: PathBuf,
    /// The Parquet dataset directory to write (must not exist unless --force).
    pub out: PathBuf,
    /// Replace the output directory if it exists.
    #[arg(long)]
    pub force: bool,
    /// CSV dialect.
    #[command(flatten)]
    pub csv: CsvArgs,
}

/// `pcs rulebook ...`.
#[derive(Subcommand, Debug)]
pub enum RulebookCommand {
    /// List the rulebook versions (built-in, or the given files) and their periods.
    List(RulebookArgs),
    /// Validate rulebook files; exit 2 with a clear message if one is wrong.
    Check {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a built-in rulebook's text (a starting point for your own).
    Show {
        /// The version, e.g. `2023-06` (default: the newest).
        #[arg(id = "rulebook_version", value_name = "VERSION")]
        version: Option<String>,
    },
}

/// `pcs import ...`: the systems pcs imports from.
#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Partner Center Insights' downloaded reports (CSV or .xlsx):
    /// CustomersAndTenants / SeatsSubscriptionsAndRevenue → revenue,
    /// AzureUsage → acr, OfficeUsage and EMSUsage → licenses, DynamicsUsage
    /// and PowerBIUsage → usage, Profile → partners (and the roll-up of
    /// location ids to their global account). Prints what was kept,
    /// dropped, rolled up and not mapped.
    PartnerCenter(PartnerCenterArgs),
}

/// `pcs import partner-center`.
#[derive(Args, Debug)]
pub struct PartnerCenterArgs {
    /// The directory of downloaded reports.
    #[arg(required_unless_present = "show_mapping")]
    pub source: Option<PathBuf>,
    /// The dataset directory to write (must not exist unless --force).
    #[arg(required_unless_present = "show_mapping")]
    pub out: Option<PathBuf>,
    /// A mapping file (TOML) instead of the built-in one: which files hold
    /// which report, and how their columns and values become pcs's.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Replace the dataset directory if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print the built-in mapping (a starting point for --mapping) and exit.
    #[arg(long, conflicts_with_all = ["source", "out", "mapping", "force"])]
    pub show_mapping: bool,
}

/// `pcs serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The dataset directory (also holds the server's SQLite database).
    pub dataset: PathBuf,
    /// The address to listen on. Without --auth only a loopback address is allowed.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Require an access token (`Authorization: Bearer TOKEN`, or a browser login).
    #[arg(long)]
    pub auth: bool,
    /// With --auth: when no admin token exists yet, create one and write it
    /// to this file (mode 0600) so you can log in.
    #[arg(long, value_name = "FILE", requires = "auth")]
    pub token_file: Option<PathBuf>,
    /// The largest table upload accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_upload_mb: u64,
    /// The largest JSON request body accepted, in KiB.
    #[arg(long, value_name = "KIB", default_value_t = 1024)]
    pub max_body_kb: usize,
    /// Serve HTTPS (rustls) with this certificate chain (PEM); the session
    /// cookie is then `Secure`.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Login attempts allowed per client address and minute (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub login_per_minute: u32,
    /// With --auth: requests allowed per token (or browser session) and
    /// second (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub token_per_second: u32,
    /// Rulebooks.
    #[command(flatten)]
    pub rulebook: RulebookArgs,
}

/// `pcs token ...`: tokens live in the dataset directory's SQLite database.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it (it is stored only as a hash: keep it).
    Create {
        /// The dataset directory.
        dataset: PathBuf,
        /// `all` (an admin or a distributor: every partner, uploads) or
        /// `partner:ID` (a reseller: that partner only).
        #[arg(long)]
        scope: String,
        /// A label for people (who holds it).
        #[arg(long, default_value = "")]
        label: String,
        /// Write the token to this file (mode 0600) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List the tokens (ids, scopes, labels; never the tokens themselves).
    List {
        /// The dataset directory.
        dataset: PathBuf,
    },
    /// Revoke a token (its browser sessions end too).
    Revoke {
        /// The dataset directory.
        dataset: PathBuf,
        /// The token's id (from `pcs token list`).
        id: i64,
    },
}
