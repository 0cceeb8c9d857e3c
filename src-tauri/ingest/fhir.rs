//! FHIR R4 observations (in progress).
