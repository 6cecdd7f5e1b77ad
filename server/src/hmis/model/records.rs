//! The rows of the HUD HMIS CSV files Scanline writes, FY2026, one struct a file: the fields in
//! HUD's column order with HUD's spelling (so `csv::Writer::serialize` writes the header and
//! each row in order), every value as the text that goes in the file. The same structs read a
//! row back by column name, so a record kept as the HMIS sent it can be written out again
//! unchanged; a column missing from an older file is empty. FY2024 spelt `HispanicLatinao`
//! as `HispanicLatinaeo`, read here too.

use serde::{Deserialize, Serialize};

/// The column names of a file's record, in HUD's order and spelling: what serde names the
/// fields, read back from a header written for an empty record.
pub fn columns<T: Serialize + Default>() -> Vec<String> {
    let mut probe = csv::Writer::from_writer(Vec::new());
    probe.serialize(T::default()).expect("writing to memory");
    let probe = probe.into_inner().expect("writing to memory");
    let header = probe.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut names = csv::ReaderBuilder::new().has_headers(false).from_reader(header);
    let names = names.records().next().and_then(Result::ok).unwrap_or_default();
    names.iter().map(str::to_owned).collect()
}

/// Columns of HUD type D (a date, `yyyy-mm-dd`) in the files Scanline reads.
pub const DATE_COLUMNS: [&str; 14] = [
    "DateProvided",
    "FAStartDate",
    "FAEndDate",
    "DOB",
    "EntryDate",
    "DateToStreetESSH",
    "DateOfEngagement",
    "MoveInDate",
    "DateOfPATHStatus",
    "DateOfBCPStatus",
    "ExitDate",
    "AftercareDate",
    "OperatingStartDate",
    "OperatingEndDate",
];

/// Columns of HUD type T (a local date and time, `yyyy-mm-dd hh:mm:ss`) in the files Scanline
/// reads.
pub const DATETIME_COLUMNS: [&str; 3] = ["DateCreated", "DateUpdated", "DateDeleted"];

/// A row of Export.csv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportRecord {
    #[serde(rename = "ExportID")]
    pub export_id: String,
    #[serde(rename = "SourceType")]
    pub source_type: String,
    #[serde(rename = "SourceID")]
    pub source_id: String,
    #[serde(rename = "SourceName")]
    pub source_name: String,
    #[serde(rename = "SourceContactFirst")]
    pub source_contact_first: String,
    #[serde(rename = "SourceContactLast")]
    pub source_contact_last: String,
    #[serde(rename = "SourceContactPhone")]
    pub source_contact_phone: String,
    #[serde(rename = "SourceContactExtension")]
    pub source_contact_extension: String,
    #[serde(rename = "SourceContactEmail")]
    pub source_contact_email: String,
    #[serde(rename = "ExportDate")]
    pub export_date: String,
    #[serde(rename = "ExportStartDate")]
    pub export_start_date: String,
    #[serde(rename = "ExportEndDate")]
    pub export_end_date: String,
    #[serde(rename = "SoftwareName")]
    pub software_name: String,
    #[serde(rename = "SoftwareVersion")]
    pub software_version: String,
    #[serde(rename = "CSVVersion")]
    pub csv_version: String,
    #[serde(rename = "ExportPeriodType")]
    pub export_period_type: String,
    #[serde(rename = "ExportDirective")]
    pub export_directive: String,
    #[serde(rename = "HashStatus")]
    pub hash_status: String,
    #[serde(rename = "ImplementationID")]
    pub implementation_id: String,
}

/// A row of Organization.csv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrganizationRecord {
    #[serde(rename = "OrganizationID")]
    pub organization_id: String,
    #[serde(rename = "OrganizationName")]
    pub organization_name: String,
    #[serde(rename = "VictimServiceProvider")]
    pub victim_service_provider: String,
    #[serde(rename = "OrganizationCommonName")]
    pub organization_common_name: String,
    #[serde(rename = "DateCreated")]
    pub date_created: String,
    #[serde(rename = "DateUpdated")]
    pub date_updated: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    #[serde(rename = "DateDeleted")]
    pub date_deleted: String,
    #[serde(rename = "ExportID")]
    pub export_id: String,
}

