//! Helpers shared by the function files: argument coercion with clear errors, constant
//! arguments, and a one-group accumulator over a `GroupsAccumulator`.

pub mod args;
pub mod day_sets;
pub mod exact_sum;
pub mod lists;
pub mod rows;
pub mod single_group;
pub mod two_phase;
