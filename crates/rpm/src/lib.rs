//! cryo-rpm: RPM distribution formats.

pub mod package;
