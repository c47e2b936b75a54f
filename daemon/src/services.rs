//! The composition root: every service built once, in dependency order, and the few
//! reverse dependencies wired as subscriptions. The HTTP layer holds an `Arc<Services>`;
//! domain modules never see this struct, only the services they are given.
//!
//! Order (each uses only those before it; checked by `daemon/tests/layering.rs`):
//! store, clock, config → auth → mirror (a `&Store`) → drv ([`Deriver`]) → cache →
//! build ([`Builder`]) → verify ([`Verifier`]) → campaign ([`Campaigns`]) → project ([`Projects`]) → publish
//! ([`Publisher`]) → request ([`Requests`]).
//!
//! Subscriptions (a lower service calls back into a higher one without naming it):
//! - a finished evaluation of a project with the publish flag publishes it
//!   (`Projects::hooks.on_evaluated` → `publish::generation::auto_publish`);
//! - deleting a project deletes its publications and signing key
//!   (`Projects::hooks.on_deleted` → `publish::manifest::delete_project`, `publish::keys::remove`).

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Instant;

use cryo_store::Store;
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::build::Builder;
use crate::cache::blobs::BlobCache;
use crate::cache::substitute::{Substituter, Substituters};
use crate::campaign::Campaigns;
use crate::clock::Clock;
use crate::config::Config;
use crate::drv::Deriver;
use crate::project::scheduler::Scheduler;
use crate::project::Projects;
use crate::publish::manifest::ManifestCache;
use crate::publish::Publisher;
use crate::request::Requests;
use crate::verify::Verifier;

/// Every service of a running daemon.
pub struct Services {
    pub config: Arc<Config>,
    pub store: Arc<Store>,
    pub started: Instant,
    /// The clock for validity checks (`CRYOD_NOW` in tests).
    pub clock: Clock,
    /// Cancelled to shut the daemon down gracefully.
    pub shutdown: CancellationToken,
    pub auth: Arc<Auth>,
    pub deriver: Arc<Deriver>,
    pub builder: Arc<Builder>,
    pub verifier: Arc<Verifier>,
    /// Verification campaigns and their workers.
    pub campaigns: Arc<Campaigns>,
    /// Compressed bodies served by the binary cache (bounded; see `cache::blobs`).
    pub blob_cache: Arc<BlobCache>,
    pub projects: Arc<Projects>,
    pub publisher: Arc<Publisher>,
    pub requests: Arc<Requests>,
}

impl Services {
    /// Build every service once and wire the subscriptions. Nothing is started: see
    /// [`Services::start`].
    pub fn new(
        config: Config,
        store: Arc<Store>,
        build_dir: PathBuf,
        clock: Clock,
        shutdown: CancellationToken,
    ) -> Arc<Services> {
        let config = Arc::new(config);
        let auth = Arc::new(Auth {
            store: store.clone(),
            clock,
        });
        let deriver = Arc::new(Deriver::new(store.clone()));
        let mut builder = Builder::new(
            store.clone(),
            build_dir,
            config.workers,
            substituters(&config),
        );
        builder.roots_max_bytes = config.roots_max_bytes;
        builder.tool_layer = config.tool_layer.clone();
        let builder = Arc::new(builder);
        let verifier = Arc::new(Verifier {
            store: store.clone(),
            clock,
            deriver: deriver.clone(),
            builder: builder.clone(),
            workers: config.workers,
        });
        let campaigns = Arc::new(Campaigns::new(
            store.clone(),
            clock,
            verifier.clone(),
            config.workers,
        ));
        let projects = Arc::new(Projects {
            store: store.clone(),
            clock,
            auth: auth.clone(),
            deriver: deriver.clone(),
            builder: builder.clone(),
            scheduler: Arc::new(Scheduler::new(config.workers)),
            shutdown: shutdown.clone(),
            hooks: Default::default(),
        });
        let publisher = Arc::new(Publisher {
            store: store.clone(),
            clock,
            projects: projects.clone(),
            publish_manifests: ManifestCache::default(),
            config: config.clone(),
        });
        let requests = Arc::new(Requests {
            store: store.clone(),
            clock,
            auth: auth.clone(),
            projects: projects.clone(),
            verifier: verifier.clone(),
        });
        wire(&projects, &publisher);
        Arc::new(Services {
            config,
            store,
            started: Instant::now(),
            clock,
            shutdown,
            auth,
            deriver,
            builder,
            verifier,
            campaigns,
            blob_cache: Arc::default(),
            projects,
            publisher,
            requests,
        })
    }

    /// Start the background work: the project scheduler (after recovering its queue)
    /// and the campaign workers (pending rows of running campaigns resume).
    pub fn start(&self) {
        self.projects.scheduler.start(self.projects.clone());
        crate::campaign::start(&self.campaigns, self.shutdown.clone());
    }
}

/// The reverse dependencies of `projects` on `publisher`. The publisher holds the
/// projects, so the hooks hold it weakly (no reference cycle).
fn wire(projects: &Projects, publisher: &Arc<Publisher>) {
    let p: Weak<Publisher> = Arc::downgrade(publisher);
    projects.hooks.on_evaluated(move |name| {
        if let Some(p) = p.upgrade() {
            crate::publish::generation::auto_publish(&p, name);
        }
    });
    let p: Weak<Publisher> = Arc::downgrade(publisher);
    projects.hooks.on_deleted(move |name| {
        let Some(p) = p.upgrade() else { return };
        if let Err(e) = crate::publish::manifest::delete_project(&p, name) {
            tracing::warn!(project = %name, error = %e, "removing publications");
        }
        crate::publish::keys::remove(&p, name);
    });
}

fn substituters(config: &Config) -> Substituters {
    Substituters::new(
        config
            .substituters
            .iter()
            .map(|s| Substituter {
                url: s.url.clone(),
                trusted: s
                    .trusted_keys
                    .iter()
                    .filter_map(|k| k.parse().ok())
                    .collect(),
            })
            .collect(),
    )
}