/// A row of User.csv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserRecord {
    #[serde(rename = "UserID")]
    pub user_id: String,
    #[serde(rename = "UserFirstName")]
    pub user_first_name: String,
    #[serde(rename = "UserLastName")]
    pub user_last_name: String,
    #[serde(rename = "UserPhone")]
    pub user_phone: String,
    #[serde(rename = "UserExtension")]
    pub user_extension: String,
    #[serde(rename = "UserEmail")]
    pub user_email: String,
    #[serde(rename = "DateCreated")]
    pub date_created: String,
    #[serde(rename = "DateUpdated")]
    pub date_updated: String,
    #[serde(rename = "DateDeleted")]
    pub date_deleted: String,
    #[serde(rename = "ExportID")]
    pub export_id: String,
}

/// A row of Project.csv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectRecord {
    #[serde(rename = "ProjectID")]
    pub project_id: String,
    #[serde(rename = "OrganizationID")]
    pub organization_id: String,
    #[serde(rename = "ProjectName")]
    pub project_name: String,
    #[serde(rename = "ProjectCommonName")]
    pub project_common_name: String,
    #[serde(rename = "OperatingStartDate")]
    pub operating_start_date: String,
    #[serde(rename = "OperatingEndDate")]
    pub operating_end_date: String,
    #[serde(rename = "ContinuumProject")]
    pub continuum_project: String,
    #[serde(rename = "ProjectType")]
    pub project_type: String,
    #[serde(rename = "HousingType")]
    pub housing_type: String,
    #[serde(rename = "RRHSubType")]
    pub rrh_sub_type: String,
    #[serde(rename = "ResidentialAffiliation")]
    pub residential_affiliation: String,
    #[serde(rename = "TargetPopulation")]
    pub target_population: String,
    #[serde(rename = "HOPWAMedAssistedLivingFac")]
    pub hopwa_med_assisted_living_fac: String,
    #[serde(rename = "PITCount")]
    pub pit_count: String,
    #[serde(rename = "DateCreated")]
    pub date_created: String,
    #[serde(rename = "DateUpdated")]
    pub date_updated: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    #[serde(rename = "DateDeleted")]
    pub date_deleted: String,
    #[serde(rename = "ExportID")]
    pub export_id: String,
}

/// A row of Client.csv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientRecord {
    #[serde(rename = "PersonalID")]
    pub personal_id: String,
    #[serde(rename = "FirstName")]
    pub first_name: String,
    #[serde(rename = "MiddleName")]
    pub middle_name: String,
    #[serde(rename = "LastName")]
    pub last_name: String,
    #[serde(rename = "NameSuffix")]
    pub name_suffix: String,
    #[serde(rename = "NameDataQuality")]
    pub name_data_quality: String,
    #[serde(rename = "SSN")]
    pub ssn: String,
    #[serde(rename = "SSNDataQuality")]
    pub ssn_data_quality: String,
    #[serde(rename = "DOB")]
    pub dob: String,
    #[serde(rename = "DOBDataQuality")]
    pub dob_data_quality: String,
    #[serde(rename = "Sex")]
    pub sex: String,
    #[serde(rename = "AmIndAKNative")]
    pub am_ind_ak_native: String,
    #[serde(rename = "Asian")]
    pub asian: String,
    #[serde(rename = "BlackAfAmerican")]
    pub black_af_american: String,
    #[serde(rename = "HispanicLatinao", alias = "HispanicLatinaeo")]
    pub hispanic_latinao: String,
    #[serde(rename = "MidEastNAfrican")]
    pub mid_east_n_african: String,
    #[serde(rename = "NativeHIPacific")]
    pub native_hi_pacific: String,
    #[serde(rename = "White")]
    pub white: String,
    #[serde(rename = "RaceNone")]
    pub race_none: String,
    #[serde(rename = "AdditionalRaceEthnicity")]
    pub additional_race_ethnicity: String,
    #[serde(rename = "VeteranStatus")]
    pub veteran_status: String,
    #[serde(rename = "YearEnteredService")]
    pub year_entered_service: String,
    #[serde(rename = "YearSeparated")]
    pub year_separated: String,
    #[serde(rename = "WorldWarII")]
    pub world_war_ii: String,
    #[serde(rename = "KoreanWar")]
    pub korean_war: String,
    #[serde(rename = "VietnamWar")]
    pub vietnam_war: String,
    #[serde(rename = "DesertStorm")]
    pub desert_storm: String,
    #[serde(rename = "AfghanistanOEF")]
    pub afghanistan_oef: String,
    #[serde(rename = "IraqOIF")]
    pub iraq_oif: String,
    #[serde(rename = "IraqOND")]
    pub iraq_ond: String,
    #[serde(rename = "OtherTheater")]
    pub other_theater: String,
    #[serde(rename = "MilitaryBranch")]
    pub military_branch: String,
    #[serde(rename = "DischargeStatus")]
    pub discharge_status: String,
    #[serde(rename = "DateCreated")]
    pub date_created: String,
    #[serde(rename = "DateUpdated")]
    pub date_updated: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    #[serde(rename = "DateDeleted")]
    pub date_deleted: String,
    #[serde(rename = "ExportID")]
    pub export_id: String,
}

