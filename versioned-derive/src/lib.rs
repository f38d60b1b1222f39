//! Implementation detail of the `versioned-entity` package (library `versioned`):
//! `#[derive(Versioned)]`.
//!
//! Documentation lives on the re-export, `versioned::Versioned`.

#![allow(clippy::needless_pass_by_value)]

mod ast;
mod attr;
mod expand;
mod symbol;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `versioned::Versioned`; see the `versioned` crate.
#[proc_macro_derive(Versioned, attributes(versioned, id, version))]
pub fn derive_versioned(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive_versioned_inner(&input).into()
}

/// The derive over `proc_macro2` tokens, so it can be tested without rustc.
fn derive_versioned_inner(input: &DeriveInput) -> proc_macro2::TokenStream {
    ast::Input::from_syn(input)
        .and_then(|input| {
            valid::validate(&input)?;
            Ok(expand::impl_versioned(&input))
        })
        .unwrap_or_else(syn::Error::into_compile_error)
}

#[cfg(test)]
mod tests;
