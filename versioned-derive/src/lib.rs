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

/// The derive over `proc_macro2` tokens, so it can be tested without rustc. Attribute
/// and validation errors are collected together and reported at once.
fn derive_versioned_inner(node: &DeriveInput) -> proc_macro2::TokenStream {
    let mut errors = attr::Errors::default();
    let input = ast::Input::from_syn(node, &mut errors);
    if let Some(input) = &input {
        valid::validate(input, &mut errors);
    }
    match (errors.finish(), input) {
        (Ok(()), Some(input)) => expand::impl_versioned(&input),
        (Err(errors), _) => errors.into_compile_error(),
        // `from_syn` records why it read no input.
        (Ok(()), None) => proc_macro2::TokenStream::new(),
    }
}

#[cfg(test)]
mod tests;
