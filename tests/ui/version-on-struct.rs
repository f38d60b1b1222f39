use versioned::Versioned;

#[derive(Versioned)]
#[version]
struct User {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
