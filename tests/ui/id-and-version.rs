use versioned::Versioned;

#[derive(Versioned)]
struct User {
    #[id]
    #[version]
    id: i64,
    name: String,
}

fn main() {}
