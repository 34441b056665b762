//! k-means clustering: weighted points, k-means++ seeding, Lloyd's iterations, restarts, and
//! the quality measures used to choose k.

pub mod chunks;
pub mod fit;
pub mod geometry;
pub mod lloyd;
pub mod points;
pub mod quality;
pub mod seeding;

pub use fit::{Clustering, KMeansError, KMeansOptions, fit_kmeans};
pub use points::{Points, Scaling};
