//! Reading and writing IPP attributes for the printing client: keywords and requested
//! attributes built, strings and resolutions read back, status codes and printer messages put
//! into the plain words a front-desk worker reads.

use ipp::attribute::{IppAttribute, IppAttributeGroup, IppAttributeName, IppAttributes};
use ipp::model::{DelimiterTag, StatusCode};
use ipp::request::IppRequestResponse;
use ipp::value::IppValue;

use super::{JobSettings, PrintError, UNITS_DPCM, UNITS_DPI};

/// The sentence for one attribute a printer refused, from what Scanline sent.
pub(super) fn refusal_sentence(name: &str, value: &str, s: &JobSettings) -> String {
    match name {
        "sides" if s.duplex => "The printer refused two-sided printing: it prints on one side \
                                only. Turn off two-sided printing in this printer's settings."
            .to_owned(),
        "sides" => "The printer refused one-sided printing: it prints on both sides only. Turn \
                    on two-sided printing in this printer's settings."
            .to_owned(),
        "media" | "media-col" => format!(
            "The printer does not have the card or paper size {} loaded or supported. Choose a \
             size the printer lists, or leave the size empty to use the printer's default.",
            s.media
        ),
        "document-format" => format!(
            "The printer cannot print {} documents. Use a printer that accepts them, or \
             change the document format in this printer's settings.",
            format_name(if s.document_format.is_empty() { value } else { &s.document_format }),
        ),
        "printer-resolution" => format!(
            "The printer does not print at {} dpi. Set the resolution in this printer's \
             settings to one it offers, or to 0 to use the printer's default.",
            s.dpi
        ),
        "ipp-attribute-fidelity" => "The printer will not promise to print exactly as asked \
                                     (ipp-attribute-fidelity), which Scanline needs so that no \
                                     card prints differently from its settings."
            .to_owned(),
        other if value.is_empty() => format!("The printer refused the setting {other}."),
        other => format!("The printer refused the setting {other} = {value}."),
    }
}

/// A keyword attribute, or `Refused` when the value cannot be an IPP keyword at all.
pub(super) fn keyword(name: &str, value: &str, what: &str) -> Result<IppAttribute, PrintError> {
    let refused = |_| {
        PrintError::Refused(format!(
            "The {what} setting {value:?} is not something a printer accepts."
        ))
    };
    let value = IppValue::new_keyword(value).map_err(refused)?;
    IppAttribute::with_name(name, value).map_err(refused)
}

