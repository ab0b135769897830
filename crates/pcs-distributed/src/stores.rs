//! Where tables are read from: local paths, or `s3://BUCKET/PREFIX` URLs
//! (Amazon S3 or an S3-compatible store). Every process that touches the
//! data (the client, the scheduler, which lists files when it plans, and
//! the executors) resolves URLs the same way, through [`EnvStores`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use datafusion::error::DataFusionError;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as StorePath;
use pcs_data::Dataset;
use url::Url;

use crate::error::{Error, ErrorKind};

/// Object stores configured from the process's environment: an `s3://`
/// URL gets an S3 store for its bucket, made on first use from the
/// `AWS_*` variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_REGION`, `AWS_ENDPOINT` for S3-compatible stores, `AWS_ALLOW_HTTP`
/// …, as `object_store`'s `AmazonS3Builder::from_env` reads them); anything
/// else goes to DataFusion's default registry (local files).
#[derive(Debug, Default)]
pub struct EnvStores {
    default: DefaultObjectStoreRegistry,
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl ObjectStoreRegistry for EnvStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.default.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.default.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        if url.scheme() != "s3" {
            return self.default.get_store(url);
        }
        let bucket = url.host_str().unwrap_or_default().to_string();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = buckets.get(&bucket) {
            return Ok(s.clone());
        }
        let store: Arc<dyn ObjectStore> = Arc::new(
            AmazonS3Builder::from_env()
                .with_bucket_name(&bucket)
                .build()
                .map_err(|e| DataFusionError::External(Box::new(e)))?,
        );
        buckets.insert(bucket, store.clone());
        Ok(store)
    }
}

/// A runtime whose object stores are [`EnvStores`].
pub fn runtime_env() -> datafusion::error::Result<Arc<RuntimeEnv>> {
    RuntimeEnvBuilder::new()
        .with_object_store_registry(Arc::new(EnvStores::default()))
        .build_arc()
}

/// Ballista's session state for `config`, with [`runtime_env`]: what the
/// scheduler plans with (`pcs cluster scheduler`).
pub fn ballista_state(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    let state = ballista_core::utils::default_session_builder(config)?;
    Ok(SessionStateBuilder::new_from_existing(state)
        .with_runtime_env(runtime_env()?)
        .build())
}

/// The session state of a client or of a standalone cluster.
pub fn session_state() -> Result<SessionState, Error> {
    use ballista_core::extension::SessionConfigExt;
    ballista_state(SessionConfig::new_with_ballista()).map_err(|e| {
        Error::new(
            ErrorKind::Cluster,
            format!("cannot set up the session: {e}"),
        )
    })
}

/// The URL of a dataset given as `s3://…` (`None`: a local path).
fn store_url(dir: &Path) -> Result<Option<Url>, Error> {
    let Some(text) = dir.to_str() else {
        return Ok(None);
    };
    if !text.contains("://") {
        return Ok(None);
    }
    let url = Url::parse(text)
        .map_err(|e| Error::new(ErrorKind::Usage, format!("{text}: not a dataset URL: {e}")))?;
    if url.scheme() != "s3" || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("{text}: a dataset is a local directory or s3://BUCKET/PREFIX"),
        ));
    }
    Ok(Some(url))
}

/// Finds the dataset's tables: in a local directory, or under an
/// `s3://BUCKET/PREFIX` URL (listed with the session's store).
pub async fn open_dataset(ctx: &SessionContext, dir: &Path) -> Result<Dataset, Error> {
    let bad = |e: pcs_data::DataError| Error::new(ErrorKind::BadInput, e.to_string());
    let Some(url) = store_url(dir)? else {
        return Dataset::open(dir).map_err(bad);
    };
    let store = ctx
        .runtime_env()
        .object_store_registry
        .get_store(&url)
        .map_err(|e| Error::new(ErrorKind::BadInput, format!("{url}: no object store: {e}")))?;
    let prefix = StorePath::from_url_path(url.path())
        .map_err(|e| Error::new(ErrorKind::BadInput, format!("{url}: a bad path: {e}")))?;
    let listed = store
        .list_with_delimiter(Some(&prefix))
        .await
        .map_err(|e| Error::new(ErrorKind::BadInput, format!("cannot list {url}: {e}")))?;
    let base = url.as_str().trim_end_matches('/');
    let files = listed.objects.iter().filter_map(|o| {
        o.location
            .filename()
            .map(|name| PathBuf::from(format!("{base}/{name}")))
    });
    Dataset::from_files(Path::new(base), files).map_err(bad)
}
