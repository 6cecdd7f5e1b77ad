//! ID cards on the staff pages (DESIGN §11): a card's front and back as PNG and the card as
//! PDF, drawn at a chosen printer's bitmap size; printing one card or many (for example everyone
//! enrolled in a program who has no card yet) on a configured printer, with the job followed
//! and shown; a Letter or A4 sheet PDF for agencies without a card printer; and the admins'
//! printer settings with a check of what the printer says it can do.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::admin::{admin_of, admin_orgs};
use super::auth::{SignedIn, check_csrf};
use super::{CsrfForm, WebError, WebResult, audited};
use crate::card::pdf::Paper;
use crate::card::{self, CardContent, Delivery, Geometry};
use crate::print_queue::{self, QueueError};
use crate::printing;
use crate::state::AppState;
use crate::store::ClientId;
use crate::store::audit::{self, Actor};
use crate::store::printers::{self, BulkLine, JobLine, Printer, PrinterInput, PrinterKind};
use crate::store::sessions::{Session, Viewer};
use crate::store::{StoreError, cards, clients, orgs, programs};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/cards/{id}/{file}", get(card_file))
        .route("/cards/{id}/print", post(print_card))
        .route("/cards/bulk", get(bulk_page).post(bulk_submit))
        .route("/print-jobs", get(jobs_page))
        .route("/print-jobs/{id}", get(job_page))
        .route("/admin/printers", get(printers_page).post(add_printer))
        .route("/admin/printers/{id}/check", post(check_printer))
        .route("/admin/printers/{id}/disable", post(disable_printer))
}

impl From<QueueError> for WebError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Card(e) => Self::Invalid(format!("The card could not be drawn: {e}.")),
            QueueError::Store(e) => e.into(),
            QueueError::Db(e) => e.into(),
        }
    }
}

fn parse_id(s: &str) -> WebResult<i64> {
    s.parse().map_err(|_| WebError::NotFound)
}

/// A card the viewer may see, with its content; and, when asked, a printer of the card's
/// organization that the viewer may use.
async fn load_card(
    state: &AppState,
    viewer: &Viewer,
    card_id: i64,
    printer: Option<i64>,
    must_change: bool,
) -> WebResult<(i64, CardContent, Option<Printer>)> {
    let viewer = viewer.clone();
    let loaded = state
        .db
        .read(move |conn| {
            let (client_id, content) = printers::card_content(conn, card_id)?;
            let client = clients::get_visible(conn, &viewer.org_ids(), ClientId(client_id))?;
            if must_change && !viewer.may_change(client.organization_id) {
                return Err(StoreError::Forbidden("Your role may not print cards.".into()));
            }
            let printer = match printer {
                Some(p) => {
                    let p = printers::get(conn, p)?;
                    if p.organization_id != client.organization_id {
                        return Err(StoreError::Invalid(
                            "That printer belongs to another organization.".into(),
                        ));
                    }
                    Some(p)
                }
                None => None,
            };
            Ok((client_id, content, printer))
        })
        .await??;
    Ok(loaded)
}

#[derive(Deserialize)]
struct DownloadQuery {
    #[serde(default)]
    printer: String,
}

fn printer_param(q: &DownloadQuery) -> WebResult<Option<i64>> {
    match q.printer.trim() {
        "" => Ok(None),
        p => p.parse().map(Some).map_err(|_| WebError::Invalid("No such printer.".into())),
    }
}

#[derive(Clone, Copy)]
enum Output {
    Front,
    Back,
    Pdf,
}