/// `requested-attributes` for a request.
pub(super) fn requested(names: &[&'static str]) -> IppAttribute {
    let values = names.iter().filter_map(|n| IppValue::new_keyword(*n).ok()).collect::<Vec<_>>();
    IppAttribute::new(IppAttributeName::REQUESTED_ATTRIBUTES, IppValue::Array(values))
}

/// `s` cut to at most `max` bytes on a character boundary.
pub(super) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Every string value of attribute `name` in `group`; empty when it is missing.
pub(super) fn strings(group: &IppAttributeGroup, name: &str) -> Vec<String> {
    group
        .get(name)
        .map(|a| a.value().into_iter().filter_map(text).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The text of a string-like value.
pub(super) fn text(value: &IppValue) -> Option<&str> {
    match value {
        IppValue::Keyword(s) | IppValue::NameWithoutLanguage(s) | IppValue::MimeMediaType(s) => {
            Some(s)
        }
        IppValue::NameWithLanguage { name: s, .. } => Some(s),
        IppValue::TextWithoutLanguage(s) | IppValue::TextWithLanguage { text: s, .. } => Some(s),
        IppValue::Uri(s) => Some(s),
        _ => None,
    }
}

/// A resolution that is the same in both directions, in dots per inch.
pub(super) fn square_dpi(value: &IppValue) -> Option<u32> {
    let IppValue::Resolution { cross_feed, feed, units } = *value else { return None };
    if cross_feed != feed || cross_feed <= 0 {
        return None;
    }
    let dots = u32::try_from(cross_feed).ok()?;
    match units {
        UNITS_DPI => Some(dots),
        // 1 inch = 2.54 cm; printers round their dpcm values, so round back.
        UNITS_DPCM => Some((f64::from(dots) * 2.54).round() as u32),
        _ => None,
    }
}

/// The names of the attributes in the first group tagged `tag`.
pub(super) fn attribute_names(attributes: &IppAttributes, tag: DelimiterTag) -> Vec<String> {
    attributes
        .first_of(tag)
        .map(|g| g.attributes().iter().map(|a| a.name().to_string()).collect())
        .unwrap_or_default()
}

/// The printer's `status-message`, or empty.
pub(super) fn status_message(response: &IppRequestResponse) -> String {
    response
        .attributes()
        .first_of(DelimiterTag::OperationAttributes)
        .map(|g| strings(g, IppAttribute::STATUS_MESSAGE).join(" "))
        .unwrap_or_default()
}

/// A document format as people know it.
pub(super) fn format_name(mime: &str) -> &str {
    match mime {
        "application/pdf" => "PDF",
        "image/png" => "PNG",
        "image/jpeg" => "JPEG",
        "application/postscript" => "PostScript",
        "image/pwg-raster" => "PWG raster",
        "image/urf" => "Apple raster",
        other => other,
    }
}

/// The RFC 8011 keyword for an IPP status; empty for one the `ipp` crate does not know.
pub(super) fn status_keyword(status: StatusCode) -> &'static str {
    match status {
        StatusCode::SuccessfulOk => "successful-ok",
        StatusCode::SuccessfulOkIgnoredOrSubstitutedAttributes => {
            "successful-ok-ignored-or-substituted-attributes"
        }
        StatusCode::SuccessfulOkConflictingAttributes => "successful-ok-conflicting-attributes",
        StatusCode::ClientErrorBadRequest => "client-error-bad-request",
        StatusCode::ClientErrorForbidden => "client-error-forbidden",
        StatusCode::ClientErrorNotAuthenticated => "client-error-not-authenticated",
        StatusCode::ClientErrorNotAuthorized => "client-error-not-authorized",
        StatusCode::ClientErrorNotPossible => "client-error-not-possible",
        StatusCode::ClientErrorTimeout => "client-error-timeout",
        StatusCode::ClientErrorNotFound => "client-error-not-found",
        StatusCode::ClientErrorGone => "client-error-gone",
        StatusCode::ClientErrorRequestEntityTooLong => "client-error-request-entity-too-large",
        StatusCode::ClientErrorRequestValueTooLong => "client-error-request-value-too-long",
        StatusCode::ClientErrorDocumentFormatNotSupported => {
            "client-error-document-format-not-supported"
        }
        StatusCode::ClientErrorAttributesOrValuesNotSupported => {
            "client-error-attributes-or-values-not-supported"
        }
        StatusCode::ClientErrorUriSchemeNotSupported => "client-error-uri-scheme-not-supported",
        StatusCode::ClientErrorCharsetNotSupported => "client-error-charset-not-supported",
        StatusCode::ClientErrorConflictingAttributes => "client-error-conflicting-attributes",
        StatusCode::ClientErrorCompressionNotSupported => "client-error-compression-not-supported",
        StatusCode::ClientErrorCompressionError => "client-error-compression-error",
        StatusCode::ClientErrorDocumentFormatError => "client-error-document-format-error",
        StatusCode::ClientErrorDocumentAccessError => "client-error-document-access-error",
        StatusCode::ServerErrorInternalError => "server-error-internal-error",
        StatusCode::ServerErrorOperationNotSupported => "server-error-operation-not-supported",
        StatusCode::ServerErrorServiceUnavailable => "server-error-service-unavailable",
        StatusCode::ServerErrorVersionNotSupported => "server-error-version-not-supported",
        StatusCode::ServerErrorDeviceError => "server-error-device-error",
        StatusCode::ServerErrorTemporaryError => "server-error-temporary-error",
        StatusCode::ServerErrorNotAcceptingJobs => "server-error-not-accepting-jobs",
        StatusCode::ServerErrorBusy => "server-error-busy",
        StatusCode::ServerErrorJobCanceled => "server-error-job-canceled",
        StatusCode::ServerErrorMultipleDocumentJobsNotSupported => {
            "server-error-multiple-document-jobs-not-supported"
        }
        StatusCode::UnknownStatusCode => "",
    }
}

/// The innermost message of an error chain: reqwest's own message ("error sending request")
/// says less than its cause ("Connection refused").
pub(super) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}
