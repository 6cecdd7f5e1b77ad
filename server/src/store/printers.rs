//! Printers an organization prints ID cards on (DESIGN §11), the print jobs sent to them with
//! the state their printer last reported, and what goes on a card.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, named_params};

use super::{OptionalExt, StoreError, StoreResult, now, required_text};
use crate::card::model::{CardContent, Geometry, Paper, cr80_at};

/// A card printer prints one card per page; a sheet printer prints paper with ten cards a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterKind {
    Card,
    Sheet,
}

impl PrinterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::Sheet => "sheet",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "card" => Some(Self::Card),
            "sheet" => Some(Self::Sheet),
            _ => None,
        }
    }
}

/// Formats a printer may be sent.
pub const FORMATS: [&str; 2] = ["application/pdf", "image/png"];

/// A printer's settings as entered.
#[derive(Debug, Clone)]
pub struct PrinterInput {
    pub name: String,
    pub uri: String,
    pub kind: PrinterKind,
    /// IPP media keyword of the card stock (card printers).
    pub media: String,
    /// Paper size (sheet printers).
    pub paper: Paper,
    pub dpi: u32,
    /// Card bitmap size in pixels (card printers); sheet printers use CR80 at `dpi`.
    pub bitmap_width: u32,
    pub bitmap_height: u32,
    pub duplex: bool,
    pub document_format: String,
}

#[derive(Debug, Clone)]
pub struct Printer {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub uri: String,
    pub kind: PrinterKind,
    pub media: String,
    pub paper: Paper,
    pub dpi: u32,
    pub bitmap_width: u32,
    pub bitmap_height: u32,
    pub duplex: bool,
    pub document_format: String,
}

impl Printer {
    /// The bitmap each card side is drawn at for this printer.
    pub fn geometry(&self) -> Geometry {
        Geometry::new(self.bitmap_width, self.bitmap_height, self.dpi).unwrap_or(Geometry::DEFAULT)
    }

    /// The IPP media keyword jobs ask for.
    pub fn job_media(&self) -> String {
        match self.kind {
            PrinterKind::Card => self.media.clone(),
            PrinterKind::Sheet => self.paper.media().to_owned(),
        }
    }

    /// The IPP `sides` keyword jobs ask for.
    pub fn sides(&self) -> &'static str {
        if self.duplex { "two-sided-long-edge" } else { "one-sided" }
    }
}

fn validate(p: &PrinterInput) -> StoreResult<PrinterInput> {
    let mut p = p.clone();
    p.name = required_text("printer name", &p.name, 100)?;
    p.uri = required_text("printer address", &p.uri, 500)?;
    if !FORMATS.contains(&p.document_format.as_str()) {
        return Err(StoreError::Invalid("the document format must be PDF or PNG".into()));
    }
    if !(150..=1200).contains(&p.dpi) {
        return Err(StoreError::Invalid("the resolution must be between 150 and 1200 dpi".into()));
    }
    match p.kind {
        PrinterKind::Card => {
            p.media = p.media.trim().to_owned();
            if p.media.len() > 200 || p.media.chars().any(char::is_whitespace) {
                return Err(StoreError::Invalid(
                    "the media must be the printer's IPP media keyword, without spaces".into(),
                ));
            }
            Geometry::new(p.bitmap_width, p.bitmap_height, p.dpi)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            if p.duplex && p.document_format == "image/png" {
                return Err(StoreError::Invalid(
                    "a PNG holds one side only: send PDF to print both sides".into(),
                ));
            }
        }
        PrinterKind::Sheet => {
            p.media.clear();
            (p.bitmap_width, p.bitmap_height) = cr80_at(p.dpi);
            if p.document_format != "application/pdf" {
                return Err(StoreError::Invalid("sheets of cards are sent as PDF".into()));
            }
        }
    }
    Ok(p)
}

