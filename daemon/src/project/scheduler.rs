//! The persistent parallel scheduler.
//!
//! State lives in the `results` table: a row in `scheduled` state *is* the queue entry, so
//! a restarted daemon finds its queue where it was (rows left `building` by a killed
//! daemon go back to `scheduled`). One dispatcher task evaluates projects marked dirty
//! (by commits, config changes, finished builds of their own or of path projects), then
//! starts scheduled builds while fewer than `workers` run, taking projects in turn
//! (round-robin, so one big project does not starve the others). Each build runs on the
//! blocking pool in its own sandbox; its log is kept live for `cryo log -f` and its
//! sandbox can be killed by `cryo abort`. Every row change is announced as an [`Event`].

use crate::project::model::ResultKey;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch, Notify};

use cryo_sandbox::{JobObserver, KillHandle};
use cryo_store::api::BuildStatus;
use cryo_store::B3Digest;

use super::model::{JobResult, ProjectName, State};
use super::Projects;
use super::{eval, outputs, tables, ProjectError};

/// A change of one result row, as streamed to `--watch`/`wait` (the API's type).
pub use cryo_store::api::JobEvent as Event;

/// Log bytes kept in memory per running build (the stored log has the sandbox's cap).
const LIVE_LOG_CAP: usize = 64 << 20;

/// The log of a running build, growing.
pub struct LiveLog {
    buf: Mutex<Vec<u8>>,
    /// (bytes so far, finished)
    tx: watch::Sender<(usize, bool)>,
}

impl LiveLog {
    fn new() -> Self {
        Self {
            buf: Mutex::new(Vec::new()),
            tx: watch::channel((0, false)).0,
        }
    }
    /// Bytes from `from` on, and whether the build is over.
    pub fn read_from(&self, from: usize) -> (Vec<u8>, bool) {
        let b = self.buf.lock().expect("log");
        (
            b.get(from..).unwrap_or_default().to_vec(),
            self.tx.borrow().1,
        )
    }
    pub fn subscribe(&self) -> watch::Receiver<(usize, bool)> {
        self.tx.subscribe()
    }
    fn finish(&self) {
        self.tx.send_modify(|s| s.1 = true);
    }
}

/// One running build.
pub struct Running {
    pub drv: B3Digest,
    kill: Mutex<Option<KillHandle>>,
    aborted: AtomicBool,
    pub log: LiveLog,
}

impl Running {
    pub(crate) fn new(drv: B3Digest) -> Self {
        Self {
            drv,
            kill: Mutex::new(None),
            aborted: AtomicBool::new(false),
            log: LiveLog::new(),
        }
    }

    /// The observer that feeds this build's live log and kill handle.
    pub(crate) fn observer(self: &Arc<Self>) -> Arc<dyn JobObserver> {
        Arc::new(Observer(self.clone()))
    }

    /// The build is over: followers see the end of the log.
    pub(crate) fn finish(&self) {
        self.log.finish();
    }

    fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
        if let Some(k) = &*self.kill.lock().expect("kill") {
            k.kill();
        }
    }
}

struct Observer(Arc<Running>);

impl JobObserver for Observer {
    fn started(&self, kill: &KillHandle) {
        *self.0.kill.lock().expect("kill") = Some(kill.clone());
        if self.0.aborted.load(Ordering::SeqCst) {
            kill.kill();
        }
    }
    fn log(&self, chunk: &[u8]) {
        let mut b = self.0.log.buf.lock().expect("log");
        let room = LIVE_LOG_CAP.saturating_sub(b.len());
        b.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let n = b.len();
        drop(b);
        self.0.log.tx.send_modify(|s| s.0 = n);
    }
}

pub struct Scheduler {
    /// Serialises read-modify-write of result rows.
    lock: Mutex<()>,
    wake: Notify,
    events: broadcast::Sender<Event>,
    running: Mutex<BTreeMap<String, Arc<Running>>>,
    dirty: Mutex<BTreeSet<ProjectName>>,
    seq: AtomicU64,
    last_project: Mutex<Option<ProjectName>>,
    workers: usize,
    /// Remembered sources and derivation ids (see `eval::EvalMemo`).
    memo: Mutex<eval::EvalMemo>,
    /// Projects with the publish flag whose results changed and whose automatic publish
    /// has not run yet (`cryo wait` waits for it too).
    pending_publish: Mutex<BTreeSet<ProjectName>>,
    /// Running builds by derivation (project builds and one-off `cryo build`s), for
    /// `cryo log DERIVATION -f` and `cryo build`'s streamed log.
    live: Mutex<BTreeMap<B3Digest, Arc<Running>>>,
}

