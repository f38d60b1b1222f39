use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    #[versioned(table = "names")]
    name: String,
    #[version]
    version: i64,
}

fn main() {}
