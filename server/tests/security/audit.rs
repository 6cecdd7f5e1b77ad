//! The audit trail. An admin once read another organization's staff activity on a client
//! both may see. Now an admin sees what their own organizations' people and stations did, and
//! what anyone did to their own organizations' clients; nothing else.

use crate::harness::Harness;
use crate::harness::web::get;
use crate::signed_in;
use scanline_server::store::{clients, users::Role};

#[tokio::test]
async fn an_admin_reads_only_their_own_organizations_activity() {
    let h = Harness::new();
    // A client of organization B, shared with everyone.
    let (shared, _) = clients::insert(
        &h.conn(),
        &clients::NewClient {
            organization_id: h.org_b,
            first_name: "Sol".into(),
            last_name: "Shared".into(),
            ..clients::NewClient::default()
        },
    )
    .unwrap();
    let north_admin = signed_in(&h, "north-admin", h.org_a, Role::Admin).await;
    let north_staff = signed_in(&h, "north-staff", h.org_a, Role::Staff).await;
    let south_admin = signed_in(&h, "south-admin", h.org_b, Role::Admin).await;
    let south_staff = signed_in(&h, "south-staff", h.org_b, Role::Staff).await;
    // Staff of both look at the shared client, and at one of North's.
    for cookie in [&north_staff, &south_staff] {
        assert_eq!(get(&h, &format!("/clients/{shared}"), cookie).await.status, 200);
    }
    assert_eq!(get(&h, &format!("/clients/{}", h.clients[0].0), &south_staff).await.status, 200);

    let north = get(&h, &format!("/admin/audit?client={shared}"), &north_admin).await.body;
    assert!(north.contains("north-staff"), "North sees its own staff: {north}");
    assert!(
        !north.contains("south-staff"),
        "North does not see South's staff on South's client: {north}"
    );
    // South's admin sees everyone who touched South's own client.
    let south = get(&h, &format!("/admin/audit?client={shared}"), &south_admin).await.body;
    assert!(south.contains("north-staff") && south.contains("south-staff"), "{south}");
    // And North's admin sees South's staff only where they touched North's client.
    let mine = get(&h, &format!("/admin/audit?client={}", h.clients[0].0), &north_admin).await.body;
    assert!(mine.contains("south-staff"), "{mine}");
}