impl Scheduler {
    pub fn new(workers: usize) -> Self {
        Self {
            lock: Mutex::new(()),
            wake: Notify::new(),
            events: broadcast::channel(4096).0,
            running: Mutex::new(BTreeMap::new()),
            dirty: Mutex::new(BTreeSet::new()),
            seq: AtomicU64::new(0),
            last_project: Mutex::new(None),
            workers: workers.max(1),
            memo: Mutex::new(eval::EvalMemo::default()),
            pending_publish: Mutex::new(BTreeSet::new()),
            live: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Re-evaluate `project` soon.
    pub fn mark_dirty(&self, project: &ProjectName) {
        self.dirty.lock().expect("dirty").insert(project.clone());
        self.wake.notify_one();
    }

    /// Register a running build of `drv` (its live log); `unregister_live` when done.
    pub fn register_live(&self, drv: B3Digest) -> Arc<Running> {
        let run = Arc::new(Running::new(drv));
        self.live.lock().expect("live").insert(drv, run.clone());
        run
    }

    pub fn unregister_live(&self, run: &Arc<Running>) {
        run.finish();
        let mut m = self.live.lock().expect("live");
        if m.get(&run.drv).is_some_and(|x| Arc::ptr_eq(x, run)) {
            m.remove(&run.drv);
        }
    }

    /// The running build of a derivation, if any.
    pub fn live(&self, drv: &B3Digest) -> Option<Arc<Running>> {
        self.live.lock().expect("live").get(drv).cloned()
    }

    /// Whether an automatic publish of `project` is still to run.
    pub fn publish_pending(&self, project: &ProjectName) -> bool {
        self.pending_publish
            .lock()
            .expect("pending")
            .contains(project)
    }

    /// The running build of a result row, if any.
    pub fn running(&self, key: &str) -> Option<Arc<Running>> {
        self.running.lock().expect("running").get(key).cloned()
    }

    /// Write rows (with fresh sequence numbers) and announce them. Call with `lock` held.
    fn write(
        &self,
        st: &Projects,
        mut rows: Vec<JobResult>,
        delete: &[String],
    ) -> Result<(), ProjectError> {
        for r in &mut rows {
            r.seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        }
        tables::put_results(st, &rows, delete)?;
        for r in rows {
            let _ = self.events.send(Event {
                project: r.project,
                repository: r.repository.to_string(),
                arch: r.arch,
                package: r.package.to_string(),
                state: r.state,
                derivation: r.derivation,
                reason: r.reason,
                seq: r.seq,
            });
        }
        Ok(())
    }

    /// Re-evaluate one project now (blocking).
    pub fn evaluate(&self, st: &Projects, name: &ProjectName) -> Result<(), ProjectError> {
        let _g = self.lock.lock().expect("lock");
        let Some(project) = tables::project(st, name)? else {
            return Ok(());
        };
        let current: BTreeMap<String, JobResult> = tables::results(st, name)?
            .into_iter()
            .map(|r| (r.key(), r))
            .collect();
        let (rows, delete) = {
            let mut memo = self.memo.lock().expect("memo");
            eval::evaluate(st, &project, &current, &mut memo)?
        };
        // Rows whose build is running but which now need something else: stop the build.
        for r in &rows {
            if let Some(run) = self.running(&r.key()) {
                if r.derivation != Some(run.drv) || r.state != State::Building {
                    run.abort();
                }
            }
        }
        self.write(st, rows, &delete)
    }

    /// Modify rows of `project` (optionally one package) under the lock.
    fn update_rows(
        &self,
        st: &Projects,
        project: &ProjectName,
        package: Option<&str>,
        f: impl Fn(&mut JobResult, Option<&Arc<Running>>) -> bool,
    ) -> Result<usize, ProjectError> {
        let _g = self.lock.lock().expect("lock");
        let mut rows = Vec::new();
        for mut r in tables::results(st, project)? {
            if package.is_some_and(|p| r.package != p) {
                continue;
            }
            let run = self.running(&r.key());
            if f(&mut r, run.as_ref()) {
                rows.push(r);
            }
        }
        let n = rows.len();
        self.write(st, rows, &[])?;
        self.wake.notify_one();
        Ok(n)
    }

    /// `cryo rebuild`: build again (and compare with the recorded outputs).
    pub fn rebuild(
        &self,
        st: &Projects,
        project: &ProjectName,
        package: Option<&str>,
    ) -> Result<usize, ProjectError> {
        let n = self.update_rows(st, project, package, |r, run| {
            if r.derivation.is_none() || r.state == State::Blocked || run.is_some() {
                return false;
            }
            r.state = State::Scheduled;
            r.force = true;
            r.reason = None;
            true
        })?;
        // A release pattern with <B_CNT> makes the rebuild a new derivation.
        self.evaluate_now(st, project);
        Ok(n)
    }

    /// `cryo abort`: kill running builds, drop scheduled ones.
    pub fn abort(
        &self,
        st: &Projects,
        project: &ProjectName,
        package: Option<&str>,
    ) -> Result<usize, ProjectError> {
        let killed = std::sync::atomic::AtomicUsize::new(0);
        let n = self.update_rows(st, project, package, |r, run| match (r.state, run) {
            (State::Building, Some(run)) => {
                run.abort();
                killed.fetch_add(1, Ordering::SeqCst);
                false
            }
            (State::Scheduled, _) => {
                r.state = State::Aborted;
                r.reason = Some("aborted before it started".into());
                true
            }
            _ => false,
        })?;
        // Dependents of aborted rows are no longer blocked: they become unresolvable.
        self.evaluate_now(st, project);
        Ok(n + killed.load(Ordering::SeqCst))
    }

    /// Start the dispatcher (after recovering rows a killed daemon left `building`).
    pub fn start(self: &Arc<Self>, st: Arc<super::Projects>) {
        let me = self.clone();
        tokio::spawn(async move {
            let st2 = st.clone();
            let me2 = me.clone();
            let rec = tokio::task::spawn_blocking(move || me2.recover(&st2)).await;
            match rec {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "recovering the build queue"),
                Err(e) => tracing::error!(error = %e, "recovering the build queue"),
            }
            loop {
                let dirty: Vec<ProjectName> = std::mem::take(&mut *me.dirty.lock().expect("dirty"))
                    .into_iter()
                    .collect();
                for p in dirty {
                    let (st2, me2, p2) = (st.clone(), me.clone(), p.clone());
                    let r = tokio::task::spawn_blocking(move || me2.evaluate(&st2, &p2)).await;
                    match r {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => tracing::warn!(project = %p, error = %e, "evaluation failed"),
                        Err(e) => tracing::error!(project = %p, error = %e, "evaluation panicked"),
                    }
                }
                loop {
                    let (st2, me2) = (st.clone(), me.clone());
                    let next = tokio::task::spawn_blocking(move || me2.claim_next(&st2)).await;
                    match next {
                        Ok(Ok(Some((row, run)))) => {
                            let (st2, me2) = (st.clone(), me.clone());
                            tokio::task::spawn_blocking(move || me2.run_job(&st2, row, run));
                        }
                        Ok(Ok(None)) => break,
                        Ok(Err(e)) => {
                            tracing::error!(error = %e, "picking the next build");
                            break;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "picking the next build");
                            break;
                        }
                    }
                }
                tokio::select! {
                    _ = me.wake.notified() => {}
                    _ = st.shutdown.cancelled() => break,
                }
            }
        });
    }

