//! Reading `#[versioned(..)]`, `#[id]` and `#[version]` attributes.
//!
//! Unknown, repeated and malformed options fail here; rules that span several
//! fields live in `valid.rs`.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr, Meta, Path};

use crate::symbol::{AUTO, COLUMN, CRATE, ID, SCHEMA, SKIP, TABLE, VERSION, VERSIONED};

/// The options `#[versioned(..)]` takes on the struct, for messages.
const STRUCT_OPTIONS: &str = "`table`, `schema` or `crate`";

/// Collects every error of one derive, so the user sees them all at once.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn error(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// An error covering all of `tokens` (a whole attribute, say).
    pub fn spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// How many errors so far.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |all| all.into_iter().count())
    }

    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The struct's attributes.
#[derive(Default)]
pub struct Container {
    pub table: Option<LitStr>,
    pub schema: Option<LitStr>,
    /// `#[versioned(crate = "..")]`: the path to the `versioned` crate.
    pub krate: Option<Path>,
}

/// A field's attributes.
#[derive(Default)]
pub struct FieldAttrs {
    /// `#[id]` or `#[id(auto)]`: the whole attribute, for errors.
    pub id: Option<TokenStream>,
    /// `#[id(auto)]`: the `auto` keyword's span.
    pub auto: Option<Span>,
    /// `#[version]`: the whole attribute, for errors.
    pub version: Option<TokenStream>,
    pub column: Option<LitStr>,
    /// `#[versioned(skip)]`: the keyword's span.
    pub skip: Option<Span>,
    /// Whether one of the field's attributes failed to parse: the field may mean
    /// something other than what was read, so rules that could only guess at it
    /// (its column) leave it out.
    pub failed: bool,
}

impl Container {
    pub fn from_syn(attrs: &[Attribute], errors: &mut Errors) -> Container {
        let mut container = Container::default();
        for attr in attrs {
            if attr.path().is_ident(VERSIONED) {
                if let Err(e) = list_shape(attr, "#[versioned(table = \"..\")]") {
                    errors.push(e);
                    continue;
                }
                each_option(attr, errors, |meta| container.parse_option(meta));
            } else if attr.path().is_ident(ID) || attr.path().is_ident(VERSION) {
                let name = if attr.path().is_ident(ID) { ID } else { VERSION };
                errors.spanned(attr, format!("#[{name}] goes on a field, not on the struct"));
            }
        }
        container
    }

    fn parse_option(&mut self, meta: &ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident(TABLE) {
            let table = table_name(meta)?;
            set_once(&mut self.table, table, meta, "versioned", TABLE)
        } else if meta.path.is_ident(SCHEMA) {
            let schema = schema_name(meta)?;
            set_once(&mut self.schema, schema, meta, "versioned", SCHEMA)
        } else if meta.path.is_ident(CRATE) {
            let path = crate_path(meta)?;
            set_once(&mut self.krate, path, meta, "versioned", CRATE)
        } else if meta.path.is_ident(COLUMN) || meta.path.is_ident(SKIP) {
            let name = path_name(meta);
            Err(meta.error(format!("`{name}` goes on a field, not on the struct; the struct takes {STRUCT_OPTIONS}")))
        } else {
            Err(meta.error(format!("unknown versioned attribute `{}`; expected {STRUCT_OPTIONS}", path_name(meta))))
        }
    }
}

impl FieldAttrs {
    pub fn from_syn(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
        let mut field = FieldAttrs::default();
        let before = errors.len();
        for attr in attrs {
            if attr.path().is_ident(VERSIONED) {
                field.parse_versioned(attr, errors);
            } else if attr.path().is_ident(ID) {
                field.parse_id(attr, errors);
            } else if attr.path().is_ident(VERSION) {
                field.parse_version(attr, errors);
            }
        }
        field.failed = errors.len() > before;
        field
    }