pub fn insert(conn: &Connection, org: i64, input: &PrinterInput) -> StoreResult<i64> {
    let p = validate(input)?;
    conn.prepare_cached(
        "INSERT INTO printers (organization_id, name, uri, kind, media, paper, dpi, bitmap_width,
                               bitmap_height, duplex, document_format, created_at)
         VALUES (:org, :name, :uri, :kind, :media, :paper, :dpi, :w, :h, :duplex, :format, :at)",
    )?
    .execute(named_params! {
        ":org": org, ":name": p.name, ":uri": p.uri, ":kind": p.kind.as_str(), ":media": p.media,
        ":paper": p.paper.as_str(), ":dpi": p.dpi, ":w": p.bitmap_width, ":h": p.bitmap_height,
        ":duplex": p.duplex, ":format": p.document_format, ":at": now(),
    })
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            StoreError::Conflict("a printer with that name already exists".into())
        } else {
            e.into()
        }
    })?;
    Ok(conn.last_insert_rowid())
}

const PRINTER_COLUMNS: &str = "id, organization_id, name, uri, kind, media, paper, dpi,
    bitmap_width, bitmap_height, duplex, document_format";

fn printer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Printer> {
    let kind: String = r.get(4)?;
    let paper: String = r.get(6)?;
    Ok(Printer {
        id: r.get(0)?,
        organization_id: r.get(1)?,
        name: r.get(2)?,
        uri: r.get(3)?,
        kind: PrinterKind::parse(&kind).unwrap_or(PrinterKind::Card),
        media: r.get(5)?,
        paper: Paper::parse(&paper).unwrap_or(Paper::Letter),
        dpi: r.get(7)?,
        bitmap_width: r.get(8)?,
        bitmap_height: r.get(9)?,
        duplex: r.get(10)?,
        document_format: r.get(11)?,
    })
}

/// An active printer.
pub fn get(conn: &Connection, id: i64) -> StoreResult<Printer> {
    conn.prepare_cached(&format!(
        "SELECT {PRINTER_COLUMNS} FROM printers WHERE id = :id AND disabled_at IS NULL"
    ))?
    .query_row(named_params! {":id": id}, printer_row)
    .or_not_found(|| format!("no printer {id}"))
}

/// The active printers of some organizations, by name.
pub fn list_for_orgs(conn: &Connection, orgs: &[i64]) -> StoreResult<Vec<Printer>> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PRINTER_COLUMNS} FROM printers
         WHERE organization_id = :org AND disabled_at IS NULL ORDER BY name"
    ))?;
    for org in orgs {
        for p in stmt.query_map(named_params! {":org": org}, printer_row)? {
            out.push(p?);
        }
    }
    Ok(out)
}

/// Takes a printer out of use; its past jobs stay.
pub fn disable(conn: &Connection, id: i64) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE printers SET disabled_at = :at WHERE id = :id AND disabled_at IS NULL",
        )?
        .execute(named_params! {":at": now(), ":id": id})?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no printer {id}")));
    }
    Ok(())
}

/// A print job as staff see it.
#[derive(Debug, Clone)]
pub struct JobLine {
    pub id: i64,
    pub organization_id: i64,
    pub printer: String,
    pub printer_uri: String,
    pub title: String,
    pub card_count: u32,
    pub media: String,
    pub sides: String,
    pub ipp_job_id: Option<i32>,
    pub state: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl JobLine {
    /// Still waiting on the printer.
    pub fn active(&self) -> bool {
        ACTIVE.contains(&self.state.as_str())
    }

    /// Words for the state.
    pub fn state_label(&self) -> &'static str {
        match self.state.as_str() {
            "sending" => "Sending to the printer",
            "pending" => "Waiting at the printer",
            "pending-held" => "Held at the printer",
            "processing" => "Printing",
            "processing-stopped" => "Stopped: check the printer",
            "completed" => "Printed",
            "canceled" => "Canceled",
            "aborted" => "The printer gave up",
            "refused" => "Refused by the printer",
            _ => "Not sent",
        }
    }
}

/// States in which a job still waits on its printer.
pub const ACTIVE: [&str; 5] =
    ["sending", "pending", "pending-held", "processing", "processing-stopped"];

