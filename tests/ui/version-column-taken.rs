use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[versioned(column = "version")]
    revision: String,
    #[version]
    version: i64,
}

fn main() {}