    fn parse_versioned(&mut self, attr: &Attribute, errors: &mut Errors) {
        if let Err(e) = list_shape(attr, "#[versioned(column = \"..\")] or #[versioned(skip)]") {
            return errors.push(e);
        }
        each_option(attr, errors, |meta| self.parse_option(meta));
    }

    fn parse_option(&mut self, meta: &ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident(COLUMN) {
            let column = name_value(meta, COLUMN)?;
            set_once(&mut self.column, column, meta, "versioned", COLUMN)
        } else if meta.path.is_ident(SKIP) {
            no_value(meta, "#[versioned(skip)]")?;
            set_once(&mut self.skip, meta.path.span(), meta, "versioned", SKIP)
        } else if meta.path.is_ident(TABLE) || meta.path.is_ident(SCHEMA) || meta.path.is_ident(CRATE) {
            Err(meta.error(format!(
                "`{}` goes on the struct, not on a field; a field takes `column` or `skip`",
                path_name(meta)
            )))
        } else if meta.path.is_ident(ID) || meta.path.is_ident(VERSION) {
            // Read as meant, so the key or version is not reported missing as well.
            let slot = if meta.path.is_ident(ID) { &mut self.id } else { &mut self.version };
            slot.get_or_insert_with(|| meta.path.to_token_stream());
            let name = path_name(meta);
            Err(meta.error(format!("`{name}` is an attribute of its own; write #[{name}] on the field")))
        } else {
            Err(meta.error(format!("unknown versioned attribute `{}`; expected `column` or `skip`", path_name(meta))))
        }
    }

    fn parse_id(&mut self, attr: &Attribute, errors: &mut Errors) {
        if self.id.is_some() {
            return errors.spanned(attr, "duplicate #[id] attribute; keep one");
        }
        self.id = Some(attr.to_token_stream());
        match &attr.meta {
            Meta::Path(_) => {}
            Meta::List(_) => each_option(attr, errors, |meta| {
                if meta.path.is_ident(AUTO) {
                    no_value(meta, "#[id(auto)]")?;
                    set_once(&mut self.auto, meta.path.span(), meta, "id", AUTO)
                } else {
                    Err(meta.error(format!("unknown id attribute `{}`; expected `auto`", path_name(meta))))
                }
            }),
            Meta::NameValue(nv) => errors.spanned(
                name_value_tail(nv),
                "#[id] takes no value; write #[id], or #[id(auto)] when the database generates the key",
            ),
        }
    }

    fn parse_version(&mut self, attr: &Attribute, errors: &mut Errors) {
        if self.version.is_some() {
            return errors.spanned(attr, "duplicate #[version] attribute; keep one");
        }
        self.version = Some(attr.to_token_stream());
        const MESSAGE: &str = "#[version] takes no arguments; write #[version]";
        match &attr.meta {
            Meta::Path(_) => {}
            Meta::List(list) => errors.error(list.delimiter.span().join(), MESSAGE),
            Meta::NameValue(nv) => errors.spanned(name_value_tail(nv), MESSAGE),
        }
    }
}

/// Parses each option of a list attribute with `option`. A failed option is recorded
/// and skipped up to the next comma, so one attribute reports all of its mistakes.
fn each_option(attr: &Attribute, errors: &mut Errors, mut option: impl FnMut(&ParseNestedMeta) -> syn::Result<()>) {
    let parsed = attr.parse_nested_meta(|meta| {
        if let Err(e) = option(&meta) {
            errors.push(e);
            skip_to_comma(meta.input);
        }
        Ok(())
    });
    if let Err(e) = parsed {
        errors.push(e);
    }
}

/// Skips the rest of a failed option: its value, or whatever follows its name.
fn skip_to_comma(input: ParseStream) {
    while !input.is_empty() && !input.peek(syn::Token![,]) {
        if input.parse::<TokenTree>().is_err() {
            break;
        }
    }
}

