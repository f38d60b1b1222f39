use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[versioned(column = 42)]
    name: String,
    #[version]
    version: i64,
}

fn main() {}
