//! Reports with CSV download: services by day, program and service type; unduplicated clients
//! served; bed-night occupancy by night against capacity, with a chart per program drawn here
//! as SVG; flagged entries not posted, naming (and linking) the clients the viewer may see.
//! Every report covers the viewer's organizations only, and the default period ends today in
//! the viewer's organization's time zone. The page and the CSV show the same table.

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

/// One bar of an occupancy chart, in the chart's own units (`chart::WIDTH` by
/// `chart::HEIGHT`).
struct Bar {
    x: String,
    y: String,
    width: String,
    height: String,
    /// "2026-11-20: 2 of 3 beds", shown as the bar's tooltip.
    label: String,
}

/// A label along an axis, at a position in chart units.
struct Tick {
    at: String,
    text: String,
    /// How the text hangs from `at` (`start`, `middle` or `end`), so labels at the edges stay
    /// inside the chart; for the capacity label, how far below (positive) or above it sits.
    anchor: &'static str,
    dy: &'static str,
}

/// The occupancy chart of one program: a bar per night of the period (nights with nobody
/// included), the capacity as a dashed line, and its summary in words.
struct Chart {
    id: usize,
    summary: String,
    bars: Vec<Bar>,
    /// Where the capacity line runs, and its label.
    capacity: Option<Tick>,
    /// Beds along the left, nights along the bottom.
    y_ticks: Vec<Tick>,
    x_ticks: Vec<Tick>,
    /// The plot's left and right edges and its baseline, where the axes run.
    left: String,
    right: String,
    base: String,
    /// Where the night labels sit, and the beds' labels end.
    label_y: String,
    label_x: String,
}

/// A cell of the table as the page shows it: words, and a link when the cell names a client
/// the viewer may open.
struct Cell<'a> {
    text: &'a str,
    href: Option<String>,
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
    /// The chosen report's title.
    title: &'a str,
    table: Option<&'a Table>,
    rows: Vec<Vec<Cell<'a>>>,
    csv_link: String,
    charts: &'a [Chart],
    /// The charts' coordinate space.
    width: f64,
    height: f64,
}

fn parse_date(s: &str, default: NaiveDate) -> WebResult<NaiveDate> {
    if s.trim().is_empty() {
        return Ok(default);
    }
    super::date_field("date", s)
}

/// The occupancy charts, one per program in the table, in the order the table first names
/// them. Drawn on the server as SVG (no script, so the page keeps its strict policy).
fn charts(table: &Table, from: NaiveDate, to: NaiveDate) -> Vec<Chart> {
    let mut programs: Vec<&str> = Vec::new();
    for r in &table.rows {
        if !programs.contains(&r[1].as_str()) {
            programs.push(&r[1]);
        }
    }
    programs
        .iter()
        .enumerate()
        .map(|(id, program)| {
            let mut used = std::collections::BTreeMap::new();
            let mut capacity = None;
            for r in table.rows.iter().filter(|r| r[1] == *program) {
                if let Ok(night) = r[0].parse::<NaiveDate>() {
                    used.insert(night, r[2].parse::<u32>().unwrap_or(0));
                }
                capacity = capacity.or_else(|| r[3].parse::<u32>().ok());
            }
            chart::draw(id, program, &used, capacity, from, to)
        })
        .collect()
}

/// The table's cells, with a link to the dashboard of each client the report names.
fn cells(table: &Table) -> Vec<Vec<Cell<'_>>> {
    table
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(col, text)| {
                    let client = match &table.clients {
                        Some((c, ids)) if *c == col && !text.is_empty() => {
                            ids.get(i).copied().flatten()
                        }
                        _ => None,
                    };
                    Cell { text, href: client.map(|id| format!("/clients/{id}")) }
                })
                .collect()
        })
        .collect()
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
    let charts = match (kind, &table) {
        (Some("occupancy"), Some(t)) => charts(t, from, to),
        _ => Vec::new(),
    };
    let rows = table.as_ref().map(cells).unwrap_or_default();
    let page = ReportsPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        kinds: &KINDS,
        kind: kind.unwrap_or(""),
        from,
        to,
        title: KINDS.iter().find(|(k, _)| Some(*k) == kind).map_or("", |(_, title)| *title),
        table: table.as_ref(),
        rows,
        csv_link: format!("/reports?kind={}&from={from}&to={to}&format=csv", kind.unwrap_or("")),
        charts: &charts,
        width: chart::WIDTH,
        height: chart::HEIGHT,
    };
    Ok(Html(page.render()?).into_response())
}

mod chart {
    //! The geometry of an occupancy chart, in a fixed coordinate space the page scales to its
    //! width (the SVG's viewBox), so it fits a phone as well as a desk screen.

    use std::collections::BTreeMap;

    use chrono::NaiveDate;

    use super::{Bar, Chart, Tick};

    pub(super) const WIDTH: f64 = 480.0;
    pub(super) const HEIGHT: f64 = 240.0;
    const LEFT: f64 = 36.0;
    const RIGHT: f64 = 8.0;
    const TOP: f64 = 12.0;
    const BOTTOM: f64 = 28.0;

    fn n(v: f64) -> String {
        format!("{v:.1}")
    }

