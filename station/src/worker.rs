//! The scan worker: one thread that owns the station's write connection and turns every scan
//! into a durable entry with its verdict before anything is shown. Scans from all scanners,
//! the kiosk and stdin arrive here in order; kiosk commands (delete, revalidate, post, new
//! batch) come through the same queue, so they never race a scan.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use scanline_core::domain::ServiceTypeRules;
use scanline_core::night::{local_time, night_of};
use scanline_core::verdict::{self, BatchContext, Judgement, Verdict, VerdictClass};
use serde::Serialize;
use tokio::sync::{broadcast, oneshot};
use uuid::Uuid;

use crate::config::BatchTemplate;
use crate::state::Shared;
use crate::store::batches::{self, LocalBatch, NewEntry};
use crate::store::roster::Rules;
use crate::store::{self, StoreError, StoreResult, roster};

/// A clock this far behind the latest time seen is wrong (DESIGN §7, clocks).
const CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(5);

/// What the kiosk shows for one scan.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Shown {
    pub uuid: String,
    /// The card holder, for the kiosk to show their photo beside the name.
    pub client_id: Option<i64>,
    pub verdict: Verdict,
    /// Words for staff: "OK", "Already served", ...
    pub label: String,
    /// `ok`, `retry` or `stop`: picks the icon and the sound.
    pub class: &'static str,
    pub display_name: String,
    pub detail: String,
    pub warnings: Vec<String>,
    pub service_date: chrono::NaiveDate,
    pub source: String,
    pub scanned_at: DateTime<Utc>,
    /// Alerts on the client for staff, beside the verdict (never on the guest screen).
    pub alerts: Vec<roster::ShownAlert>,
    /// The bed given (or asked for, when `bed_taken`), in a program with beds.
    pub bed_id: Option<i64>,
    /// Its name: "A3".
    pub bed: String,
}

pub fn class_of(v: Verdict) -> &'static str {
    match v.class() {
        VerdictClass::Ok => "ok",
        VerdictClass::Retry => "retry",
        VerdictClass::Stop => "stop",
    }
}

/// The result of a scan.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ScanOutcome {
    Shown(Box<Shown>),
    /// The same card read again within the debounce window: dropped, nothing recorded.
    DoubleRead,
}

/// Events for the kiosk's live stream.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Scan(Shown),
    /// The server decided differently, or a revalidation changed a verdict.
    Changed(Shown),
    /// The batch, its counts or its post summary changed: reload the review list.
    Batch,
    /// Connection, roster or scanner state changed.
    Status,
    /// A scan could not be recorded (the station's disk is full, say): no verdict, and why.
    NotRecorded {
        source: String,
        message: String,
    },
}

/// Words for a scan that could not be recorded: nothing was kept, so it must be scanned again.
fn not_recorded(e: &store::StoreError) -> String {
    let full = matches!(e, store::StoreError::Sqlite(s)
        if s.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull));
    if full {
        "NOT RECORDED: the station's disk is full. Free space in its data folder, then scan \
         again."
            .to_owned()
    } else {
        format!("NOT RECORDED: {e}. Scan again.")
    }
}

type Reply<T> = oneshot::Sender<Result<T, String>>;

pub enum Command {
    Scan {
        source: String,
        text: String,
        reply: Option<Reply<ScanOutcome>>,
    },
    /// The no-card path: a client picked by name on the kiosk.
    Pick {
        client_id: i64,
        reply: Reply<ScanOutcome>,
    },
    Anonymous {
        reply: Reply<i64>,
    },
    Delete {
        uuid: String,
        reply: Reply<bool>,
    },
    Revalidate {
        reply: Reply<usize>,
    },
    Post {
        reply: Reply<()>,
    },
    NewBatch {
        template: Option<String>,
        reply: Reply<LocalBatch>,
    },
    /// Staff chose another bed for a scan at the kiosk.
    SetBed {
        uuid: String,
        bed_id: i64,
        reply: Reply<Shown>,
    },
}

/// Handle for sending commands to the worker.
#[derive(Clone)]
pub struct WorkerHandle {
    tx: mpsc::Sender<Command>,
}

impl WorkerHandle {
    pub fn send(&self, cmd: Command) -> Result<(), String> {
        self.tx.send(cmd).map_err(|_| "the scan worker has stopped".to_owned())
    }

