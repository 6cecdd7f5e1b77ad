//! HUD HMIS CSV FY2026 column lists, in HUD's order and spelling, for the files Scanline
//! writes. Import matches columns by name and ignores order.

pub const EXPORT: &[&str] = &[
    "ExportID", "SourceType", "SourceID", "SourceName", "SourceContactFirst", "SourceContactLast",
    "SourceContactPhone", "SourceContactExtension", "SourceContactEmail", "ExportDate",
    "ExportStartDate", "ExportEndDate", "SoftwareName", "SoftwareVersion", "CSVVersion",
    "ExportPeriodType", "ExportDirective", "HashStatus", "ImplementationID",
];

pub const ORGANIZATION: &[&str] = &[
    "OrganizationID", "OrganizationName", "VictimServiceProvider", "OrganizationCommonName",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
];

pub const USER: &[&str] = &[
    "UserID", "UserFirstName", "UserLastName", "UserPhone", "UserExtension", "UserEmail",
    "DateCreated", "DateUpdated", "DateDeleted", "ExportID",
];

pub const PROJECT: &[&str] = &[
    "ProjectID", "OrganizationID", "ProjectName", "ProjectCommonName", "OperatingStartDate",
    "OperatingEndDate", "ContinuumProject", "ProjectType", "HousingType", "RRHSubType",
    "ResidentialAffiliation", "TargetPopulation", "HOPWAMedAssistedLivingFac", "PITCount",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
];

pub const CLIENT: &[&str] = &[
    "PersonalID", "FirstName", "MiddleName", "LastName", "NameSuffix", "NameDataQuality", "SSN",
    "SSNDataQuality", "DOB", "DOBDataQuality", "Sex", "AmIndAKNative", "Asian", "BlackAfAmerican",
    "HispanicLatinao", "MidEastNAfrican", "NativeHIPacific", "White", "RaceNone",
    "AdditionalRaceEthnicity", "VeteranStatus", "YearEnteredService", "YearSeparated",
    "WorldWarII", "KoreanWar", "VietnamWar", "DesertStorm", "AfghanistanOEF", "IraqOIF", "IraqOND",
    "OtherTheater", "MilitaryBranch", "DischargeStatus", "DateCreated", "DateUpdated", "UserID",
    "DateDeleted", "ExportID",
];

pub const ENROLLMENT: &[&str] = &[
    "EnrollmentID", "PersonalID", "ProjectID", "EntryDate", "HouseholdID", "RelationshipToHoH",
    "EnrollmentCoC", "LivingSituation", "RentalSubsidyType", "LengthOfStay", "LOSUnderThreshold",
    "PreviousStreetESSH", "DateToStreetESSH", "TimesHomelessPastThreeYears",
    "MonthsHomelessPastThreeYears", "DisablingCondition", "DateOfEngagement", "MoveInDate",
    "DateOfPATHStatus", "ClientEnrolledInPATH", "ReasonNotEnrolled", "PercentAMI",
    "ReferralSource", "CountOutreachReferralApproaches", "DateOfBCPStatus", "EligibleForRHY",
    "ReasonNoServices", "RunawayYouth", "FormerWardChildWelfare", "ChildWelfareYears",
    "ChildWelfareMonths", "FormerWardJuvenileJustice", "JuvenileJusticeYears",
    "JuvenileJusticeMonths", "UnemploymentFam", "MentalHealthDisorderFam", "PhysicalDisabilityFam",
    "AlcoholDrugUseDisorderFam", "InsufficientIncome", "IncarceratedParent", "VAMCStation",
    "TargetScreenReqd", "TimeToHousingLoss", "AnnualPercentAMI", "LiteralHomelessHistory",
    "ClientLeaseholder", "HOHLeaseholder", "SubsidyAtRisk", "EvictionHistory", "CriminalRecord",
    "IncarceratedAdult", "PrisonDischarge", "SexOffender", "DisabledHoH", "CurrentPregnant",
    "SingleParent", "DependentUnder6", "HH5Plus", "CoCPrioritized", "HPScreeningScore",
    "ThresholdScore", "MentalHealthConsultation", "DateCreated", "DateUpdated", "UserID",
    "DateDeleted", "ExportID",
];

pub const EXIT: &[&str] = &[
    "ExitID", "EnrollmentID", "PersonalID", "ExitDate", "Destination", "DestinationSubsidyType",
    "OtherDestination", "HousingAssessment", "SubsidyInformation", "ProjectCompletionStatus",
    "EarlyExitReason", "ExchangeForSex", "ExchangeForSexPastThreeMonths", "CountOfExchangeForSex",
    "AskedOrForcedToExchangeForSex", "AskedOrForcedToExchangeForSexPastThreeMonths",
    "WorkPlaceViolenceThreats", "WorkplacePromiseDifference", "CoercedToContinueWork",
    "LaborExploitPastThreeMonths", "CounselingReceived", "IndividualCounseling",
    "FamilyCounseling", "GroupCounseling", "SessionCountAtExit", "PostExitCounselingPlan",
    "SessionsInPlan", "DestinationSafeClient", "DestinationSafeWorker", "PosAdultConnections",
    "PosPeerConnections", "PosCommunityConnections", "AftercareDate", "AftercareProvided",
    "EmailSocialMedia", "Telephone", "InPersonIndividual", "InPersonGroup", "CMExitReason",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
];

pub const SERVICES: &[&str] = &[
    "ServicesID", "EnrollmentID", "PersonalID", "DateProvided", "RecordType", "TypeProvided",
    "OtherTypeProvided", "MovingOnOtherType", "SubTypeProvided", "FAAmount", "FAStartDate",
    "FAEndDate", "ReferralOutcome", "DateCreated", "DateUpdated", "UserID", "DateDeleted",
    "ExportID",
];