    /// `used` holds the beds used per night (nights missing had nobody).
    pub(super) fn draw(
        id: usize,
        program: &str,
        used: &BTreeMap<NaiveDate, u32>,
        capacity: Option<u32>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Chart {
        let nights: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
        let count = nights.len().max(1) as f64;
        let most = used.values().copied().max().unwrap_or(0);
        let top = most.max(capacity.unwrap_or(0)).max(1);
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let base = TOP + plot_h;
        let slot = plot_w / count;
        let y_of = |beds: u32| base - f64::from(beds) * plot_h / f64::from(top);
        let bars = nights
            .iter()
            .enumerate()
            .map(|(i, night)| {
                let beds = used.get(night).copied().unwrap_or(0);
                let y = y_of(beds);
                let of = capacity.map(|c| format!(" of {c}")).unwrap_or_default();
                Bar {
                    x: n(LEFT + i as f64 * slot + slot * 0.15),
                    y: n(y),
                    width: n((slot * 0.7).max(0.5)),
                    height: n(base - y),
                    label: format!("{night}: {beds}{of} beds"),
                }
            })
            .collect();
        // Nights along the bottom: the first, the last, and a few between, never crowded.
        let every = nights.len().div_ceil(5).max(1);
        let mut x_ticks: Vec<(f64, String)> = nights
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0 || *i + 1 == nights.len())
            .map(|(i, night)| (LEFT + (i as f64 + 0.5) * slot, night.format("%b %-d").to_string()))
            .collect();
        // The last night's label would run into the one before it when they are close.
        if let [.., (before, _), (last, _)] = x_ticks.as_slice()
            && last - before < 60.0
        {
            x_ticks.remove(x_ticks.len() - 2);
        }
        let last = x_ticks.len().saturating_sub(1);
        let x_ticks = x_ticks
            .into_iter()
            .enumerate()
            .map(|(i, (at, text))| {
                // The first and last labels hang inwards from their bar's middle.
                let (at, anchor) = match i {
                    0 if last > 0 => (at - slot / 2.0, "start"),
                    i if i == last && last > 0 => (at + slot / 2.0, "end"),
                    _ => (at, "middle"),
                };
                Tick { at: n(at), text, anchor, dy: "0" }
            })
            .collect();
        let y_ticks = [0, top]
            .iter()
            .map(|b| Tick { at: n(y_of(*b)), text: b.to_string(), anchor: "end", dy: "0.35em" })
            .collect();
        let nights_with = used.values().filter(|b| **b > 0).count();
        let busiest = used.iter().max_by_key(|(night, beds)| (**beds, std::cmp::Reverse(**night)));
        let mut summary = format!(
            "{program}: beds used on {nights_with} of {} nights from {from} to {to}",
            nights.len()
        );
        if let Some((night, beds)) = busiest {
            summary.push_str(&format!(", most {beds} on {night}"));
        }
        match capacity {
            Some(c) => summary.push_str(&format!("; capacity {c} beds.")),
            None => summary.push_str("; no capacity set."),
        }
        Chart {
            id,
            summary,
            bars,
            // The capacity label sits above its line, or below it when the line runs along
            // the top of the chart.
            capacity: capacity.map(|c| Tick {
                at: n(y_of(c)),
                text: format!("capacity {c}"),
                anchor: "end",
                dy: if y_of(c) < TOP + 16.0 { "1.1em" } else { "-0.4em" },
            }),
            y_ticks,
            x_ticks,
            left: n(LEFT),
            right: n(WIDTH - RIGHT),
            base: n(base),
            label_y: n(HEIGHT - 10.0),
            label_x: n(LEFT - 6.0),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn d(s: &str) -> NaiveDate {
            s.parse().unwrap()
        }

        #[test]
        fn every_night_gets_a_bar_scaled_to_the_capacity() {
            let used = BTreeMap::from([(d("2026-11-02"), 3), (d("2026-11-04"), 1)]);
            let c = draw(0, "Shelter", &used, Some(3), d("2026-11-01"), d("2026-11-05"));
            assert_eq!(c.bars.len(), 5, "a bar for each night, empty ones too");
            assert_eq!(c.bars[0].height, "0.0");
            assert_eq!(c.bars[1].label, "2026-11-02: 3 of 3 beds");
            // Full means as high as the capacity line.
            assert_eq!(c.bars[1].y, c.capacity.as_ref().unwrap().at);
            let h = |i: usize| c.bars[i].height.parse::<f64>().unwrap();
            assert!((h(1) - 3.0 * h(3)).abs() < 0.2, "{} vs {}", h(1), h(3));
            assert_eq!(
                c.summary,
                "Shelter: beds used on 2 of 5 nights from 2026-11-01 to 2026-11-05, most 3 on \
                 2026-11-02; capacity 3 beds."
            );
            let right = c
                .bars
                .iter()
                .map(|b| b.x.parse::<f64>().unwrap() + b.width.parse::<f64>().unwrap());
            assert!(right.fold(0.0, f64::max) <= WIDTH, "the bars stay inside the chart");
        }

        #[test]
        fn a_long_period_labels_a_few_nights_only() {
            let used = BTreeMap::from([(d("2026-01-10"), 4)]);
            let c = draw(0, "Shelter", &used, None, d("2026-01-01"), d("2026-12-31"));
            assert_eq!(c.bars.len(), 365);
            assert!((2..=6).contains(&c.x_ticks.len()), "{}", c.x_ticks.len());
            assert_eq!(c.x_ticks.first().unwrap().text, "Jan 1");
            assert_eq!(c.x_ticks.last().unwrap().text, "Dec 31");
            assert!(c.capacity.is_none() && c.summary.ends_with("no capacity set."));
        }
    }
}