async fn download(
    state: &AppState,
    session: &Session,
    id: &str,
    q: &DownloadQuery,
    output: Output,
) -> WebResult<Response> {
    let card_id = parse_id(id)?;
    let (_, content, printer) =
        load_card(state, &session.viewer, card_id, printer_param(q)?, false).await?;
    let g = printer.as_ref().map_or(Geometry::DEFAULT, Printer::geometry);
    let code = content.code.clone();
    let delivery = match output {
        Output::Front => Delivery::FrontPng,
        Output::Back => Delivery::BackPng,
        Output::Pdf => Delivery::Pdf,
    };
    let bytes = tokio::task::spawn_blocking(move || {
        card::assemble(g, &[content], true, delivery).map(|mut files| files.remove(0))
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?
    .map_err(|e| WebError::Invalid(format!("The card could not be drawn: {e}.")))?;
    let (mime, name) = match output {
        Output::Front => ("image/png", format!("card-{code}-front.png")),
        Output::Back => ("image/png", format!("card-{code}-back.png")),
        Output::Pdf => ("application/pdf", format!("card-{code}.pdf")),
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}

/// `front.png`, `back.png` or `card.pdf` of a card.
async fn card_file(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((id, file)): Path<(String, String)>,
    Query(q): Query<DownloadQuery>,
) -> WebResult<Response> {
    let output = match file.as_str() {
        "front.png" => Output::Front,
        "back.png" => Output::Back,
        "card.pdf" => Output::Pdf,
        _ => return Err(WebError::NotFound),
    };
    download(&state, &session, &id, &q, output).await
}

#[derive(Deserialize)]
struct PrintForm {
    csrf: String,
    #[serde(default)]
    printer: String,
}

/// Prints one card and opens its job page.
async fn print_card(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<PrintForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let card_id = parse_id(&id)?;
    let printer_id: i64 =
        form.printer.parse().map_err(|_| WebError::Invalid("Choose a printer.".into()))?;
    let (client_id, content, printer) =
        load_card(&state, &session.viewer, card_id, Some(printer_id), true).await?;
    let printer = printer.ok_or(WebError::NotFound)?;
    let user = session.viewer.user_id;
    let title = format!("Card {}", content.code);
    let jobs = print_queue::print(
        &state.db,
        printer,
        Some((user, session.viewer.display_name.clone())),
        title,
        vec![(card_id, content)],
    )
    .await?;
    let detail = format!("card {card_id}, print job {}", jobs[0]);
    state
        .db
        .transact(move |conn| {
            audit::record(conn, Actor::User(user), "print_card", Some(client_id), &detail, "")
        })
        .await??;
    Ok(Redirect::to(&format!("/print-jobs/{}", jobs[0])).into_response())
}

#[derive(Template)]
#[template(path = "print_job.html")]
struct JobPage<'a> {
    user: &'a str,
    csrf: &'a str,
    job: &'a JobLine,
    zone: chrono_tz::Tz,
}

impl JobPage<'_> {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        super::wall_clock(*at, self.zone)
    }
}

async fn job_page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let (job, zone) = state
        .db
        .read(move |conn| {
            let job = printers::get_job(conn, id)?;
            let zone = crate::store::orgs::time_zone(conn, job.organization_id)?;
            Ok::<_, crate::store::StoreError>((job, zone))
        })
        .await??;
    if !session.viewer.org_ids().contains(&job.organization_id) {
        return Err(WebError::NotFound);
    }
    let page =
        JobPage { user: &session.viewer.display_name, csrf: &session.csrf_token, job: &job, zone };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "print_jobs.html")]
struct JobsPage<'a> {
    user: &'a str,
    csrf: &'a str,
    jobs: &'a [JobLine],
    any_active: bool,
    zone: chrono_tz::Tz,
}

impl JobsPage<'_> {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        super::wall_clock(*at, self.zone)
    }
}

async fn jobs_page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> WebResult<Response> {
    let orgs = session.viewer.org_ids();
    let viewer = session.viewer.clone();
    let (jobs, zone) = state
        .db
        .read(move |conn| {
            let jobs = printers::recent_jobs(conn, &orgs, 100)?;
            Ok::<_, crate::store::StoreError>((jobs, super::viewer_zone(conn, &viewer)?))
        })
        .await??;
    let page = JobsPage {
        zone,
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        any_active: jobs.iter().any(JobLine::active),
        jobs: &jobs,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "cards_bulk.html")]
struct BulkPage<'a> {
    user: &'a str,
    csrf: &'a str,
    /// (program id, "program — organization")
    programs: &'a [(i64, String)],
    program: Option<i64>,
    only_missing: bool,
    lines: &'a [BulkLine],
    printers: &'a [Printer],
}

#[derive(Deserialize)]
struct BulkQuery {
    #[serde(default)]
    program: String,
    #[serde(default)]
    missing: String,
}