/// A row of Enrollment.csv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnrollmentRecord {
    #[serde(rename = "EnrollmentID")]
    pub enrollment_id: String,
    #[serde(rename = "PersonalID")]
    pub personal_id: String,
    #[serde(rename = "ProjectID")]
    pub project_id: String,
    #[serde(rename = "EntryDate")]
    pub entry_date: String,
    #[serde(rename = "HouseholdID")]
    pub household_id: String,
    #[serde(rename = "RelationshipToHoH")]
    pub relationship_to_hoh: String,
    #[serde(rename = "EnrollmentCoC")]
    pub enrollment_coc: String,
    #[serde(rename = "LivingSituation")]
    pub living_situation: String,
    #[serde(rename = "RentalSubsidyType")]
    pub rental_subsidy_type: String,
    #[serde(rename = "LengthOfStay")]
    pub length_of_stay: String,
    #[serde(rename = "LOSUnderThreshold")]
    pub los_under_threshold: String,
    #[serde(rename = "PreviousStreetESSH")]
    pub previous_street_essh: String,
    #[serde(rename = "DateToStreetESSH")]
    pub date_to_street_essh: String,
    #[serde(rename = "TimesHomelessPastThreeYears")]
    pub times_homeless_past_three_years: String,
    #[serde(rename = "MonthsHomelessPastThreeYears")]
    pub months_homeless_past_three_years: String,
    #[serde(rename = "DisablingCondition")]
    pub disabling_condition: String,
    #[serde(rename = "DateOfEngagement")]
    pub date_of_engagement: String,
    #[serde(rename = "MoveInDate")]
    pub move_in_date: String,
    #[serde(rename = "DateOfPATHStatus")]
    pub date_of_path_status: String,
    #[serde(rename = "ClientEnrolledInPATH")]
    pub client_enrolled_in_path: String,
    #[serde(rename = "ReasonNotEnrolled")]
    pub reason_not_enrolled: String,
    #[serde(rename = "PercentAMI")]
    pub percent_ami: String,
    #[serde(rename = "ReferralSource")]
    pub referral_source: String,
    #[serde(rename = "CountOutreachReferralApproaches")]
    pub count_outreach_referral_approaches: String,
    #[serde(rename = "DateOfBCPStatus")]
    pub date_of_bcp_status: String,
    #[serde(rename = "EligibleForRHY")]
    pub eligible_for_rhy: String,
    #[serde(rename = "ReasonNoServices")]
    pub reason_no_services: String,
    #[serde(rename = "RunawayYouth")]
    pub runaway_youth: String,
    #[serde(rename = "FormerWardChildWelfare")]
    pub former_ward_child_welfare: String,
    #[serde(rename = "ChildWelfareYears")]
    pub child_welfare_years: String,
    #[serde(rename = "ChildWelfareMonths")]
    pub child_welfare_months: String,
    #[serde(rename = "FormerWardJuvenileJustice")]
    pub former_ward_juvenile_justice: String,
    #[serde(rename = "JuvenileJusticeYears")]
    pub juvenile_justice_years: String,
    #[serde(rename = "JuvenileJusticeMonths")]
    pub juvenile_justice_months: String,
    #[serde(rename = "UnemploymentFam")]
    pub unemployment_fam: String,
    #[serde(rename = "MentalHealthDisorderFam")]
    pub mental_health_disorder_fam: String,
    #[serde(rename = "PhysicalDisabilityFam")]
    pub physical_disability_fam: String,
    #[serde(rename = "AlcoholDrugUseDisorderFam")]
    pub alcohol_drug_use_disorder_fam: String,
    #[serde(rename = "InsufficientIncome")]
    pub insufficient_income: String,
    #[serde(rename = "IncarceratedParent")]
    pub incarcerated_parent: String,
    #[serde(rename = "VAMCStation")]
    pub vamc_station: String,
    #[serde(rename = "TargetScreenReqd")]
    pub target_screen_reqd: String,
    #[serde(rename = "TimeToHousingLoss")]
    pub time_to_housing_loss: String,
    #[serde(rename = "AnnualPercentAMI")]
    pub annual_percent_ami: String,
    #[serde(rename = "LiteralHomelessHistory")]
    pub literal_homeless_history: String,
    #[serde(rename = "ClientLeaseholder")]
    pub client_leaseholder: String,
    #[serde(rename = "HOHLeaseholder")]
    pub hoh_leaseholder: String,
    #[serde(rename = "SubsidyAtRisk")]
    pub subsidy_at_risk: String,
    #[serde(rename = "EvictionHistory")]
    pub eviction_history: String,
    #[serde(rename = "CriminalRecord")]
    pub criminal_record: String,
    #[serde(rename = "IncarceratedAdult")]
    pub incarcerated_adult: String,
    #[serde(rename = "PrisonDischarge")]
    pub prison_discharge: String,
    #[serde(rename = "SexOffender")]
    pub sex_offender: String,
    #[serde(rename = "DisabledHoH")]
    pub disabled_hoh: String,
    #[serde(rename = "CurrentPregnant")]
    pub current_pregnant: String,
    #[serde(rename = "SingleParent")]
    pub single_parent: String,
    #[serde(rename = "DependentUnder6")]
    pub dependent_under6: String,
    #[serde(rename = "HH5Plus")]
    pub hh5_plus: String,
    #[serde(rename = "CoCPrioritized")]
    pub coc_prioritized: String,
    #[serde(rename = "HPScreeningScore")]
    pub hp_screening_score: String,
    #[serde(rename = "ThresholdScore")]
    pub threshold_score: String,
    #[serde(rename = "MentalHealthConsultation")]
    pub mental_health_consultation: String,
    #[serde(rename = "DateCreated")]
    pub date_created: String,
    #[serde(rename = "DateUpdated")]
    pub date_updated: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    #[serde(rename = "DateDeleted")]
    pub date_deleted: String,
    #[serde(rename = "ExportID")]
    pub export_id: String,
}

