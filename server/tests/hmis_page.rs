//! The HMIS page before an export (DESIGN §12.6, §12.7): staff record a client's HMIS client
//! ID and an enrollment's HMIS enrollment ID on the dashboard, the HMIS page counts the
//! services waiting for each missing ID with links to fix them, and the night-by-night checks
//! HUD's tool makes are shown with counts and links, over a fixture with one case of each.

mod harness;

use axum::http::StatusCode;
use harness::Harness;
use harness::web::{get, post_form, signed_in_with_csrf};
use scanline_server::store::users::Role;

/// Adds a service of `service_type` for a client's enrollment in `program` on `date`.
fn serve(h: &Harness, client: i64, program: i64, service_type: i64, date: &str) {
    h.conn()
        .execute(
            "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id, date_provided, units, unit_value, created_at)
             VALUES ((SELECT id FROM enrollments WHERE client_id = ?1 AND program_id = ?2 ORDER BY id DESC LIMIT 1),
                     ?1, ?2, ?3, ?4, 1, 0, '2026-11-28 12:00:00.000+00:00')",
            rusqlite::params![client, program, service_type, date],
        )
        .unwrap();
}

fn enroll(h: &Harness, client: i64, program: i64, entry: &str, exit: Option<&str>) -> i64 {
    let conn = h.conn();
    conn.execute(
        "INSERT INTO enrollments (client_id, program_id, household_id, relationship_to_hoh, entry_date, exit_date, destination, created_at, updated_at)
         VALUES (?1, ?2, 'H' || ?1 || ?3, 1, ?3, ?4, CASE WHEN ?4 IS NULL THEN NULL ELSE 30 END, '2026-11-01', '2026-11-01')",
        rusqlite::params![client, program, entry, exit],
    )
    .unwrap();
    conn.last_insert_rowid()
}

