//! The admins' HMIS page (DESIGN §12): upload an HMIS CSV export (zip) and read the import
//! report; download the FY2026 HUD CSV export of services; download non-HUD services in
//! ClientTrack's batch upload layout or as plain CSV, with the services left out and why; and
//! edit the service-code mapping and each organization's HMIS settings.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use serde::Deserialize;

use super::admin::{admin_of, admin_orgs};
use super::auth::{SignedIn, check_csrf};
use super::{WebError, WebResult, audited};
use crate::hmis::export::{ExportOptions, export};
use crate::hmis::services::{self, Layout};
use crate::hmis::{self, Files, Report};
use crate::state::AppState;
use crate::store::ProgramId;
use crate::store::audit::{self, Actor};
use crate::store::hmis::ImportOptions;
use crate::store::hmis::checks::{self, Check, MissingIds};
use crate::store::hmis::settings::{self, MappingRow, OrgSettings};
use crate::store::sessions::Session;
use crate::store::{StoreError, orgs, programs};

/// Largest export upload accepted (a zip; what it inflates to is capped by
/// `hmis::MAX_TOTAL_BYTES`).
const MAX_UPLOAD: usize = 64 * 1024 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/hmis", get(page))
        .route(
            "/admin/hmis/import",
            post(import).layer(DefaultBodyLimit::max(MAX_UPLOAD + 64 * 1024)),
        )
        .route("/admin/hmis/export.zip", get(download_export))
        .route("/admin/hmis/services", get(services_page))
        .route("/admin/hmis/services.csv", get(download_services))
        .route("/admin/hmis/mapping", post(save_mapping))
        .route("/admin/hmis/organization", post(save_org))
}

#[derive(Template)]
#[template(path = "admin_hmis.html")]
struct HmisPage<'a> {
    user: &'a str,
    csrf: &'a str,
    programs: &'a [(i64, String)],
    mapping: &'a [MappingRow],
    orgs: &'a [OrgSettings],
    report: Option<&'a Report>,
    time_zone: &'a str,
    /// The period and program the checks below cover, and the export form's defaults.
    from: NaiveDate,
    to: NaiveDate,
    program: Option<i64>,
    checks: &'a [Check],
    missing: &'a MissingIds,
    shown: usize,
    long_gap_days: i64,
    saved: Option<&'static str>,
}

impl HmisPage<'_> {
    /// Whether a program is the one the page is about.
    fn selected(&self, id: i64) -> bool {
        self.program == Some(id)
    }

    /// The first of a list the page shows.
    fn first<'b, T>(&self, list: &'b [T]) -> &'b [T] {
        &list[..list.len().min(self.shown)]
    }
}

/// The period the page checks: the one asked for, or the last 30 days.
#[derive(Deserialize, Default)]
struct PeriodQuery {
    #[serde(default)]
    saved: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    program: String,
}

/// What the page shows besides the report.
struct Contents {
    programs: Vec<(i64, String)>,
    mapping: Vec<MappingRow>,
    settings: Vec<OrgSettings>,
    time_zone: String,
    today: NaiveDate,
}

async fn view(
    state: &AppState,
    session: &Session,
    report: Option<&Report>,
    q: &PeriodQuery,
) -> WebResult<Response> {
    let admin = admin_orgs(&session.viewer)?;
    let program = match q.program.trim() {
        "" => None,
        p => Some(p.parse::<i64>().map_err(|_| WebError::Invalid("No such program.".into()))?),
    };
    if let Some(p) = program {
        check_programs(state, &admin, &[p]).await?;
    }
    let asked = (q.from.trim(), q.to.trim());
    let now = state.clock.now();
    let c = state
        .db
        .read(move |conn| {
            let mut list = Vec::new();
            for org in &admin {
                let name = orgs::get(conn, *org)?.name;
                for p in programs::list_for_org(conn, *org)? {
                    list.push((p.id, format!("{} — {name}", p.name)));
                }
            }
            let time_zone = orgs::get(conn, admin[0])?.time_zone;
            let today = orgs::today(conn, admin[0], now)?;
            Ok::<_, StoreError>(Contents {
                programs: list,
                mapping: settings::mapping_rows(conn, &admin)?,
                settings: settings::org_settings(conn, &admin)?,
                time_zone,
                today,
            })
        })
        .await??;
    let (from, to) = match asked {
        ("", "") => (c.today - chrono::Days::new(29), c.today),
        (from, to) => {
            let (from, to) =
                (super::date_field("first day", from)?, super::date_field("last day", to)?);
            scanline_core::bounds::period("period", from, to)
                .map_err(|e| WebError::Invalid(format!("Nothing was checked: {e}.")))?;
            (from, to)
        }
    };
    let chosen: Vec<i64> = match program {
        Some(p) => vec![p],
        None => c.programs.iter().map(|(id, _)| *id).collect(),
    };
    let (admin, today) = (admin_orgs(&session.viewer)?, c.today);
    let (checks, missing) = state
        .db
        .snapshot(move |conn| {
            Ok::<_, StoreError>((
                checks::bed_night_checks(conn, &admin, &chosen, (from, to), today)?,
                checks::missing_ids(conn, &admin, &chosen, (from, to))?,
            ))
        })
        .await??;
    let page = HmisPage {
        saved: super::saved_words(&q.saved),
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        programs: &c.programs,
        mapping: &c.mapping,
        orgs: &c.settings,
        report,
        time_zone: &c.time_zone,
        from,
        to,
        program,
        checks: &checks,
        missing: &missing,
        shown: checks::SHOWN,
        long_gap_days: checks::LONG_GAP_DAYS,
    };
    Ok(Html(page.render()?).into_response())
}