    fn recover(&self, st: &Projects) -> Result<(), ProjectError> {
        {
            let _g = self.lock.lock().expect("lock");
            let all = tables::all_results(st)?;
            let max = all.iter().map(|r| r.seq).max().unwrap_or(0);
            self.seq.store(max, Ordering::SeqCst);
            let stale: Vec<JobResult> = all
                .into_iter()
                .filter(|r| r.state == State::Building)
                .map(|mut r| {
                    r.state = State::Scheduled;
                    r
                })
                .collect();
            if !stale.is_empty() {
                tracing::info!(
                    n = stale.len(),
                    "resuming builds interrupted by a daemon stop"
                );
            }
            self.write(st, stale, &[])?;
        }
        for p in tables::projects(st)? {
            self.dirty.lock().expect("dirty").insert(p.name);
        }
        self.wake.notify_one();
        Ok(())
    }

    /// Take the next scheduled row (round-robin between projects) and mark it building.
    fn claim_next(&self, st: &Projects) -> Result<Option<(JobResult, Arc<Running>)>, ProjectError> {
        let _g = self.lock.lock().expect("lock");
        if self.running.lock().expect("running").len() >= self.workers {
            return Ok(None);
        }
        let mut by_project: BTreeMap<ProjectName, Vec<JobResult>> = BTreeMap::new();
        for r in tables::all_results(st)? {
            if r.state == State::Scheduled
                && r.derivation.is_some()
                && self.running(&r.key()).is_none()
            {
                by_project.entry(r.project.clone()).or_default().push(r);
            }
        }
        let mut last = self.last_project.lock().expect("last");
        let pick = by_project
            .keys()
            .find(|p| last.as_ref().is_none_or(|l| *p > l))
            .or_else(|| by_project.keys().next())
            .cloned();
        let Some(p) = pick else { return Ok(None) };
        *last = Some(p.clone());
        let mut rows = by_project.remove(&p).unwrap_or_default();
        rows.sort_by_key(|r| r.seq);
        let mut row = rows.remove(0);
        let Some(drv) = row.derivation else {
            return Ok(None);
        };
        row.state = State::Building;
        row.reason = None;
        let run = Arc::new(Running::new(drv));
        self.live.lock().expect("live").insert(drv, run.clone());
        self.running
            .lock()
            .expect("running")
            .insert(row.key(), run.clone());
        self.write(st, vec![row.clone()], &[])?;
        Ok(Some((row, run)))
    }

