//! Group commit for entry uploads. Concurrent upload requests from many stations are queued and
//! run by the database writer together: each request in its own savepoint (so one bad request
//! fails alone and changes nothing), all of them in one `BEGIN IMMEDIATE` transaction with one
//! durable commit. Every request is answered only after that commit, so an acknowledged entry
//! is on disk, and fifty stations cost one fsync instead of fifty.

use chrono::{DateTime, Utc};
use scanline_core::wire::{EntryUpload, EntryVerdict};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::db::{Db, DbError};
use crate::store::stations::StationAuth;
use crate::store::{StoreError, batches};

/// Most requests committed together; bounds the latency one group adds to the next.
const MAX_GROUP: usize = 64;

type Answer = Result<Vec<EntryVerdict>, IngestError>;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The request itself was refused or failed; the rest of its group stands.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The group could not be committed, or the writer is gone: nothing of it was stored.
    #[error("{0}")]
    Internal(String),
    /// The disk is full: nothing of the group was stored; the same upload succeeds later.
    #[error("the server's disk is full")]
    DiskFull,
}

struct Job {
    station: StationAuth,
    batch: Uuid,
    entries: Vec<EntryUpload>,
    /// The server's clock when the request arrived: scan times are checked against it.
    now: DateTime<Utc>,
    reply: oneshot::Sender<Answer>,
}

/// One request of a group: the station, its batch, its entries and when it arrived.
type Work = (StationAuth, Uuid, Vec<EntryUpload>, DateTime<Utc>);

/// Handle to the upload queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ingest {
    tx: mpsc::UnboundedSender<Job>,
}

impl Ingest {
    /// Starts the queue's task on the current tokio runtime.
    pub fn start(db: Db) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                let (replies, work): (Vec<_>, Vec<_>) = jobs
                    .into_iter()
                    .map(|j| (j.reply, (j.station, j.batch, j.entries, j.now)))
                    .unzip();
                let committed = db
                    .transact(move |tx| Ok::<_, rusqlite::Error>(run_group(tx, &work)))
                    .await
                    .map_err(|e| (e.is_disk_full(), e.to_string()))
                    .and_then(|r| {
                        r.map_err(|e| (crate::db::disk_full(&e), format!("database error: {e}")))
                    });
                match committed {
                    Ok(answers) => {
                        for (reply, answer) in replies.into_iter().zip(answers) {
                            let _ = reply.send(answer);
                        }
                    }
                    // Nothing of the group was stored.
                    Err((full, e)) => {
                        for reply in replies {
                            let failed = if full {
                                IngestError::DiskFull
                            } else {
                                IngestError::Internal(e.clone())
                            };
                            let _ = reply.send(Err(failed));
                        }
                    }
                }
            }
        });
        Self { tx }
    }

    /// Uploads one station request; returns after the group it joined is committed.
    pub async fn upload(
        &self,
        station: StationAuth,
        batch: Uuid,
        entries: Vec<EntryUpload>,
        now: DateTime<Utc>,
    ) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { station, batch, entries, now, reply })
            .map_err(|_| IngestError::Internal(DbError::WorkerGone.to_string()))?;
        answer.await.map_err(|_| IngestError::Internal(DbError::WorkerGone.to_string()))?
    }
}

/// Runs a group of uploads in the caller's transaction, each in a savepoint.
fn run_group(tx: &mut rusqlite::Savepoint<'_>, work: &[Work]) -> Vec<Answer> {
    let mut answers = Vec::with_capacity(work.len());
    for (station, batch, entries, now) in work {
        let sp = match tx.savepoint() {
            Ok(sp) => sp,
            Err(e) => {
                answers.push(Err(StoreError::Sqlite(e).into()));
                continue;
            }
        };
        // A request that panics fails alone, like one that errs: its savepoint is rolled back
        // and the rest of the group commits.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            batches::upload(&sp, station, *batch, entries, *now)
        }));
        match result {
            Ok(Ok(v)) => match sp.commit() {
                Ok(()) => answers.push(Ok(v)),
                Err(e) => answers.push(Err(StoreError::Sqlite(e).into())),
            },
            // Dropping the savepoint rolls this request back; the others stand.
            Ok(Err(e)) => answers.push(Err(e.into())),
            Err(_) => {
                tracing::error!(batch = %batch, "an upload panicked; it was rolled back");
                answers.push(Err(IngestError::Internal("the upload failed unexpectedly".into())));
            }
        }
    }
    answers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{cards, clients, enrollments, stations, testing::fixture};
    use scanline_core::Verdict;
    use scanline_core::wire::CreateBatch;

    #[test]
    fn a_failing_request_in_a_group_changes_nothing_and_the_others_stand() {
        let mut f = fixture();
        let now: DateTime<Utc> = "2026-11-22T01:00:00Z".parse().unwrap();
        let (_, token) = stations::insert(&f.conn, f.org, "S", &[f.meals]).unwrap();
        let station = stations::authenticate(&f.conn, &token).unwrap().unwrap();
        let (client, _) = clients::insert(
            &f.conn,
            &clients::NewClient {
                organization_id: f.org,
                first_name: "A".into(),
                last_name: "B".into(),
                ..clients::NewClient::default()
            },
        )
        .unwrap();
        enrollments::insert(
            &f.conn,
            &enrollments::NewEnrollment {
                client_id: client.0,
                program_id: f.meals,
                entry_date: "2026-01-01".parse().unwrap(),
                household_id: None,
                relationship_to_hoh: 1,
            },
        )
        .unwrap();
        let code = cards::issue_scanline(&f.conn, client.0, None).unwrap().1;
        let (batch, _) = batches::create(
            &f.conn,
            batches::Creator::Station(&station),
            &CreateBatch {
                uuid: Uuid::now_v7(),
                program_id: f.meals,
                service_type_ids: vec![f.meal],
                service_date: "2026-11-21".parse().unwrap(),
                units: None,
                unit_value: None,
                description: None,
                auto_post: false,
            },
            now,
        )
        .unwrap();
        let entry = |code: &str| EntryUpload {
            uuid: Uuid::now_v7(),
            code: code.into(),
            scanned_at: "2026-11-21T20:00:00Z".parse().unwrap(),
            station_verdict: None,
            bed_id: None,
        };
        let work = vec![
            (station.clone(), batch.uuid, vec![entry(&code)], now),
            (station.clone(), Uuid::now_v7(), vec![entry(&code)], now),
            (station.clone(), batch.uuid, vec![entry(&code), entry("12")], now),
            // A time chrono can hold but no station can produce fails its request alone.
            (
                station.clone(),
                batch.uuid,
                vec![EntryUpload {
                    scanned_at: "-262143-01-01T00:00:00Z".parse().unwrap(),
                    ..entry(&code)
                }],
                now,
            ),
        ];
        let mut tx = f.conn.savepoint().unwrap();
        let answers = run_group(&mut tx, &work);
        tx.commit().unwrap();
        assert_eq!(answers.len(), 4);
        assert!(matches!(answers[3], Err(IngestError::Store(StoreError::Invalid(_)))));
        assert_eq!(answers[0].as_ref().unwrap()[0].verdict, Verdict::Accepted);
        assert!(matches!(answers[1], Err(IngestError::Store(StoreError::NotFound(_)))));
        let third = answers[2].as_ref().unwrap();
        assert_eq!(third[0].verdict, Verdict::Duplicate, "the group sees its own earlier requests");
        assert_eq!(third[1].verdict, Verdict::UnknownCard);
        let stored = crate::store::batches::stored_entries(&f.conn).unwrap();
        assert_eq!(stored, 3);
    }
}