    /// Sends a command and waits for its answer.
    pub async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        self.send(make(tx))?;
        rx.await.map_err(|_| "the scan worker has stopped".to_owned())?
    }

    /// Queues a scan without waiting (scanner threads).
    pub fn scan(&self, source: &str, text: String) {
        let _ = self.tx.send(Command::Scan { source: source.to_owned(), text, reply: None });
    }
}

pub struct Worker {
    conn: Connection,
    templates: Vec<BatchTemplate>,
    debounce: Duration,
    last_read: HashMap<String, Instant>,
    shared: Arc<Shared>,
    events: broadcast::Sender<Event>,
    /// The open batch. Only this worker opens and closes batches, so the copy stays true.
    batch: Option<LocalBatch>,
    /// The roster's rules, parsed once per roster sync (keyed by its sync time).
    rules: Option<(String, Arc<Rules>)>,
}

impl Worker {
    pub fn new(
        conn: Connection,
        templates: Vec<BatchTemplate>,
        debounce: Duration,
        shared: Arc<Shared>,
        events: broadcast::Sender<Event>,
    ) -> Self {
        Self {
            conn,
            templates,
            debounce,
            last_read: HashMap::new(),
            shared,
            events,
            batch: None,
            rules: None,
        }
    }

    /// Starts the worker thread.
    pub fn spawn(self) -> WorkerHandle {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("scan-worker".into())
            .spawn(move || self.run(&rx))
            .expect("spawning the scan worker");
        WorkerHandle { tx }
    }

    fn run(mut self, rx: &mpsc::Receiver<Command>) {
        while let Ok(cmd) = rx.recv() {
            self.handle(cmd);
        }
    }

