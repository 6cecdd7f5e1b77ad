//! Printing client ID cards on network printers over IPP: one Print-Job with the settings an
//! agency configured for a printer, Get-Job-Attributes to follow that job until the printer is
//! done with it, and Get-Printer-Attributes to say, before anyone waits at the desk, whether the
//! settings ask for something the printer cannot do. Every failure becomes a `PrintError` whose
//! message a front-desk worker can act on.
//!
//! Pure protocol: it does not render cards, store jobs, retry, or choose a printer. Jobs are
//! sent with `ipp-attribute-fidelity` so a printer refuses a job it cannot print as asked (say,
//! two-sided on a one-sided printer) instead of quietly printing something else.

use std::fmt;
use std::io::Cursor;
use std::time::Duration;

use ipp::attribute::{IppAttribute, IppAttributeName};
use ipp::error::IppError;
use ipp::model::{DelimiterTag, StatusCode};
use ipp::operation::IppOperation;
use ipp::operation::builder::IppOperationBuilder;
use ipp::payload::IppPayload;
use ipp::prelude::{AsyncIppClient, Uri};
use ipp::request::IppRequestResponse;
use ipp::value::IppValue;

mod attributes;
use attributes::{
    attribute_names, format_name, keyword, refusal_sentence, requested, root_cause, square_dpi,
    status_keyword, status_message, strings, truncate,
};

/// How long one request may take, connecting included. A printer that is unplugged or asleep
/// gives `PrintError::Unreachable` after at most this long instead of holding up the desk.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The longest `name` value IPP allows (job-name, requesting-user-name), in bytes.
const IPP_NAME_MAX: usize = 255;

/// IPP `units` value for printer-resolution in dots per inch.
const UNITS_DPI: i8 = 3;
/// IPP `units` value for printer-resolution in dots per centimetre.
const UNITS_DPCM: i8 = 4;

/// What Scanline sends with every job to one configured printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSettings {
    /// The printer's address: `ipp://host[:port]/path` (or `ipps://`, `http://`, `https://`).
    pub uri: String,
    /// IPP media keyword such as `custom_53.98x85.6mm_53.98x85.6mm` or `na_letter_8.5x11in`;
    /// empty sends no `media`, so the printer uses its default.
    pub media: String,
    /// Two-sided (`two-sided-long-edge`) when true, `one-sided` when false.
    pub duplex: bool,
    /// `printer-resolution` in dots per inch; 0 sends none, so the printer uses its default.
    pub dpi: u32,
    /// MIME type of the documents, `application/pdf` or `image/png`; empty sends none and lets
    /// the printer detect it.
    pub document_format: String,
}

/// IPP `sides` for one-sided printing.
const SIDES_ONE: &str = "one-sided";
/// IPP `sides` for two-sided printing turned on the long edge, like a portrait ID card.
const SIDES_TWO: &str = "two-sided-long-edge";
/// IPP `sides` for two-sided printing turned on the short edge, which Scanline does not use.
const SIDES_TWO_SHORT: &str = "two-sided-short-edge";

impl JobSettings {
    fn sides(&self) -> &'static str {
        if self.duplex { SIDES_TWO } else { SIDES_ONE }
    }
}

/// Where a print job stands, as IPP `job-state` (values 3 to 9) names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting its turn.
    Pending,
    /// Held at the printer until someone releases it.
    Held,
    /// Printing.
    Processing,
    /// Printing has stopped, usually because the printer needs attention (cards, ribbon, jam).
    Stopped,
    /// Canceled by a person or the printer; final.
    Canceled,
    /// The printer gave up on it; final.
    Aborted,
    /// Printed; final.
    Completed,
}

impl JobState {
    /// Every state, in IPP order.
    pub const ALL: [JobState; 7] = [
        JobState::Pending,
        JobState::Held,
        JobState::Processing,
        JobState::Stopped,
        JobState::Canceled,
        JobState::Aborted,
        JobState::Completed,
    ];