/// Programs the viewer may issue cards in, labelled with their organization.
fn writable_programs(
    conn: &rusqlite::Connection,
    viewer: &Viewer,
) -> Result<Vec<(i64, i64, String)>, StoreError> {
    let mut out = Vec::new();
    for org in viewer.writable_orgs() {
        let org_name = orgs::get(conn, org)?.name;
        for p in programs::list_for_org(conn, org)? {
            out.push((p.id, org, format!("{} — {org_name}", p.name)));
        }
    }
    Ok(out)
}

async fn bulk_page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<BulkQuery>,
) -> WebResult<Response> {
    let program: Option<i64> = q.program.parse().ok();
    // The form's first load lists only clients without a card.
    let only_missing = q.program.is_empty() || q.missing == "1";
    let viewer = session.viewer.clone();
    let now = state.clock.now();
    let (choices, lines, printers) = state
        .db
        .read(move |conn| {
            let choices = writable_programs(conn, &viewer)?;
            let Some(program) = program else {
                return Ok((choices, Vec::new(), Vec::new()));
            };
            let Some((_, org, _)) = choices.iter().find(|(id, _, _)| *id == program) else {
                return Err(StoreError::NotFound(format!("no program {program}")));
            };
            let today = orgs::today(conn, *org, now)?;
            let lines = printers::bulk_candidates(conn, program, today, only_missing)?;
            let list = printers::list_for_orgs(conn, &[*org])?;
            Ok::<_, StoreError>((choices, lines, list))
        })
        .await??;
    let programs: Vec<(i64, String)> = choices.into_iter().map(|(id, _, l)| (id, l)).collect();
    let page = BulkPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        programs: &programs,
        program,
        only_missing,
        lines: &lines,
        printers: &printers,
    };
    Ok(Html(page.render()?).into_response())
}

/// Issues a card to every chosen client who has none, then makes a sheet PDF of all their
/// current cards or prints them.
/// The bulk form as sent: one `client` field per ticked client.
#[derive(Deserialize)]
struct BulkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    program: String,
    #[serde(default)]
    client: Vec<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    printer: String,
    #[serde(default)]
    paper: String,
    #[serde(default)]
    backs: String,
}

/// What the bulk form asks for, checked.
struct BulkRequest {
    program: i64,
    clients: Vec<i64>,
    /// Print on this printer, or download a sheet.
    printer: Option<i64>,
    paper: Paper,
    with_backs: bool,
}

impl BulkForm {
    fn request(self) -> WebResult<BulkRequest> {
        let program: i64 =
            self.program.parse().map_err(|_| WebError::Invalid("Choose a program.".into()))?;
        let mut clients: Vec<i64> = self.client.iter().filter_map(|v| v.parse().ok()).collect();
        clients.sort_unstable();
        clients.dedup();
        if clients.is_empty() {
            return Err(WebError::Invalid("Tick at least one client.".into()));
        }
        if clients.len() > printers::BULK_MAX as usize {
            return Err(WebError::Invalid(format!(
                "At most {} cards at a time.",
                printers::BULK_MAX
            )));
        }
        let printer = match self.action.as_str() {
            "print" => Some(
                self.printer.parse().map_err(|_| WebError::Invalid("Choose a printer.".into()))?,
            ),
            "pdf" => None,
            _ => return Err(WebError::Invalid("Choose to print or to download a sheet.".into())),
        };
        Ok(BulkRequest {
            program,
            clients,
            printer,
            paper: Paper::parse(&self.paper).unwrap_or(Paper::Letter),
            with_backs: self.backs == "1",
        })
    }
}

/// Issues the cards a program's ticked clients are missing, with audit, and prints them or
/// downloads them as a sheet.
async fn bulk_submit(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    axum_extra::extract::Form(form): axum_extra::extract::Form<BulkForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let request = form.request()?;
    let (paper, with_backs) = (request.paper, request.with_backs);
    let viewer = session.viewer.clone();
    let now = state.clock.now();
    let (contents, printer) =
        state.db.transact(move |tx| issue_missing(tx, &viewer, &request, now)).await??;
    match printer {
        Some(printer) => {
            let n = contents.len();
            let user = (session.viewer.user_id, session.viewer.display_name.clone());
            print_queue::print(&state.db, printer, Some(user), format!("{n} cards"), contents)
                .await?;
            Ok(Redirect::to("/print-jobs").into_response())
        }
        None => sheet(contents, paper, with_backs).await,
    }
}

