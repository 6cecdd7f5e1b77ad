//! Tests of the IPP layer: addresses, messages built and read, and answers from small loopback
//! servers that misbehave on purpose.

use super::*;

fn settings() -> JobSettings {
    JobSettings {
        uri: "ipp://printer.local/ipp/print".to_owned(),
        media: "custom_53.98x85.6mm_53.98x85.6mm".to_owned(),
        duplex: true,
        dpi: 300,
        document_format: "application/pdf".to_owned(),
    }
}

fn card_printer() -> PrinterReport {
    PrinterReport {
        state: "idle".to_owned(),
        make_and_model: "Card Printer".to_owned(),
        media_supported: vec!["custom_53.98x85.6mm_53.98x85.6mm".to_owned()],
        media_default: "custom_53.98x85.6mm_53.98x85.6mm".to_owned(),
        sides_supported: ["one-sided", "two-sided-long-edge", "two-sided-short-edge"]
            .map(str::to_owned)
            .to_vec(),
        formats_supported: ["application/octet-stream", "application/pdf", "image/jpeg"]
            .map(str::to_owned)
            .to_vec(),
        resolutions_supported: vec![300],
    }
}

/// `uri` parses into (address for the HTTP client, printer-uri attribute).
fn check_uri(uri: &str, expected: Option<(&str, &str)>) {
    let got = Target::parse(uri).map(|t| (t.client.to_string(), t.printer.to_string()));
    match expected {
        Some((client, printer)) => {
            assert_eq!(got, Ok((client.to_owned(), printer.to_owned())), "{uri:?}");
        }
        None => assert!(matches!(got, Err(PrintError::BadUri(_))), "{uri:?}: {got:?}"),
    }
}

#[test]
fn printer_addresses() {
    check_uri(
        "ipp://127.0.0.1:8631/ipp/print",
        Some(("ipp://127.0.0.1:8631/ipp/print", "ipp://127.0.0.1:8631/ipp/print")),
    );
    check_uri(
        " ipp://printer.local/ipp/print ",
        Some(("ipp://printer.local:631/ipp/print", "ipp://printer.local:631/ipp/print")),
    );
    check_uri(
        "ipps://printer.local/ipp/print",
        Some(("ipps://printer.local:631/ipp/print", "ipps://printer.local:631/ipp/print")),
    );
    check_uri(
        "IPP://Printer.local/ipp/print",
        Some(("ipp://Printer.local:631/ipp/print", "ipp://Printer.local:631/ipp/print")),
    );
    check_uri(
        "http://10.0.0.5/printers/front",
        Some(("http://10.0.0.5:80/printers/front", "ipp://10.0.0.5:80/printers/front")),
    );
    check_uri(
        "https://desk:secret@10.0.0.5/ipp?queue=1",
        Some(("https://desk:secret@10.0.0.5:443/ipp?queue=1", "ipps://10.0.0.5:443/ipp")),
    );
    check_uri(
        "ipp://[::1]:8631/ipp/print",
        Some(("ipp://[::1]:8631/ipp/print", "ipp://[::1]:8631/ipp/print")),
    );
    check_uri(
        "ipp://printer.local",
        Some(("ipp://printer.local:631/", "ipp://printer.local:631/")),
    );
    for bad in [
        "",
        "ftp://x",
        "x",
        "printer.local/ipp",
        "/ipp/print",
        "ipp://",
        "ipp:///x",
        "ipp://a b/",
        "lpd://q/p",
        "file:///dev/usb/lp0",
        "ipp://printer.local:99999/ipp/print",
        "ipp://printer.local:0/ipp/print",
        "ipp://printer.local:63x/ipp/print",
        "ipp://u:p@printer.local:70000/ipp/print",
        "ipp://[::1]:99999/ipp/print",
    ] {
        check_uri(bad, None);
    }
}

#[test]
fn addresses_are_shown_without_their_credentials() {
    for (uri, shown) in [
        ("ipp://desk:secret@10.0.0.5/ipp/print", "ipp://10.0.0.5/ipp/print"),
        ("ipp://secret@10.0.0.5:631/ipp", "ipp://10.0.0.5:631/ipp"),
        ("https://a:b@h/p?q=1", "https://h/p?q=1"),
        ("ipp://h/p@q", "ipp://h/p@q"),
        ("ipp://h", "ipp://h"),
        ("not an address", "not an address"),
    ] {
        assert_eq!(shown_uri(uri), shown, "{uri}");
    }
    // Every message about the printer names it the same way.
    let Err(PrintError::BadUri(m)) = Target::parse("ipp://desk:secret@h:99999/x") else { panic!() };
    assert!(!m.contains("secret") && m.contains("ipp://h:99999/x"), "{m}");
}

#[test]
fn a_bad_address_names_itself() {
    let Err(PrintError::BadUri(message)) = Target::parse("ftp://x") else { panic!() };
    assert!(message.contains("\"ftp://x\"") && message.contains("ipp://"), "{message}");
}