    /// The IPP keyword for this state: "pending", "pending-held", "processing",
    /// "processing-stopped", "canceled", "aborted" or "completed".
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Held => "pending-held",
            JobState::Processing => "processing",
            JobState::Stopped => "processing-stopped",
            JobState::Canceled => "canceled",
            JobState::Aborted => "aborted",
            JobState::Completed => "completed",
        }
    }

    /// Whether the printer is done with the job: it will not change state again.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Canceled | JobState::Aborted | JobState::Completed)
    }

    /// The state named by `as_str`, or `None` for anything else.
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// The state for an IPP `job-state` enum value.
    fn from_ipp(value: i32) -> Option<JobState> {
        let index = usize::try_from(value.checked_sub(3)?).ok()?;
        JobState::ALL.get(index).copied()
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job the printer accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The printer's number for the job, for `job_status`.
    pub job_id: i32,
    /// Its state when the printer answered.
    pub state: JobState,
}

/// Where a job stands, as the printer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    /// The job's state.
    pub state: JobState,
    /// IPP `job-state-reasons` keywords, e.g. "job-printing", "media-empty",
    /// "job-completed-successfully".
    pub reasons: Vec<String>,
    /// The printer's own words (`job-state-message`); may be empty.
    pub message: String,
}

/// What a printer says about itself and what it can do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrinterReport {
    /// "idle", "processing" or "stopped".
    pub state: String,
    /// The model as the printer names it, e.g. "HP LaserJet M404" (`printer-make-and-model`).
    pub make_and_model: String,
    /// IPP media keywords it accepts.
    pub media_supported: Vec<String>,
    /// The media it uses when a job names none; empty if it did not say.
    pub media_default: String,
    /// "one-sided", "two-sided-long-edge", "two-sided-short-edge".
    pub sides_supported: Vec<String>,
    /// MIME types it accepts.
    pub formats_supported: Vec<String>,
    /// Resolutions it offers in dots per inch (the same in both directions; printers that
    /// advertise dots per centimetre are converted).
    pub resolutions_supported: Vec<u32>,
}

impl PrinterReport {
    /// Every way the settings ask for something this printer says it cannot do, as sentences a
    /// front-desk worker understands ("This printer prints on one side only; turn off two-sided
    /// printing for it."). Empty means the settings fit the printer.
    pub fn problems(&self, s: &JobSettings) -> Vec<String> {
        let mut problems = Vec::new();
        let has_side = |side: &str| self.sides_supported.iter().any(|v| v == side);
        if s.duplex && !has_side(SIDES_TWO) {
            problems.push(if has_side(SIDES_TWO_SHORT) {
                "This printer prints two-sided only by turning the card over its short edge, \
                 which would print the back upside down; turn off two-sided printing for it."
                    .to_owned()
            } else {
                "This printer prints on one side only; turn off two-sided printing for it."
                    .to_owned()
            });
        }
        if !s.duplex && !self.sides_supported.is_empty() && !has_side(SIDES_ONE) {
            problems.push(
                "This printer prints on both sides only; turn on two-sided printing for it."
                    .to_owned(),
            );
        }
        if !s.media.is_empty() && !self.media_supported.contains(&s.media) {
            problems.push(if self.media_supported.is_empty() {
                format!(
                    "This printer does not list any card or paper sizes, so it cannot be asked \
                     for {}; leave the size empty so it uses its own.",
                    s.media
                )
            } else {
                format!(
                    "This printer does not have the card or paper size {}; choose one it has: {}.",
                    s.media,
                    self.media_supported.join(", ")
                )
            });
        }
        if !s.document_format.is_empty() && !self.formats_supported.contains(&s.document_format) {
            let accepted: Vec<&str> = self
                .formats_supported
                .iter()
                .filter(|f| *f != "application/octet-stream")
                .map(|f| format_name(f))
                .collect();
            problems.push(if accepted.is_empty() {
                format!("This printer cannot print {} documents.", format_name(&s.document_format))
            } else {
                format!(
                    "This printer cannot print {} documents; it accepts {}.",
                    format_name(&s.document_format),
                    accepted.join(", ")
                )
            });
        }
        if s.dpi > 0 && !self.resolutions_supported.contains(&s.dpi) {
            problems.push(if self.resolutions_supported.is_empty() {
                format!(
                    "This printer does not offer a choice of resolution, so it cannot be asked \
                     for {} dpi; set the resolution to 0 to use its own.",
                    s.dpi
                )
            } else {
                let offered: Vec<String> =
                    self.resolutions_supported.iter().map(|d| format!("{d} dpi")).collect();
                format!(
                    "This printer does not print at {} dpi; set the resolution to {}, or to 0 to \
                     use the printer's default.",
                    s.dpi,
                    offered.join(" or ")
                )
            });
        }
        problems
    }
}

