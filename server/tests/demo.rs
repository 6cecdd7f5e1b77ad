//! The demo agency has what the README and the demo promise: its clients, cards, enrollments,
//! bars, bed nights on distinct beds, a station, and clients both in the HMIS and waiting for an
//! ID.

use scanline_server::db;
use scanline_server::demo::populate;

#[test]
fn demo_has_what_it_promises() {
    let mut conn = db::open_in_memory().unwrap();
    let demo = populate(&mut conn, 500, 7).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM clients"), 500);
    assert!(count("SELECT COUNT(*) FROM cards WHERE replaced_by IS NULL") == 500);
    assert!(count("SELECT COUNT(*) FROM enrollments") > 400);
    assert!(count("SELECT COUNT(*) FROM bars") >= 3);
    // Every shelter guest slept there the night they came.
    assert_eq!(
        count(&format!(
            "SELECT COUNT(*) FROM enrollments e WHERE program_id = {} AND NOT EXISTS
             (SELECT 1 FROM services s WHERE s.enrollment_id = e.id
              AND s.date_provided = e.entry_date)",
            demo.shelter_program
        )),
        0
    );
    assert!(count("SELECT COUNT(*) FROM services") >= 40);
    // Every bed night has a bed, and no bed is given twice a night.
    assert_eq!(count("SELECT COUNT(*) FROM services WHERE bed_id IS NULL"), 0);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM (SELECT 1 FROM services
             GROUP BY bed_id, date_provided HAVING COUNT(*) > 1)"
        ),
        0
    );
    let shelter = [demo.shelter_program];
    assert_eq!(scanline_server::store::beds::of_programs(&conn, &shelter).unwrap().len(), 20);
    let holds =
        scanline_server::store::beds::holds(&conn, &shelter, chrono::NaiveDate::MIN).unwrap();
    assert_eq!(holds.len(), 2);
    assert_eq!(count("SELECT COUNT(*) FROM stations"), 1);
    assert!(demo.token.starts_with("sls_"));
    assert!(demo.sample_cards.iter().any(|c| c.1 == "replaced_card"));
    // Most are in the HMIS already; some wait for an ID on the HMIS page.
    let with_id = count("SELECT COUNT(*) FROM clients WHERE personal_id IS NOT NULL");
    assert!((450..500).contains(&with_id), "{with_id} clients with an HMIS ID");
    let enrolled_with_id =
        count("SELECT COUNT(*) FROM enrollments WHERE hmis_enrollment_id IS NOT NULL");
    assert!(enrolled_with_id > 350, "{enrolled_with_id} enrollments with an HMIS ID");
}