async fn page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<PeriodQuery>,
) -> WebResult<Response> {
    view(&state, &session, None, &q).await
}

/// Imports an uploaded export (a zip archive). The report says what happened either way.
async fn import(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    mut form: Multipart,
) -> WebResult<Response> {
    let admin = admin_orgs(&session.viewer)?;
    let (mut csrf, mut tz, mut file) = (String::new(), String::new(), None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| WebError::Invalid(format!("The upload could not be read: {e}.")))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("time_zone") => tz = field.text().await.unwrap_or_default(),
            Some("file") => {
                file = Some(field.bytes().await.map_err(|e| {
                    WebError::Invalid(format!("The upload could not be read: {e}."))
                })?);
            }
            _ => {}
        }
    }
    check_csrf(&session, &csrf)?;
    let bytes = file.filter(|b| !b.is_empty()).ok_or_else(|| {
        WebError::Invalid("Choose the HMIS export (a .zip file) to upload.".into())
    })?;
    let zone = crate::store::orgs::parse_time_zone(&tz).map_err(WebError::from)?;
    let today = state.clock.today_in(zone);
    let files = tokio::task::spawn_blocking(move || Files::from_zip(&bytes))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::Invalid(format!("Nothing was imported: {e}.")))?;
    let user = session.viewer.user_id;
    // The import acts only inside the organizations this admin administers.
    let opts = ImportOptions { time_zone: tz, scope: Some(admin) };
    // Worked out on a copy of the database; the writer is held only while it lands.
    let read = hmis::staged::reading(files, today);
    let report = hmis::staged::import(&state.db, read, opts).await?.report;
    // The attempt is recorded whether it was applied or refused (and rolled back).
    let detail = format!(
        "applied {}, {} errors, {} warnings",
        report.applied,
        report.errors.len(),
        report.warnings.len()
    );
    state
        .db
        .transact(move |tx| audit::record(tx, Actor::User(user), "hmis_import", None, &detail, ""))
        .await??;
    view(&state, &session, Some(&report), &PeriodQuery::default()).await
}

#[derive(Deserialize)]
struct RangeQuery {
    from: String,
    to: String,
    #[serde(default)]
    program: String,
    #[serde(default)]
    hashed: String,
    #[serde(default)]
    format: String,
}

fn range(q: &RangeQuery) -> WebResult<(NaiveDate, NaiveDate, Vec<i64>)> {
    let (from, to) =
        (super::date_field("first date", &q.from)?, super::date_field("last date", &q.to)?);
    scanline_core::bounds::period("period", from, to)
        .map_err(|e| WebError::Invalid(format!("Nothing was exported: {e}.")))?;
    let programs = match q.program.trim() {
        "" => Vec::new(),
        p => vec![p.parse().map_err(|_| WebError::Invalid("No such program.".into()))?],
    };
    Ok((from, to, programs))
}

/// Checks that every program asked for belongs to an organization the viewer administers.
async fn check_programs(state: &AppState, admin: &[i64], programs: &[i64]) -> WebResult<()> {
    let (admin, programs) = (admin.to_vec(), programs.to_vec());
    let ok = state
        .db
        .read(move |conn| {
            for p in &programs {
                let org = programs::get_rules(conn, ProgramId(*p))?.organization_id;
                if !admin.contains(&org) {
                    return Ok(false);
                }
            }
            Ok::<_, StoreError>(true)
        })
        .await??;
    if ok { Ok(()) } else { Err(WebError::NotFound) }
}

