//! Command-line flags, exactly as typed (the "low" layer). Each command
//! resolves these into the objects it works with.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pcs_core::calendar::{Month, parse_date};
use pcs_core::jiff::civil::Date;

/// pcs computes Microsoft's Partner Capability Score for the six Solutions
/// Partner designations from a partner's raw records, and explains every
/// point.
#[derive(Parser, Debug)]
#[command(name = "pcs", version, about, long_about = None, propagate_version = true,
    after_help = "Example:\n  pcs score examples/contoso --month 2023-11 --format table\n\nThe user guide: guide/ (mdbook build guide)")]
pub struct Cli {
    /// Flags every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The flags every command takes, before or after its name.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Print no progress bar, summary, note or warning on stderr (errors
    /// still print; `--strict` still fails on warnings).
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print, on stderr, what the command took: wall time and peak memory.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Color on stderr and in help: `auto` (when it is a terminal and
    /// `NO_COLOR` is unset or empty), `always` or `never`.
    #[arg(long, value_name = "WHEN", value_enum, global = true, default_value_t = clap::ColorChoice::Auto)]
    pub color: clap::ColorChoice,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Score every partner of a dataset (or those named with --partner).
    #[command(
        after_help = "Example:\n  pcs score examples/contoso --month 2023-11 --format table\n  pcs score examples/contoso --month 2023-11 --partner 1000001 --format json --explain"
    )]
    Score(ScoreArgs),
    /// Write a deterministic synthetic dataset (for demos, tests and benchmarks).
    #[command(after_help = "Example:\n  pcs generate /tmp/demo --partners 1000 --seed 7")]
    Generate(GenerateArgs),
    /// Convert a CSV dataset to Parquet (revenue and usage sorted by month), atomically.
    #[command(after_help = "Example:\n  pcs convert /tmp/demo /tmp/demo-parquet")]
    Convert(ConvertArgs),
    /// Turn another system's reports into a dataset (Partner Center Insights).
    #[command(subcommand)]
    #[command(after_help = "Example:\n  pcs import partner-center ~/Downloads/insights/ dataset/")]
    Import(ImportCommand),
    /// Explain each metric of a partner: what counted, what did not, and why.
    #[command(
        after_help = "Example:\n  pcs explain examples/contoso --partner 1000002 --month 2023-11 --metric usage_growth"
    )]
    Explain(ExplainArgs),
    /// Customer eligibility and details: per customer and metric, met or not and the effect.
    #[command(
        after_help = "Example:\n  pcs customers examples/contoso --partner 1000002 --month 2023-11 --search graphic"
    )]
    Customers(CustomersArgs),
    /// People, their certifications, what counts, and what stops counting soon.
    #[command(
        after_help = "Example:\n  pcs skilling examples/contoso --partner 1000001 --date 2023-11-19"
    )]
    Skilling(SkillingArgs),
    /// The score of each of the last months, trends, and the qualification status.
    #[command(
        after_help = "Example:\n  pcs history examples/contoso --partner 1000001 --month 2023-11 --months 6"
    )]
    History(HistoryArgs),
    /// Score a partner with hypothetical records added or removed.
    #[command(
        after_help = "Example:\n  pcs simulate examples/contoso --partner 1000002 --month 2023-11 --scenario what-if.toml"
    )]
    Simulate(SimulateArgs),
    /// Actions ranked by the points they gain or protect.
    #[command(
        after_help = "Example:\n  pcs recommend examples/contoso --partner 1000002 --month 2023-11"
    )]
    Recommend(RecommendArgs),
    /// The cheapest set of actions that makes the partner qualified.
    #[command(
        after_help = "Example:\n  pcs plan examples/contoso --partner 1000002 --month 2023-11 --write-scenario plan.toml"
    )]
    Plan(PlanArgs),
    /// List, check or show rulebooks.
    #[command(subcommand)]
    #[command(
        after_help = "Example:\n  pcs rulebook list\n  pcs rulebook show > my-rules.toml && pcs rulebook check my-rules.toml"
    )]
    Rulebook(RulebookCommand),
    /// Serve the dashboard and the JSON API over a dataset directory.
    #[command(after_help = "Example:\n  pcs serve dataset/ --addr 127.0.0.1:8080")]
    Serve(ServeArgs),
    /// Create, list or revoke the access tokens of `pcs serve --auth`.
    #[command(subcommand)]
    #[command(
        after_help = "Example:\n  pcs token create dataset/ --scope partner:1000001 --label \"Contoso reseller\""
    )]
    Token(TokenCommand),
    /// Run a scheduler or an executor of an Apache Ballista cluster for
    /// `pcs score --cluster` (a binary built with `--features distributed`).
    #[command(subcommand)]
    #[command(
        after_help = "Example:\n  pcs cluster scheduler --bind 0.0.0.0:50050 --external-host sched.example"
    )]
    Cluster(ClusterCommand),
    /// Print a shell completion script, generated from these very flags.
    #[command(
        after_help = "Example:\n  pcs completions bash > ~/.local/share/bash-completion/completions/pcs\n  pcs completions zsh > ~/.zfunc/_pcs"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from these very flags; with
    /// --dir, write one page per command into a directory.
    #[command(
        after_help = "Example:\n  pcs man | man -l -\n  pcs man --dir ~/.local/share/man/man1"
    )]
    Man {
        /// Write pcs.1 and a page per command (pcs-score.1, ...) here.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
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
    /// The global `--quiet` (set by main, not a flag of its own).
    #[arg(skip)]
    pub quiet: bool,
    /// CSV dialect.
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Rulebooks.
    #[command(flatten)]
    pub rulebook: RulebookArgs,
}