/// Why printing or asking a printer failed. Each message is a full sentence meant for the
/// person at the desk or the administrator configuring the printer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintError {
    /// The printer address is not an `ipp://`, `ipps://`, `http://` or `https://` URI with a
    /// host, or is an encrypted one this build cannot connect to. Fix the printer's settings;
    /// retrying will not help.
    #[error("{0}")]
    BadUri(String),
    /// Nothing answered in time: connection refused, timeout, unknown host, a dropped
    /// connection. Worth retrying once the printer is on.
    #[error("{0}")]
    Unreachable(String),
    /// The printer refused a setting Scanline sent (sides, media, document format, resolution),
    /// named in plain words. Fix the printer's settings in Scanline; retrying will not help.
    #[error("{0}")]
    Refused(String),
    /// Any other failure the printer reported, or an answer Scanline could not read, with the
    /// IPP status and the printer's message.
    #[error("{0}")]
    Rejected(String),
}

/// Sends `document` to the printer in `s` as one Print-Job with the configured document format,
/// media, sides and resolution, named `job_name` for `user_name` (both cut to IPP's 255 bytes).
/// The job asks for `ipp-attribute-fidelity`, so a printer that cannot honour a setting answers
/// `Refused` rather than printing the card some other way.
pub async fn submit(
    s: &JobSettings,
    job_name: &str,
    user_name: &str,
    document: Vec<u8>,
) -> Result<Submitted, PrintError> {
    let target = Target::parse(&s.uri)?;
    let request = print_job(&target, s, job_name, user_name, document)?;
    let response = target.send(request).await?;
    let status = response.header().status_code();
    if !status.is_success() {
        return Err(target.job_failure(&response, s));
    }
    if status == StatusCode::SuccessfulOkIgnoredOrSubstitutedAttributes {
        // A printer that ignores ipp-attribute-fidelity prints anyway; the job exists, so it is
        // not an error, but what it substituted is worth a trace.
        tracing::warn!(
            printer = %target.shown,
            ignored = ?attribute_names(response.attributes(), DelimiterTag::UnsupportedAttributes),
            "printer accepted a job but ignored some of its settings"
        );
    }
    let job = response.attributes().first_of(DelimiterTag::JobAttributes);
    let job_id = job
        .and_then(|g| g.get(IppAttribute::JOB_ID))
        .and_then(|a| a.value().as_integer().copied())
        .ok_or_else(|| {
            PrintError::Rejected(format!(
                "The printer at {} accepted the job but did not say which job number it gave \
                 it, so Scanline cannot follow it.",
                target.shown
            ))
        })?;
    // job-state is required in the answer; a printer that leaves it out has just queued the job.
    let state = match job.and_then(|g| g.get(IppAttribute::JOB_STATE)) {
        None => JobState::Pending,
        Some(attr) => target.job_state(attr, job_id)?,
    };
    Ok(Submitted { job_id, state })
}

/// The Print-Job request for `document` with the settings in `s`.
fn print_job(
    target: &Target,
    s: &JobSettings,
    job_name: &str,
    user_name: &str,
    document: Vec<u8>,
) -> Result<IppRequestResponse, PrintError> {
    let mut job_attributes = Vec::new();
    if !s.media.is_empty() {
        job_attributes.push(keyword(IppAttribute::MEDIA, &s.media, "card or paper size")?);
    }
    job_attributes.push(keyword(IppAttribute::SIDES, s.sides(), "sides")?);
    if s.dpi > 0 {
        let dots = i32::try_from(s.dpi).map_err(|_| {
            PrintError::Refused(format!("{} dpi is not a resolution any printer offers.", s.dpi))
        })?;
        job_attributes.push(IppAttribute::new(
            IppAttributeName::PRINTER_RESOLUTION,
            IppValue::Resolution { cross_feed: dots, feed: dots, units: UNITS_DPI },
        ));
    }
    let mut builder = IppOperationBuilder::print_job(
        target.printer.clone(),
        IppPayload::new(Cursor::new(document)),
    )
    .job_title(truncate(job_name, IPP_NAME_MAX))
    .user_name(truncate(user_name, IPP_NAME_MAX))
    .attributes(job_attributes);
    if !s.document_format.is_empty() {
        builder = builder.document_format(&s.document_format);
    }
    let mut request = builder
        .build()
        .map_err(|e| {
            PrintError::Refused(format!(
                "The document format {:?} cannot be sent to a printer: {e}.",
                s.document_format
            ))
        })?
        .into_ipp_request();
    // An operation attribute (RFC 8011 §4.2.1.1); the builder puts its extra attributes in the
    // job group, where a printer need not look for it.
    request.attributes_mut().add(
        DelimiterTag::OperationAttributes,
        IppAttribute::new(IppAttributeName::IPP_ATTRIBUTE_FIDELITY, IppValue::Boolean(true)),
    );

    Ok(request)
}