async fn download_export(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<RangeQuery>,
) -> WebResult<Response> {
    let admin = admin_orgs(&session.viewer)?;
    let (from, to, programs) = range(&q)?;
    check_programs(&state, &admin, &programs).await?;
    let opts = ExportOptions {
        start: from,
        end: to,
        programs,
        organizations: admin,
        hashed: q.hashed == "1",
        time_zone: None,
    };
    let user = session.viewer.user_id;
    let (zip, name) = state
        .db
        .snapshot(move |conn| {
            let exported = export(conn, &opts, crate::store::now())?;
            let zip = exported.zip().map_err(|e| StoreError::Invalid(e.to_string()))?;
            Ok::<_, StoreError>((zip, format!("hmis-csv-{}.zip", exported.export_id)))
        })
        .await??;
    state
        .db
        .transact(move |conn| {
            audit::record(
                conn,
                Actor::User(user),
                "hmis_export",
                None,
                &format!("{from} to {to}"),
                "",
            )
        })
        .await??;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        zip,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "hmis_services.html")]
struct ServicesPage<'a> {
    user: &'a str,
    csrf: &'a str,
    rows: u64,
    skipped: &'a [(i64, u32, NaiveDate, String)],
    download: &'a str,
}

async fn services_file(
    state: &AppState,
    session: &Session,
    q: &RangeQuery,
) -> WebResult<services::ServicesFile> {
    let admin = admin_orgs(&session.viewer)?;
    let (from, to, programs) = range(q)?;
    check_programs(state, &admin, &programs).await?;
    let layout = Layout::parse(&q.format)
        .ok_or_else(|| WebError::Invalid("Choose ClientTrack or plain CSV.".into()))?;
    Ok(state
        .db
        .read(move |conn| services::export(conn, layout, &admin, &programs, from, to))
        .await??)
}

/// What a services export will hold and what it leaves out, with the download link.
async fn services_page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<RangeQuery>,
) -> WebResult<Response> {
    let file = services_file(&state, &session, &q).await?;
    let download = format!(
        "/admin/hmis/services.csv?from={}&to={}&program={}&format={}",
        q.from.trim(),
        q.to.trim(),
        q.program.trim(),
        q.format
    );
    let page = ServicesPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        rows: file.rows,
        skipped: &file.skipped,
        download: &download,
    };
    Ok(Html(page.render()?).into_response())
}

async fn download_services(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<RangeQuery>,
) -> WebResult<Response> {
    let file = services_file(&state, &session, &q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"services-{}-{}.csv\"", q.from.trim(), q.to.trim()),
            ),
        ],
        file.csv,
    )
        .into_response())
}

/// Saves the whole mapping table: `code_<id>` and `unit_<id>` for each service type.
async fn save_mapping(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let get =
        |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    check_csrf(&session, &get("csrf"))?;
    let admin = admin_orgs(&session.viewer)?;
    let mut changes = Vec::new();
    for (name, value) in &fields {
        if let Some(id) = name.strip_prefix("code_").and_then(|i| i.parse::<i64>().ok()) {
            let unit = get(&format!("unit_{id}"));
            changes.push((id, value.clone(), if unit.is_empty() { "C".to_owned() } else { unit }));
        }
    }
    audited(&state, session.viewer.user_id, "hmis_mapping", move |tx| {
        for (id, code, unit) in &changes {
            if !admin.contains(&settings::service_type_org(tx, *id)?) {
                return Err(StoreError::NotFound(format!("no service type {id}")));
            }
            settings::map_service_type(tx, *id, code, unit)?;
        }
        Ok(((), format!("{} service types", changes.len())))
    })
    .await?;
    Ok(Redirect::to("/admin/hmis?saved=hmis_codes").into_response())
}

#[derive(Deserialize)]
struct OrgForm {
    csrf: String,
    organization_id: String,
    #[serde(default)]
    hmis_organization_id: String,
    #[serde(default)]
    hmis_user_id: String,
    #[serde(default)]
    restrict_org: String,
}

async fn save_org(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<OrgForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let org = admin_of(&session.viewer, &form.organization_id)?;
    audited(&state, session.viewer.user_id, "hmis_settings", move |tx| {
        settings::set_org_settings(
            tx,
            org,
            &form.hmis_organization_id,
            &form.hmis_user_id,
            &form.restrict_org,
        )?;
        Ok(((), format!("organization {org}")))
    })
    .await?;
    Ok(Redirect::to("/admin/hmis?saved=hmis_organization").into_response())
}
