//! HUD HMIS code lists (FY2026) that Scanline checks on import and writes on export, as
//! (code, description) pairs by list, with the TypeProvided list of each RecordType.

/// A HUD code list: its number in the data standards, its name and its values.
pub struct CodeList {
    pub number: &'static str,
    pub name: &'static str,
    pub values: &'static [(i32, &'static str)],
}

impl CodeList {
    /// Whether a value is on the list.
    pub fn contains(&self, v: i32) -> bool {
        self.values.iter().any(|(k, _)| *k == v)
    }

    /// The description of a value.
    pub fn describe(&self, v: i32) -> Option<&'static str> {
        self.values.iter().find(|(k, _)| *k == v).map(|(_, d)| *d)
    }
}

pub const RECORD_TYPE: CodeList = CodeList {
    number: "1.4",
    name: "RecordType",
    values: &[
        (141, "PATH Service"),
        (142, "RHY Service Connections"),
        (143, "HOPWA Service"),
        (144, "SSVF Service"),
        (151, "HOPWA Financial Assistance"),
        (152, "SSVF Financial Assistance"),
        (161, "PATH Referral"),
        (200, "Bed Night"),
        (210, "HUD-VASH OTH Voucher Tracking"),
        (300, "Moving On Assistance"),
    ],
};

pub const HASH_STATUS: CodeList = CodeList {
    number: "1.5",
    name: "HashStatus",
    values: &[(1, "Unhashed"), (2, "SHA-1 RHY"), (3, "Hashed - other"), (4, "SHA-256 (RHY)")],
};

pub const NO_YES_MISSING: CodeList = CodeList {
    number: "1.7",
    name: "NoYesMissing",
    values: &[(0, "No"), (1, "Yes"), (99, "Data not collected")],
};

pub const NO_YES_REASONS: CodeList = CodeList {
    number: "1.8",
    name: "NoYesReasonsForMissingData",
    values: &[
        (0, "No"),
        (1, "Yes"),
        (8, "Client doesn't know"),
        (9, "Client prefers not to answer"),
        (99, "Data not collected"),
    ],
};

pub const PROJECT_TYPE: CodeList = CodeList {
    number: "2.02.6",
    name: "ProjectType",
    values: &[
        (0, "Emergency Shelter - Entry Exit"),
        (1, "Emergency Shelter - Night-by-Night"),
        (2, "Transitional Housing"),
        (3, "PH - Permanent Supportive Housing"),
        (4, "Street Outreach"),
        (6, "Services Only"),
        (8, "Safe Haven"),
        (9, "PH - Housing Only"),
        (7, "Other"),
        (10, "PH - Housing with Services (no disability required for entry)"),
        (11, "Day Shelter"),
        (12, "Homelessness Prevention"),
        (13, "PH - Rapid Re-Housing"),
        (14, "Coordinated Entry"),
    ],
};

pub const NAME_DATA_QUALITY: CodeList = CodeList {
    number: "3.01.5",
    name: "NameDataQuality",
    values: &[
        (1, "Full name reported"),
        (2, "Partial, street name, or code name reported"),
        (8, "Client doesn't know"),
        (9, "Client prefers not to answer"),
        (99, "Data not collected"),
    ],
};

pub const SSN_DATA_QUALITY: CodeList = CodeList {
    number: "3.02.2",
    name: "SSNDataQuality",
    values: &[
        (1, "Full SSN reported"),
        (2, "Approximate or partial SSN reported"),
        (8, "Client doesn't know"),
        (9, "Client prefers not to answer"),
        (99, "Data not collected"),
    ],
};

pub const DOB_DATA_QUALITY: CodeList = CodeList {
    number: "3.03.2",
    name: "DOBDataQuality",
    values: &[
        (1, "Full DOB reported"),
        (2, "Approximate or partial DOB reported"),
        (8, "Client doesn't know"),
        (9, "Client prefers not to answer"),
        (99, "Data not collected"),
    ],
};

