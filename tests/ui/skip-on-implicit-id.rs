use versioned::Versioned;

#[derive(Versioned)]
struct User {
    #[versioned(skip)]
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
