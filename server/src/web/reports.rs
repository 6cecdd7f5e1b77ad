//! Reports with CSV download: services by day, program and service type; unduplicated clients
//! served; bed-night occupancy by night against capacity, with a small chart; flagged entries
//! not posted. Every report covers the viewer's organizations only.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{Days, NaiveDate};
use serde::Deserialize;

use super::auth::SignedIn;
use super::{WebError, WebResult};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::audit::{self, Actor};
use crate::store::reports::{self, Table};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/reports", get(page))
}

const KINDS: [(&str, &str); 4] = [
    ("services", "Services by day, program and service"),
    ("unduplicated", "Unduplicated clients served"),
    ("occupancy", "Bed-night occupancy by night"),
    ("flagged", "Flagged entries not posted"),
];

/// Longest period a report covers at once.
const MAX_DAYS: i64 = 366;

#[derive(Deserialize, Default)]
struct ReportQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    format: String,
}

/// One bar of the occupancy chart, in SVG coordinates.
struct Bar {
    x: u32,
    y: u32,
    height: u32,
    label: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage<'a> {
    user: &'a str,
    csrf: &'a str,
    kinds: &'a [(&'static str, &'static str)],
    kind: &'a str,
    from: NaiveDate,
    to: NaiveDate,
    table: Option<&'a Table>,
    csv_link: String,
    chart: &'a [Bar],
    capacity_y: Option<u32>,
}

fn parse_date(s: &str, default: NaiveDate) -> WebResult<NaiveDate> {
    if s.trim().is_empty() {
        return Ok(default);
    }
    super::date_field("date", s)
}

/// Bars for beds used per night (first program in the table), scaled to a 200-unit-high chart.
fn chart(table: &Table) -> (Vec<Bar>, Option<u32>) {
    let Some(first) = table.rows.first().map(|r| r[1].clone()) else { return (Vec::new(), None) };
    let rows: Vec<&Vec<String>> = table.rows.iter().filter(|r| r[1] == first).collect();
    let capacity: Option<u32> = rows.first().and_then(|r| r[3].parse().ok());
    let most = rows
        .iter()
        .filter_map(|r| r[2].parse::<u32>().ok())
        .max()
        .unwrap_or(1)
        .max(capacity.unwrap_or(1))
        .max(1);
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let used: u32 = r[2].parse().unwrap_or(0);
            let height = used * 200 / most;
            Bar {
                x: 40 + i as u32 * 14,
                y: 210 - height,
                height,
                label: format!("{}: {used} beds", r[0]),
            }
        })
        .collect();
    (bars, capacity.map(|c| 210 - c * 200 / most))
}

async fn page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<ReportQuery>,
) -> WebResult<Response> {
    // The default period ends today in the viewer's organization's zone, as every date shown.
    let (viewer, now) = (session.viewer.clone(), state.clock.now());
    let today = state.db.read(move |conn| super::viewer_today(conn, &viewer, now)).await??;
    let to = parse_date(&q.to, today)?;
    let from = parse_date(&q.from, to.checked_sub_days(Days::new(30)).unwrap_or(to))?;
    if from > to || (to - from).num_days() > MAX_DAYS {
        return Err(WebError::Invalid(format!(
            "Choose a period of at most {MAX_DAYS} days, from before to."
        )));
    }
    let kind = KINDS.iter().find(|(k, _)| *k == q.kind).map(|(k, _)| *k);
    let table = match kind {
        None => None,
        Some(kind) => {
            let orgs = session.viewer.org_ids();
            let user = session.viewer.user_id;
            Some(
                state
                    .db
                    .transact(move |conn| {
                        let t = match kind {
                            "services" => reports::services_by_day(conn, &orgs, from, to)?,
                            "unduplicated" => reports::unduplicated(conn, &orgs, from, to)?,
                            "occupancy" => reports::occupancy(conn, &orgs, from, to)?,
                            _ => reports::flagged(conn, &orgs, from, to)?,
                        };
                        audit::record(
                            conn,
                            Actor::User(user),
                            "report",
                            None,
                            kind,
                            &format!("{from} to {to}"),
                        )?;
                        Ok::<_, StoreError>(t)
                    })
                    .await??,
            )
        }
    };
    if q.format == "csv" {
        let table = table.ok_or_else(|| WebError::Invalid("Choose a report.".into()))?;
        let name = format!("scanline-{}-{from}-{to}.csv", q.kind);
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            ],
            table.to_csv(),
        )
            .into_response());
    }
    let (bars, capacity_y) = match (kind, &table) {
        (Some("occupancy"), Some(t)) => chart(t),
        _ => (Vec::new(), None),
    };
    let page = ReportsPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        kinds: &KINDS,
        kind: kind.unwrap_or(""),
        from,
        to,
        table: table.as_ref(),
        csv_link: format!("/reports?kind={}&from={from}&to={to}&format=csv", kind.unwrap_or("")),
        chart: &bars,
        capacity_y,
    };
    Ok(Html(page.render()?).into_response())
}
