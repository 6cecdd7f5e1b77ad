//! Sending cards to a printer and following the job: every job is recorded before it is sent,
//! the printer's answer (accepted, or refused with the reason in plain words) is stored on it,
//! and a loop inside `serve` asks each printer where its unfinished jobs stand until they end.

use std::time::Duration;

use crate::card::{CardContent, CardError, Delivery};
use crate::db::Db;
use crate::printing::{self, JobSettings, PrintError};
use crate::store::StoreError;
use crate::store::printers::{self, Printer, PrinterKind};

/// How often unfinished jobs are looked up.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(2);
/// A job still marked as being sent after this long was cut off by a restart.
const SENDING_GIVE_UP: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("{0}")]
    Card(#[from] crate::card::CardError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Db(#[from] crate::db::DbError),
}

fn settings(p: &Printer) -> JobSettings {
    JobSettings {
        uri: p.uri.clone(),
        media: p.job_media(),
        duplex: p.duplex,
        dpi: p.dpi,
        document_format: p.document_format.clone(),
    }
}

/// Renders the cards for the printer, records the job(s) and sends them. Returns the job ids;
/// a printer that refuses or cannot be reached leaves its job marked with the reason, for the
/// job page to show.
pub async fn print(
    db: &Db,
    printer: Printer,
    user: Option<(i64, String)>,
    title: String,
    cards: Vec<(i64, CardContent)>,
) -> Result<Vec<i64>, QueueError> {
    let contents: Vec<CardContent> = cards.iter().map(|(_, c)| c.clone()).collect();
    let for_render = printer.clone();
    let documents = tokio::task::spawn_blocking(move || documents(&for_render, &contents))
        .await
        .map_err(|e| StoreError::Invalid(format!("rendering stopped: {e}")))??;
    let card_ids: Vec<i64> = cards.iter().map(|(id, _)| *id).collect();
    // One job per document; a PNG printer takes one card per job.
    let per_job: Vec<Vec<i64>> = if documents.len() == card_ids.len() && documents.len() > 1 {
        card_ids.iter().map(|id| vec![*id]).collect()
    } else {
        vec![card_ids]
    };
    let user_id = user.as_ref().map(|(id, _)| *id);
    let user_name = user.map_or_else(|| "scanline".to_owned(), |(_, name)| name);
    let mut jobs = Vec::new();
    for (document, ids) in documents.into_iter().zip(per_job) {
        let (p, t) = (printer.clone(), title.clone());
        let job = db.transact(move |tx| printers::create_job(tx, &p, user_id, &t, &ids)).await??;
        let outcome = printing::submit(&settings(&printer), &title, &user_name, document).await;
        db.transact(move |tx| match &outcome {
            Ok(s) => printers::job_accepted(tx, job, s.job_id, s.state.as_str()),
            Err(PrintError::Refused(m)) => printers::job_state(tx, job, "refused", m),
            Err(e) => printers::job_state(tx, job, "failed", &e.to_string()),
        })
        .await??;
        jobs.push(job);
    }
    Ok(jobs)
}

/// One pass over unfinished jobs: asks each printer where its job stands and stores what
/// changed. A job cut off while being sent is marked failed so nobody waits on it.
pub async fn follow_once(db: &Db) -> Result<(), QueueError> {
    let active = db.read(printers::active_jobs).await??;
    for job in active {
        let Some(ipp_job) = job.ipp_job_id else {
            let age = crate::store::now() - job.created_at;
            if age.to_std().unwrap_or_default() > SENDING_GIVE_UP {
                let id = job.id;
                db.transact(move |tx| {
                    printers::job_state(
                        tx,
                        id,
                        "failed",
                        "The server stopped while sending this job; check the printer \
                         before printing again.",
                    )
                })
                .await??;
            }
            continue;
        };
        let (state, message) = match printing::job_status(&job.printer_uri, ipp_job).await {
            Ok(s) => {
                let message = if s.message.is_empty() { s.reasons.join(", ") } else { s.message };
                (s.state.as_str().to_owned(), message)
            }
            // The printer is away: the job keeps its state, and the page says why it waits.
            Err(e @ PrintError::Unreachable(_)) => (job.state.clone(), e.to_string()),
            Err(e) => ("failed".to_owned(), e.to_string()),
        };
        if state != job.state || message != job.message {
            let id = job.id;
            db.transact(move |tx| printers::job_state(tx, id, &state, &message)).await??;
        }
    }
    Ok(())
}

/// Follows unfinished jobs every `FOLLOW_EVERY`, until the task is dropped.
pub async fn follow_loop(db: Db) {
    let mut tick = tokio::time::interval(FOLLOW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = follow_once(&db).await {
            tracing::error!(error = %e, "following print jobs failed; will try again");
        }
    }
}

/// What to send a printer for some cards, as one or more documents: a card printer gets a PDF
/// of every card side, or one PNG per card; a sheet printer gets sheets of ten, with a page of
/// backs after each when it prints both sides.
fn documents(printer: &Printer, cards: &[CardContent]) -> Result<Vec<Vec<u8>>, CardError> {
    let delivery = match printer.kind {
        PrinterKind::Card if printer.document_format == "image/png" => Delivery::PngPerCard,
        PrinterKind::Card => Delivery::Pdf,
        PrinterKind::Sheet => Delivery::Sheet(printer.paper),
    };
    crate::card::assemble(printer.geometry(), cards, printer.duplex, delivery)
}