/// A printer address as people may see it: without the user name and password an address
/// may carry (`ipp://user:secret@host/...` is shown as `ipp://host/...`).
pub fn shown_uri(uri: &str) -> String {
    let uri = uri.trim();
    let Some((scheme, rest)) = uri.split_once("://") else { return uri.to_owned() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{path}"),
        None => uri.to_owned(),
    }
}

/// Checks a printer address without contacting the printer, for the settings form.
pub fn check_uri(uri: &str) -> Result<(), PrintError> {
    Target::parse(uri).map(|_| ())
}

/// Asks the printer at `uri` where job `job_id` stands (Get-Job-Attributes).
pub async fn job_status(uri: &str, job_id: i32) -> Result<JobStatus, PrintError> {
    let target = Target::parse(uri)?;
    let mut request = IppOperationBuilder::get_job_attributes(target.printer.clone(), job_id)
        .build()
        .map_err(|e| target.bad_uri(&e))?
        .into_ipp_request();
    request.attributes_mut().add(
        DelimiterTag::OperationAttributes,
        requested(&["job-state", "job-state-reasons", "job-state-message"]),
    );
    let response = target.send(request).await?;
    if !response.header().status_code().is_success() {
        return Err(target.rejected(&response, &format!("report on job {job_id}")));
    }
    let Some(job) = response.attributes().first_of(DelimiterTag::JobAttributes) else {
        return Err(PrintError::Rejected(format!(
            "The printer at {} answered without any details of job {job_id}.",
            target.shown
        )));
    };
    let state = match job.get(IppAttribute::JOB_STATE) {
        Some(attr) => target.job_state(attr, job_id)?,
        None => {
            return Err(PrintError::Rejected(format!(
                "The printer at {} did not say where job {job_id} stands.",
                target.shown
            )));
        }
    };
    Ok(JobStatus {
        state,
        reasons: strings(job, IppAttribute::JOB_STATE_REASONS),
        message: strings(job, IppAttribute::JOB_STATE_MESSAGE).join(" "),
    })
}

/// Asks the printer at `uri` what it is and what it can do (Get-Printer-Attributes).
pub async fn printer_report(uri: &str) -> Result<PrinterReport, PrintError> {
    let target = Target::parse(uri)?;
    let request = IppOperationBuilder::get_printer_attributes(target.printer.clone())
        .attributes([
            IppAttribute::PRINTER_STATE,
            IppAttribute::PRINTER_MAKE_AND_MODEL,
            IppAttribute::MEDIA_SUPPORTED,
            IppAttribute::MEDIA_DEFAULT,
            IppAttribute::SIDES_SUPPORTED,
            IppAttribute::DOCUMENT_FORMAT_SUPPORTED,
            IppAttribute::PRINTER_RESOLUTION_SUPPORTED,
        ])
        .build()
        .map_err(|e| target.bad_uri(&e))?
        .into_ipp_request();
    let response = target.send(request).await?;
    if !response.header().status_code().is_success() {
        return Err(target.rejected(&response, "describe itself"));
    }
    let Some(printer) = response.attributes().first_of(DelimiterTag::PrinterAttributes) else {
        return Err(PrintError::Rejected(format!(
            "The printer at {} answered without describing itself.",
            target.shown
        )));
    };
    let state = match printer.get(IppAttribute::PRINTER_STATE).map(IppAttribute::value) {
        Some(IppValue::Enum(3)) => "idle",
        Some(IppValue::Enum(4)) => "processing",
        Some(IppValue::Enum(5)) => "stopped",
        Some(other) => {
            return Err(PrintError::Rejected(format!(
                "The printer at {} reported a state Scanline does not know ({other}).",
                target.shown
            )));
        }
        None => {
            return Err(PrintError::Rejected(format!(
                "The printer at {} did not say whether it is ready.",
                target.shown
            )));
        }
    };
    let mut resolutions_supported: Vec<u32> = printer
        .get(IppAttribute::PRINTER_RESOLUTION_SUPPORTED)
        .map(|a| a.value().into_iter().filter_map(square_dpi).collect())
        .unwrap_or_default();
    resolutions_supported.sort_unstable();
    resolutions_supported.dedup();
    Ok(PrinterReport {
        state: state.to_owned(),
        make_and_model: strings(printer, IppAttribute::PRINTER_MAKE_AND_MODEL).join(" "),
        media_supported: strings(printer, IppAttribute::MEDIA_SUPPORTED),
        media_default: strings(printer, IppAttribute::MEDIA_DEFAULT).join(" "),
        sides_supported: strings(printer, IppAttribute::SIDES_SUPPORTED),
        formats_supported: strings(printer, IppAttribute::DOCUMENT_FORMAT_SUPPORTED),
        resolutions_supported,
    })
}

