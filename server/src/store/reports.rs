//! Reports for staff (DESIGN §10): services by day, program and service type; unduplicated
//! clients served in a period; bed-night occupancy per night against capacity; flagged batch
//! entries not posted. Each is a table of text cells, so the page and the CSV download show
//! the same thing.

use chrono::NaiveDate;
use rusqlite::{Connection, named_params};

use super::StoreResult;

/// A report: column headings (in words) and rows of cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// For a report that names clients: the column holding the name, and per row the client
    /// the name belongs to, only when the viewer may open that client's dashboard.
    pub clients: Option<(usize, Vec<Option<i64>>)>,
}

impl Table {
    /// RFC 4180 CSV with a header row. Cells that a spreadsheet would run as a formula are
    /// prefixed with an apostrophe.
    pub fn to_csv(&self) -> String {
        fn cell(s: &str) -> String {
            let s =
                if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s
            }
        }
        let mut out = String::new();
        out.push_str(&self.columns.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
        for r in &self.rows {
            out.push_str(&r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// An integer cell, or empty for NULL.
fn int_or_empty(v: &rusqlite::types::Value) -> String {
    match v {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        _ => String::new(),
    }
}

fn orgs_json(orgs: &[i64]) -> String {
    serde_json::to_string(orgs).expect("ids serialise")
}

/// Services (not deleted) per day, program and service type.
pub fn services_by_day(
    conn: &Connection,
    orgs: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Table> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.date_provided, p.name, t.name, COUNT(*), COUNT(DISTINCT s.client_id), SUM(s.units)
         FROM services s JOIN programs p ON p.id = s.program_id JOIN service_types t ON t.id = s.service_type_id
         WHERE s.deleted_at IS NULL AND s.date_provided BETWEEN :from AND :to
           AND p.organization_id IN (SELECT value FROM json_each(:orgs))
         GROUP BY s.date_provided, p.id, t.id ORDER BY s.date_provided, p.name, t.name",
    )?;
    let mut rows: Vec<Vec<String>> = stmt
        .query_map(named_params! {":from": from, ":to": to, ":orgs": orgs_json(orgs)}, |r| {
            Ok(vec![
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?.to_string(),
                r.get::<_, i64>(4)?.to_string(),
                r.get::<_, f64>(5)?.to_string(),
            ])
        })?
        .collect::<Result<_, _>>()?;
    // Guests served without a record: a line of their own under each day's services, with
    // no client count (nobody can be told apart).
    for a in super::batches::anonymous_by_day(conn, orgs, &[], from, to)? {
        let date = a.date.to_string();
        let at = rows
            .iter()
            .rposition(|r| r[0] <= date && (r[0] < date || r[1] <= a.program))
            .map_or(0, |i| i + 1);
        rows.insert(
            at,
            vec![
                date,
                a.program,
                format!("{}: {WITHOUT_RECORD}", a.service),
                a.guests.to_string(),
                "no record".to_owned(),
                a.units.to_string(),
            ],
        );
    }
    Ok(Table {
        columns: vec!["Date", "Program", "Service", "Services given", "Clients", "Units"],
        rows,
        clients: None,
    })
}

/// How the reports name guests served without a card and without a record.
pub const WITHOUT_RECORD: &str = "guests without a card (no record)";

/// Unduplicated clients served in a period, per program and in all, and after them the guests
/// served without a record, per program: they cannot be unduplicated, so they are a line of
/// their own with the services they were given.
pub fn unduplicated(
    conn: &Connection,
    orgs: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Table> {
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(p.name, 'All programs'), COUNT(DISTINCT s.client_id), COUNT(*)
         FROM services s JOIN programs p ON p.id = s.program_id
         WHERE s.deleted_at IS NULL AND s.date_provided BETWEEN :from AND :to
           AND p.organization_id IN (SELECT value FROM json_each(:orgs))
         GROUP BY p.id
         UNION ALL
         SELECT 'All programs', COUNT(DISTINCT s.client_id), COUNT(*)
         FROM services s JOIN programs p ON p.id = s.program_id
         WHERE s.deleted_at IS NULL AND s.date_provided BETWEEN :from AND :to
           AND p.organization_id IN (SELECT value FROM json_each(:orgs))",
    )?;
    let mut rows: Vec<Vec<String>> = stmt
        .query_map(named_params! {":from": from, ":to": to, ":orgs": orgs_json(orgs)}, |r| {
            Ok(vec![
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?.to_string(),
                r.get::<_, i64>(2)?.to_string(),
            ])
        })?
        .collect::<Result<_, _>>()?;
    let mut by_program: Vec<(String, i64)> = Vec::new();
    for a in super::batches::anonymous_by_day(conn, orgs, &[], from, to)? {
        match by_program.iter_mut().find(|(p, _)| *p == a.program) {
            Some((_, n)) => *n += a.guests,
            None => by_program.push((a.program, a.guests)),
        }
    }
    for (program, services) in by_program {
        rows.push(vec![
            format!("{program}: {WITHOUT_RECORD}"),
            "not counted (no record)".to_owned(),
            services.to_string(),
        ]);
    }
    Ok(Table {
        columns: vec!["Program", "Unduplicated clients", "Services given"],
        rows,
        clients: None,
    })
}

/// Bed nights per night and night-by-night program, against capacity.
pub fn occupancy(
    conn: &Connection,
    orgs: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Table> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.date_provided, p.name, COUNT(DISTINCT s.client_id), COALESCE(p.capacity, '')
         FROM services s JOIN programs p ON p.id = s.program_id JOIN service_types t ON t.id = s.service_type_id
         WHERE s.deleted_at IS NULL AND t.record_type = 200 AND s.date_provided BETWEEN :from AND :to
           AND p.organization_id IN (SELECT value FROM json_each(:orgs))
         GROUP BY s.date_provided, p.id ORDER BY s.date_provided, p.name",
    )?;
    let rows = stmt
        .query_map(named_params! {":from": from, ":to": to, ":orgs": orgs_json(orgs)}, |r| {
            let cap = int_or_empty(&r.get(3)?);
            Ok(vec![
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?.to_string(),
                cap,
            ])
        })?
        .collect::<Result<_, _>>()?;
    Ok(Table { columns: vec!["Night", "Program", "Beds used", "Capacity"], rows, clients: None })
}

/// Batch entries flagged (not accepted) and neither posted nor deleted, with the verdict in the
/// words staff see. The client is named (and linked) only when the viewer may see them; a
/// restricted client of another organization shows as no client at all.
pub fn flagged(
    conn: &Connection,
    orgs: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Table> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.service_date, p.name, e.code, c.client_number, e.verdict, e.detail, c.id,
             c.last_name || ', ' || c.first_name
         FROM batch_entries e JOIN programs p ON p.id = e.program_id
           LEFT JOIN clients c ON c.id = e.client_id
             AND (c.restricted = 0 OR c.organization_id IN (SELECT value FROM json_each(:orgs)))
         WHERE e.verdict != 'accepted' AND e.posted_at IS NULL AND e.deleted_at IS NULL
           AND e.service_date BETWEEN :from AND :to
           AND p.organization_id IN (SELECT value FROM json_each(:orgs))
         ORDER BY e.service_date, p.name, e.id",
    )?;
    let mut links = Vec::new();
    let rows = stmt
        .query_map(named_params! {":from": from, ":to": to, ":orgs": orgs_json(orgs)}, |r| {
            let verdict: String = r.get(4)?;
            let words = scanline_core::Verdict::parse(&verdict)
                .map_or(verdict.clone(), |v| v.staff_label().to_owned());
            Ok((
                vec![
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    r.get::<_, String>(2)?,
                    int_or_empty(&r.get(3)?),
                    words,
                    r.get::<_, String>(5)?,
                ],
                r.get::<_, Option<i64>>(6)?,
            ))
        })?
        .map(|row| {
            row.map(|(cells, client)| {
                links.push(client);
                cells
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Table {
        columns: vec![
            "Date",
            "Program",
            "Client",
            "Code scanned",
            "Client number",
            "Verdict",
            "Detail",
        ],
        rows,
        clients: Some((2, links)),
    })
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let t = Table {
            clients: None,
            columns: vec!["a", "b"],
            rows: vec![
                vec!["x,y".into(), "say \"hi\"".into()],
                vec!["=SUM(A1)".into(), "-1".into()],
            ],
        };
        assert_eq!(t.to_csv(), "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n'=SUM(A1),'-1\r\n");
    }
}
