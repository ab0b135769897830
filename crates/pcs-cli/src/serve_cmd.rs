//! `pcs serve` and `pcs token`: the dashboard and JSON API (pcs-server),
//! and the access tokens in the dataset directory's database.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use pcs_server::state::{AppState, Config};
use pcs_server::store::{FILE_NAME, Scope, Store};

use crate::args::{ServeArgs, TokenCommand};
use crate::failure::Failure;

/// The environment variable that makes mimalloc (the allocator of `pcs`)
/// return freed memory to the operating system at once (the default keeps
/// it committed until a later allocation happens to purge it).
const PURGE_DELAY: &str = "MIMALLOC_PURGE_DELAY";

/// Starts `pcs serve` again in this process with `MIMALLOC_PURGE_DELAY=0`
/// unless it is set: mimalloc reads its options when the process starts,
/// before `main`, and has no safe call to change them later. Without it,
/// the memory of the data a server drops (the source lines it does not
/// keep, the data an upload replaces) stays resident. An operator's own
/// value is kept; if the new start fails, this one goes on.
fn restart_with_immediate_purge() {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        if std::env::var_os(PURGE_DELAY).is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut argv = std::env::args_os();
        let arg0 = argv.next().unwrap_or_else(|| exe.clone().into_os_string());
        let e = std::process::Command::new(&exe)
            .arg0(arg0)
            .args(argv)
            .env(PURGE_DELAY, "0")
            .exec();
        eprintln!(
            "pcs serve: cannot restart with {PURGE_DELAY}=0 ({e}); memory freed after an upload may stay resident"
        );
    }
}

/// Runs `pcs serve`.
pub fn run(args: &ServeArgs) -> Result<(), Failure> {
    restart_with_immediate_purge();
    let rulebooks = crate::rulebooks::load(&args.rulebook)?;
    // The server reads every area's tables: their names must agree.
    for rb in rulebooks.versions() {
        pcs_insights::app::vocabulary(&rulebooks, rb)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(e.into()))?;
    runtime.block_on(async {
        // Resolve and check the address before the (possibly long) read.
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&args.addr)
            .await
            .with_context(|| format!("--addr {}: not an address to listen on", args.addr))
            .map_err(Failure::BadInput)?
            .collect();
        if addrs.is_empty() {
            return Err(Failure::BadInput(anyhow!("--addr {}: no address", args.addr)));
        }
        if !args.auth
            && let Some(open) = addrs.iter().find(|a| !a.ip().is_loopback())
        {
            return Err(Failure::BadInput(anyhow!(
                "refusing to listen on {open} without --auth: anyone on the network could read \
                 every partner's data. Add --auth (and create tokens with `pcs token create`), \
                 or listen on 127.0.0.1"
            )));
        }
        // The certificate is read before the (possibly long) data read too.
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(
                pcs_server::Tls::load(cert, key)
                    .await
                    .map_err(|e| {
                        Failure::BadInput(anyhow!(
                            "--tls-cert {} / --tls-key {}: {e}",
                            cert.display(),
                            key.display()
                        ))
                    })?,
            ),
            _ => None,
        };
        let mut config = Config::new(&args.dataset);
        config.tls = tls.is_some();
        config.login_per_minute = args.login_per_minute;
        config.token_per_second = args.token_per_second;
        config.plan_time =
            (args.plan_seconds > 0).then(|| std::time::Duration::from_secs(args.plan_seconds));
        config.rulebooks = Arc::new(rulebooks);
        config.auth = args.auth;
        config.upload_limit = args.max_upload_mb.saturating_mul(1 << 20);
        config.json_limit = args.max_body_kb.saturating_mul(1 << 10);
        // `-q` keeps only the address line (and errors): with `--addr
        // 127.0.0.1:0` it is the only place the port is told.
        let quiet = crate::ui::quiet();
        if !quiet {
            eprintln!("pcs serve: reading {} ...", args.dataset.display());
        }
        let state = AppState::open(config).map_err(|e| match e.downcast::<pcs_data::DataError>() {
            Ok(d) => Failure::BadInput(d.into()),
            Err(e) => Failure::Other(e),
        })?;
        let snap = state.snapshot();
        let rows: u64 = snap.tables.iter().map(|t| t.rows).sum();
        if !quiet {
            eprintln!(
            "pcs serve: {} partners, {rows} rows in {} tables, read in {:.1} s{}",
            snap.partners().len(),
            snap.tables.len(),
            snap.load_time.as_secs_f64(),
            rss().map(|r| format!(" (resident memory {r})")).unwrap_or_default()
        );
        }
        drop(snap);
        if args.auth {
            let store = state.store();
            let has_admin = store.has_admin_token().map_err(|e| Failure::Other(e.into()))?;
            match (&args.token_file, has_admin) {
                (Some(file), false) => {
                    let (token, _) = store
                        .create_token(&Scope::All, "created by pcs serve --token-file")
                        .map_err(|e| Failure::Other(e.into()))?;
                    write_secret(file, &token).map_err(Failure::Other)?;
                    if !quiet {
                        eprintln!("pcs serve: an admin token was written to {}", file.display());
                    }
                }
                (None, false) if !quiet => eprintln!(
                    "pcs serve: no admin token yet: create one with `pcs token create {} --scope all`",
                    args.dataset.display()
                ),
                _ => {}
            }
        }
        let listener = tokio::net::TcpListener::bind(&addrs[..])
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))
            .map_err(Failure::Other)?;
        let local = listener.local_addr().map_err(|e| Failure::Other(e.into()))?;
        eprintln!(
            "pcs serve: listening on {}://{local}/ (auth {}; API at /api/v1, OpenAPI at /api/v1/openapi.json)",
            if tls.is_some() { "https" } else { "http" },
            if args.auth { "on" } else { "off" }
        );
        match tls {
            Some(tls) => pcs_server::serve_tls(listener, state, tls).await,
            None => pcs_server::serve(listener, state).await,
        }
        .map_err(|e| Failure::Other(e.into()))
    })
}

