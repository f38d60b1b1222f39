use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[versioned(crate = "versioned")]
    name: String,
    #[version]
    version: i64,
}

fn main() {}
