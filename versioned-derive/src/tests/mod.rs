//! Expansion snapshots: what the derive emits for typical entities. Review changes
//! with `cargo insta review`.

use syn::DeriveInput;

use crate::derive_versioned_inner;

fn expand(input: DeriveInput) -> String {
    let tokens = derive_versioned_inner(&input);
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as a file");
    prettyplease::unparse(&file)
}

#[test]
fn auto_key_rename_and_skip() {
    insta::assert_snapshot!(expand(syn::parse_quote! {
        #[versioned(table = "users")]
        pub struct User {
            #[id(auto)]
            pub id: i64,
            pub name: String,
            #[versioned(column = "email_address")]
            pub email: Option<String>,
            #[versioned(skip)]
            pub cache: Option<String>,
            #[version]
            pub version: i64,
        }
    }));
}

#[test]
fn composite_key_and_default_table() {
    insta::assert_snapshot!(expand(syn::parse_quote! {
        struct OrderLine {
            #[id]
            order: i64,
            #[id]
            sku: String,
            qty: i32,
            #[version]
            revision: i32,
        }
    }));
}

#[test]
fn key_named_id_without_attribute() {
    insta::assert_snapshot!(expand(syn::parse_quote! {
        struct Counter {
            id: String,
            #[version]
            version: i16,
        }
    }));
}

#[test]
fn crate_path() {
    insta::assert_snapshot!(expand(syn::parse_quote! {
        #[versioned(crate = "::app::orm")]
        struct Note {
            #[id(auto)]
            id: i64,
            body: String,
            #[versioned(skip)]
            draft: bool,
            #[version]
            version: i64,
        }
    }));
}

#[test]
fn schema_qualified_table() {
    insta::assert_snapshot!(expand(syn::parse_quote! {
        #[versioned(schema = "app", table = "people")]
        struct Person {
            id: i64,
            name: String,
            #[version]
            version: i32,
        }
    }));
}