pub const DESTINATION: CodeList = CodeList {
    number: "3.12",
    name: "Destination",
    values: &[
        (8, "Client doesn't know"),
        (9, "Client prefers not to answer"),
        (17, "Other"),
        (24, "Deceased"),
        (30, "No exit interview completed"),
        (99, "Data not collected"),
        (
            101,
            "Emergency shelter, including hotel or motel paid for with emergency shelter voucher, or Host Home shelter",
        ),
        (
            116,
            "Place not meant for habitation (e.g., a vehicle, an abandoned building, bus/train/subway station/airport or anywhere outside)",
        ),
        (118, "Safe Haven"),
        (204, "Psychiatric hospital or other psychiatric facility"),
        (205, "Substance abuse treatment facility or detox center"),
        (206, "Hospital or other residential non-psychiatric medical facility"),
        (207, "Jail, prison or juvenile detention facility"),
        (215, "Foster care home or foster care group home"),
        (225, "Long-term care facility or nursing home"),
        (302, "Transitional housing for homeless persons (including homeless youth)"),
        (312, "Staying or living with family, temporary tenure (e.g. room, apartment or house)"),
        (313, "Staying or living with friends, temporary tenure (e.g. room apartment or house)"),
        (314, "Hotel or motel paid for without emergency shelter voucher"),
        (327, "Moved from one HOPWA funded project to HOPWA TH"),
        (329, "Residential project or halfway house with no homeless criteria"),
        (332, "Host Home (non-crisis)"),
        (410, "Rental by client, no ongoing housing subsidy"),
        (411, "Owned by client, no ongoing housing subsidy"),
        (421, "Owned by client, with ongoing housing subsidy"),
        (422, "Staying or living with family, permanent tenure"),
        (423, "Staying or living with friends, permanent tenure"),
        (426, "Moved from one HOPWA funded project to HOPWA PH"),
        (435, "Rental by client, with ongoing housing subsidy"),
    ],
};

pub const RELATIONSHIP_TO_HOH: CodeList = CodeList {
    number: "3.15.1",
    name: "RelationshipToHoH",
    values: &[
        (1, "Self (head of household)"),
        (2, "Child"),
        (3, "Spouse or partner"),
        (4, "Other relative"),
        (5, "Unrelated household member"),
        (99, "Data not collected"),
    ],
};

pub const SEX: CodeList = CodeList {
    number: "4.21",
    name: "Sex",
    values: &[
        (0, "Female"),
        (1, "Male"),
        (8, "Client doesn't know"),
        (9, "Client prefers not to answer"),
        (99, "Data not collected"),
    ],
};

pub const PATH_SERVICES: CodeList = CodeList {
    number: "P1.2",
    name: "PATHServices",
    values: &[
        (1, "Re-engagement"),
        (2, "Screening"),
        (3, "Habilitation/rehabilitation"),
        (4, "Community mental health"),
        (5, "Substance use treatment"),
        (6, "Case management"),
        (7, "Residential supportive services"),
        (8, "Housing minor renovation"),
        (9, "Housing moving assistance"),
        (10, "Housing eligibility determination"),
        (11, "Security deposits"),
        (12, "One-time rent for eviction prevention"),
        (14, "Clinical assessment"),
    ],
};

pub const RHY_SERVICES: CodeList = CodeList {
    number: "R14.2",
    name: "RHYServices",
    values: &[
        (2, "Community service/service learning (CSL)"),
        (5, "Education"),
        (6, "Employment and training services"),
        (7, "Criminal justice /legal services"),
        (8, "Life skills training"),
        (10, "Parenting education for youth with children"),
        (12, "Post-natal care for client (person who gave birth)"),
        (13, "Pre-natal care"),
        (14, "Health/medical care"),
        (17, "Substance use disorder treatment"),
        (18, "Substance use disorder/Prevention Services"),
        (26, "Home-based Services"),
        (27, "Post-natal newborn care (wellness exams; immunizations)"),
        (28, "STD Testing"),
        (29, "Street-based Services"),
    ],
};

pub const HOPWA_SERVICES: CodeList = CodeList {
    number: "W1.2",
    name: "HOPWAServices",
    values: &[
        (1, "Adult day care and personal assistance"),
        (2, "Case management"),
        (3, "Child care"),
        (4, "Criminal justice/legal services"),
        (5, "Education"),
        (6, "Employment and training services"),
        (7, "Food/meals/nutritional services"),
        (8, "Health/medical care"),
        (9, "Life skills training"),
        (10, "Mental health care/counseling"),
        (11, "Outreach and/or engagement"),
        (12, "Substance use services/treatment"),
        (13, "Transportation"),
        (14, "Other HOPWA funded service"),
    ],
};