    pub fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Scan { source, text, reply } => {
                let r = self.scan(&source, &text).map_err(|e| not_recorded(&e));
                if let Err(message) = &r {
                    tracing::error!(error = %message, "a scan could not be recorded");
                    // The kiosk shows it in place of a verdict, whatever scanner read it.
                    let _ =
                        self.events.send(Event::NotRecorded { source, message: message.clone() });
                }
                if let Some(reply) = reply {
                    let _ = reply.send(r);
                }
            }
            Command::Pick { client_id, reply } => {
                let r = self.pick(client_id).map_err(|e| e.to_string());
                let _ = reply.send(r);
            }
            Command::Anonymous { reply } => {
                let r = self.anonymous().map_err(|e| e.to_string());
                let _ = reply.send(r);
            }
            Command::Delete { uuid, reply } => {
                let r = store::immediate(&mut self.conn, |tx| batches::delete_entry(tx, &uuid))
                    .map_err(|e| e.to_string());
                self.after_change();
                let _ = reply.send(r);
            }
            Command::Revalidate { reply } => {
                let r = self.revalidate().map_err(|e| e.to_string());
                self.after_change();
                let _ = reply.send(r);
            }
            Command::Post { reply } => {
                let r = self.post().map_err(|e| e.to_string());
                self.after_change();
                let _ = reply.send(r);
            }
            Command::SetBed { uuid, bed_id, reply } => {
                let r = self.set_bed(&uuid, bed_id).map_err(|e| e.to_string());
                self.after_change();
                let _ = reply.send(r);
            }
            Command::NewBatch { template, reply } => {
                let r = self.new_batch(template.as_deref()).map_err(|e| e.to_string());
                self.after_change();
                let _ = reply.send(r);
            }
        }
    }

    fn after_change(&self) {
        self.shared.wake_sync();
        let _ = self.events.send(Event::Batch);
    }

    fn now(&self) -> StoreResult<DateTime<Utc>> {
        now(&self.conn, &self.shared)
    }

    fn template(&self, name: Option<&str>) -> Result<&BatchTemplate, StoreError> {
        match name {
            None => Ok(&self.templates[0]),
            Some(n) => self
                .templates
                .iter()
                .find(|t| t.name == n)
                .ok_or_else(|| StoreError::Invalid(format!("no batch template named {n:?}"))),
        }
    }

    fn new_batch(&mut self, template: Option<&str>) -> StoreResult<LocalBatch> {
        let t = self.template(template)?.clone();
        let now = self.now()?;
        let date = match roster::rules(&self.conn) {
            Ok(rules) => {
                let local = local_time(now, &rules.time_zone);
                let records_nights = rules
                    .service_types_of(&t.service_type_ids)
                    .iter()
                    .any(ServiceTypeRules::is_bed_night);
                match rules.program(t.program_id) {
                    Some(p) if records_nights => night_of(local, p.cutover_hour),
                    _ => local.date(),
                }
            }
            Err(StoreError::NoRoster) => now.date_naive(),
            Err(e) => return Err(e),
        };
        let batch = store::immediate(&mut self.conn, |tx| batches::start(tx, &t, date))?;
        self.batch = Some(batch.clone());
        Ok(batch)
    }

    /// The batch scans go into, starting the default one when none is open.
    ///
    /// A day batch (a meal line) left open past midnight is closed and the same template starts
    /// today's, so nobody's lunch is dated yesterday. Bed-night batches stay open: each scan is
    /// dated by its own night.
    fn open_batch(&mut self) -> StoreResult<LocalBatch> {
        if self.batch.is_none() {
            self.batch = batches::current(&self.conn)?;
        }
        let Some(b) = self.batch.clone() else { return self.new_batch(None) };
        if let Some(rules) = cached_rules(&self.conn, &mut self.rules)? {
            let nights = rules
                .service_types_of(&b.service_type_ids)
                .iter()
                .any(ServiceTypeRules::is_bed_night);
            let today = local_time(crate::clock::now(), &rules.time_zone).date();
            if !nights
                && b.service_date < today
                && self.templates.iter().any(|t| t.name == b.template)
            {
                return self.new_batch(Some(&b.template));
            }
        }
        Ok(b)
    }

    fn debounced(&mut self, key: &str) -> bool {
        let now = Instant::now();
        self.last_read.retain(|_, t| now.duration_since(*t) < self.debounce);
        if self.last_read.contains_key(key) {
            return true;
        }
        self.last_read.insert(key.to_owned(), now);
        false
    }

    /// Judges and records one scan. The entry is committed before this returns.
    pub fn scan(&mut self, source: &str, text: &str) -> StoreResult<ScanOutcome> {
        let first = verdict::first_look(text);
        let debounce_key = match &first {
            Ok(code) => code.key.clone(),
            Err(_) => text.to_owned(),
        };
        if self.debounced(&debounce_key) {
            return Ok(ScanOutcome::DoubleRead);
        }
        let batch = self.open_batch()?;
        // Reads and the write in one IMMEDIATE transaction: one lock, one commit.
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let scanned_at = now(&tx, &self.shared)?;
        let rules = cached_rules(&tx, &mut self.rules)?;
        let (service_date, judgement) =
            judge(&tx, rules.as_deref(), &batch, first, Judging::scan(scanned_at))?;
        let (display_name, alerts) = match judgement.client_id {
            Some(c) => (
                roster::display_name(&tx, c)?,
                roster::alerts_for(&tx, c, batch.program_id, service_date)?,
            ),
            None => (String::new(), Vec::new()),
        };
        let uuid = Uuid::now_v7();
        let entry = NewEntry {
            uuid,
            batch_uuid: &batch.uuid,
            source,
            code: text,
            client_id: judgement.client_id,
            display_name: &display_name,
            program_id: batch.program_id,
            service_date,
            scanned_at,
            verdict: judgement.verdict,
            warnings: &judgement.warnings,
            detail: &judgement.detail,
            bed_id: judgement.bed_id,
        };
        batches::record(&tx, &entry)?;
        let bed = match judgement.bed_id {
            Some(b) => store::beds::name_of(&tx, b)?.map(|(name, _)| name).unwrap_or_default(),
            None => String::new(),
        };
        tx.commit()?;
        let shown = Shown {
            uuid: uuid.to_string(),
            client_id: judgement.client_id,
            verdict: judgement.verdict,
            label: judgement.verdict.staff_label().to_owned(),
            class: class_of(judgement.verdict),
            display_name,
            detail: judgement.detail,
            warnings: judgement.warnings.iter().map(|w| batches::warnings_text(&[*w])).collect(),
            service_date,
            source: source.to_owned(),
            scanned_at,
            alerts,
            bed_id: judgement.bed_id,
            bed,
        };
        self.shared.note_scan();
        let _ = self.events.send(Event::Scan(shown.clone()));
        self.shared.wake_sync();
        Ok(ScanOutcome::Shown(Box::new(shown)))
    }

    fn pick(&mut self, client_id: i64) -> StoreResult<ScanOutcome> {
        let code = roster::current_card(&self.conn, client_id)?.ok_or_else(|| {
            StoreError::Invalid("that client has no current card on this station".into())
        })?;
        // Picking by name is deliberate: no debounce.
        self.last_read.remove(&code);
        self.scan("lookup", &code)
    }

    fn anonymous(&mut self) -> StoreResult<i64> {
        let batch = self.open_batch()?;
        let n = store::immediate(&mut self.conn, |tx| batches::add_anonymous(tx, &batch.uuid))?;
        let _ = self.events.send(Event::Batch);
        Ok(n)
    }

    fn revalidate(&mut self) -> StoreResult<usize> {
        let Some(batch) = batches::latest(&self.conn)? else { return Ok(0) };
        let open = batches::open_entries(&self.conn, &batch.uuid)?;
        let mut changed = Vec::new();
        let rules = roster::rules(&self.conn).ok();
        let tx_results: Vec<_> = open
            .iter()
            .map(|e| {
                let how = Judging {
                    at: e.scanned_at,
                    date: Some(e.service_date),
                    exclude: Some(&e.uuid),
                    bed: e.bed_id,
                };
                judge(&self.conn, rules.as_ref(), &batch, verdict::first_look(&e.code), how)
                    .map(|(_, j)| (e.uuid.clone(), j, e.bed_id))
            })
            .collect::<StoreResult<_>>()?;
        // Judged one by one against the entries as they stand; stored together.
        let mut names = Vec::new();
        for (_, j, _) in &tx_results {
            names.push(match j.client_id {
                Some(c) => roster::display_name(&self.conn, c)?,
                None => String::new(),
            });
        }
        store::immediate(&mut self.conn, |tx| {
            for ((uuid, j, bed), name) in tx_results.iter().zip(&names) {
                let before = batches::entry(tx, uuid)?;
                batches::set_local_verdict(
                    tx,
                    uuid,
                    j.client_id,
                    name,
                    j.verdict,
                    &j.warnings,
                    &j.detail,
                )?;
                if let Some(new) = j.bed_id.filter(|b| Some(*b) != *bed) {
                    batches::set_bed(tx, uuid, new)?;
                }
                if before.is_some_and(|b| b.verdict != j.verdict) {
                    changed.push(uuid.clone());
                }
            }
            batches::request_revalidate(tx, &batch.uuid)
        })?;
        for uuid in &changed {
            if let Some(e) = batches::entry(&self.conn, uuid)? {
                let _ = self.events.send(Event::Changed(shown_of(&e)));
            }
        }
        Ok(changed.len())
    }

    /// Gives a scan another bed, judged again with it: a bed another guest has tonight is
    /// refused and nothing changes.
    fn set_bed(&mut self, uuid: &str, bed: i64) -> StoreResult<Shown> {
        let e = batches::entry(&self.conn, uuid)?
            .filter(|e| !e.posted && !e.deleted)
            .ok_or_else(|| StoreError::Invalid("that scan is posted, deleted or unknown".into()))?;
        let batch = batches::get(&self.conn, &self.batch_uuid_of(uuid)?)?
            .ok_or_else(|| StoreError::Invalid("that scan's batch is unknown".into()))?;
        let rules = roster::rules(&self.conn)?;
        let how = Judging {
            at: e.scanned_at,
            date: Some(e.service_date),
            exclude: Some(uuid),
            bed: Some(bed),
        };
        let (_, j) = judge(&self.conn, Some(&rules), &batch, verdict::first_look(&e.code), how)?;
        let name = store::beds::name_of(&self.conn, bed)?.map(|(n, _)| n);
        match (j.verdict, name) {
            (_, None) => return Err(StoreError::Invalid(format!("no bed {bed} here"))),
            (Verdict::BedTaken, Some(n)) => {
                return Err(StoreError::Invalid(format!("bed {n} is already given tonight")));
            }
            _ => {}
        }
        store::immediate(&mut self.conn, |tx| {
            batches::set_local_verdict(
                tx,
                uuid,
                j.client_id,
                &e.display_name,
                j.verdict,
                &j.warnings,
                &j.detail,
            )?;
            batches::set_bed(tx, uuid, bed)
        })?;
        let shown = batches::entry(&self.conn, uuid)?
            .map(|e| shown_of(&e))
            .ok_or_else(|| StoreError::Invalid(format!("no entry {uuid}")))?;
        let _ = self.events.send(Event::Changed(shown.clone()));
        Ok(shown)
    }

    fn batch_uuid_of(&self, uuid: &str) -> StoreResult<String> {
        batches::batch_of(&self.conn, uuid)?
            .ok_or_else(|| StoreError::Invalid(format!("no entry {uuid}")))
    }

    fn post(&mut self) -> StoreResult<()> {
        let Some(batch) = batches::latest(&self.conn)? else {
            return Err(StoreError::Invalid("there is no batch to post".into()));
        };
        store::immediate(&mut self.conn, |tx| batches::request_post(tx, &batch.uuid))
    }
}