/// Resident memory of this process, from /proc (Linux).
fn rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(format!("{:.0} MiB", kb as f64 / 1024.0))
}

/// Writes a secret to a new file readable by its owner only, atomically.
fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // tempfile creates the file with mode 0600.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    writeln!(tmp, "{secret}")?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn open_store(dataset: &Path) -> Result<Store, Failure> {
    if !dataset.is_dir() {
        return Err(Failure::BadInput(anyhow!(
            "{}: not a dataset directory",
            dataset.display()
        )));
    }
    Store::open(&dataset.join(FILE_NAME))
        .with_context(|| format!("cannot open {}", dataset.join(FILE_NAME).display()))
        .map_err(Failure::Other)
}

/// Runs `pcs token ...`.
pub fn run_token(cmd: TokenCommand) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| Failure::Other(e.into());
    match cmd {
        TokenCommand::Create {
            dataset,
            scope,
            label,
            out: file,
        } => {
            let scope =
                Scope::parse(&scope).map_err(|e| Failure::BadInput(anyhow!("--scope {e}")))?;
            let store = open_store(&dataset)?;
            let (token, info) = store
                .create_token(&scope, &label)
                .map_err(|e| Failure::Other(e.into()))?;
            match file {
                Some(f) => {
                    write_secret(&f, &token).map_err(Failure::Other)?;
                    eprintln!(
                        "token {} ({}) written to {}",
                        info.id,
                        info.scope,
                        f.display()
                    );
                }
                None => {
                    writeln!(out, "{token}").map_err(io)?;
                    eprintln!(
                        "token {} ({}): keep it now, it is stored only as a hash",
                        info.id, info.scope
                    );
                }
            }
        }
        TokenCommand::List { dataset } => {
            let store = open_store(&dataset)?;
            let tokens = store.tokens().map_err(|e| Failure::Other(e.into()))?;
            writeln!(out, "id\tscope\tcreated\trevoked\tlabel").map_err(io)?;
            for t in tokens {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.scope,
                    t.created_at,
                    t.revoked_at.as_deref().unwrap_or("-"),
                    t.label
                )
                .map_err(io)?;
            }
        }
        TokenCommand::Revoke { dataset, id } => {
            let store = open_store(&dataset)?;
            if !store
                .revoke_token(id)
                .map_err(|e| Failure::Other(e.into()))?
            {
                return Err(Failure::BadInput(anyhow!("no live token with id {id}")));
            }
            eprintln!("token {id} revoked");
        }
    }
    Ok(())
}
