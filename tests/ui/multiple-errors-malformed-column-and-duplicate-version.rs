use versioned::Versioned;

// The malformed column is reported once: the field is not also said to clash with
// `backup`, since its column is unknown.
#[derive(Versioned)]
struct User {
    id: i64,
    #[versioned(column = 42)]
    email: String,
    #[versioned(column = "email")]
    backup: String,
    #[version]
    version: i64,
    #[version]
    revision: i64,
}

fn main() {}