/// The solution area of a report.
#[derive(Args, Debug, Clone)]
pub struct AreaArg {
    /// Solution area: business_applications, azure_infrastructure,
    /// azure_data_ai, azure_digital_app_innovation, modern_work, security
    /// (names as Partner Center writes them work too).
    #[arg(long, value_name = "AREA", default_value = "business_applications")]
    pub area: String,
}

/// The solution areas of a report that can span several.
#[derive(Args, Debug, Clone)]
pub struct AreasArg {
    /// Solution area (repeatable), or all: business_applications,
    /// azure_infrastructure, azure_data_ai, azure_digital_app_innovation,
    /// modern_work, security [default: business_applications].
    #[arg(long = "area", value_name = "AREA")]
    pub areas: Vec<String>,
}

/// How deep `pcs customers` goes in an area of the shape engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CustomerLevel {
    /// One line per customer name, metric and period (tenants added up).
    Customer,
    /// One line per tenant, metric and explained item.
    Tenant,
    /// Tenant lines followed by their subscriptions' ACR.
    Subscription,
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
    /// Solution area.
    #[command(flatten)]
    pub area: AreaArg,
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
    /// Solution area.
    #[command(flatten)]
    pub area: AreaArg,
    /// Outside Business Applications: customer, tenant or subscription
    /// lines [default: tenant].
    #[arg(long, value_enum)]
    pub level: Option<CustomerLevel>,
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
    /// Solution areas: one area's people, or `all` for where each
    /// certification counts across areas.
    #[command(flatten)]
    pub areas: AreasArg,
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
    /// Solution areas (`all`: every area's status, with the anniversary date they share).
    #[command(flatten)]
    pub areas: AreasArg,
}

/// `pcs simulate`.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Dataset, partner, period, format.
    #[command(flatten)]
    pub common: PartnerArgs,
    /// Solution area (repeatable, or `all`): compare. Without it, Business
    /// Applications alone, as before the other areas existed.
    #[arg(long = "area", value_name = "AREA")]
    pub areas: Vec<String>,
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
    /// Solution area (repeatable, or `all`): rank actions across. Without it, Business
    /// Applications alone, as before the other areas existed.
    #[arg(long = "area", value_name = "AREA")]
    pub areas: Vec<String>,
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
    /// Solution area (repeatable, or `all`): qualify in every named area at once. Without it, Business
    /// Applications alone, as before the other areas existed.
    #[arg(long = "area", value_name = "AREA")]
    pub areas: Vec<String>,
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
    /// The global `--quiet` (set by main, not a flag of its own).
    #[arg(skip)]
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
    /// The most seconds each search of a joint plan (several areas at once)
    /// may take in a request; past it the plan says it is not proven
    /// cheapest (0: no time limit, only the scenario budget, so that the
    /// same request always answers the same plan).
    #[arg(long, value_name = "SECONDS", default_value_t = 3)]
    pub plan_seconds: u64,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The words of one shell command line, with "double quotes" kept
    /// together; stops at a redirection, pipe or `&&`.
    fn words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ' ' if !quoted => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                }
                _ => word.push(c),
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        let end = words
            .iter()
            .position(|w| matches!(w.as_str(), ">" | "|" | "&&"))
            .unwrap_or(words.len());
        words.truncate(end);
        words
    }

    /// Every command's `--help` ends with an example, and every example is
    /// a command line this very parser accepts.
    #[test]
    fn every_command_shows_an_example_that_parses() {
        let root = Cli::command();
        let mut checked = 0;
        for sub in root.get_subcommands() {
            let help = sub
                .get_after_help()
                .unwrap_or_else(|| panic!("pcs {} has no example in its --help", sub.get_name()))
                .to_string();
            assert!(
                help.starts_with("Example:\n"),
                "pcs {}: {help}",
                sub.get_name()
            );
            for line in help
                .lines()
                .skip(1)
                .filter(|l| l.trim_start().starts_with("pcs "))
            {
                let args = words(line.trim());
                if let Err(e) = Cli::try_parse_from(&args) {
                    panic!(
                        "the example `{}` of pcs {} does not parse: {e}",
                        line.trim(),
                        sub.get_name()
                    );
                }
                checked += 1;
            }
        }
        assert!(checked >= root.get_subcommands().count());
    }

    /// `-q`, `-v` and `--color` are taken by every command, before or after its name.
    #[test]
    fn the_global_flags_go_with_every_command() {
        for args in [
            &["pcs", "convert", "-q", "a", "b"][..],
            &["pcs", "-q", "convert", "a", "b"],
            &["pcs", "generate", "/tmp/x", "-v", "--color", "never"],
            &[
                "pcs",
                "score",
                "d",
                "--month",
                "2023-11",
                "-q",
                "--color=always",
            ],
            &["pcs", "rulebook", "list", "-q"],
            &["pcs", "completions", "bash", "--color", "never"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(
                cli.global.quiet
                    || cli.global.verbose
                    || cli.global.color != clap::ColorChoice::Auto
            );
        }
        assert!(Cli::try_parse_from(["pcs", "convert", "-q", "-v", "a", "b"]).is_err());
        assert!(Cli::try_parse_from(["pcs", "convert", "--color", "purple", "a", "b"]).is_err());
    }
}
