//! Cards: Scanline cards (issued with a sequence number, each reprint replacing the last) and
//! legacy, magnetic-stripe and prox codes registered against a client.

use chrono::NaiveDate;
use rusqlite::{Connection, named_params};
use scanline_core::ScanlineCode;
use scanline_core::card_code::{self, ScanCode};
use scanline_core::domain::CardStatus;

use super::{OptionalExt, StoreError, StoreResult, is_unique_violation, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    Scanline,
    Legacy,
    Magstripe,
    Prox,
}

impl CardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scanline => "scanline",
            Self::Legacy => "legacy",
            Self::Magstripe => "magstripe",
            Self::Prox => "prox",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Scanline, Self::Legacy, Self::Magstripe, Self::Prox]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Issues a new Scanline card: the next sequence number for the client; every earlier active
/// Scanline card of the client is marked replaced by it, in the same transaction.
pub fn issue_scanline(
    conn: &Connection,
    client_id: i64,
    expires_on: Option<NaiveDate>,
) -> StoreResult<(i64, String)> {
    if let Some(expires) = expires_on {
        super::in_range(scanline_core::bounds::calendar("expiry date", expires))?;
        if expires < super::now().date_naive() {
            return Err(StoreError::Invalid(format!(
                "The expiry date {expires} has passed: a new card would not scan."
            )));
        }
    }
    let client = super::clients::get(conn, super::ClientId(client_id))?;
    let next_seq: u8 = conn
        .prepare_cached(
            "SELECT COALESCE(MAX(seq) + 1, 1) FROM cards WHERE client_id = :c AND kind = 'scanline'",
        )?
        .query_row(named_params! {":c": client_id}, |r| r.get(0))?;
    let code = ScanlineCode::new(client.client_number, next_seq)
        .map_err(|e| StoreError::Invalid(format!("cannot issue another card: {e}")))?
        .encode();
    conn.prepare_cached(
        "INSERT INTO cards (code, client_id, kind, seq, issued_at, expires_on)
         VALUES (:code, :c, 'scanline', :seq, :at, :exp)",
    )?
    .execute(named_params! {
        ":code": code, ":c": client_id, ":seq": next_seq, ":at": now(), ":exp": expires_on,
    })?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached(
        "UPDATE cards SET replaced_by = :new
         WHERE client_id = :c AND kind = 'scanline' AND id != :new AND replaced_by IS NULL
           AND revoked_at IS NULL",
    )?
    .execute(named_params! {":new": id, ":c": client_id})?;
    Ok((id, code))
}

/// Registers an existing code (an HMIS scan-card ID, stripe or prox number) for a client.
pub fn add_code(
    conn: &Connection,
    client_id: i64,
    kind: CardKind,
    raw_code: &str,
    expires_on: Option<NaiveDate>,
) -> StoreResult<i64> {
    super::clients::get(conn, super::ClientId(client_id))?;
    let ScanCode { key, scanline } = card_code::classify(raw_code)
        .map_err(|e| StoreError::Invalid(format!("that code cannot be scanned: {e}")))?;
    if scanline.is_some() || kind == CardKind::Scanline {
        return Err(StoreError::Invalid(
            "Scanline codes are issued by Scanline, not registered by hand".into(),
        ));
    }
    conn.prepare_cached(
        "INSERT INTO cards (code, client_id, kind, issued_at, expires_on)
         VALUES (:code, :c, :kind, :at, :exp)",
    )?
    .execute(named_params! {
        ":code": key, ":c": client_id, ":kind": kind.as_str(), ":at": now(), ":exp": expires_on,
    })
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("that code is already registered to a card".into())
        } else {
            e.into()
        }
    })?;
    Ok(conn.last_insert_rowid())
}

/// Revokes a card (reported lost): it no longer resolves anywhere.
pub fn revoke(conn: &Connection, card_id: i64, reason: &str) -> StoreResult<()> {
    let reason = super::required_text("reason", reason, 500)?;
    let n = conn
        .prepare_cached(
            "UPDATE cards SET revoked_at = :at, revoked_reason = :why
             WHERE id = :id AND revoked_at IS NULL",
        )?
        .execute(named_params! {":at": now(), ":why": reason, ":id": card_id})?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no active card {card_id}")));
    }
    Ok(())
}

/// The card table's answer for a normalised code.
pub fn status(conn: &Connection, key: &str) -> StoreResult<Option<(i64, CardStatus)>> {
    Ok(statuses(conn, &[key])?.remove(key))
}

/// The card table's answers for many normalised codes, by code, in one statement; codes no
/// card has are missing from the map.
pub fn statuses(
    conn: &Connection,
    keys: &[&str],
) -> StoreResult<std::collections::HashMap<String, (i64, CardStatus)>> {
    let keys = serde_json::to_string(keys).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT code, id, client_id, replaced_by IS NOT NULL, revoked_at IS NOT NULL, expires_on
         FROM cards WHERE code IN (SELECT value FROM json_each(:codes))",
    )?;
    let rows = stmt.query_map(named_params! {":codes": keys}, |r| {
        Ok((
            r.get(0)?,
            (
                r.get(1)?,
                CardStatus {
                    client_id: r.get(2)?,
                    replaced: r.get(3)?,
                    revoked: r.get(4)?,
                    expires_on: r.get(5)?,
                },
            ),
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The card id behind a code, for the CLI.
pub fn id_of(conn: &Connection, raw_code: &str) -> StoreResult<i64> {
    let key = card_code::classify(raw_code)
        .map_err(|e| StoreError::Invalid(format!("not a card code: {e}")))?
        .key;
    conn.prepare_cached("SELECT id FROM cards WHERE code = :code")?
        .query_row(named_params! {":code": key}, |r| r.get(0))
        .or_not_found(|| "no card has that code".into())
}

/// The client a card belongs to.
pub fn client_of(conn: &Connection, card: i64) -> StoreResult<i64> {
    conn.prepare_cached("SELECT client_id FROM cards WHERE id = :id")?
        .query_row(named_params! {":id": card}, |r| r.get(0))
        .or_not_found(|| format!("no card {card}"))
}
