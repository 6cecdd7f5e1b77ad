//! The IPP layer against real printers: each test starts its own `ippeveprinter` (a one-sided
//! office printer or a CR80 card printer loaded from a PPD) on its own loopback port, sends real
//! jobs, and checks what the printer kept, what it says about the job, and how refusals and
//! dead addresses come back.

mod harness;

use std::time::{Duration, Instant};

use harness::ipp::TestPrinter;
use ipp::model::DelimiterTag;
use ipp::operation::IppOperation;
use ipp::operation::builder::IppOperationBuilder;
use ipp::prelude::{AsyncIppClient, Uri};
use ipp::value::IppValue;
use scanline_server::printing::{
    self, JobSettings, JobState, JobStatus, PrintError, PrinterReport,
};

/// The IPP media keyword `ippeveprinter` makes of the PPD's 153 x 242.65 point CR80 page.
const CR80: &str = "custom_53.98x85.6mm_53.98x85.6mm";

/// How long a job may take to reach the spool or finish.
const JOB_DEADLINE: Duration = Duration::from_secs(20);

/// A minimal valid one-page PDF the size of a CR80 card showing `text`, with a correct
/// cross-reference table.
fn card_pdf(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 12 200 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 153 242.65] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

fn card_settings(printer: &TestPrinter) -> JobSettings {
    JobSettings {
        uri: printer.uri(),
        media: CR80.to_owned(),
        duplex: true,
        dpi: 300,
        document_format: "application/pdf".to_owned(),
    }
}

fn office_settings(printer: &TestPrinter) -> JobSettings {
    JobSettings {
        uri: printer.uri(),
        media: "iso_a4_210x297mm".to_owned(),
        duplex: false,
        dpi: 600,
        document_format: "application/pdf".to_owned(),
    }
}

