use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[versioned(skip, column = "cache")]
    cache: Option<String>,
    #[version]
    version: i64,
}

fn main() {}
