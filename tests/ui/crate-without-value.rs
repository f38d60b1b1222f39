use versioned::Versioned;

#[derive(Versioned)]
#[versioned(crate)]
struct User {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