/// A row of Exit.csv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExitRecord {
    #[serde(rename = "ExitID")]
    pub exit_id: String,
    #[serde(rename = "EnrollmentID")]
    pub enrollment_id: String,
    #[serde(rename = "PersonalID")]
    pub personal_id: String,
    #[serde(rename = "ExitDate")]
    pub exit_date: String,
    #[serde(rename = "Destination")]
    pub destination: String,
    #[serde(rename = "DestinationSubsidyType")]
    pub destination_subsidy_type: String,
    #[serde(rename = "OtherDestination")]
    pub other_destination: String,
    #[serde(rename = "HousingAssessment")]
    pub housing_assessment: String,
    #[serde(rename = "SubsidyInformation")]
    pub subsidy_information: String,
    #[serde(rename = "ProjectCompletionStatus")]
    pub project_completion_status: String,
    #[serde(rename = "EarlyExitReason")]
    pub early_exit_reason: String,
    #[serde(rename = "ExchangeForSex")]
    pub exchange_for_sex: String,
    #[serde(rename = "ExchangeForSexPastThreeMonths")]
    pub exchange_for_sex_past_three_months: String,
    #[serde(rename = "CountOfExchangeForSex")]
    pub count_of_exchange_for_sex: String,
    #[serde(rename = "AskedOrForcedToExchangeForSex")]
    pub asked_or_forced_to_exchange_for_sex: String,
    #[serde(rename = "AskedOrForcedToExchangeForSexPastThreeMonths")]
    pub asked_or_forced_to_exchange_for_sex_past_three_months: String,
    #[serde(rename = "WorkplaceViolenceThreats", alias = "WorkPlaceViolenceThreats")]
    pub work_place_violence_threats: String,
    #[serde(rename = "WorkplacePromiseDifference")]
    pub workplace_promise_difference: String,
    #[serde(rename = "CoercedToContinueWork")]
    pub coerced_to_continue_work: String,
    #[serde(rename = "LaborExploitPastThreeMonths")]
    pub labor_exploit_past_three_months: String,
    #[serde(rename = "CounselingReceived")]
    pub counseling_received: String,
    #[serde(rename = "IndividualCounseling")]
    pub individual_counseling: String,
    #[serde(rename = "FamilyCounseling")]
    pub family_counseling: String,
    #[serde(rename = "GroupCounseling")]
    pub group_counseling: String,
    #[serde(rename = "SessionCountAtExit")]
    pub session_count_at_exit: String,
    #[serde(rename = "PostExitCounselingPlan")]
    pub post_exit_counseling_plan: String,
    #[serde(rename = "SessionsInPlan")]
    pub sessions_in_plan: String,
    #[serde(rename = "DestinationSafeClient")]
    pub destination_safe_client: String,
    #[serde(rename = "DestinationSafeWorker")]
    pub destination_safe_worker: String,
    #[serde(rename = "PosAdultConnections")]
    pub pos_adult_connections: String,
    #[serde(rename = "PosPeerConnections")]
    pub pos_peer_connections: String,
    #[serde(rename = "PosCommunityConnections")]
    pub pos_community_connections: String,
    #[serde(rename = "AftercareDate")]
    pub aftercare_date: String,
    #[serde(rename = "AftercareProvided")]
    pub aftercare_provided: String,
    #[serde(rename = "EmailSocialMedia")]
    pub email_social_media: String,
    #[serde(rename = "Telephone")]
    pub telephone: String,
    #[serde(rename = "InPersonIndividual")]
    pub in_person_individual: String,
    #[serde(rename = "InPersonGroup")]
    pub in_person_group: String,
    #[serde(rename = "CMExitReason")]
    pub cm_exit_reason: String,
    #[serde(rename = "DateCreated")]
    pub date_created: String,
    #[serde(rename = "DateUpdated")]
    pub date_updated: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    #[serde(rename = "DateDeleted")]
    pub date_deleted: String,
    #[serde(rename = "ExportID")]
    pub export_id: String,
}