/// The time to record: the clock, unless it runs behind the latest time seen, in which case the
/// kiosk is told and the scan keeps the latest time seen (never a silently wrong date).
fn now(conn: &Connection, shared: &Shared) -> StoreResult<DateTime<Utc>> {
    let now = crate::clock::now();
    match batches::high_water(conn)? {
        Some(s) if now + CLOCK_SLACK < s => {
            shared.set_clock_error(Some(format!(
                "The station clock reads {} but {} was already seen: the clock is wrong. See staff.",
                now.format("%Y-%m-%d %H:%M"),
                s.format("%Y-%m-%d %H:%M")
            )));
            Ok(s)
        }
        _ => {
            shared.set_clock_error(None);
            Ok(now)
        }
    }
}

/// The roster's rules, parsed again only after a roster sync; `None` before the first one.
fn cached_rules(
    conn: &Connection,
    cache: &mut Option<(String, Arc<Rules>)>,
) -> StoreResult<Option<Arc<Rules>>> {
    let Some(key) = store::get_meta(conn, "synced_at")? else { return Ok(None) };
    if let Some((k, r)) = cache
        && *k == key
    {
        return Ok(Some(Arc::clone(r)));
    }
    match roster::rules(conn) {
        Ok(r) => {
            let r = Arc::new(r);
            *cache = Some((key, Arc::clone(&r)));
            Ok(Some(r))
        }
        Err(StoreError::NoRoster) => Ok(None),
        Err(e) => Err(e),
    }
}