/// Polls `job_status` until the job is final; fails the test after `JOB_DEADLINE`.
async fn final_status(uri: &str, job_id: i32) -> JobStatus {
    let deadline = Instant::now() + JOB_DEADLINE;
    loop {
        let status = printing::job_status(uri, job_id).await.expect("job status");
        if status.state.is_final() {
            return status;
        }
        assert!(Instant::now() < deadline, "job {job_id} still {status:?} after {JOB_DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every job attribute the printer reports for `job_id`, straight from the `ipp` crate, so the
/// check does not rely on the module under test.
async fn job_attributes(uri: &str, job_id: i32) -> Vec<(String, IppValue)> {
    let uri: Uri = uri.parse().unwrap();
    let request = IppOperationBuilder::get_job_attributes(uri.clone(), job_id)
        .build()
        .unwrap()
        .into_ipp_request();
    let response = AsyncIppClient::new(uri).send(request).await.unwrap();
    assert!(response.header().status_code().is_success(), "{:?}", response.header());
    response
        .attributes()
        .first_of(DelimiterTag::JobAttributes)
        .expect("job attributes")
        .attributes()
        .iter()
        .map(|a| (a.name().to_string(), a.value().clone()))
        .collect()
}

fn attribute<'a>(attributes: &'a [(String, IppValue)], name: &str) -> &'a IppValue {
    attributes
        .iter()
        .find_map(|(n, v)| (n == name).then_some(v))
        .unwrap_or_else(|| panic!("no {name} in {attributes:#?}"))
}

/// After a refused job, proves that nothing reached the spool: a good job sent afterwards must
/// be the only document the printer kept.
async fn assert_only_next_job_lands(printer: &TestPrinter, good: &JobSettings) {
    let pdf = card_pdf("after the refusal");
    printing::submit(good, "after", "desk", pdf.clone()).await.expect("the good job");
    let files = printer.wait_for_spool(1, JOB_DEADLINE).await;
    assert_eq!(files.len(), 1, "only the good job is kept: {files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), pdf);
}

#[tokio::test]
async fn card_job_reaches_the_printer_byte_for_byte_and_completes_two_sided_on_cr80() {
    let printer = TestPrinter::card().await;
    let settings = card_settings(&printer);
    let pdf = card_pdf("Ana Alder 0001");

    let submitted = printing::submit(&settings, "Card for Ana", "front desk", pdf.clone())
        .await
        .expect("the card printer takes the job");
    assert!(submitted.job_id > 0, "{submitted:?}");

    let files = printer.wait_for_spool(1, JOB_DEADLINE).await;
    assert_eq!(files.len(), 1, "{files:?}");
    let file_name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(file_name.starts_with(&format!("{}-", submitted.job_id)), "{file_name}");
    let kept = std::fs::read(&files[0]).unwrap();
    assert!(kept == pdf, "the printer kept {} bytes, we sent {}", kept.len(), pdf.len());

    let status = final_status(&settings.uri, submitted.job_id).await;
    assert_eq!(status.state, JobState::Completed, "{status:?}");

    let attributes = job_attributes(&settings.uri, submitted.job_id).await;
    assert_eq!(attribute(&attributes, "sides").to_string(), "two-sided-long-edge");
    assert_eq!(attribute(&attributes, "media").to_string(), CR80);
    assert_eq!(attribute(&attributes, "job-name").to_string(), "Card for Ana");
    assert_eq!(attribute(&attributes, "job-originating-user-name").to_string(), "front desk");
    assert_eq!(
        attribute(&attributes, "printer-resolution"),
        &IppValue::Resolution { cross_feed: 300, feed: 300, units: 3 }
    );
}

#[tokio::test]
async fn two_sided_on_a_one_sided_printer_is_refused_in_plain_words_and_nothing_prints() {
    let printer = TestPrinter::simplex().await;
    let settings = JobSettings { duplex: true, ..office_settings(&printer) };

    let err = printing::submit(&settings, "Card", "desk", card_pdf("two-sided")).await.unwrap_err();
    let PrintError::Refused(message) = &err else { panic!("expected Refused, got {err:?}") };
    assert!(message.contains("one side only"), "{message}");
    assert!(message.contains("Turn off two-sided printing"), "{message}");
    assert!(printer.spool_files().is_empty());

    assert_only_next_job_lands(&printer, &office_settings(&printer)).await;
}

#[tokio::test]
async fn a_card_size_the_printer_lacks_is_refused_naming_the_size() {
    let printer = TestPrinter::card().await;
    let settings =
        JobSettings { media: "na_letter_8.5x11in".to_owned(), ..card_settings(&printer) };

    let err = printing::submit(&settings, "Card", "desk", card_pdf("letter")).await.unwrap_err();
    let PrintError::Refused(message) = &err else { panic!("expected Refused, got {err:?}") };
    assert!(message.contains("na_letter_8.5x11in"), "{message}");
    assert!(message.contains("card or paper size"), "{message}");
    assert!(!message.contains("two-sided"), "only the size is wrong: {message}");

    assert_only_next_job_lands(&printer, &card_settings(&printer)).await;
}

#[tokio::test]
async fn a_document_format_or_resolution_the_printer_lacks_is_refused_naming_it() {
    let printer = TestPrinter::card().await;

    let png = JobSettings { document_format: "image/png".to_owned(), ..card_settings(&printer) };
    let err =
        printing::submit(&png, "Card", "desk", b"\x89PNG\r\n\x1a\n".to_vec()).await.unwrap_err();
    let PrintError::Refused(message) = &err else { panic!("expected Refused, got {err:?}") };
    assert!(message.contains("PNG"), "{message}");

    let fine = JobSettings { dpi: 600, ..card_settings(&printer) };
    let err = printing::submit(&fine, "Card", "desk", card_pdf("600")).await.unwrap_err();
    let PrintError::Refused(message) = &err else { panic!("expected Refused, got {err:?}") };
    assert!(message.contains("600 dpi"), "{message}");

    assert_only_next_job_lands(&printer, &card_settings(&printer)).await;
}

#[tokio::test]
async fn nothing_listening_is_unreachable_at_once_and_a_non_printer_address_is_a_bad_uri() {
    // A port held bound but not listening: connecting is refused, and no other test's printer
    // can take the port meanwhile.
    let held = tokio::net::TcpSocket::new_v4().unwrap();
    held.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = held.local_addr().unwrap().port();
    let dead = format!("ipp://127.0.0.1:{port}/ipp/print");
    let settings = JobSettings {
        uri: dead.clone(),
        media: CR80.to_owned(),
        duplex: false,
        dpi: 0,
        document_format: "application/pdf".to_owned(),
    };

    let started = Instant::now();
    let err = printing::submit(&settings, "Card", "desk", card_pdf("dead")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    let PrintError::Unreachable(message) = &err else {
        panic!("expected Unreachable, got {err:?}")
    };
    assert!(message.contains(&dead) && message.contains("did not answer"), "{message}");
    assert!(matches!(printing::job_status(&dead, 1).await, Err(PrintError::Unreachable(_))));
    assert!(matches!(printing::printer_report(&dead).await, Err(PrintError::Unreachable(_))));

    for bad in ["ftp://x", "x", "", "ipp://", "/ipp/print", "ipp://host name/"] {
        let settings = JobSettings { uri: bad.to_owned(), ..settings.clone() };
        let err = printing::submit(&settings, "Card", "desk", Vec::new()).await.unwrap_err();
        assert!(matches!(err, PrintError::BadUri(_)), "{bad:?}: {err:?}");
        let err = printing::job_status(bad, 1).await.unwrap_err();
        assert!(matches!(err, PrintError::BadUri(_)), "{bad:?}: {err:?}");
        let err = printing::printer_report(bad).await.unwrap_err();
        assert!(matches!(err, PrintError::BadUri(_)), "{bad:?}: {err:?}");
    }
}

#[tokio::test]
async fn a_printer_that_accepts_but_never_answers_is_unreachable_after_the_timeout() {
    // Accepts the connection and reads nothing: the way a wedged printer behaves.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("ipp://{}/ipp/print", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });

    let started = Instant::now();
    let err = printing::printer_report(&uri).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, PrintError::Unreachable(_)), "{err:?}");
    assert!(
        took + Duration::from_secs(1) >= printing::REQUEST_TIMEOUT
            && took < printing::REQUEST_TIMEOUT + Duration::from_secs(5),
        "took {took:?}"
    );
    hold.abort();
}

#[tokio::test]
async fn job_status_of_a_job_the_printer_never_had_is_rejected() {
    let printer = TestPrinter::card().await;
    let err = printing::job_status(&printer.uri(), 4242).await.unwrap_err();
    let PrintError::Rejected(message) = &err else { panic!("expected Rejected, got {err:?}") };
    assert!(message.contains("client-error-not-found"), "{message}");
}

#[tokio::test]
async fn printer_reports_show_what_each_printer_can_do() {
    let (office, card) = tokio::join!(TestPrinter::simplex(), TestPrinter::card());

    let report: PrinterReport = printing::printer_report(&office.uri()).await.unwrap();
    assert_eq!(report.state, "idle");
    assert!(!report.make_and_model.is_empty(), "{report:?}");
    for media in ["na_letter_8.5x11in", "iso_a4_210x297mm"] {
        assert!(report.media_supported.iter().any(|m| m == media), "{report:?}");
    }
    assert_eq!(report.media_default, "na_letter_8.5x11in");
    assert_eq!(report.sides_supported, ["one-sided"]);
    for format in ["application/pdf", "image/png", "image/jpeg"] {
        assert!(report.formats_supported.iter().any(|f| f == format), "{report:?}");
    }
    assert_eq!(report.resolutions_supported, [600]);
    assert!(report.problems(&office_settings(&office)).is_empty());
    let duplex = JobSettings { duplex: true, ..office_settings(&office) };
    assert_eq!(
        report.problems(&duplex),
        ["This printer prints on one side only; turn off two-sided printing for it."]
    );
    let cr80 = JobSettings { media: CR80.to_owned(), ..office_settings(&office) };
    let problems = report.problems(&cr80);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains(CR80) && problems[0].contains("iso_a4_210x297mm"), "{problems:?}");

    let report = printing::printer_report(&card.uri()).await.unwrap();
    assert_eq!(report.state, "idle");
    assert_eq!(report.make_and_model, "Scanline Card Printer");
    assert_eq!(report.media_supported, [CR80]);
    assert_eq!(report.media_default, CR80);
    for side in ["one-sided", "two-sided-long-edge"] {
        assert!(report.sides_supported.iter().any(|s| s == side), "{report:?}");
    }
    assert!(report.formats_supported.iter().any(|f| f == "application/pdf"), "{report:?}");
    assert!(!report.formats_supported.iter().any(|f| f == "image/png"), "{report:?}");
    assert_eq!(report.resolutions_supported, [300]);
    assert_eq!(report.problems(&card_settings(&card)), Vec::<String>::new());
    let png =
        JobSettings { document_format: "image/png".to_owned(), dpi: 600, ..card_settings(&card) };
    let problems = report.problems(&png);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("PNG") && problems[1].contains("600 dpi"), "{problems:?}");
}