/// A row of Services.csv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServicesRecord {
    #[serde(rename = "ServicesID")]
    pub services_id: String,
    #[serde(rename = "EnrollmentID")]
    pub enrollment_id: String,
    #[serde(rename = "PersonalID")]
    pub personal_id: String,
    #[serde(rename = "DateProvided")]
    pub date_provided: String,
    #[serde(rename = "RecordType")]
    pub record_type: String,
    #[serde(rename = "TypeProvided")]
    pub type_provided: String,
    #[serde(rename = "OtherTypeProvided")]
    pub other_type_provided: String,
    #[serde(rename = "MovingOnOtherType")]
    pub moving_on_other_type: String,
    #[serde(rename = "SubTypeProvided")]
    pub sub_type_provided: String,
    #[serde(rename = "FAAmount")]
    pub fa_amount: String,
    #[serde(rename = "FAStartDate")]
    pub fa_start_date: String,
    #[serde(rename = "FAEndDate")]
    pub fa_end_date: String,
    #[serde(rename = "ReferralOutcome")]
    pub referral_outcome: String,
    #[serde(rename = "DateCreated")]
    pub date_created: String,
    #[serde(rename = "DateUpdated")]
    pub date_updated: String,
    #[serde(rename = "UserID")]
    pub user_id: String,
    #[serde(rename = "DateDeleted")]
    pub date_deleted: String,
    #[serde(rename = "ExportID")]
    pub export_id: String,
}