/// One printer address, checked, in the two forms a request needs.
#[derive(Debug)]
struct Target {
    /// The address as configured, for messages.
    shown: String,
    /// Where the HTTP request goes. The `ipp` crate turns `ipp://` into `http://` and
    /// `ipps://` into `https://`.
    client: Uri,
    /// The `printer-uri` operation attribute: the same printer with an `ipp` or `ipps` scheme,
    /// an explicit port and no user name or password.
    printer: Uri,
}

impl Target {
    fn parse(uri: &str) -> Result<Target, PrintError> {
        let shown = shown_uri(uri);
        let bad = |why: &str| {
            PrintError::BadUri(format!("The printer address {shown:?} is not usable: {why}."))
        };
        let parsed: Uri = uri.trim().parse().map_err(|_| bad("it is not a valid address"))?;
        let scheme = parsed.scheme_str().map(str::to_ascii_lowercase).unwrap_or_default();
        // RFC 8010 §5 and RFC 7472 give ipp and ipps the same default port, 631; the `ipp`
        // crate would send ipps without a port to 443, so the port is always made explicit.
        let (printer_scheme, default_port) = match scheme.as_str() {
            "ipp" => ("ipp", 631),
            "ipps" => ("ipps", 631),
            "http" => ("ipp", 80),
            "https" => ("ipps", 443),
            _ => return Err(bad("it must start with ipp://, ipps://, http:// or https://")),
        };
        let authority = parsed.authority().ok_or_else(|| bad("it names no host"))?;
        let host = authority.host();
        if host.is_empty() {
            return Err(bad("it names no host"));
        }
        // A port that is there must be a port: `:99999` is refused, never sent to the default.
        let after_host = authority.as_str().rsplit_once('@').map_or(authority.as_str(), |(_, h)| h);
        let after_host = match after_host.strip_prefix('[') {
            Some(v6) => v6.split_once(']').map_or("", |(_, rest)| rest),
            None => after_host,
        };
        if let Some((_, digits)) = after_host.rsplit_once(':')
            && !digits.is_empty()
            && !digits.parse::<u16>().is_ok_and(|p| p > 0)
        {
            return Err(bad(&format!("{digits} is not a port (1 to 65535)")));
        }
        let port = authority.port_u16().unwrap_or(default_port);
        let userinfo = authority.as_str().rsplit_once('@').map(|(u, _)| format!("{u}@"));
        let userinfo = userinfo.unwrap_or_default();
        let path_and_query = parsed.path_and_query().map_or("/", |p| p.as_str());
        let client = format!("{scheme}://{userinfo}{host}:{port}{path_and_query}");
        let printer = format!("{printer_scheme}://{host}:{port}{}", parsed.path());
        // IPP `uri` values are at most 1023 bytes (RFC 8011 §5.1.6).
        if printer.len() > 1023 {
            return Err(bad("it is too long"));
        }
        let (Ok(client), Ok(printer)) = (client.parse::<Uri>(), printer.parse::<Uri>()) else {
            return Err(bad("it is not a valid address"));
        };
        Ok(Target { shown, client, printer })
    }

    async fn send(&self, request: IppRequestResponse) -> Result<IppRequestResponse, PrintError> {
        let client =
            AsyncIppClient::builder(self.client.clone()).request_timeout(REQUEST_TIMEOUT).build();
        client.send(request).await.map_err(|e| self.transport_error(&e))
    }