/// The name of an option, for messages.
fn path_name(meta: &ParseNestedMeta) -> String {
    meta.path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

/// Checks that `#[versioned ..]` is a list, `#[versioned(..)]`, and not a lone literal.
fn list_shape(attr: &Attribute, expected: &str) -> syn::Result<()> {
    match &attr.meta {
        Meta::List(list) => match syn::parse2::<syn::Lit>(list.tokens.clone()) {
            Ok(lit) => Err(syn::Error::new_spanned(lit, format!("expected a named option; write {expected}"))),
            Err(_) => Ok(()),
        },
        _ => Err(syn::Error::new_spanned(attr, format!("#[versioned] needs options; write {expected}"))),
    }
}

/// `= value` of `#[name = value]`, where an error about the value belongs.
fn name_value_tail(nv: &syn::MetaNameValue) -> TokenStream {
    let (eq, value) = (&nv.eq_token, &nv.value);
    quote::quote!(#eq #value)
}

/// Rejects `key = ..` and `key(..)` for a flag.
fn no_value(meta: &ParseNestedMeta, expected: &str) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("`{}` takes no value; write {expected}", path_name(meta))));
    }
    Ok(())
}

/// `key = "name"`, with a non-empty name.
fn name_value(meta: &ParseNestedMeta, key: &str) -> syn::Result<LitStr> {
    string_value(meta, key, "name")
}

/// `table = "name"`. A dot would be read as a schema by one reader and as part of the
/// name by another: the schema has its own option.
fn table_name(meta: &ParseNestedMeta) -> syn::Result<LitStr> {
    let lit = name_value(meta, TABLE)?;
    match lit.value().split_once('.') {
        Some((schema, table)) => Err(syn::Error::new(
            lit.span(),
            format!(
                "table name `{}` contains a dot; write #[versioned(schema = \"{schema}\", table = \"{table}\")]",
                lit.value()
            ),
        )),
        None => Ok(lit),
    }
}

/// `schema = "name"`: one name, so that `schema.table` in messages reads one way.
fn schema_name(meta: &ParseNestedMeta) -> syn::Result<LitStr> {
    let lit = name_value(meta, SCHEMA)?;
    match lit.value().rsplit_once('.') {
        Some((_, last)) => Err(syn::Error::new(
            lit.span(),
            format!(
                "schema name `{}` contains a dot; name one schema, e.g. #[versioned(schema = \"{last}\")]",
                lit.value()
            ),
        )),
        None => Ok(lit),
    }
}

/// `crate = "path"`: a path such as `orm` or `::my_app::orm`, without generic arguments.
fn crate_path(meta: &ParseNestedMeta) -> syn::Result<Path> {
    let lit = string_value(meta, CRATE, "path")?;
    lit.parse_with(Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!(
                "invalid crate path `{}`; write the path the `versioned` crate is reached by, e.g. `crate = \"orm\"`",
                lit.value()
            ),
        )
    })
}

/// `key = "value"`, with a non-empty string; `what` names the value in messages.
fn string_value(meta: &ParseNestedMeta, key: &str, what: &str) -> syn::Result<LitStr> {
    if !meta.input.peek(syn::Token![=]) {
        return Err(meta.error(format!("`{key}` needs a {what}; write `{key} = \"{what}\"`")));
    }
    let lit: LitStr = meta.value()?.parse().map_err(|e| {
        syn::Error::new(e.span(), format!("`{key}` takes a string literal; write `{key} = \"{what}\"`"))
    })?;
    if lit.value().trim().is_empty() {
        return Err(syn::Error::new(lit.span(), format!("{key} {what} cannot be empty; write `{key} = \"{what}\"`")));
    }
    Ok(lit)
}

/// Stores an option's value, failing on the second occurrence.
fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta, attribute: &str, key: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("duplicate {attribute} attribute `{key}`; keep one")));
    }
    *slot = Some(value);
    Ok(())
}
