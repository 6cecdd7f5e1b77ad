//! The phone station's rules (DESIGN §17): `scanline-core`'s in-memory roster and verdict,
//! compiled to WebAssembly for the browser, behind a JSON interface with no JavaScript glue.
//!
//! The page asks for an input buffer (`input_buffer`), writes a JSON request into it, calls
//! `call` with the request's kind, and reads the JSON answer from `output_buffer`. Kinds: 1
//! loads a roster snapshot, 2 applies a delta, 3 replaces the station's own scans (after a
//! reload), 4 judges a scan, 5 adds a recorded scan. Every answer is an object; a refused
//! request answers `{"error": "..."}` and changes nothing.

use std::cell::RefCell;

use chrono::{NaiveDate, NaiveDateTime};
use scanline_core::BatchContext;
use scanline_core::beds::BedId;
use scanline_core::domain::{ProgramId, ServiceTypeId};
use scanline_core::roster::{LocalScan, Roster};
use scanline_core::verdict::{self, VerdictClass};
use scanline_core::wire::{RosterDelta, RosterSnapshot};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// The largest request accepted: a roster snapshot of some hundred thousand clients.
pub const MAX_REQUEST: usize = 256 << 20;

/// A scan to judge: the payload, the batch it is for, and its local time in the
/// organization's time zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Judge {
    pub code: String,
    pub program_id: ProgramId,
    pub service_type_ids: Vec<ServiceTypeId>,
    pub batch_date: NaiveDate,
    pub at: NaiveDateTime,
    #[serde(default)]
    pub bed_id: Option<BedId>,
    #[serde(default)]
    pub exclude: Option<Uuid>,
}

/// What the phone holds: the roster and its own scans.
#[derive(Default)]
pub struct Station {
    roster: Option<Roster>,
    scans: Vec<LocalScan>,
}

impl Station {
    /// Answers one request.
    pub fn call(&mut self, kind: u32, request: &[u8]) -> Value {
        match self.answer(kind, request) {
            Ok(v) => v,
            Err(e) => json!({ "error": e }),
        }
    }

    fn answer(&mut self, kind: u32, request: &[u8]) -> Result<Value, String> {
        let parse = |what: &str| format!("the {what} is not valid JSON of its kind");
        match kind {
            1 => {
                let s: RosterSnapshot = serde_json::from_slice(request)
                    .map_err(|e| format!("{}: {e}", parse("roster")))?;
                let r = Roster::from_snapshot(s);
                let answer = json!({ "cursor": r.cursor, "clients": r.client_count() });
                self.roster = Some(r);
                Ok(answer)
            }
            2 => {
                let d: RosterDelta = serde_json::from_slice(request)
                    .map_err(|e| format!("{}: {e}", parse("delta")))?;
                let r = self.roster.as_mut().ok_or("no roster is loaded")?;
                r.apply_delta(d);
                Ok(json!({ "cursor": r.cursor, "clients": r.client_count() }))
            }
            3 => {
                self.scans = serde_json::from_slice(request)
                    .map_err(|e| format!("{}: {e}", parse("scan list")))?;
                Ok(json!({ "scans": self.scans.len() }))
            }
            4 => {
                let j: Judge = serde_json::from_slice(request)
                    .map_err(|e| format!("{}: {e}", parse("scan")))?;
                self.judge(&j)
            }
            5 => {
                let s: LocalScan = serde_json::from_slice(request)
                    .map_err(|e| format!("{}: {e}", parse("scan")))?;
                match self.scans.iter_mut().find(|x| x.uuid == s.uuid) {
                    Some(x) => *x = s,
                    None => self.scans.push(s),
                }
                Ok(json!({ "scans": self.scans.len() }))
            }
            _ => Err(format!("no request of kind {kind}")),
        }
    }

    fn judge(&self, j: &Judge) -> Result<Value, String> {
        let roster = self.roster.as_ref().ok_or("no roster is loaded")?;
        let program =
            roster.program(j.program_id).ok_or("the batch's program is not on the roster")?;
        let types = roster.service_types_of(&j.service_type_ids);
        if types.len() != j.service_type_ids.len()
            || types.iter().any(|t| t.program_id != program.id)
        {
            return Err("the batch's service types are not the program's".into());
        }
        let ctx = BatchContext { program, service_types: &types };
        let service_date = ctx.service_date(j.batch_date, j.at);
        let judgement = match verdict::first_look(&j.code) {
            Err(m) => m,
            Ok(code) => {
                let facts =
                    roster.facts(&ctx, &code, service_date, j.at, j.bed_id, &self.scans, j.exclude);
                verdict::judge(&ctx, service_date, &facts)
            }
        };
        let display_name =
            judgement.client_id.and_then(|c| roster.client(c)).map(|c| c.display_name.clone());
        let class = match judgement.verdict.class() {
            VerdictClass::Ok => "ok",
            VerdictClass::Retry => "retry",
            VerdictClass::Stop => "stop",
        };
        Ok(json!({
            "verdict": judgement.verdict,
            "label": judgement.verdict.staff_label(),
            "class": class,
            "client_id": judgement.client_id,
            "display_name": display_name.unwrap_or_default(),
            "detail": judgement.detail,
            "warnings": judgement.warnings,
            "bed_id": judgement.bed_id,
            "bed_name": judgement.bed_id.and_then(|b| roster.bed_name(b)).unwrap_or_default(),
            "service_date": service_date,
        }))
    }
}

thread_local! {
    static STATION: RefCell<Station> = RefCell::new(Station::default());
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A buffer for a request of `len` bytes; its address, for the page to write into. Zero when
/// the request is too large.
#[allow(unsafe_code, reason = "exported by name for the page")]
#[unsafe(no_mangle)]
pub extern "C" fn input_buffer(len: u32) -> usize {
    if len as usize > MAX_REQUEST {
        return 0;
    }
    INPUT.with_borrow_mut(|b| {
        b.clear();
        b.resize(len as usize, 0);
        b.as_mut_ptr() as usize
    })
}

/// Answers the request in the input buffer; the answer's length in bytes.
#[allow(unsafe_code, reason = "exported by name for the page")]
#[unsafe(no_mangle)]
pub extern "C" fn call(kind: u32) -> u32 {
    let answer = INPUT.with_borrow(|req| STATION.with_borrow_mut(|s| s.call(kind, req)));
    OUTPUT.with_borrow_mut(|out| {
        out.clear();
        serde_json::to_writer(&mut *out, &answer).expect("a JSON value always serialises");
        out.len() as u32
    })
}

/// The address of the last answer.
#[allow(unsafe_code, reason = "exported by name for the page")]
#[unsafe(no_mangle)]
pub extern "C" fn output_buffer() -> usize {
    OUTPUT.with_borrow(|b| b.as_ptr() as usize)
}
