//! The homeless verification letter (DESIGN §3, §6): on the agency's letterhead, in English and
//! Spanish, the nights a client stayed and the services they received per program over a
//! period, counting nights and distinct months as chronic-homelessness documentation asks,
//! signed by the staff member who made it, with the date.

pub mod pdf;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use crate::card::text::Weight;
use crate::store::services::StayLine;
use pdf::{Doc, PAGE};

/// Who and what the letter is about.
pub struct Letter<'a> {
    pub agency: &'a str,
    pub return_address: &'a str,
    pub phone: &'a str,
    pub client_name: &'a str,
    pub client_number: u32,
    pub dob: Option<NaiveDate>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The day it is signed, in the agency's time zone.
    pub signed_on: NaiveDate,
    pub signed_by: &'a str,
    pub history: &'a [StayLine],
}

/// One program's part of the letter.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ProgramStay {
    pub program: String,
    /// The nights stayed, each once.
    pub nights: BTreeSet<NaiveDate>,
    /// Services other than bed nights: how many of each.
    pub services: BTreeMap<String, u32>,
}

impl ProgramStay {
    /// The distinct months with at least one night.
    pub fn months(&self) -> BTreeSet<(i32, u32)> {
        self.nights.iter().map(|d| (d.year(), d.month())).collect()
    }
}

