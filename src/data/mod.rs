//! Data sets: generated ones that need no download, and readers for real formats.
mod two_moons;


pub use self::two_moons::TwoMoons;
