use versioned::Versioned;

#[derive(Versioned)]
struct User {
    #[id]
    #[versioned(skip)]
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
