use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[version]
    #[versioned(skip)]
    version: i64,
}

fn main() {}