/// A card's id with what goes on it.
type Numbered = (i64, CardContent);

/// Issues what is missing in one transaction and reads every card's content, with the printer
/// asked for (which must be the program's organization's).
fn issue_missing(
    tx: &rusqlite::Connection,
    viewer: &Viewer,
    r: &BulkRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Vec<Numbered>, Option<Printer>), StoreError> {
    let choices = writable_programs(tx, viewer)?;
    let Some((_, org, _)) = choices.iter().find(|(id, _, _)| *id == r.program) else {
        return Err(StoreError::NotFound(format!("no program {}", r.program)));
    };
    let org = *org;
    let today = orgs::today(tx, org, now)?;
    let printer = match r.printer {
        Some(p) => {
            let p = printers::get(tx, p)?;
            if p.organization_id != org {
                return Err(StoreError::Invalid(
                    "That printer belongs to another organization.".into(),
                ));
            }
            Some(p)
        }
        None => None,
    };
    let mut contents = Vec::new();
    for client_id in &r.clients {
        let client = clients::get_visible(tx, &viewer.org_ids(), ClientId(*client_id))?;
        if client.organization_id != org {
            return Err(StoreError::Invalid(format!(
                "Client {} belongs to another organization.",
                client.client_number
            )));
        }
        let card = match printers::current_card(tx, *client_id, today)? {
            Some(card) => card,
            None => {
                let (card, _) = cards::issue_scanline(tx, *client_id, None)?;
                let subject = format!("card {card}, bulk");
                audit::record(
                    tx,
                    Actor::User(viewer.user_id),
                    "issue_card",
                    Some(*client_id),
                    &subject,
                    "",
                )?;
                card
            }
        };
        contents.push((card, printers::card_content(tx, card)?.1));
    }
    Ok((contents, printer))
}

/// A sheet of the cards as a PDF download.
async fn sheet(contents: Vec<Numbered>, paper: Paper, with_backs: bool) -> WebResult<Response> {
    let bytes = tokio::task::spawn_blocking(move || {
        let cards: Vec<_> = contents.into_iter().map(|(_, c)| c).collect();
        card::assemble(Geometry::DEFAULT, &cards, with_backs, Delivery::Sheet(paper))
            .map(|mut files| files.pop().unwrap_or_default())
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?
    .map_err(|e| WebError::Invalid(format!("The cards could not be drawn: {e}.")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"cards.pdf\""),
        ],
        bytes,
    )
        .into_response())
}

/// A printer with its organization's name, for the admin list.
struct PrinterLine {
    printer: Printer,
    organization: String,
    /// The printer's address without any user name or password in it.
    address: String,
}

/// What the printer said when checked.
struct CheckResult {
    printer: String,
    /// The printer's own description, or why it could not be asked.
    summary: String,
    problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_printers.html")]
struct PrintersPage<'a> {
    user: &'a str,
    csrf: &'a str,
    printers: &'a [PrinterLine],
    orgs: &'a [(i64, String)],
    check: Option<&'a CheckResult>,
    saved: Option<&'static str>,
}

async fn printers_view(
    state: &AppState,
    session: &Session,
    check: Option<&CheckResult>,
    saved: Option<&'static str>,
) -> WebResult<Response> {
    let admin = admin_orgs(&session.viewer)?;
    let (lines, org_names) = state
        .db
        .read(move |conn| {
            let mut names = Vec::new();
            for o in &admin {
                names.push((*o, orgs::get(conn, *o)?.name));
            }
            let lines = printers::list_for_orgs(conn, &admin)?
                .into_iter()
                .map(|p| {
                    let organization = names
                        .iter()
                        .find(|(id, _)| *id == p.organization_id)
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default();
                    let address = printing::shown_uri(&p.uri);
                    PrinterLine { printer: p, organization, address }
                })
                .collect::<Vec<_>>();
            Ok::<_, StoreError>((lines, names))
        })
        .await??;
    let page = PrintersPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        printers: &lines,
        orgs: &org_names,
        check,
        saved,
    };
    Ok(Html(page.render()?).into_response())
}

