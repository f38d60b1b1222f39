use versioned::Versioned;

#[derive(Versioned)]
struct User {
    #[id(auto, auto)]
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