    fn run_job(self: Arc<Self>, st: &Projects, row: JobResult, run: Arc<Running>) {
        let drv = run.drv;
        let started = std::time::Instant::now();
        tracing::info!(project = %row.project, package = %row.package, %drv, "build started");
        let rebuild = row.force && st.store.realisation(&drv).ok().flatten().is_some();
        let outcome =
            crate::build::run::realise_observed(&st.builder, &drv, rebuild, Some(run.observer()));
        self.unregister_live(&run);
        let res = (|| -> Result<(), ProjectError> {
            let _g = self.lock.lock().expect("lock");
            let key = row.key();
            {
                let mut m = self.running.lock().expect("running");
                if m.get(&key).is_some_and(|x| Arc::ptr_eq(x, &run)) {
                    m.remove(&key);
                }
            }
            let Some(mut r) = tables::result(st, &key)? else {
                return Ok(());
            };
            if r.derivation != Some(drv) || r.state != State::Building {
                return Ok(()); // re-evaluated meanwhile
            }
            r.force = false;
            r.duration_secs = Some(started.elapsed().as_secs_f64());
            r.finished = Some(st.clock.now());
            match outcome {
                _ if run.aborted.load(Ordering::SeqCst) => {
                    r.state = State::Aborted;
                    r.reason = Some("aborted".into());
                }
                Ok(o) => {
                    r.log = o.log;
                    match o.status {
                        BuildStatus::Failed => {
                            r.state = State::Failed;
                            let last = o
                                .log_tail
                                .as_deref()
                                .and_then(|t| t.lines().last())
                                .unwrap_or("");
                            r.reason = Some(format!("build failed: {last}"));
                        }
                        s => {
                            r.state = if s == BuildStatus::Built {
                                State::Succeeded
                            } else {
                                State::Cached
                            };
                            r.reason = o.rebuild_differences.filter(|d| !d.is_empty()).map(|d| {
                                let names: Vec<_> = d.iter().map(|x| x.name.as_str()).collect();
                                format!(
                                    "rebuild differs from the recorded outputs: {}",
                                    names.join(", ")
                                )
                            });
                            if let Some(real) = st.store.realisation(&drv)? {
                                r.outputs = outputs::built_files(st, &real)?;
                            }
                        }
                    }
                }
                Err(e) => {
                    r.state = State::Failed;
                    r.reason = Some(crate::build::chain(&e));
                }
            }
            if tables::project(st, &r.project)?.is_some_and(|p| p.publish) {
                self.pending_publish
                    .lock()
                    .expect("pending")
                    .insert(r.project.clone());
            }
            tracing::info!(project = %r.project, package = %r.package, state = r.state.as_str(), "build finished");
            self.write(st, vec![r], &[])?;
            Ok(())
        })();
        if let Err(e) = res {
            tracing::error!(error = %e, "recording a build result");
        }
        // Evaluate at once (not via the dirty set) so that nobody sees this result final
        // while its dependents still show the previous state.
        self.evaluate_now(st, &row.project);
        if let Ok(deps) = eval::dependents(st, &row.project) {
            for d in deps {
                self.evaluate_now(st, &d);
            }
        }
    }

    /// Evaluate `project` now (blocking) and wake the dispatcher; errors are logged and
    /// the project stays marked for another try.
    pub fn evaluate_now(&self, st: &Projects, project: &ProjectName) {
        match self.evaluate(st, project) {
            Ok(()) => {
                self.wake.notify_one();
                st.hooks.evaluated(project);
                self.pending_publish
                    .lock()
                    .expect("pending")
                    .remove(project);
            }
            Err(e) => {
                tracing::warn!(%project, error = %e, "evaluation failed");
                self.mark_dirty(project);
            }
        }
    }
}