/// Records a job before it is sent, so a job is never sent without a trace.
pub fn create_job(
    conn: &Connection,
    printer: &Printer,
    user: Option<i64>,
    title: &str,
    cards: &[i64],
) -> StoreResult<i64> {
    let at = now();
    conn.prepare_cached(
        "INSERT INTO print_jobs (organization_id, printer_id, user_id, title, card_count, media,
                                 sides, state, created_at, updated_at)
         VALUES (:org, :printer, :user, :title, :n, :media, :sides, 'sending', :at, :at)",
    )?
    .execute(named_params! {
        ":org": printer.organization_id, ":printer": printer.id, ":user": user, ":title": title,
        ":n": cards.len() as i64, ":media": printer.job_media(), ":sides": printer.sides(),
        ":at": at,
    })?;
    let job = conn.last_insert_rowid();
    let mut stmt = conn
        .prepare_cached("INSERT OR IGNORE INTO print_job_cards (job_id, card_id) VALUES (?, ?)")?;
    for card in cards {
        stmt.execute([job, *card])?;
    }
    Ok(job)
}

/// The printer accepted the job.
pub fn job_accepted(conn: &Connection, job: i64, ipp_job_id: i32, state: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE print_jobs SET ipp_job_id = :ipp, state = :state, updated_at = :at WHERE id = :id",
    )?
    .execute(named_params! {":ipp": ipp_job_id, ":state": state, ":at": now(), ":id": job})?;
    Ok(())
}

/// A new state (and message) from the printer, or a final failure (`refused`, `failed`).
pub fn job_state(conn: &Connection, job: i64, state: &str, message: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE print_jobs SET state = :state, message = :msg, updated_at = :at WHERE id = :id",
    )?
    .execute(named_params! {":state": state, ":msg": message, ":at": now(), ":id": job})?;
    Ok(())
}

const JOB_COLUMNS: &str = "j.id, j.organization_id, p.name, p.uri, j.title, j.card_count, j.media,
    j.sides, j.ipp_job_id, j.state, j.message, j.created_at, j.updated_at";

fn job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobLine> {
    Ok(JobLine {
        id: r.get(0)?,
        organization_id: r.get(1)?,
        printer: r.get(2)?,
        printer_uri: r.get(3)?,
        title: r.get(4)?,
        card_count: r.get(5)?,
        media: r.get(6)?,
        sides: r.get(7)?,
        ipp_job_id: r.get(8)?,
        state: r.get(9)?,
        message: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

pub fn get_job(conn: &Connection, id: i64) -> StoreResult<JobLine> {
    conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM print_jobs j JOIN printers p ON p.id = j.printer_id
         WHERE j.id = :id"
    ))?
    .query_row(named_params! {":id": id}, job_row)
    .or_not_found(|| format!("no print job {id}"))
}

/// The latest jobs of some organizations, newest first.
pub fn recent_jobs(conn: &Connection, orgs: &[i64], limit: u32) -> StoreResult<Vec<JobLine>> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM print_jobs j JOIN printers p ON p.id = j.printer_id
         WHERE j.organization_id = :org ORDER BY j.id DESC LIMIT :limit"
    ))?;
    for org in orgs {
        for j in stmt.query_map(named_params! {":org": org, ":limit": limit}, job_row)? {
            out.push(j?);
        }
    }
    out.sort_by_key(|j| std::cmp::Reverse(j.id));
    out.truncate(limit as usize);
    Ok(out)
}