/// How a scan is judged: when it was scanned, its known night (when judged again), the entry
/// left out of what counts, and the bed asked for.
#[derive(Debug, Clone, Copy)]
struct Judging<'a> {
    at: DateTime<Utc>,
    date: Option<chrono::NaiveDate>,
    exclude: Option<&'a str>,
    bed: Option<i64>,
}

impl Judging<'_> {
    fn scan(at: DateTime<Utc>) -> Self {
        Self { at, date: None, exclude: None, bed: None }
    }
}

/// The verdict for a payload in a batch, from the roster cache and local entries.
fn judge(
    conn: &Connection,
    rules: Option<&Rules>,
    batch: &LocalBatch,
    first: Result<scanline_core::ScanCode, Judgement>,
    how: Judging<'_>,
) -> StoreResult<(chrono::NaiveDate, Judgement)> {
    let Some(rules) = rules else {
        // Never refuse or lose a scan for want of a roster: record it and let the server
        // decide when it is reachable.
        let j = match first {
            Err(j) => j,
            Ok(_) => Judgement {
                verdict: Verdict::UnknownCard,
                client_id: None,
                enrollment_id: None,
                auto_enroll: false,
                warnings: Vec::new(),
                detail: "the roster is not loaded yet: the server will check this card".into(),
                bed_id: None,
            },
        };
        return Ok((batch.service_date, j));
    };
    let Some(program) = rules.program(batch.program_id) else {
        return Err(StoreError::Invalid(format!(
            "program {} is not one this station serves",
            batch.program_id
        )));
    };
    let service_types = rules.service_types_of(&batch.service_type_ids);
    let ctx = BatchContext { program, service_types: &service_types };
    let local = local_time(how.at, &rules.time_zone);
    let service_date = how.date.unwrap_or_else(|| ctx.service_date(batch.service_date, local));
    let j = match first {
        Err(j) => j,
        Ok(code) => {
            let mut facts = roster::facts(conn, &ctx, &code, service_date, how.exclude)?;
            if ctx.records_bed_nights()
                && let Some(card) = facts.card
            {
                let client = Some(card.client_id);
                facts.beds = store::beds::facts(
                    conn,
                    program,
                    service_date,
                    local,
                    client,
                    how.bed,
                    how.exclude,
                )?;
            }
            verdict::judge(&ctx, service_date, &facts)
        }
    };
    Ok((service_date, j))
}