/// The history grouped by program, in the order it came.
pub fn by_program(history: &[StayLine]) -> Vec<ProgramStay> {
    let mut out: Vec<ProgramStay> = Vec::new();
    for line in history {
        if out.last().is_none_or(|p| p.program != line.program) {
            out.push(ProgramStay { program: line.program.clone(), ..ProgramStay::default() });
        }
        let p = out.last_mut().expect("pushed above");
        if line.bed_night {
            p.nights.insert(line.date);
        } else {
            *p.services.entry(line.service.clone()).or_default() += 1;
        }
    }
    out
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

const LEFT: f32 = 72.0;
const RIGHT: f32 = PAGE.0 - 72.0;
const BOTTOM: f32 = 72.0;

/// Lays lines out down the page, wrapping words and starting new pages.
struct Writer {
    doc: Doc,
    y: f32,
}

impl Writer {
    fn new() -> Self {
        let mut doc = Doc::default();
        doc.new_page();
        Self { doc, y: PAGE.1 - 72.0 }
    }

    fn room(&mut self, needed: f32) {
        if self.y - needed < BOTTOM {
            self.doc.new_page();
            self.y = PAGE.1 - 72.0;
        }
    }

    /// A paragraph at `size`, wrapped to the margins, with `indent` on every line.
    fn para(&mut self, size: f32, weight: Weight, indent: f32, text: &str) {
        let leading = size * 1.35;
        let width = RIGHT - LEFT - indent;
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate =
                if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if !line.is_empty() && Doc::width(size, weight, &candidate) > width {
                self.room(leading);
                self.doc.text(LEFT + indent, self.y, size, weight, &line);
                self.y -= leading;
                word.clone_into(&mut line);
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            self.room(leading);
            self.doc.text(LEFT + indent, self.y, size, weight, &line);
            self.y -= leading;
        }
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    fn rule(&mut self) {
        self.room(8.0);
        self.doc.rule(LEFT, RIGHT, self.y);
        self.y -= 22.0;
    }
}

/// The letter as a PDF.
pub fn render(letter: &Letter<'_>) -> Vec<u8> {
    let stays = by_program(letter.history);
    let nights: BTreeSet<NaiveDate> = stays.iter().flat_map(|p| p.nights.iter().copied()).collect();
    let months: BTreeSet<(i32, u32)> = nights.iter().map(|d| (d.year(), d.month())).collect();
    let mut out = Writer::new();
    // Letterhead.
    out.para(16.0, Weight::Bold, 0.0, letter.agency);
    let contact = [letter.return_address, letter.phone]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ");
    if !contact.is_empty() {
        out.para(10.0, Weight::Regular, 0.0, &contact);
    }
    out.rule();
    out.para(14.0, Weight::Bold, 0.0, "Homeless verification · Verificación de situación de calle");
    out.para(11.0, Weight::Regular, 0.0, &format!("Date / Fecha: {}", letter.signed_on));
    out.gap(8.0);
    let born_en = letter.dob.map(|d| format!(", born {d}")).unwrap_or_default();
    let born_es = letter.dob.map(|d| format!(", con fecha de nacimiento {d}")).unwrap_or_default();
    let (night_count, month_count) = (nights.len(), months.len());
    out.para(11.0, Weight::Regular, 0.0, "To whom it may concern:");
    out.para(
        11.0,
        Weight::Regular,
        0.0,
        &format!(
            "This letter verifies that {} (client number {}{born_en}) stayed at {} on {} in {} between {} and {}, and received the services listed below, as our records show.",
            letter.client_name,
            letter.client_number,
            letter.agency,
            plural(night_count, "night", "nights"),
            plural(month_count, "distinct month", "distinct months"),
            letter.from,
            letter.to
        ),
    );
    out.gap(6.0);
    out.para(11.0, Weight::Regular, 0.0, "A quien corresponda:");
    out.para(
        11.0,
        Weight::Regular,
        0.0,
        &format!(
            "Esta carta verifica que {} (número de cliente {}{born_es}) se alojó en {} {} en {} entre el {} y el {}, y recibió los servicios que se indican abajo, según nuestros registros.",
            letter.client_name,
            letter.client_number,
            letter.agency,
            plural(night_count, "noche", "noches"),
            plural(month_count, "mes distinto", "meses distintos"),
            letter.from,
            letter.to
        ),
    );
    out.gap(8.0);
    if stays.is_empty() {
        out.para(
            11.0,
            Weight::Bold,
            0.0,
            "No nights or services are recorded in this period. / No hay noches ni servicios registrados en este período.",
        );
    }
    for p in &stays {
        out.room(60.0);
        out.para(12.0, Weight::Bold, 0.0, &p.program);
        let pm = p.months();
        if !p.nights.is_empty() {
            out.para(
                11.0,
                Weight::Regular,
                12.0,
                &format!(
                    "Nights stayed / Noches: {} · Distinct months / Meses distintos: {}",
                    p.nights.len(),
                    pm.len()
                ),
            );
        }
        for (year, month) in &pm {
            let days: Vec<String> = p
                .nights
                .iter()
                .filter(|d| d.year() == *year && d.month() == *month)
                .map(|d| d.day().to_string())
                .collect();
            let i = (*month - 1) as usize;
            out.para(
                10.0,
                Weight::Regular,
                24.0,
                &format!(
                    "{} {year} / {} de {year} ({}): {}",
                    MONTHS_EN[i],
                    MONTHS_ES[i],
                    plural(days.len(), "night", "nights"),
                    days.join(", ")
                ),
            );
        }
        if !p.services.is_empty() {
            let list: Vec<String> = p.services.iter().map(|(s, k)| format!("{s}: {k}")).collect();
            out.para(
                11.0,
                Weight::Regular,
                12.0,
                &format!("Services received / Servicios recibidos: {}", list.join(", ")),
            );
        }
        out.gap(6.0);
    }
    // Signature.
    out.room(90.0);
    out.gap(30.0);
    out.rule();
    out.para(11.0, Weight::Bold, 0.0, letter.signed_by);
    out.para(
        11.0,
        Weight::Regular,
        0.0,
        &format!("Signed on / Firmado el {} · {}", letter.signed_on, letter.agency),
    );
    out.doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(program: &str, service: &str, bed: bool, date: &str) -> StayLine {
        StayLine {
            program: program.into(),
            service: service.into(),
            bed_night: bed,
            date: date.parse().unwrap(),
        }
    }

    #[test]
    fn nights_count_once_and_months_are_distinct() {
        let history = [
            line("Night Shelter", "Bed Night", true, "2026-10-30"),
            line("Night Shelter", "Bed Night", true, "2026-10-31"),
            line("Night Shelter", "Bed Night", true, "2026-11-01"),
            line("Night Shelter", "Bed Night", true, "2026-11-01"),
            line("Night Shelter", "Shower", false, "2026-11-01"),
            line("Community Meals", "Meal", false, "2026-11-02"),
        ];
        let stays = by_program(&history);
        assert_eq!(stays.len(), 2);
        assert_eq!(stays[0].nights.len(), 3);
        assert_eq!(stays[0].months().len(), 2);
        assert_eq!(stays[0].services["Shower"], 1);
        assert_eq!(stays[1].nights.len(), 0);
        assert_eq!(stays[1].services["Meal"], 1);
    }
}
