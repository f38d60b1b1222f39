//! Rules that span the whole struct. Each check states its rule first.

use std::collections::HashMap;

use crate::ast::{Field, Input};
use crate::attr::Errors;

/// Checks every rule, recording each violation beside the attribute errors.
pub fn validate(input: &Input, errors: &mut Errors) {
    check_generics(input, errors);
    check_fields(input, errors);
    check_version(input, errors);
    check_key(input, errors);
    check_columns(input, errors);
}

// The statement cache is one static per entity type, which a generic struct cannot
// have (a static inside a generic impl is shared by every instantiation).
fn check_generics(input: &Input, errors: &mut Errors) {
    let generics = &input.original.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        errors.spanned(
            generics,
            "#[derive(Versioned)] does not support generic structs; give the entity concrete, owned field types",
        );
    }
}

// A field is at most one of key and version, and neither of them can be skipped; a
// skipped field has no column to rename.
fn check_fields(input: &Input, errors: &mut Errors) {
    for field in &input.fields {
        let attrs = &field.attrs;
        if let (Some(_), Some(version)) = (&attrs.id, &attrs.version) {
            errors.spanned(version, "a field cannot be both #[id] and #[version]; the version must be its own field");
        }
        if let Some(skip) = attrs.skip {
            if attrs.version.is_some() {
                errors.error(skip, "the #[version] field cannot be #[versioned(skip)]; every write checks it");
            }
            if attrs.id.is_some() {
                errors.error(skip, "an #[id] field cannot be #[versioned(skip)]; every statement finds its row by it");
            }
            if let Some(column) = &attrs.column {
                errors.error(column.span(), "a #[versioned(skip)] field has no column; remove `column` or `skip`");
            }
        }
    }
}

// Exactly one field is the version.
fn check_version(input: &Input, errors: &mut Errors) {
    let mut versions = input.fields.iter().filter_map(|f| f.attrs.version.as_ref());
    if versions.next().is_none() {
        errors.error(input.ident.span(), "missing #[version] field; mark one i16, i32 or i64 field with #[version]");
    }
    for duplicate in versions {
        errors.spanned(duplicate, "duplicate #[version] attribute; an entity has exactly one version field");
    }
}

// A key exists, and is neither skipped nor the version; `auto` applies only to a
// single-column key. (An `#[id]` field that is skipped or the version is reported by
// `check_fields`.)
fn check_key(input: &Input, errors: &mut Errors) {
    let key = input.key();
    if input.fields.iter().all(|f| f.attrs.id.is_none()) {
        for implicit in &key {
            if let Some(skip) = implicit.attrs.skip {
                errors.error(
                    skip,
                    "the `id` field is the key and cannot be #[versioned(skip)]; remove `skip`, or mark another field #[id]",
                );
            }
            if let Some(version) = &implicit.attrs.version {
                errors.spanned(
                    version,
                    "the `id` field is the key and cannot be #[version]; give the version its own field, or mark another field #[id]",
                );
            }
        }
    }
    if key.is_empty() {
        errors.error(
            input.ident.span(),
            "missing key field; mark the key with #[id] (or #[id(auto)] when the database generates it), or name it `id`",
        );
    }
    if key.len() > 1 {
        for auto in key.iter().filter_map(|f| f.attrs.auto) {
            errors.error(auto, "#[id(auto)] cannot be part of a composite key; mark a single key field #[id(auto)]");
        }
    }
}

// No two persisted fields share a column. Column names compare case-insensitively:
// SQLite and MySQL fold them. A field whose attributes failed to parse is left out:
// its column is not known.
fn check_columns(input: &Input, errors: &mut Errors) {
    let mut seen: HashMap<String, &Field> = HashMap::new();
    for field in input.persisted().filter(|f| !f.attrs.failed) {
        let column = field.column();
        match seen.get(&column.to_lowercase()) {
            Some(first) => errors.error(
                field.column_span,
                format!(
                    "column `{column}` is already mapped to field `{}`; give this field another column with #[versioned(column = \"..\")]",
                    first.ident
                ),
            ),
            None => {
                seen.insert(column.to_lowercase(), field);
            }
        }
    }
}
