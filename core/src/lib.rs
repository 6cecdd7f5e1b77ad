//! Scanline's domain: the contract between the station and the server.
//!
//! Range checks on times and dates from outside (`bounds`), beds at the shelter door (`beds`), card codes (`card_code`), certificate fingerprints (`fingerprint`), domain types (`domain`), a roster held in memory (`roster`), the verdict rules (`verdict`), bed-night
//! dates (`night`) and the station API's wire types (`wire`). Everything here is pure: no IO, no
//! async runtime, no database, no HTTP, so the station and the server run exactly the same
//! rules over the facts each of them holds.

pub mod beds;
pub mod bounds;
pub mod card_code;
pub mod domain;
pub mod fingerprint;
pub mod night;
pub mod roster;
pub mod verdict;
pub mod wire;

pub use card_code::{ScanCode, ScanlineCode};
pub use verdict::{BatchContext, ClientFacts, Judgement, Verdict, Warning};
