//! The derive's input, read into what the rest of the macro works with.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Type};

use crate::attr::{Container, Errors, FieldAttrs};

/// A struct with named fields and its attributes.
pub struct Input<'a> {
    pub original: &'a DeriveInput,
    pub ident: &'a Ident,
    pub attrs: Container,
    pub fields: Vec<Field<'a>>,
}

/// One named field.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
    /// Where a column error points: the `column` literal, or the field's name.
    pub column_span: Span,
}

impl<'a> Input<'a> {
    /// Reads the input, recording every error found in it. `None` when the input is
    /// not a struct with named fields: then there are no fields to validate.
    pub fn from_syn(node: &'a DeriveInput, errors: &mut Errors) -> Option<Input<'a>> {
        let attrs = Container::from_syn(&node.attrs, errors);
        let fields = match &node.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named.named.iter().map(|f| Field::from_syn(f, errors)).collect(),
                Fields::Unnamed(unnamed) => {
                    errors.error(
                        unnamed.span(),
                        "#[derive(Versioned)] needs a struct with named fields; tuple structs have no column names",
                    );
                    return None;
                }
                Fields::Unit => {
                    errors.error(
                        node.ident.span(),
                        "#[derive(Versioned)] needs a struct with named fields, a key and a #[version] field",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                errors
                    .error(data.enum_token.span, "#[derive(Versioned)] supports structs with named fields, not enums");
                return None;
            }
            Data::Union(data) => {
                errors.error(
                    data.union_token.span,
                    "#[derive(Versioned)] supports structs with named fields, not unions",
                );
                return None;
            }
        };
        Some(Input { original: node, ident: &node.ident, attrs, fields })
    }

    /// The table: `#[versioned(table = "..")]`, or snake_case of the name plus "s".
    pub fn table(&self) -> String {
        match &self.attrs.table {
            Some(table) => table.value(),
            None => format!("{}s", snake_case(&self.ident.unraw().to_string())),
        }
    }

    /// The schema: `#[versioned(schema = "..")]`, if any.
    pub fn schema(&self) -> Option<String> {
        self.attrs.schema.as_ref().map(LitStr::value)
    }

    /// The table as messages name it: `schema.table`, or the table alone.
    pub fn qualified(&self) -> String {
        match self.schema() {
            Some(schema) => format!("{schema}.{}", self.table()),
            None => self.table(),
        }
    }

    /// The path the generated code reaches the runtime by: `#[versioned(crate = "..")]`,
    /// or `::versioned`.
    pub fn crate_path(&self) -> TokenStream {
        match &self.attrs.krate {
            Some(path) => path.to_token_stream(),
            None => quote!(::versioned),
        }
    }

    /// The persisted fields, in field order.
    pub fn persisted(&self) -> impl Iterator<Item = &Field<'a>> + '_ {
        self.fields.iter().filter(|f| f.attrs.skip.is_none())
    }

    /// The key fields: the `#[id]` fields, or else a field named `id`. (Validation
    /// makes sure they are persisted and not the version.)
    pub fn key(&self) -> Vec<&Field<'a>> {
        let marked: Vec<_> = self.fields.iter().filter(|f| f.attrs.id.is_some()).collect();
        if !marked.is_empty() {
            return marked;
        }
        self.fields.iter().filter(|f| f.ident.unraw() == "id").collect()
    }

    /// The `#[version]` field.
    pub fn version(&self) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.attrs.version.is_some())
    }
}

impl<'a> Field<'a> {
    fn from_syn(node: &'a syn::Field, errors: &mut Errors) -> Field<'a> {
        let ident = node.ident.as_ref().expect("named fields have names");
        let attrs = FieldAttrs::from_syn(&node.attrs, errors);
        let column_span = attrs.column.as_ref().map_or(ident.span(), |c| c.span());
        Field { ident, ty: &node.ty, attrs, column_span }
    }

    /// The column: `#[versioned(column = "..")]`, or the field's name.
    pub fn column(&self) -> String {
        match &self.attrs.column {
            Some(column) => column.value(),
            None => self.ident.unraw().to_string(),
        }
    }
}

/// `UserAccount` -> `user_account`, `HTTPLog` -> `http_log`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let after_lower = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
            let ends_acronym = prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase());
            if after_lower || ends_acronym {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_cases_struct_names() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("UserAccount"), "user_account");
        assert_eq!(snake_case("HTTPLog"), "http_log");
        assert_eq!(snake_case("Order2Line"), "order2_line");
        assert_eq!(snake_case("already_snake"), "already_snake");
    }
}
