use versioned::Versioned;

#[derive(Versioned)]
#[id]
struct User {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
