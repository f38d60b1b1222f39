use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[version]
    #[version]
    version: i64,
}

fn main() {}
