use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[versioned(schema = "app")]
    name: String,
    #[version]
    version: i64,
}

fn main() {}
