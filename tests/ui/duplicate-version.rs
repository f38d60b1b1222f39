use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[version]
    version: i64,
    #[version]
    revision: i64,
}

fn main() {}