#[test]
fn job_states_round_trip_and_only_the_last_three_are_final() {
    for (i, state) in JobState::ALL.into_iter().enumerate() {
        assert_eq!(JobState::parse(state.as_str()), Some(state));
        assert_eq!(JobState::from_ipp(i as i32 + 3), Some(state));
        assert_eq!(state.to_string(), state.as_str());
        assert_eq!(state.is_final(), i >= 4, "{state}");
    }
    assert_eq!(JobState::parse("pending"), Some(JobState::Pending));
    assert_eq!(JobState::parse("pending-held"), Some(JobState::Held));
    assert_eq!(JobState::parse("processing-stopped"), Some(JobState::Stopped));
    for bad in ["", "Pending", "done", "held", " completed"] {
        assert_eq!(JobState::parse(bad), None, "{bad:?}");
    }
    for bad in [i32::MIN, -1, 0, 2, 10, i32::MAX] {
        assert_eq!(JobState::from_ipp(bad), None, "{bad}");
    }
}

/// `settings` on `printer` give exactly the problems containing these fragments, in order.
fn check_problems(printer: &PrinterReport, settings: &JobSettings, expected: &[&[&str]]) {
    let problems = printer.problems(settings);
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for (problem, fragments) in problems.iter().zip(expected) {
        for fragment in *fragments {
            assert!(problem.contains(fragment), "{problem:?} lacks {fragment:?}");
        }
    }
}

#[test]
fn problems_name_each_setting_the_printer_lacks() {
    let card = card_printer();
    check_problems(&card, &settings(), &[]);
    check_problems(&card, &JobSettings { duplex: false, ..settings() }, &[]);
    check_problems(
        &card,
        &JobSettings { media: String::new(), dpi: 0, document_format: String::new(), ..settings() },
        &[],
    );
    check_problems(
        &card,
        &JobSettings { media: "na_letter_8.5x11in".to_owned(), ..settings() },
        &[&["na_letter_8.5x11in", "custom_53.98x85.6mm_53.98x85.6mm"]],
    );
    check_problems(
        &card,
        &JobSettings { document_format: "image/png".to_owned(), ..settings() },
        &[&["cannot print PNG", "it accepts PDF, JPEG."]],
    );
    check_problems(
        &card,
        &JobSettings { dpi: 600, ..settings() },
        &[&["does not print at 600 dpi", "to 300 dpi, or to 0"]],
    );

    let office = PrinterReport {
        media_supported: vec!["iso_a4_210x297mm".to_owned()],
        sides_supported: vec!["one-sided".to_owned()],
        formats_supported: vec!["application/pdf".to_owned(), "image/png".to_owned()],
        resolutions_supported: vec![600],
        ..card_printer()
    };
    check_problems(
        &office,
        &settings(),
        &[
            &["This printer prints on one side only; turn off two-sided printing for it."],
            &["custom_53.98x85.6mm_53.98x85.6mm", "iso_a4_210x297mm"],
            &["300 dpi", "600 dpi"],
        ],
    );

    let silent = PrinterReport { state: "idle".to_owned(), ..PrinterReport::default() };
    check_problems(
        &silent,
        &settings(),
        &[&["one side only"], &["does not list any"], &["cannot print PDF documents."], &["no"]],
    );
    check_problems(
        &silent,
        &JobSettings {
            duplex: false,
            media: String::new(),
            dpi: 0,
            document_format: String::new(),
            ..settings()
        },
        &[],
    );

    let duplex_only =
        PrinterReport { sides_supported: vec!["two-sided-long-edge".to_owned()], ..card_printer() };
    check_problems(
        &duplex_only,
        &JobSettings { duplex: false, ..settings() },
        &[&["both sides only"]],
    );
}

fn refusal(status: StatusCode, unsupported: &[(&str, IppValue)]) -> IppRequestResponse {
    let mut response =
        IppRequestResponse::new_response(ipp::model::IppVersion::v1_1(), status, 1).unwrap();
    for (name, value) in unsupported {
        response.attributes_mut().add(
            DelimiterTag::UnsupportedAttributes,
            IppAttribute::with_name(name, value.clone()).unwrap(),
        );
    }
    response
}

fn keyword_value(s: &str) -> IppValue {
    IppValue::new_keyword(s).unwrap()
}