    fn transport_error(&self, error: &IppError) -> PrintError {
        let shown = &self.shown;
        match error {
            IppError::AsyncClientError(e) if e.is_timeout() => PrintError::Unreachable(format!(
                "The printer at {shown} did not answer within {} seconds.",
                REQUEST_TIMEOUT.as_secs()
            )),
            // Built without a TLS backend, the HTTP client refuses https before connecting.
            IppError::AsyncClientError(e)
                if self.client.scheme_str() == Some("https")
                    && root_cause(e).contains("scheme is not http") =>
            {
                PrintError::BadUri(format!(
                    "The printer address {shown} is encrypted (ipps or https), which this \
                     build of Scanline cannot connect to; use the printer's ipp:// address."
                ))
            }
            IppError::AsyncClientError(e) if e.is_decode() || e.is_body() => {
                PrintError::Unreachable(format!(
                    "The printer at {shown} stopped answering part-way: {}.",
                    root_cause(e)
                ))
            }
            IppError::AsyncClientError(e) => PrintError::Unreachable(format!(
                "The printer at {shown} did not answer: {}.",
                root_cause(e)
            )),
            IppError::IoError(e) => PrintError::Unreachable(format!(
                "The printer at {shown} did not answer: {}.",
                root_cause(e)
            )),
            IppError::RequestError(code) => PrintError::Rejected(format!(
                "The printer at {shown} answered with HTTP status {code} instead of an IPP \
                 answer; check the address, including the path after the port."
            )),
            IppError::ParseError(e) => PrintError::Rejected(format!(
                "The printer at {shown} sent an answer Scanline could not read ({e})."
            )),
            other => PrintError::Rejected(format!(
                "The printer at {shown} could not be asked: {}.",
                root_cause(other)
            )),
        }
    }

    fn bad_uri(&self, error: &dyn std::error::Error) -> PrintError {
        PrintError::BadUri(format!("The printer address {:?} is not usable: {error}.", self.shown))
    }

    /// The job state in `attr`, or why it cannot be read.
    fn job_state(&self, attr: &IppAttribute, job_id: i32) -> Result<JobState, PrintError> {
        attr.value().as_enum().and_then(|v| JobState::from_ipp(*v)).ok_or_else(|| {
            PrintError::Rejected(format!(
                "The printer at {} reported a state for job {job_id} that Scanline does not \
                 know ({}).",
                self.shown,
                attr.value()
            ))
        })
    }

    /// A failed Print-Job: `Refused` naming the setting the printer would not accept, or
    /// `Rejected` with the printer's status for anything else.
    fn job_failure(&self, response: &IppRequestResponse, s: &JobSettings) -> PrintError {
        let status = response.header().status_code();
        let refusal = matches!(
            status,
            StatusCode::ClientErrorAttributesOrValuesNotSupported
                | StatusCode::ClientErrorDocumentFormatNotSupported
        );
        if !refusal {
            return self.rejected(response, "take the job");
        }
        let mut names = attribute_names(response.attributes(), DelimiterTag::UnsupportedAttributes);
        if names.is_empty() && status == StatusCode::ClientErrorDocumentFormatNotSupported {
            names.push(IppAttribute::DOCUMENT_FORMAT.to_owned());
        }
        let unsupported = response.attributes().first_of(DelimiterTag::UnsupportedAttributes);
        let mut sentences: Vec<String> = Vec::new();
        for name in &names {
            let value = unsupported
                .and_then(|g| g.get(name))
                .map(|a| a.value().to_string())
                .unwrap_or_default();
            let sentence = refusal_sentence(name, &value, s);
            if !sentences.contains(&sentence) {
                sentences.push(sentence);
            }
        }
        if sentences.is_empty() {
            let message = status_message(response);
            sentences.push(if message.is_empty() {
                "The printer refused one of the job's settings without saying which one.".to_owned()
            } else {
                format!("The printer refused one of the job's settings: {message}.")
            });
        }
        PrintError::Refused(sentences.join(" "))
    }

    /// Any other unsuccessful answer, with its IPP status and the printer's own message.
    fn rejected(&self, response: &IppRequestResponse, what: &str) -> PrintError {
        let code = response.header().operation_or_status;
        let name = status_keyword(response.header().status_code());
        let name = if name.is_empty() { format!("status 0x{code:04x}") } else { name.to_owned() };
        let message = status_message(response);
        PrintError::Rejected(if message.is_empty() {
            format!("The printer at {} would not {what}: {name}.", self.shown)
        } else {
            format!("The printer at {} would not {what}: {name} ({message}).", self.shown)
        })
    }
}

#[cfg(test)]
mod tests;
