//! The attribute keywords, in one place.

/// `#[versioned(..)]`, on the struct and on fields.
pub const VERSIONED: &str = "versioned";
/// `#[id]` / `#[id(auto)]`, on key fields.
pub const ID: &str = "id";
/// `#[version]`, on the version field.
pub const VERSION: &str = "version";
/// `#[versioned(table = "..")]`, on the struct.
pub const TABLE: &str = "table";
/// `#[versioned(schema = "..")]`, on the struct.
pub const SCHEMA: &str = "schema";
/// `#[versioned(column = "..")]`, on a field.
pub const COLUMN: &str = "column";
/// `#[versioned(skip)]`, on a field.
pub const SKIP: &str = "skip";
/// `#[id(auto)]`: the database generates the key.
pub const AUTO: &str = "auto";
/// `#[versioned(crate = "..")]`, on the struct.
pub const CRATE: &str = "crate";