/// The kiosk view of a stored entry.
pub fn shown_of(e: &batches::EntryView) -> Shown {
    Shown {
        uuid: e.uuid.clone(),
        client_id: e.client_id,
        verdict: e.verdict,
        label: e.verdict.staff_label().to_owned(),
        class: class_of(e.verdict),
        display_name: e.display_name.clone(),
        detail: e.detail.clone(),
        warnings: e.warnings.clone(),
        service_date: e.service_date,
        source: e.source.clone(),
        scanned_at: e.scanned_at,
        alerts: Vec::new(),
        bed_id: e.bed_id,
        bed: e.bed_name.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
#[path = "worker/tests/equivalence.rs"]
mod equivalence;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;
    use scanline_core::domain::{EnrollmentPolicy, EnrollmentSpan, LimitPolicy, ProgramRules};
    use scanline_core::wire::{
        OrganizationInfo, RosterCard, RosterClient, RosterSnapshot, StationInfo,
    };

    fn worker_with_roster() -> (Worker, String) {
        let mut conn = store::open_in_memory().unwrap();
        let code = scanline_core::ScanlineCode::new(5, 1).unwrap().encode();
        let snapshot = RosterSnapshot {
            cursor: 1,
            server_time: Utc::now(),
            station: StationInfo { id: 1, name: "Line".into() },
            organization: OrganizationInfo { id: 1, name: "Org".into(), time_zone: "UTC".into() },
            programs: vec![ProgramRules {
                id: 1,
                organization_id: 1,
                name: "Meals".into(),
                project_type: 6,
                capacity: None,
                capacity_policy: LimitPolicy::Enforce,
                cutover_hour: 12,
                enrollment_policy: EnrollmentPolicy::Reject,
                auto_exit_after_nights: None,
                safety_alerts_stop: false,
                bed_release_minutes: None,
            }],
            service_types: vec![ServiceTypeRules {
                id: 1,
                program_id: 1,
                name: "Meal".into(),
                record_type: None,
                default_units: 1.0,
                unit_value: 0.0,
                max_per_day: 1,
                frequency: None,
            }],
            clients: vec![RosterClient {
                id: 9,
                display_name: "Ana E.".into(),
                client_number: "9".into(),
            }],
            cards: vec![RosterCard {
                code: code.clone(),
                client_id: 9,
                replaced: false,
                expires_on: None,
            }],
            enrollments: vec![EnrollmentSpan {
                id: 3,
                client_id: 9,
                program_id: 1,
                entry_date: "2026-01-01".parse().unwrap(),
                exit_date: None,
            }],
            bars: vec![],
            served: vec![],
            alerts: vec![],
            beds: vec![],
            holds: vec![],
        };
        store::immediate(&mut conn, |tx| roster::apply_snapshot(tx, &snapshot)).unwrap();
        let template = crate::store::tests::template("Lunch line", 1, 1);
        let (events, _) = broadcast::channel(16);
        let worker =
            Worker::new(conn, vec![template], Duration::from_millis(500), Arc::default(), events);
        (worker, code)
    }

    fn shown(o: ScanOutcome) -> Shown {
        match o {
            ScanOutcome::Shown(s) => *s,
            ScanOutcome::DoubleRead => panic!("dropped as a double read"),
        }
    }

    #[test]
    fn a_scan_is_judged_recorded_and_a_double_read_dropped() {
        let (mut w, code) = worker_with_roster();
        let s = shown(w.scan("front", &code).unwrap());
        assert_eq!(s.verdict, Verdict::Accepted);
        assert_eq!(s.display_name, "Ana E.");
        assert!(matches!(w.scan("front", &code).unwrap(), ScanOutcome::DoubleRead));
        let s = shown(w.scan("front", "8800000000501x").unwrap());
        assert_eq!(s.verdict, Verdict::UnknownCard);
        let n = crate::store::batches::stored_entries(&w.conn).unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn a_meal_batch_left_open_overnight_is_replaced_by_todays() {
        let (mut w, code) = worker_with_roster();
        let yesterday = Utc::now().date_naive() - Days::new(1);
        let template = w.templates[0].clone();
        let old =
            store::immediate(&mut w.conn, |tx| batches::start(tx, &template, yesterday)).unwrap();
        let s = shown(w.scan("front", &code).unwrap());
        assert_eq!(s.service_date, Utc::now().date_naive(), "today's lunch is dated today");
        let old = batches::get(&w.conn, &old.uuid).unwrap().unwrap();
        assert!(!old.open, "yesterday's batch was closed");
        let current = batches::current(&w.conn).unwrap().unwrap();
        assert_eq!(current.template, "Lunch line");
        assert_eq!(current.service_date, Utc::now().date_naive());
    }
}