/// Jobs still waiting on their printer, oldest first.
pub fn active_jobs(conn: &Connection) -> StoreResult<Vec<JobLine>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM print_jobs j JOIN printers p ON p.id = j.printer_id
         WHERE j.state IN ('sending', 'pending', 'pending-held', 'processing',
                           'processing-stopped')
         ORDER BY j.id"
    ))?;
    let rows = stmt.query_map([], job_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Everything drawn on a Scanline card, with the client it belongs to. Only a card that
/// still scans may be printed: a replaced or revoked card would be refused at every station.
pub fn card_content(conn: &Connection, card_id: i64) -> StoreResult<(i64, CardContent)> {
    let row = conn
        .prepare_cached(
            "SELECT c.client_id, c.code, c.kind, c.issued_at, c.expires_on,
                    c.replaced_by IS NOT NULL, c.revoked_at IS NOT NULL,
                    cl.client_number, cl.first_name, cl.last_name, cl.preferred_name,
                    o.name, o.phone, o.return_address, o.time_zone
             FROM cards c JOIN clients cl ON cl.id = c.client_id
                          JOIN organizations o ON o.id = cl.organization_id
             WHERE c.id = :id",
        )?
        .query_row(named_params! {":id": card_id}, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, DateTime<Utc>>(3)?,
                r.get::<_, Option<chrono::NaiveDate>>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, u32>(7)?,
                (r.get::<_, String>(8)?, r.get::<_, String>(9)?, r.get::<_, String>(10)?),
                (r.get::<_, String>(11)?, r.get::<_, String>(12)?, r.get::<_, String>(13)?),
                r.get::<_, String>(14)?,
            ))
        })
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no card {card_id}")))?;
    let (client, code, kind, issued_at, expires_on, replaced, revoked, number, names, org, tz) =
        row;
    if kind != "scanline" {
        return Err(StoreError::Invalid(
            "only Scanline cards can be printed; this code belongs to another card".into(),
        ));
    }
    if replaced || revoked {
        return Err(StoreError::Invalid(
            "this card no longer scans (it was replaced or reported lost); print the current one"
                .into(),
        ));
    }
    let tz = super::orgs::parse_time_zone(&tz)?;
    let (first, last, preferred) = names;
    let name = if preferred.trim().is_empty() {
        format!("{first} {last}")
    } else {
        format!("{} {last}", preferred.trim())
    };
    Ok((
        client,
        CardContent {
            agency: org.0,
            agency_phone: org.1,
            return_address: org.2,
            name,
            client_number: number,
            code,
            issued_on: issued_at.with_timezone(&tz).date_naive(),
            expires_on,
            photo: super::photos::current(conn, super::ClientId(client), false)?,
        },
    ))
}

/// The client's current Scanline card: the newest one that still scans on `today`.
pub fn current_card(
    conn: &Connection,
    client: i64,
    today: chrono::NaiveDate,
) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM cards WHERE client_id = :c AND kind = 'scanline'
               AND replaced_by IS NULL AND revoked_at IS NULL
               AND (expires_on IS NULL OR expires_on >= :today)
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(named_params! {":c": client, ":today": today}, |r| r.get(0))
        .optional()?)
}

/// A client on the bulk card page.
#[derive(Debug, Clone)]
pub struct BulkLine {
    pub client_id: i64,
    pub client_number: u32,
    pub name: String,
    /// The client's current Scanline card code, if any.
    pub card: Option<String>,
}

/// Most clients listed on the bulk card page at once.
pub const BULK_MAX: u32 = 500;

/// Clients enrolled in a program on `today`, by name, with their current card; only those
/// without one when `only_missing`.
pub fn bulk_candidates(
    conn: &Connection,
    program: i64,
    today: chrono::NaiveDate,
    only_missing: bool,
) -> StoreResult<Vec<BulkLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT cl.id, cl.client_number,
                CASE WHEN cl.preferred_name != '' THEN cl.preferred_name ELSE cl.first_name END
                    || ' ' || cl.last_name,
                (SELECT c.code FROM cards c WHERE c.client_id = cl.id AND c.kind = 'scanline'
                   AND c.replaced_by IS NULL AND c.revoked_at IS NULL
                   AND (c.expires_on IS NULL OR c.expires_on >= :today)
                 ORDER BY c.seq DESC LIMIT 1) AS card
         FROM clients cl
         WHERE cl.id IN (SELECT client_id FROM enrollments WHERE program_id = :p
                           AND entry_date <= :today
                           AND (exit_date IS NULL OR exit_date >= :today))
           AND (:missing = 0 OR card IS NULL)
         ORDER BY cl.last_name COLLATE NOCASE, cl.first_name COLLATE NOCASE
         LIMIT :limit",
    )?;
    let rows = stmt
        .query_map(
            named_params! {":p": program, ":today": today, ":missing": only_missing, ":limit": BULK_MAX},
            |r| {
                Ok(BulkLine {
                    client_id: r.get(0)?,
                    client_number: r.get(1)?,
                    name: r.get(2)?,
                    card: r.get(3)?,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
