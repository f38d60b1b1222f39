use versioned::Versioned;

#[derive(Versioned)]
struct User {
    #[id(autoo)]
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