/// The number in the "Found" cell of a check.
fn found(body: &str, title: &str) -> String {
    let at = body.find(&format!("<td>{title}<br>")).unwrap_or_else(|| panic!("{title}: {body}"));
    let cell = &body[at..];
    let cell = &cell[cell.find("</td><td>").unwrap() + 9..];
    let cell = &cell[..cell.find("</td>").unwrap()];
    cell.rsplit('>')
        .nth(usize::from(cell.contains("</a")))
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn staff_record_hmis_ids_and_the_hmis_page_counts_what_still_waits() {
    let h = Harness::new();
    let (admin, admin_csrf) = signed_in_with_csrf(&h, "admin", h.org_a, Role::Admin).await;
    let (staff, csrf) = signed_in_with_csrf(&h, "staff", h.org_a, Role::Staff).await;
    let (viewer, viewer_csrf) = signed_in_with_csrf(&h, "viewer", h.org_a, Role::Viewer).await;
    let ids: Vec<i64> = h.clients.iter().map(|(id, _)| *id).collect();
    for c in &ids[..3] {
        serve(&h, *c, h.meals, h.meal, "2026-11-27");
    }
    h.conn()
        .execute("UPDATE service_types SET hmis_service_code = '501' WHERE id = ?", [h.meal])
        .unwrap();

    let page = get(&h, "/admin/hmis", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Waiting for HMIS IDs: 3 services, 2026-10-30 to 2026-11-28"),
        "{}",
        page.body
    );
    for c in &ids[..3] {
        assert!(
            page.body.contains(&format!("href=\"/clients/{c}#h-hmis\"")),
            "a link to fix client {c}"
        );
    }
    assert!(page.body.contains("No HMIS client ID: 3 clients"));

    // The dashboard takes the HMIS client ID, and refuses what is not one.
    let first = ids[0];
    for (bad, status) in [
        ("SL12", StatusCode::UNPROCESSABLE_ENTITY),
        ("no spaces!", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = post_form(
            &h,
            &format!("/clients/{first}/hmis"),
            &staff,
            &format!("csrf={csrf}&hmis_id={}", bad.replace(' ', "+")),
        )
        .await;
        assert_eq!(r.status, status, "{bad}: {}", r.body);
    }
    let r = post_form(
        &h,
        &format!("/clients/{first}/hmis"),
        &viewer,
        &format!("csrf={viewer_csrf}&hmis_id=CT-88121"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a viewer changes nothing");
    let r = post_form(
        &h,
        &format!("/clients/{first}/hmis"),
        &staff,
        &format!("csrf={csrf}&hmis_id=+CT-88121+"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let dashboard = get(&h, &format!("/clients/{first}"), &staff).await;
    assert!(
        dashboard.body.contains("<strong id=\"hmis-client-id\">CT-88121</strong>"),
        "{}",
        dashboard.body
    );
    let taken = post_form(
        &h,
        &format!("/clients/{}/hmis", ids[1]),
        &staff,
        &format!("csrf={csrf}&hmis_id=CT-88121"),
    )
    .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", taken.body);
    assert!(taken.body.contains("another client already has HMIS client ID CT-88121"));
    assert_eq!(h.count("SELECT COUNT(*) FROM clients WHERE personal_id = 'CT-88121'"), 1);

    // With a client ID the enrollment's ID is what waits; then the service is ready.
    let page = get(&h, "/admin/hmis", &admin).await;
    assert!(page.body.contains("No HMIS client ID: 2 clients"), "{}", page.body);
    assert!(page.body.contains("No HMIS enrollment ID: 1 enrollments"), "{}", page.body);
    let enrollment: i64 = h.count(&format!("SELECT id FROM enrollments WHERE client_id = {first}"));
    let r = post_form(
        &h,
        &format!("/enrollments/{enrollment}/hmis"),
        &staff,
        &format!("csrf={csrf}&hmis_id=ENR-5501"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get(&h, "/admin/hmis", &admin).await;
    assert!(page.body.contains("Waiting for HMIS IDs: 2 services"), "{}", page.body);
    let ready = get(
        &h,
        "/admin/hmis/services?from=2026-11-01&to=2026-11-28&program=&format=clienttrack",
        &admin,
    )
    .await;
    assert!(ready.body.contains("1 services ready"), "{}", ready.body);
    let audit = h.count("SELECT COUNT(*) FROM audit_events WHERE action IN ('set_hmis_client_id', 'set_hmis_enrollment_id')");
    assert_eq!(audit, 2);

    // Another organization's staff cannot reach the client at all.
    let (other, other_csrf) = signed_in_with_csrf(&h, "south", h.org_b, Role::Staff).await;
    let r = post_form(
        &h,
        &format!("/clients/{}/hmis", ids[1]),
        &other,
        &format!("csrf={other_csrf}&hmis_id=X1"),
    )
    .await;
    assert!(matches!(r.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{}", r.status);
    assert_eq!(
        h.count(&format!(
            "SELECT COUNT(*) FROM clients WHERE id = {} AND personal_id IS NOT NULL",
            ids[1]
        )),
        0
    );
    let _ = admin_csrf;
}

#[tokio::test]
async fn the_hmis_page_shows_each_night_by_night_check_with_its_count_and_links() {
    let h = Harness::new();
    let (admin, _) = signed_in_with_csrf(&h, "admin", h.org_a, Role::Admin).await;
    let c: Vec<i64> = h.clients.iter().map(|(id, _)| *id).collect();
    let (shelter, bed) = (h.shelter, h.bed);
    // No bed night on the entry date.
    enroll(&h, c[0], shelter, "2026-11-01", None);
    serve(&h, c[0], shelter, bed, "2026-11-02");
    // A bed night on the exit date.
    enroll(&h, c[1], shelter, "2026-11-01", Some("2026-11-05"));
    serve(&h, c[1], shelter, bed, "2026-11-01");
    serve(&h, c[1], shelter, bed, "2026-11-05");
    // Two open stays in one shelter.
    enroll(&h, c[2], shelter, "2026-11-01", None);
    serve(&h, c[2], shelter, bed, "2026-11-01");
    enroll(&h, c[2], shelter, "2026-11-10", None);
    serve(&h, c[2], shelter, bed, "2026-11-10");
    // Open, with the last bed night in September.
    enroll(&h, c[3], shelter, "2026-09-01", None);
    serve(&h, c[3], shelter, bed, "2026-09-01");
    // A bed night before the entry date.
    enroll(&h, c[4], shelter, "2026-11-05", None);
    serve(&h, c[4], shelter, bed, "2026-11-05");
    h.conn()
        .execute(
            "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id, date_provided, units, unit_value, created_at)
             SELECT id, client_id, program_id, ?2, '2026-11-03', 1, 0, created_at FROM enrollments WHERE client_id = ?1 AND program_id = ?3",
            rusqlite::params![c[4], bed, shelter],
        )
        .unwrap();

    let page = get(&h, "/admin/hmis", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    for (title, client) in [
        ("No bed night on the entry date", c[0]),
        ("A bed night on the exit date", c[1]),
        ("Bed nights outside the enrollment", c[4]),
        ("Overlapping enrollments in one program", c[2]),
        ("Open with no bed night for 30 days", c[3]),
    ] {
        assert_eq!(found(body, title), "1", "{title}: {body}");
        let list = &body[body.find(&format!("{title}: 1</h3>")).unwrap()..];
        let list = &list[..list.find("</ul>").unwrap()];
        assert!(
            list.contains(&format!("href=\"/clients/{client}#h-enrollments\"")),
            "{title}: {list}"
        );
    }
    assert!(body.contains("a bed night on 2026-11-03 (stay 2026-11-05 to open)"), "{body}");

    // Fixed in the data, the check finds nothing.
    h.conn().execute("UPDATE services SET deleted_at = '2026-11-28 12:00:00.000+00:00', deleted_reason = 'entered twice' WHERE date_provided = '2026-11-03'", []).unwrap();
    let page = get(&h, "/admin/hmis?from=2026-11-01&to=2026-11-28&program=", &admin).await;
    assert_eq!(found(&page.body, "Bed nights outside the enrollment"), "0", "{}", page.body);
    // A period asked for is checked as asked, and a bad one is refused with a plain message.
    let bad = get(&h, "/admin/hmis?from=2026-11-28&to=2026-11-01", &admin).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
}