#[test]
fn refusals_say_which_setting_in_plain_words() {
    let target = Target::parse("ipp://10.0.0.5/ipp/print").unwrap();
    let s = settings();
    let failure = |status, unsupported: &[(&str, IppValue)]| {
        target.job_failure(&refusal(status, unsupported), &s)
    };
    let not_supported = StatusCode::ClientErrorAttributesOrValuesNotSupported;

    assert_eq!(
        failure(not_supported, &[("sides", keyword_value("two-sided-long-edge"))]),
        PrintError::Refused(
            "The printer refused two-sided printing: it prints on one side only. Turn off \
             two-sided printing in this printer's settings."
                .to_owned()
        )
    );
    let PrintError::Refused(both) = failure(
        not_supported,
        &[("media", keyword_value(&s.media)), ("printer-resolution", IppValue::NoValue)],
    ) else {
        panic!()
    };
    assert!(
        both.starts_with(
            "The printer does not have the card or paper size \
             custom_53.98x85.6mm_53.98x85.6mm loaded or supported."
        ),
        "{both}"
    );
    assert!(both.contains("does not print at 300 dpi"), "{both}");

    let PrintError::Refused(format) =
        failure(StatusCode::ClientErrorDocumentFormatNotSupported, &[])
    else {
        panic!()
    };
    assert!(format.starts_with("The printer cannot print PDF documents."), "{format}");

    let PrintError::Refused(other) = failure(not_supported, &[("finishings", IppValue::Enum(4))])
    else {
        panic!()
    };
    assert_eq!(other, "The printer refused the setting finishings = 4.");

    let mut quiet = refusal(not_supported, &[]);
    quiet.attributes_mut().add(
        DelimiterTag::OperationAttributes,
        IppAttribute::with_name(
            IppAttribute::STATUS_MESSAGE,
            IppValue::new_text_without_language("Bad things").unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(
        target.job_failure(&quiet, &s),
        PrintError::Refused(
            "The printer refused one of the job's settings: Bad things.".to_owned()
        )
    );

    let PrintError::Rejected(busy) = failure(StatusCode::ServerErrorBusy, &[]) else { panic!() };
    assert_eq!(
        busy,
        "The printer at ipp://10.0.0.5/ipp/print would not take the job: server-error-busy."
    );

    let mut odd = refusal(StatusCode::ServerErrorBusy, &[]);
    odd.header_mut().operation_or_status = 0x0480;
    let PrintError::Rejected(odd) = target.job_failure(&odd, &s) else { panic!() };
    assert!(odd.ends_with("status 0x0480."), "{odd}");
}

/// Attribute name and value, as text, of each attribute in the first group tagged `tag`.
fn group(request: &IppRequestResponse, tag: DelimiterTag) -> Vec<(String, String)> {
    request.attributes().first_of(tag).map_or_else(Vec::new, |g| {
        g.attributes().iter().map(|a| (a.name().to_string(), a.value().to_string())).collect()
    })
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn a_print_job_carries_every_setting_in_its_proper_group() {
    let target = Target::parse("ipp://10.0.0.5/ipp/print").unwrap();
    let request = print_job(&target, &settings(), "Card for Ana", "desk", vec![1, 2]).unwrap();
    assert_eq!(
        group(&request, DelimiterTag::OperationAttributes),
        pairs(&[
            ("attributes-charset", "utf-8"),
            ("attributes-natural-language", "en"),
            ("printer-uri", "ipp://10.0.0.5:631/ipp/print"),
            ("requesting-user-name", "desk"),
            ("document-format", "application/pdf"),
            ("job-name", "Card for Ana"),
            ("ipp-attribute-fidelity", "true"),
        ])
    );
    assert_eq!(
        group(&request, DelimiterTag::JobAttributes),
        pairs(&[
            ("media", "custom_53.98x85.6mm_53.98x85.6mm"),
            ("sides", "two-sided-long-edge"),
            ("printer-resolution", "300x300in"),
        ])
    );

    let plain = JobSettings {
        media: String::new(),
        duplex: false,
        dpi: 0,
        document_format: String::new(),
        ..settings()
    };
    let long_name = "é".repeat(300);
    let request = print_job(&target, &plain, &long_name, "desk", Vec::new()).unwrap();
    assert_eq!(group(&request, DelimiterTag::JobAttributes), pairs(&[("sides", "one-sided")]));
    let operation = group(&request, DelimiterTag::OperationAttributes);
    assert!(!operation.iter().any(|(n, _)| n == "document-format"), "{operation:?}");
    let job_name = &operation.iter().find(|(n, _)| n == "job-name").unwrap().1;
    assert_eq!(job_name, &"é".repeat(127));

    let too_long = JobSettings { media: "x".repeat(300), ..settings() };
    assert!(matches!(
        print_job(&target, &too_long, "Card", "desk", Vec::new()),
        Err(PrintError::Refused(_))
    ));
}

#[test]
fn names_are_cut_on_a_character_boundary() {
    assert_eq!(truncate("Ana", 255), "Ana");
    let long = "é".repeat(200);
    let cut = truncate(&long, 255);
    assert_eq!(cut.len(), 254);
    assert!(long.starts_with(cut));
}

#[test]
fn resolutions_in_dots_per_centimetre_become_dpi() {
    let res = |cross_feed, feed, units| IppValue::Resolution { cross_feed, feed, units };
    assert_eq!(square_dpi(&res(300, 300, UNITS_DPI)), Some(300));
    assert_eq!(square_dpi(&res(118, 118, UNITS_DPCM)), Some(300));
    assert_eq!(square_dpi(&res(600, 300, UNITS_DPI)), None);
    assert_eq!(square_dpi(&res(-300, -300, UNITS_DPI)), None);
    assert_eq!(square_dpi(&res(300, 300, 9)), None);
    assert_eq!(square_dpi(&IppValue::Integer(300)), None);
}
