//! The generated code: entity metadata and bind/read functions. The operations
//! themselves live in `versioned-core`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Index, LitStr};

use crate::ast::{Field, Input};

/// Emits `Versioned` and `Bind<B>` for a validated input.
pub fn impl_versioned(input: &Input) -> TokenStream {
    let versioned = impl_versioned_trait(input);
    let bind = impl_bind(input);
    quote! {
        const _: () = {
            #versioned
            #bind
        };
    }
}

fn impl_versioned_trait(input: &Input) -> TokenStream {
    let krate = input.crate_path();
    let private = quote!(#krate::__private);
    let ident = input.ident;
    let (impl_generics, ty_generics, where_clause) = input.original.generics.split_for_impl();
    let entity = LitStr::new(&ident.to_string(), ident.span());
    let table = input.table();
    let schema = match input.schema() {
        Some(schema) => quote!(::core::option::Option::Some(#schema)),
        None => quote!(::core::option::Option::None),
    };
    let qualified = input.qualified();
    let persisted: Vec<&Field> = input.persisted().collect();
    let columns = persisted.iter().map(|f| f.column());
    let key = input.key();
    let key_indices = key.iter().map(|k| position(&persisted, k));
    let version = input.version().expect("validated: one version field");
    let version_index = position(&persisted, version);
    let version_ident = version.ident;
    let version_ty = version.ty;
    let version_ty_checked = quote_spanned!(version_ty.span()=> #version_ty);
    let auto_key = key.len() == 1 && key[0].attrs.auto.is_some();
    let id_ty = id_type(&key);
    let key_debug = key_debug(&key);
    let skipped = input.fields.iter().filter(|f| f.attrs.skip.is_some()).map(|f| f.ident);
    quote! {
        #[automatically_derived]
        #[allow(deprecated)]
        impl #impl_generics #krate::Versioned for #ident #ty_generics #where_clause {
            type Id = #id_ty;
            type Version = #version_ty_checked;

            const META: &'static #private::EntityMeta = &#private::EntityMeta {
                entity: #entity,
                table: #table,
                schema: #schema,
                qualified: #qualified,
                columns: &[#(#columns),*],
                key: &[#(#key_indices),*],
                version: #version_index,
                auto_key: #auto_key,
            };

            #[inline]
            fn statements(__dialect: #private::Dialect) -> &'static #private::Statements {
                static __STATEMENTS: #private::StatementCache = #private::StatementCache::new();
                __STATEMENTS.get(__dialect, <Self as #krate::Versioned>::META)
            }

            #[inline]
            fn version_of(&self) -> #version_ty {
                // A copy for the supported types; `clone` keeps an unsupported type's
                // error to the one about `VersionNumber`.
                ::core::clone::Clone::clone(&self.#version_ident)
            }

            #[inline]
            fn set_version(&mut self, __version: #version_ty) {
                self.#version_ident = __version;
            }

            fn key_debug(&self) -> #private::String {
                #private::format!("{:?}", #key_debug)
            }

            #[inline]
            fn keep_skipped(&mut self, __from: &mut Self) {
                #(::core::mem::swap(&mut self.#skipped, &mut __from.#skipped);)*
                let _ = __from;
            }
        }
    }
}

fn impl_bind(input: &Input) -> TokenStream {
    let krate = input.crate_path();
    let private = quote!(#krate::__private);
    let ident = input.ident;
    let persisted: Vec<&Field> = input.persisted().collect();
    let key = input.key();
    let version = input.version().expect("validated: one version field");
    let auto_key = key.len() == 1 && key[0].attrs.auto.is_some();

    // One bound per distinct type, so an unsupported type is reported once.
    let mut seen = std::collections::HashSet::new();
    let bounds = persisted.iter().filter(|f| seen.insert(f.ty.to_token_stream().to_string())).map(|f| {
        let ty = f.ty;
        let private = respan(&private, ty.span());
        quote_spanned!(ty.span()=> #ty: #private::Encode<__B> + #private::Decode<__B>)
    });
    let encode = |f: &Field, value: TokenStream| {
        let ty = f.ty;
        quote!(<#ty as #private::Encode<__B>>::encode(#value))
    };
    let own = |f: &&Field| {
        let ident = f.ident;
        encode(f, quote!(&self.#ident))
    };
    let is_key = |f: &&&Field| key.iter().any(|k| k.ident == f.ident);
    let is_version = |f: &&&Field| f.ident == version.ident;

    let insert = persisted
        .iter()
        .filter(|f| !(auto_key && is_key(f)))
        .map(|f| if is_version(&f) { encode(f, quote!(__version)) } else { own(f) });
    let data = persisted.iter().filter(|f| !is_key(f) && !is_version(f)).map(own);
    let new_version = encode(version, quote!(__new));
    let old_version = own(&version);
    let keys: Vec<TokenStream> = key.iter().map(own).collect();
    let id_params: Vec<TokenStream> = if key.len() == 1 {
        vec![encode(key[0], quote!(__id))]
    } else {
        key.iter()
            .enumerate()
            .map(|(i, f)| {
                encode(f, {
                    let i = Index::from(i);
                    quote!(&__id.#i)
                })
            })
            .collect()
    };

    let decode_fields = input.fields.iter().map(|f| {
        let (field, ty) = (f.ident, f.ty);
        match persisted.iter().position(|p| p.ident == f.ident) {
            Some(index) => {
                let column = f.column();
                quote!(#field: #private::decode::<__B, #ty>(__row, #index, #column)?)
            }
            None => {
                let private = respan(&private, ty.span());
                quote_spanned!(ty.span()=> #field: <#ty as #private::Default>::default())
            }
        }
    });
    let version_ty = version.ty;
    let version_column = version.column();
    // The key is decoded before the field is assigned: a failure changes nothing.
    let set_generated_key = if auto_key {
        let (field, ty, column) = (key[0].ident, key[0].ty, key[0].column());
        quote! {
            self.#field = #private::decode_generated::<__B, #ty>(__key, #column)?;
            #private::Result::Ok(())
        }
    } else {
        quote! {
            let _ = __key;
            #private::Result::Ok(())
        }
    };

    // The parameters of one statement, borrowed for `'__a`, or for the `&self` of an
    // elided signature.
    let params = quote!(::core::convert::AsMut<[<__B as #private::Backend>::Param<'__a>]>);
    let own_params = quote!(::core::convert::AsMut<[<__B as #private::Backend>::Param<'_>]>);
    let version_ty_path = quote!(<Self as #krate::Versioned>::Version);
    let result = quote!(#private::Result);
    let column_error = quote!(#private::ColumnError);
    let row = quote!(&mut <__B as #private::Backend>::Row<'_>);
    quote! {
        #[automatically_derived]
        #[allow(deprecated)]
        impl<__B: #private::Backend> #private::Bind<__B> for #ident
        where
            #(#bounds,)*
        {
            #[inline]
            fn bind_insert<'__a>(&'__a self, __version: &'__a #version_ty_path) -> impl #params {
                [#(#insert),*]
            }

            #[inline]
            fn bind_update<'__a>(&'__a self, __new: &'__a #version_ty_path) -> impl #params {
                [#(#data,)* #new_version, #(#keys,)* #old_version]
            }

            #[inline]
            fn bind_touch<'__a>(&'__a self, __new: &'__a #version_ty_path) -> impl #params {
                [#new_version, #(#keys,)* #old_version]
            }

            #[inline]
            fn bind_delete(&self) -> impl #own_params {
                [#(#keys,)* #old_version]
            }

            #[inline]
            fn bind_own_key(&self) -> impl #own_params {
                [#(#keys),*]
            }

            #[inline]
            fn bind_key(__id: &<Self as #krate::Versioned>::Id) -> impl #own_params {
                [#(#id_params),*]
            }

            #[inline]
            fn decode_row(__row: #row) -> #result<Self, #column_error> {
                #result::Ok(#ident {
                    #(#decode_fields,)*
                })
            }

            #[inline]
            fn decode_version(__row: #row) -> #result<#version_ty_path, #column_error> {
                #private::decode::<__B, #version_ty>(__row, 0, #version_column)
            }

            #[inline]
            fn set_generated_key(&mut self, __key: &<__B as #private::Backend>::GeneratedKey) -> #result<(), #column_error> {
                #set_generated_key
            }
        }
    }
}

/// `tokens` (a path) with every token at `span`, so that a bound naming the path is
/// reported where `quote_spanned!` puts the rest of it.
fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// Index of `field` among the persisted fields.
fn position(persisted: &[&Field], field: &Field) -> usize {
    persisted.iter().position(|f| f.ident == field.ident).expect("key and version fields are persisted")
}

/// `Id`: the key field's type, or a tuple of the key fields' types.
fn id_type(key: &[&Field]) -> TokenStream {
    match key {
        [single] => {
            let ty = single.ty;
            quote_spanned!(ty.span()=> #ty)
        }
        many => {
            let types = many.iter().map(|f| f.ty);
            quote!((#(#types,)*))
        }
    }
}

/// The entity's own key, as `Debug` would render its `Id`.
fn key_debug(key: &[&Field]) -> TokenStream {
    match key {
        [single] => {
            let ident = single.ident;
            quote!(&self.#ident)
        }
        many => {
            let idents = many.iter().map(|f| f.ident);
            quote!((#(&self.#idents,)*))
        }
    }
}