pub const SSVF_SERVICES: CodeList = CodeList {
    number: "V2.2",
    name: "SSVFServices",
    values: &[
        (1, "Outreach services"),
        (2, "Case management services"),
        (3, "Assistance obtaining VA benefits"),
        (4, "Assistance obtaining/coordinating other public benefits"),
        (5, "Direct provision of other public benefits"),
        (6, "Other (non-TFA) supportive service approved by VA"),
        (7, "Shallow Subsidy"),
        (8, "Returning Home"),
        (9, "Rapid Resolution"),
        (10, "Healthcare Navigation"),
    ],
};

pub const HOPWA_FINANCIAL_ASSISTANCE: CodeList = CodeList {
    number: "V2.3",
    name: "HOPWAFinancialAssistance",
    values: &[
        (1, "Rental assistance"),
        (2, "Security deposits"),
        (3, "Utility deposits"),
        (4, "Utility payments"),
        (7, "Mortgage assistance"),
    ],
};

pub const SSVF_FINANCIAL_ASSISTANCE: CodeList = CodeList {
    number: "V3.3",
    name: "SSVFFinancialAssistance",
    values: &[
        (1, "Rental assistance"),
        (2, "Security deposit"),
        (3, "Utility deposit"),
        (4, "Utility fee payment assistance"),
        (5, "Moving costs"),
        (8, "Transportation services: tokens/vouchers"),
        (9, "Transportation services: vehicle repair/maintenance"),
        (10, "Child care"),
        (12, "General housing stability assistance"),
        (14, "Emergency housing assistance"),
        (15, "Shallow Subsidy - Financial Assistance"),
        (16, "Food Assistance"),
        (17, "Landlord Incentive"),
        (18, "Tenant Incentive"),
    ],
};

pub const PATH_REFERRAL: CodeList = CodeList {
    number: "P2.2",
    name: "PATHReferral",
    values: &[
        (1, "Community mental health"),
        (2, "Substance use treatment"),
        (3, "Primary health/dental care"),
        (4, "Job training"),
        (5, "Educational services"),
        (6, "Housing services"),
        (7, "Permanent housing"),
        (8, "Income assistance"),
        (9, "Employment assistance"),
        (10, "Medical insurance"),
        (11, "Temporary housing"),
    ],
};

pub const BED_NIGHT: CodeList =
    CodeList { number: "4.14", name: "BedNight", values: &[(200, "Bed Night")] };

pub const VOUCHER_TRACKING: CodeList = CodeList {
    number: "V8.1",
    name: "VoucherTracking",
    values: &[
        (1, "Referral package forwarded to PHA"),
        (2, "Voucher denied by PHA"),
        (3, "Voucher issued by PHA"),
        (4, "Voucher revoked or expired"),
        (5, "Voucher in use - veteran moved into housing"),
        (6, "Voucher was ported locally"),
        (7, "Voucher was administratively absorbed by new PHA"),
        (8, "Voucher was converted to Housing Choice Voucher"),
        (9, "Veteran exited - voucher was returned"),
        (10, "Veteran exited - family maintained the voucher"),
        (11, "Veteran exited - prior to ever receiving a voucher"),
        (12, "Other"),
    ],
};

pub const MOVING_ON_ASSISTANCE: CodeList = CodeList {
    number: "C2.2",
    name: "MovingOnAssistance",
    values: &[
        (1, "Subsidized housing application assistance"),
        (2, "Financial assistance for Moving On (e.g., security deposit, moving expenses)"),
        (
            3,
            "Non-financial assistance for Moving On (e.g., housing navigation, transition support)",
        ),
        (4, "Housing referral/placement"),
        (5, "Other"),
    ],
};

/// The TypeProvided list that goes with a RecordType (list 1.4).
pub fn type_provided_list(record_type: i32) -> Option<&'static CodeList> {
    match record_type {
        141 => Some(&PATH_SERVICES),
        142 => Some(&RHY_SERVICES),
        143 => Some(&HOPWA_SERVICES),
        144 => Some(&SSVF_SERVICES),
        151 => Some(&HOPWA_FINANCIAL_ASSISTANCE),
        152 => Some(&SSVF_FINANCIAL_ASSISTANCE),
        161 => Some(&PATH_REFERRAL),
        200 => Some(&BED_NIGHT),
        210 => Some(&VOUCHER_TRACKING),
        300 => Some(&MOVING_ON_ASSISTANCE),
        _ => None,
    }
}
