use versioned::Versioned;

#[derive(Versioned)]
struct User {
    #[version]
    id: i64,
    name: String,
}

fn main() {}
