use versioned::Versioned;

#[derive(Versioned)]
struct User<T> {
    id: i64,
    data: T,
    #[version]
    version: i64,
}

#[derive(Versioned)]
struct Account<'a> {
    id: i64,
    name: &'a str,
    #[version]
    version: i64,
}

fn main() {}
