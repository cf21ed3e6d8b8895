//! Platform scaling policies, faithful to each platform's documented algorithm, and the
//! errors of reading them.

pub mod hpa;
pub mod hpa_spec;
pub mod quantity;

/// A policy file that cannot be used, naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot parse policy: {message}")]
    Parse { message: String },
    #[error("{field}: {message}")]
    Field { field: String, message: String },
}
