use versioned::Versioned;

#[derive(Versioned)]
struct User {
    #[id(auto = true)]
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