async fn printers_page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    axum::extract::Query(q): axum::extract::Query<super::SavedQuery>,
) -> WebResult<Response> {
    printers_view(&state, &session, None, super::saved_words(&q.saved)).await
}

#[derive(Deserialize)]
struct PrinterForm {
    csrf: String,
    organization_id: String,
    name: String,
    uri: String,
    kind: String,
    #[serde(default)]
    media: String,
    #[serde(default)]
    paper: String,
    dpi: String,
    #[serde(default)]
    bitmap_width: String,
    #[serde(default)]
    bitmap_height: String,
    #[serde(default)]
    duplex: String,
    document_format: String,
}

fn number(field: &str, value: &str) -> WebResult<u32> {
    value.trim().parse().map_err(|_| WebError::Invalid(format!("The {field} must be a number.")))
}

async fn add_printer(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<PrinterForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let org = admin_of(&session.viewer, &form.organization_id)?;
    let kind = PrinterKind::parse(&form.kind)
        .ok_or_else(|| WebError::Invalid("Choose a card printer or a sheet printer.".into()))?;
    let dpi = number("resolution", &form.dpi)?;
    let (w, h) = match kind {
        PrinterKind::Card => (
            number("bitmap width", &form.bitmap_width)?,
            number("bitmap height", &form.bitmap_height)?,
        ),
        PrinterKind::Sheet => card::cr80_at(dpi),
    };
    let input = PrinterInput {
        name: form.name,
        uri: form.uri,
        kind,
        media: form.media,
        paper: Paper::parse(&form.paper).unwrap_or(Paper::Letter),
        dpi,
        bitmap_width: w,
        bitmap_height: h,
        duplex: form.duplex == "1",
        document_format: form.document_format,
    };
    // The address is checked here, where IPP is known; the store keeps it as text.
    printing::check_uri(&input.uri).map_err(|e| WebError::Invalid(e.to_string()))?;
    audited(&state, session.viewer.user_id, "add_printer", move |tx| {
        let id = printers::insert(tx, org, &input)?;
        Ok(((), format!("printer {id}")))
    })
    .await?;
    Ok(Redirect::to("/admin/printers?saved=printer_added").into_response())
}

/// The admin's printer, by id.
async fn admin_printer(state: &AppState, session: &Session, id: &str) -> WebResult<Printer> {
    let id = parse_id(id)?;
    let admin = admin_orgs(&session.viewer)?;
    let printer = state.db.read(move |conn| printers::get(conn, id)).await??;
    if !admin.contains(&printer.organization_id) {
        return Err(WebError::NotFound);
    }
    Ok(printer)
}

/// Asks the printer what it can do and lists every setting it would refuse.
async fn check_printer(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let printer = admin_printer(&state, &session, &id).await?;
    let result = match printing::printer_report(&printer.uri).await {
        Ok(report) => {
            let settings = printing::JobSettings {
                uri: printer.uri.clone(),
                media: printer.job_media(),
                duplex: printer.duplex,
                dpi: printer.dpi,
                document_format: printer.document_format.clone(),
            };
            CheckResult {
                printer: printer.name.clone(),
                summary: format!(
                    "{} is {}.",
                    if report.make_and_model.is_empty() {
                        "The printer"
                    } else {
                        &report.make_and_model
                    },
                    report.state
                ),
                problems: report.problems(&settings),
            }
        }
        // No answer, or not an IPP one, is a problem like any other: it cannot print.
        Err(e) => CheckResult {
            printer: printer.name.clone(),
            summary: "The printer could not be asked what it supports.".into(),
            problems: vec![e.to_string()],
        },
    };
    printers_view(&state, &session, Some(&result), None).await
}

async fn disable_printer(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let printer = admin_printer(&state, &session, &id).await?;
    audited(&state, session.viewer.user_id, "disable_printer", move |tx| {
        printers::disable(tx, printer.id)?;
        Ok(((), format!("printer {}", printer.id)))
    })
    .await?;
    Ok(Redirect::to("/admin/printers?saved=printer_disabled").into_response())
}
